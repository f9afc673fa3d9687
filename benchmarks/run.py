"""carepath's benchmarks: cost per event, per episode, and at scale, as ratios in one run.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); ``--quick`` is a
smoke run of a few seconds that reports the figures but never fails on them.

What is measured (issue 2, "Performance"; method in docs/performance.md):

a. Firing an event through an :class:`~carepath.Episode` against a raw
   ``transitions`` trigger (one Machine with the same states and transitions, the
   same guards written as plain bool conditions) and a plain dict table.
   Target: Episode <= 1.5x raw transitions.
b. Opening an episode with ``pathway.start(...)``: time (< 10 us) and memory
   (< 2 KB, tracemalloc over many episodes).
c. Cost per event with 1,000 and with 100,000 live episodes, events fired on
   random ones. Target: the ratio stays <= 1.2.

Every timing is a run of many operations divided by their number; runs of the
variants being compared are interleaved in shuffled order, repeated, and
summarised by their minimum and median. A target is *clearly missed* (exit code 1)
only when both the ratio of minimums and the median of per-round ratios miss it.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import transitions
from transitions import Machine

import carepath
from carepath import (
    Assessment,
    Episode,
    Event,
    FitsCriteria,
    Guard,
    GuardContext,
    Level,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    Pathway,
    PlacementMatches,
    RiskAtLeast,
    RiskAtMost,
    Rule,
    standard_pathway,
)

# -- the workload ---------------------------------------------------------------------------------

T0: Final = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY: Final = timedelta(days=1)

#: Fits IOP (and places there); exceeds IOP's emotional limit, so fits PHP but not IOP.
A_IOP: Final = Assessment(emotional=2, relapse=2)
A_PHP: Final = Assessment(emotional=3, relapse=2)


EpisodeCall = Callable[[Episode, datetime], object]


@dataclass(frozen=True)
class Step:
    """One event of the repeating cycle, fired ``days`` after the previous one."""

    event: Event
    source: str
    target: str
    days: int
    assessment: Assessment
    fire: EpisodeCall  # the same event through the public Episode API
    delta: timedelta = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", timedelta(days=self.days))

    @property
    def trigger(self) -> str:
        """The trigger name on a machine compiled from the pathway's rules."""
        return Rule(event=self.event, source=self.source, target=self.target).trigger


#: A realistic mix that every guard kind on the hot path passes: reassess in place
#: (criteria fit, maximum stay), step up (target fits, current level no longer does),
#: reassess again, step down after the minimum stay (minimum stay, target fits).
CYCLE: Final[tuple[Step, ...]] = (
    Step(Event.REASSESS, "iop", "iop", 1, A_IOP, lambda ep, at: ep.reassess(A_IOP, at=at)),
    Step(
        Event.STEP_UP,
        "iop",
        "php",
        1,
        A_PHP,
        lambda ep, at: ep.step_up("php", at=at, assessment=A_PHP),
    ),
    Step(Event.REASSESS, "php", "php", 5, A_PHP, lambda ep, at: ep.reassess(A_PHP, at=at)),
    Step(
        Event.STEP_DOWN,
        "php",
        "iop",
        6,
        A_IOP,  # PHP's minimum stay is 10 days
        lambda ep, at: ep.step_down("iop", at=at, assessment=A_IOP),
    ),
)
CYCLE_LEN: Final = len(CYCLE)


def admitted_episode(pathway: Pathway, patient_id: str) -> Episode:
    """An episode admitted to IOP at ``T0``, ready for the cycle's first step."""
    ep = pathway.start(patient_id, at=T0)
    ep.admit("iop", at=T0, assessment=A_IOP)
    return ep


# -- the baselines: the same rules without carepath ---------------------------------------------

Check = Callable[[Any, datetime, Assessment], bool]
"""A plain guard: (model, at, assessment) -> passes."""


class RawModel:
    """What a raw-transitions user keeps per patient: state plus what guards need."""

    def __init__(self, state: str, entered_at: datetime, assessment: Assessment) -> None:
        self.state = state
        self.entered_at = entered_at
        self.assessment = assessment


def _days(model: Any, at: datetime) -> float:
    entered: datetime = model.entered_at
    return (at - entered).total_seconds() / 86_400.0


