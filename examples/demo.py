"""One patient's course on the standard pathway, decision by decision.

Run with ``make demo`` (or ``python examples/demo.py``). Only the core install
is needed. Every time is explicit and timezone-aware: carepath never reads the
clock, so this walk-through prints the same thing every time it runs.

The story: admitted to withdrawal management (detox) with significant
withdrawal risk, strong cravings and an unsafe home; steps down to inpatient
care; asks to go home early and is refused (with every reason); steps down to
IOP, relapses (care intensifies in place), steps up to partial hospitalization
when emotional needs rise, steps back down to IOP, then to outpatient care, and
completes treatment. The episode then goes to JSON and back, and a simulated
cohort on the same rules ends the walk-through.

Each placement prints one line (the level and the deciding ratings); run with
``--explain`` (``python examples/demo.py --explain``) to print every reason, including
why each less intensive level was ruled out.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from carepath import (
    Assessment,
    Decision,
    Episode,
    Event,
    EventRecord,
    Pathway,
    TransitionRejected,
    place,
    standard_pathway,
)

WIDTH = 92
EXPLAIN = "--explain" in sys.argv[1:]  # every reason of every placement, not one line
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning


def day(n: int, hour: int = 9) -> datetime:
    """The time ``n`` days after admission (explicit, timezone-aware)."""
    return START + timedelta(days=n, hours=hour - 9)


def say(text: str, indent: int = 2) -> None:
    """Print ``text`` line by line, wrapped, with a hanging indent."""
    pad = " " * indent
    for line in text.splitlines():
        print(textwrap.fill(line, WIDTH, initial_indent=pad, subsequent_indent=pad + "    "))


def heading(n: int, title: str) -> None:
    when = day(n)
    print()
    print(f"Day {n:>3} | {when:%a %d %b %Y} | {title}")
    print("-" * WIDTH)


def ratings(a: Assessment) -> str:
    return ", ".join(f"{d.value} {int(r)}" for d, r in a.items())


def show_placement(a: Assessment, pathway: Pathway) -> None:
    say(f"Assessment: {ratings(a)}")
    placement = place(a, pathway)
    say(placement.explain() if EXPLAIN else f"Placement: {placement}")


def show_decision(decision: Decision) -> None:
    say("Decision: " + decision.explain())


def show_record(episode: Episode, record: EventRecord) -> None:
    names = {lv.code: lv.name for lv in episode.pathway.levels}
    src, dst = names.get(record.source, record.source), names.get(record.target, record.target)
    move = f"stays at {dst}" if record.source == record.target else f"{src} -> {dst}"
    say(f"Recorded #{record.seq}: {record.event.value}, {move} (episode version {episode.version})")


def show_options(decisions: Iterable[Decision]) -> None:
    say("Options now (judged on the latest assessment):")
    for d in decisions:
        mark = "allowed" if d.allowed else "refused"
        why = f" ({len(d.reasons)} reason{'s' if len(d.reasons) != 1 else ''})" if d.reasons else ""
        say(f"[{mark}] {d.event.value} -> {d.target}{why}", indent=4)


def opening(pathway: Pathway) -> Episode:
    print("=" * WIDTH)
    print("carepath demo: one patient's course through levels of addiction care")
    print("=" * WIDTH)
    print(f"Pathway: {pathway.name} ({pathway.id}, version {pathway.version})")
    levels = ", ".join(lv.name for lv in pathway.levels)
    print(
        textwrap.fill(f"Levels, least to most intensive: {levels}", WIDTH, subsequent_indent="    ")
    )
    print("Ratings 0-4: none, mild, moderate, significant, severe. All times are UTC.")
    return pathway.start("patient-0001", at=day(0, hour=8), episode_id="episode-2026-0001")


def detox(episode: Episode) -> None:
    """Intake with significant withdrawal, strong cravings and an unsafe home; detox."""
    pathway = episode.pathway
    heading(0, "Intake assessment and admission")
    intake = Assessment(
        withdrawal=3, biomedical=1, emotional=2, readiness=2, relapse=3, environment=3
    )
    show_placement(intake, pathway)
    show_decision(episode.check(Event.ADMIT, "detox", at=day(0), assessment=intake))
    show_record(episode, episode.admit("detox", at=day(0), assessment=intake))

    heading(4, "Detox reassessment: withdrawal settled, cravings still strong")
    settled = Assessment(
        withdrawal=1, biomedical=1, emotional=2, readiness=2, relapse=3, environment=3
    )
    show_placement(settled, pathway)
    show_record(episode, episode.reassess(settled, at=day(4)))
    show_options(episode.options(day(4, hour=10)))
    show_decision(episode.check(Event.STEP_DOWN, "inpatient", at=day(4, hour=11)))
    show_record(episode, episode.step_down("inpatient", at=day(4, hour=11)))


def inpatient(episode: Episode) -> None:
    """An early step-down is refused with every reason; later the patient is ready for IOP."""
    heading(9, "The patient asks to step down to IOP after 5 days (refused)")
    try:
        episode.step_down("iop", at=day(9))
    except TransitionRejected as rejected:
        say(f"REFUSED: {rejected.event} from {rejected.source} to {rejected.target}, because:")
        for reason in rejected.reasons:
            say(f"- {reason.message}  [{reason.kind}]", indent=4)
        say(
            f"Nothing changed: still at {episode.level}, episode version {episode.version}. "
            "A clinician "
            + ("could" if rejected.overridable else "could not")
            + " override these reasons with a recorded Override(reason=..., by=...); "
            "the team decides to keep the patient in inpatient care."
        )

    heading(30, "Inpatient review: ready for intensive outpatient care")
    ready = Assessment(
        withdrawal=0, biomedical=1, emotional=2, readiness=1, relapse=2, environment=2
    )
    show_placement(ready, episode.pathway)
    show_decision(episode.check(Event.STEP_DOWN, "iop", at=day(30), assessment=ready))
    show_record(episode, episode.step_down("iop", at=day(30), assessment=ready))


def iop(episode: Episode) -> None:
    """A relapse (care intensifies in place), a step up to PHP and back down to IOP."""
    pathway = episode.pathway
    heading(50, "Relapse during IOP")
    lapse = Assessment(
        withdrawal=1, biomedical=1, emotional=2, readiness=2, relapse=2, environment=2
    )
    target = pathway.relapse_target(pathway.level("iop"), lapse)
    say(f"Assessment: {ratings(lapse)}")
    say(
        f"A relapse re-places the patient: on this assessment the place is {target.name}, "
        "so care intensifies where the patient is (no move)."
    )
    show_record(episode, episode.relapse(at=day(50), assessment=lapse))

    heading(57, "Emotional needs rise: step up to partial hospitalization")
    crisis = Assessment(
        withdrawal=1, biomedical=1, emotional=3, readiness=2, relapse=2, environment=2
    )
    show_placement(crisis, pathway)
    show_decision(episode.check(Event.STEP_UP, "php", at=day(57), assessment=crisis))
    show_record(episode, episode.step_up("php", at=day(57), assessment=crisis))

    heading(71, "Stabilised, living in sober housing: back down to IOP")
    steadier = Assessment(
        withdrawal=0, biomedical=1, emotional=2, readiness=1, relapse=2, environment=1
    )
    show_placement(steadier, pathway)
    show_decision(episode.check(Event.STEP_DOWN, "iop", at=day(71), assessment=steadier))
    show_record(episode, episode.step_down("iop", at=day(71), assessment=steadier))


def outpatient(episode: Episode) -> None:
    """Down to outpatient care after six weeks of IOP, then completion."""
    heading(113, "Six weeks of IOP: step down to outpatient care")
    stable = Assessment(
        withdrawal=0, biomedical=0, emotional=1, readiness=1, relapse=1, environment=1
    )
    show_placement(stable, episode.pathway)
    show_record(episode, episode.reassess(stable, at=day(113)))
    show_options(episode.options(day(113, hour=10)))
    show_decision(episode.check(Event.STEP_DOWN, "outpatient", at=day(113, hour=11)))
    show_record(episode, episode.step_down("outpatient", at=day(113, hour=11)))

    heading(143, "Treatment goals met: complete")
    show_decision(episode.check(Event.COMPLETE, at=day(143)))
    show_record(episode, episode.complete(at=day(143)))
    outcome = episode.outcome.value if episode.outcome is not None else "open"
    say(f"Episode ended: {outcome}")


def record(episode: Episode) -> None:
    """The history, and the JSON round trip."""
    print()
    print("History")
    print("-" * WIDTH)
    for r in episode.history:
        days = (r.at - START).total_seconds() / 86_400
        print(f"  {r.seq:>2}  day {days:5.1f}  {r.event.value:<12} {r.source:>10} -> {r.target}")

    print()
    print("JSON round trip")
    print("-" * WIDTH)
    text = episode.to_json(indent=2)
    data = json.loads(text)
    say(
        f"{len(text)} characters: format {data['format']!r} v{data['format_version']}, "
        f"pathway {data['pathway']['id']!r} (content hash {data['pathway']['content_hash'][:12]}"
        f"...), {len(data['events'])} events"
    )
    say("First event: " + json.dumps(data["events"][0]))
    loaded = Episode.from_json(text, episode.pathway)
    say(f"Replayed through the pathway; equal to the original: {loaded == episode}")
    say(f"Loaded episode: {loaded!r}")


def cohort() -> None:
    """A short simulation: 2,000 synthetic patients through the same rules, one year."""
    from carepath.sim import SimulationModel, simulate  # noqa: PLC0415  # extra 'sim'

    print()
    print("A simulated cohort on the same pathway and rules")
    print("-" * WIDTH)
    result = simulate(SimulationModel.default(), n=2_000, seed=2026, days=365)
    say(
        f"{result.metadata['n']:,} synthetic patients followed for "
        f"{result.metadata['days']} days (seed {result.metadata['seed']}): "
        f"{len(result.events):,} events in {len(result.stays):,} stays."
    )
    print()
    print(result.summary())
    print()
    say("Every row of result.events replays through Episode; see docs/simulation.md.")


def main() -> None:
    episode = opening(standard_pathway())
    detox(episode)
    inpatient(episode)
    iop(episode)
    outpatient(episode)
    record(episode)
    cohort()


if __name__ == "__main__":
    main()