def _fits(fits: Callable[[Assessment], bool]) -> Check:
    return lambda m, at, a: fits(a)


def _does_not_fit(fits: Callable[[Assessment], bool]) -> Check:
    return lambda m, at, a: not fits(a)


def _stayed_at_least(days: int) -> Check:
    return lambda m, at, a: _days(m, at) >= days


def _stayed_at_most(days: int) -> Check:
    return lambda m, at, a: _days(m, at) <= days


def _placed(pathway: Pathway, code: str) -> Check:
    def check(m: Any, at: datetime, a: Assessment) -> bool:
        p = pathway.place(a)
        return p.level.code == code or any(x.code == code for x in p.alternatives)

    return check


def _ends(pathway: Pathway, rule: Rule) -> tuple[Level | None, Level | None]:
    """The rule's source and target levels (``None`` for intake or an outcome)."""
    by_code = {lv.code: lv for lv in pathway.levels}
    return by_code.get(rule.source), by_code.get(rule.target)


def _risk_at_most(dimension: str, risk: int) -> Check:
    return lambda m, at, a: getattr(a, dimension) <= risk


def _risk_at_least(dimension: str, risk: int) -> Check:
    return lambda m, at, a: getattr(a, dimension) >= risk


def _carepath_guard(pathway: Pathway, rule: Rule, guard: Guard) -> Check:
    """Fallback for a guard kind with no plain version here (none is on the timed path)."""
    source, target = _ends(pathway, rule)

    def check(m: Any, at: datetime, a: Assessment) -> bool:
        ctx = GuardContext(
            event=rule.event,
            source=source,
            target=target,
            assessment=a,
            at=at,
            entered_at=m.entered_at,
            pathway=pathway,
        )
        return not guard.check(ctx)

    return check


def plain_checks(pathway: Pathway, rule: Rule) -> list[Check]:
    """The rule's guards as plain bool functions (no reasons), one per guard.

    A guard that cannot apply (no source level at intake, no target level for an
    outcome, no maximum stay) passes, as carepath's does, and gets no check.
    """
    source, target = _ends(pathway, rule)
    out: list[Check] = []
    for guard in rule.guards:
        if isinstance(guard, FitsCriteria):
            if target is not None:
                out.append(_fits(pathway.criteria_for(target).fits))
        elif isinstance(guard, NeedsMoreCare):
            if source is not None:
                out.append(_does_not_fit(pathway.criteria_for(source).fits))
        elif isinstance(guard, NoHigherNeed):
            if source is not None:
                out.append(_fits(pathway.criteria_for(source).fits))
        elif isinstance(guard, MinimumStay):
            if source is not None:
                out.append(_stayed_at_least(source.stay.minimum_days))
        elif isinstance(guard, MaximumStay):
            if source is not None and source.stay.maximum_days is not None:
                out.append(_stayed_at_most(source.stay.maximum_days))
        elif isinstance(guard, PlacementMatches):
            if target is not None:
                out.append(_placed(pathway, target.code))
        elif isinstance(guard, RiskAtMost):
            out.append(_risk_at_most(guard.dimension.value, int(guard.risk)))
        elif isinstance(guard, RiskAtLeast):
            out.append(_risk_at_least(guard.dimension.value, int(guard.risk)))
        else:
            out.append(_carepath_guard(pathway, rule, guard))
    return out


Condition = Callable[[Any], bool]
"""A transitions condition with ``send_event=True``: (EventData) -> passes."""


def _c_fits(fits: Callable[[Assessment], bool]) -> Condition:
    return lambda e: fits(e.kwargs["assessment"])


def _c_does_not_fit(fits: Callable[[Assessment], bool]) -> Condition:
    return lambda e: not fits(e.kwargs["assessment"])


def _c_stayed_at_least(days: int) -> Condition:
    return lambda e: (e.kwargs["at"] - e.model.entered_at).total_seconds() / 86_400.0 >= days


def _c_stayed_at_most(days: int) -> Condition:
    return lambda e: (e.kwargs["at"] - e.model.entered_at).total_seconds() / 86_400.0 <= days


def _c_check(check: Check) -> Condition:
    return lambda e: check(e.model, e.kwargs["at"], e.kwargs["assessment"])


def raw_conditions(pathway: Pathway, rule: Rule) -> list[Condition]:
    """The rule's guards as transitions conditions, written as a user of transitions
    would: one small function each, reading the trigger's keyword arguments. (The
    guards off the timed path reuse :func:`plain_checks` through one more call.)"""
    source, target = _ends(pathway, rule)
    out: list[Condition] = []
    for guard in rule.guards:
        if isinstance(guard, FitsCriteria):
            if target is not None:
                out.append(_c_fits(pathway.criteria_for(target).fits))
        elif isinstance(guard, NeedsMoreCare):
            if source is not None:
                out.append(_c_does_not_fit(pathway.criteria_for(source).fits))
        elif isinstance(guard, MinimumStay):
            if source is not None:
                out.append(_c_stayed_at_least(source.stay.minimum_days))
        elif isinstance(guard, MaximumStay):
            if source is not None and source.stay.maximum_days is not None:
                out.append(_c_stayed_at_most(source.stay.maximum_days))
        else:
            one = Rule(event=rule.event, source=rule.source, target=rule.target, guards=[guard])
            out.extend(_c_check(c) for c in plain_checks(pathway, one))
    return out


def raw_machine(pathway: Pathway, models: list[RawModel], *, guarded: bool = True) -> Any:
    """One transitions Machine with the pathway's states and moves over ``models`` (at IOP)."""
    return Machine(
        model=models,
        states=list(pathway.states),
        initial="iop",
        transitions=[
            {
                "trigger": r.trigger,
                "source": r.source,
                "dest": r.target,
                "conditions": raw_conditions(pathway, r) if guarded else [],
            }
            for r in pathway.rules
        ],
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


Table = dict[tuple[str, str, str], tuple[str, tuple[Check, ...]]]


def dict_table(pathway: Pathway) -> Table:
    """The pathway compiled to ``(state, event, target) -> (new state, plain checks)``."""
    return {
        (r.source, r.event.value, r.target): (r.target, tuple(plain_checks(pathway, r)))
        for r in pathway.rules
    }


# -- timing harness -------------------------------------------------------------------------------

Runner = Callable[[int], None]
"""Performs ``n`` operations; timed as a whole."""


@dataclass
class Samples:
    """Per-operation times (ns) of one variant, one per round."""

    name: str
    ns: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.ns)

    @property
    def median(self) -> float:
        return statistics.median(self.ns)


def interleaved(
    runners: dict[str, Runner], *, n: int, rounds: int, rng: random.Random
) -> dict[str, Samples]:
    """Time every runner ``rounds`` times, in a shuffled order each round.

    One untimed warm-up run each first. The cyclic garbage collector is paused
    during a timed run (as :mod:`timeit` does); what exists before the first run is
    frozen out of its way (:func:`gc.freeze`), so that the collections that run
    between runs do not grow with the number of live episodes.
    """
    out = {name: Samples(name) for name in runners}
    for run in runners.values():
        run(max(n // 10, 1))
    names = list(runners)
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            rng.shuffle(names)
            for name in names:
                run = runners[name]
                gc.disable()
                try:
                    start = time.perf_counter_ns()
                    run(n)
                    elapsed = time.perf_counter_ns() - start
                finally:
                    gc.enable()
                out[name].ns.append(elapsed / n)
    finally:
        gc.unfreeze()
    return out


@dataclass
class Ratio:
    """A ratio of two variants: of their minimums, and the median of per-round ratios."""

    of_best: float
    paired_median: float

    @classmethod
    def of(cls, num: Samples, den: Samples) -> Ratio:
        paired = [a / b for a, b in zip(num.ns, den.ns, strict=True)]
        return cls(of_best=num.best / den.best, paired_median=statistics.median(paired))

    def clearly_above(self, limit: float) -> bool:
        return self.of_best > limit and self.paired_median > limit

    def __str__(self) -> str:
        return f"{self.of_best:.2f}x (paired median {self.paired_median:.2f}x)"


# -- report ---------------------------------------------------------------------------------------


@dataclass
class Report:
    """Rows of the printed table and the verdicts of the targets."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.rows.append((title, "", "", ""))

    def timing(self, label: str, s: Samples, note: str = "") -> None:
        self.rows.append((f"  {label}", _us(s.best), _us(s.median), note))

    def line(self, label: str, best: str, median: str = "", note: str = "") -> None:
        self.rows.append((f"  {label}", best, median, note))

    def target(self, label: str, value: str, met: bool, target: str) -> None:
        verdict = "met" if met else "MISSED"
        self.rows.append((f"  {label}", value, "", f"target {target}: {verdict}"))
        if not met:
            self.failures.append(f"{label}: {value} (target {target})")

    def render(self) -> str:
        head = ("measure", "min", "median", "ratio / target")
        width = [max(len(r[i]) for r in [head, *self.rows]) for i in range(4)]
        lines = [_fmt(head, width), _fmt(tuple("-" * w for w in width), width)]
        lines.extend(_fmt(r, width) for r in self.rows)
        return "\n".join(lines)


def _fmt(row: Sequence[str], width: Sequence[int]) -> str:
    return (f"{row[0]:<{width[0]}}  {row[1]:>{width[1]}}  {row[2]:>{width[2]}}  {row[3]}").rstrip()


def _us(ns: float) -> str:
    return f"{ns / 1000:.2f} us" if ns >= 1000 else f"{ns:.0f} ns"


# -- a. cost per event ----------------------------------------------------------------------------


@dataclass
class Clocks:
    """Per member of a pool: its clock and its next step in the cycle."""

    at: list[datetime]
    phase: list[int]

    @classmethod
    def of(cls, size: int) -> Clocks:
        return cls([T0] * size, [0] * size)


def episode_runner(episodes: list[Episode], order: list[int]) -> Runner:
    """Fire the cycle through the Episode API on ``episodes[order[k]]``, k = 0, 1, ..."""
    clocks, pos = Clocks.of(len(episodes)), [0]

    def run(count: int) -> None:
        eps, ats, phases = episodes, clocks.at, clocks.phase
        first = pos[0]
        for k in range(first, first + count):
            i = order[k]
            phase = phases[i]
            step = CYCLE[phase]
            at = ats[i] + step.delta
            step.fire(eps[i], at)
            ats[i] = at
            phases[i] = (phase + 1) % CYCLE_LEN
        pos[0] = first + count

    return run


def raw_runner(pathway: Pathway, size: int, order: list[int], *, guarded: bool) -> Runner:
    """Fire the cycle as raw transitions triggers on ``size`` models of one Machine,
    keeping on each model what the guards need (level entry time, latest assessment)."""
    models = [RawModel("iop", T0, A_IOP) for _ in range(size)]
    raw_machine(pathway, models, guarded=guarded)
    triggers = [[getattr(m, s.trigger) for s in CYCLE] for m in models]
    clocks, pos = Clocks.of(size), [0]

    def run(count: int) -> None:
        ats, phases = clocks.at, clocks.phase
        first = pos[0]
        for k in range(first, first + count):
            i = order[k]
            phase = phases[i]
            step = CYCLE[phase]
            at = ats[i] + step.delta
            a = step.assessment
            m = models[i]
            before = m.state
            if not triggers[i][phase](at=at, assessment=a):
                raise AssertionError(f"raw transitions refused {step}")
            if m.state != before:
                m.entered_at = at
            m.assessment = a
            ats[i] = at
            phases[i] = (phase + 1) % CYCLE_LEN
        pos[0] = first + count

    return run


def table_runner(pathway: Pathway, size: int, order: list[int], *, checked: bool) -> Runner:
    """Fire the cycle through a dict table: with the same plain checks, or lookup only."""
    table = dict_table(pathway)
    keys = [(s.source, s.event.value, s.target) for s in CYCLE]
    models = [RawModel("iop", T0, A_IOP) for _ in range(size)]
    clocks, pos = Clocks.of(size), [0]

    def run(count: int) -> None:
        ats, phases = clocks.at, clocks.phase
        first = pos[0]
        for k in range(first, first + count):
            i = order[k]
            phase = phases[i]
            step = CYCLE[phase]
            at = ats[i] + step.delta
            a = step.assessment
            m = models[i]
            new_state, checks = table[keys[phase]]
            for check in checks:
                if not check(m, at, a):
                    raise AssertionError(f"dict table refused {step}")
            if new_state != m.state:
                m.entered_at = at
                m.state = new_state
            m.assessment = a
            ats[i] = at
            phases[i] = (phase + 1) % CYCLE_LEN
        pos[0] = first + count

    def lookup(count: int) -> None:
        phases = clocks.phase
        first = pos[0]
        for k in range(first, first + count):
            i = order[k]
            phase = phases[i]
            models[i].state = table[keys[phase]][0]
            phases[i] = (phase + 1) % CYCLE_LEN
        pos[0] = first + count

    return run if checked else lookup


def bench_events(report: Report, *, n: int, rounds: int, pool: int, rng: random.Random) -> None:
    pathway = standard_pathway()
    episodes = [admitted_episode(pathway, f"patient-{i:07d}") for i in range(pool)]
    total = n * rounds + max(n // 10, 1)  # the timed runs and the warm-up
    order = [k % pool for k in range(total)]  # round robin: each gets about total/pool
    runners: dict[str, Runner] = {
        "episode": episode_runner(episodes, order),
        "raw": raw_runner(pathway, pool, order, guarded=True),
        "raw_unguarded": raw_runner(pathway, pool, order, guarded=False),
        "table": table_runner(pathway, pool, order, checked=True),
        "lookup": table_runner(pathway, pool, order, checked=False),
    }
    s = interleaved(runners, n=n, rounds=rounds, rng=rng)
    raw = s["raw"]
    ratio = Ratio.of(s["episode"], raw)
    report.section(
        f"a. cost per event: runs of {n:,} events x {rounds} rounds, round robin "
        f"over {pool} episodes"
    )
    report.timing(
        "Episode event (guards with reasons, history record)", s["episode"], f"{ratio} of raw"
    )
    report.timing("raw transitions trigger, same guards as conditions", raw, "1.00x")
    for key, label in (
        ("raw_unguarded", "raw transitions trigger, no conditions"),
        ("table", "dict table + same plain checks"),
        ("lookup", "dict table lookup only"),
    ):
        report.timing(label, s[key], f"{Ratio.of(s[key], raw)} of raw")
    report.target(
        "Episode / raw transitions",
        f"{ratio.of_best:.2f}x",
        not ratio.clearly_above(1.5),
        "<= 1.5x",
    )
    # The episodes really went round the cycle, every guard passing (a refusal raises).
    applied = sum(ep.version - 1 for ep in episodes)  # (less each one's admission)
    assert applied == total, (applied, total)


# -- b. opening an episode ------------------------------------------------------------------------


def bench_start(report: Report, *, n: int, rounds: int, mem_n: int, rng: random.Random) -> None:
    pathway = standard_pathway()
    patient_ids = [f"patient-{i:07d}" for i in range(n)]
    episode_ids = [f"episode-{i:07d}" for i in range(n)]
    keep: list[Episode | None] = [None] * n

    def generated(count: int) -> None:
        start = pathway.start
        for i in range(count):
            keep[i] = start(patient_ids[i], at=T0)

    def given(count: int) -> None:
        start = pathway.start
        for i in range(count):
            keep[i] = start(patient_ids[i], at=T0, episode_id=episode_ids[i])

    s = interleaved({"generated": generated, "given": given}, n=n, rounds=rounds, rng=rng)
    keep[:] = [None] * n

    gen_bytes = _bytes_per_start(pathway, mem_n, with_id=False)
    given_bytes = _bytes_per_start(pathway, mem_n, with_id=True)
    event_bytes = _bytes_per_event(pathway, mem_n)

    report.section(f"b. opening an episode: runs of {n:,} x {rounds} rounds; memory over {mem_n:,}")
    report.timing("pathway.start(...), generated episode id", s["generated"])
    report.timing("pathway.start(..., episode_id=...)", s["given"])
    report.line("memory per episode, generated id (tracemalloc)", f"{gen_bytes:.0f} B")
    report.line("memory per episode, caller's id", f"{given_bytes:.0f} B")
    report.line("memory per applied event (record + id index)", f"{event_bytes:.0f} B")
    report.target(
        "time to open an episode", _us(s["generated"].best), s["generated"].best < 10_000, "< 10 us"
    )
    report.target("memory per episode", f"{gen_bytes:.0f} B", gen_bytes < 2048, "< 2 KB")


def _bytes_per_start(pathway: Pathway, n: int, *, with_id: bool) -> float:
    """Traced bytes per live episode, the caller's strings and the list excluded."""
    patient_ids = [f"patient-{i:07d}" for i in range(n)]
    episode_ids: list[str | None] = (
        [f"episode-{i:07d}" for i in range(n)] if with_id else [None] * n
    )
    keep: list[Episode | None] = [None] * n
    start = pathway.start
    start("warm-up", at=T0)  # first-call caches are not per-episode costs
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            keep[i] = start(patient_ids[i], at=T0, episode_id=episode_ids[i])
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert all(e is not None for e in keep)
    return (after - before) / n


def _bytes_per_event(pathway: Pathway, n: int) -> float:
    """Traced bytes kept per applied event (a reassess), over ``n`` episodes."""
    eps = [admitted_episode(pathway, f"patient-{i:07d}") for i in range(n)]
    at = T0 + DAY
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for ep in eps:
            ep.reassess(A_IOP, at=at)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / n


# -- c. cost per event at scale -------------------------------------------------------------------


def bench_scale(
    report: Report, *, sizes: tuple[int, int], n: int, rounds: int, rng: random.Random
) -> None:
    pathway = standard_pathway()
    small, large = sizes
    pops = {
        size: [admitted_episode(pathway, f"patient-{i:07d}") for i in range(size)] for size in sizes
    }
    total = n * rounds + max(n // 10, 1)  # the timed runs and the warm-up
    runners = {
        f"{size}": episode_runner(pops[size], [rng.randrange(size) for _ in range(total)])
        for size in sizes
    }
    s = interleaved(runners, n=n, rounds=rounds, rng=rng)
    report.section(
        f"c. cost per event by live episodes: runs of {n:,} events on random ones x {rounds} rounds"
    )
    for size in sizes:
        report.timing(f"{size:,} live episodes", s[f"{size}"])
    ratio = Ratio.of(s[f"{large}"], s[f"{small}"])
    report.line(f"{large:,} / {small:,}", f"{ratio.of_best:.2f}x", "", str(ratio))
    report.target(
        f"growth from {small:,} to {large:,} episodes",
        f"{ratio.of_best:.2f}x",
        not ratio.clearly_above(1.2),
        "<= 1.2x",
    )
    applied = sum(ep.version - 1 for eps in pops.values() for ep in eps)
    assert applied == 2 * total, (applied, total)


# -- main -----------------------------------------------------------------------------------------


LEGEND: Final = """\
min: the fastest run's time per operation; median: the median run's. Ratios are of
minimums; "paired median" is the median over rounds of the ratio within a round. A
ratio target counts as missed only when both miss it; a time target, when even the
fastest run misses it. Memory is traced by tracemalloc (deterministic)."""


def environment() -> str:
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}; carepath {carepath.__version__}, "
        f"transitions {transitions.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of a few seconds; targets are reported, not enforced",
    )
    parser.add_argument("--seed", type=int, default=20260105, help="seed for orders and draws")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    report = Report()
    began = time.perf_counter()
    print(environment(), flush=True)
    if args.quick:
        bench_events(report, n=200, rounds=12, pool=100, rng=rng)
        bench_start(report, n=200, rounds=12, mem_n=2_000, rng=rng)
        bench_scale(report, sizes=(1_000, 10_000), n=200, rounds=12, rng=rng)
    else:
        # Short runs, many rounds: on a busy machine a short run more often gets a core
        # to itself, and the minimum finds those runs.
        bench_events(report, n=250, rounds=120, pool=500, rng=rng)
        bench_start(report, n=500, rounds=100, mem_n=20_000, rng=rng)
        bench_scale(report, sizes=(1_000, 100_000), n=250, rounds=120, rng=rng)
    print(report.render())
    print(LEGEND)
    print(f"({time.perf_counter() - began:.1f} s)")
    if report.failures:
        print("\ntargets clearly missed:\n  " + "\n  ".join(report.failures))
        if args.quick:
            print("(--quick: not enforced)")
            return 0
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
