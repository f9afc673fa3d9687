"""A whole ADT feed of many visits and patients read into courses of treatment.

Each stitching decision (a step to another level in the same episode, sessions merged
into one stay, a new linked episode) is explained in the note of the event it shaped.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from _hl7_support import adt
from carepath import Episode, Event, InteropError, InvalidArgument, Outcome, standard_pathway
from carepath.interop import (
    Link,
    Stay,
    Stitching,
    episodes_from_hl7v2,
    from_hl7v2,
    stitch,
)

PATHWAY = standard_pathway()


def _moves(ep: Episode) -> list[tuple[str, Event, str]]:
    return [(r.event_id, r.event, r.target) for r in ep.history]


def _residential_then_iop(gap_days: int = 1) -> list[str]:
    """Detox and residential under visit V1, discharged home; IOP registered under V2
    ``gap_days`` later and discharged."""
    iop = datetime(2026, 1, 30, 9, tzinfo=UTC) + timedelta(days=gap_days)
    at = iop.strftime("%Y%m%d%H%M")
    end = (iop + timedelta(days=40)).strftime("%Y%m%d%H%M")
    return [
        adt("A01", "M1", "202601050900", service="DETOX", visit="V1"),
        adt("A02", "M2", "202601090900", service="RES", visit="V1"),
        adt("A03", "M3", "202601300900", service="RES", disposition="01", visit="V1"),
        adt("A04", "M4", at, patient_class="O", service="IOP", visit="V2"),
        adt("A03", "M5", end, patient_class="O", service="IOP", disposition="01", visit="V2"),
    ]


def test_a_next_day_step_down_to_another_visit_continues_the_episode() -> None:
    [ep] = episodes_from_hl7v2(_residential_then_iop(1), PATHWAY)
    assert ep.id == "V1"
    assert _moves(ep) == [
        ("M1", Event.ADMIT, "detox"),
        ("M2", Event.STEP_DOWN, "inpatient"),
        ("M4", Event.STEP_DOWN, "iop"),
        ("M5", Event.COMPLETE, "completed"),
    ]
    note = ep.history[2].note or ""
    assert note.startswith("HL7 v2 ADT^A04\nstep: visit 'V2' (iop, started by 'M4')")
    assert "1.0 days after visit 'V1' (inpatient) ended completed" in note
    assert "discharge 'M3', kept for audit" in note
    assert "within continuity_days=14" in note
    # from_hl7v2 keeps its one-visit behaviour.
    with pytest.raises(InteropError, match="another visit"):
        from_hl7v2(_residential_then_iop(1), PATHWAY)


def test_per_session_iop_visits_become_one_stay() -> None:
    msgs = [adt("A01", "M0", "202601050900", service="DETOX", visit="V0")]
    msgs.append(adt("A03", "M00", "202601090900", service="DETOX", disposition="01", visit="V0"))
    for n, day in enumerate((10, 12, 15, 17, 19)):
        visit = f"S{n}"
        at = f"202601{day}"
        msgs.append(adt("A04", f"R{n}", at + "0900", patient_class="O", service="IOP", visit=visit))
        msgs.append(
            adt("A03", f"D{n}", at + "1200", patient_class="O", disposition="01", visit=visit)
        )
    [ep] = episodes_from_hl7v2(msgs, PATHWAY)
    assert _moves(ep) == [
        ("M0", Event.ADMIT, "detox"),
        ("R0", Event.STEP_DOWN, "iop"),
        ("D4", Event.COMPLETE, "completed"),
    ]
    note = ep.history[1].note or ""
    assert note.count("session: ") == 4
    assert "session: visit 'S1' (iop, started by 'R1') continues the same stay" in note
    assert "discharge 'D0', kept for audit" in note
    assert "within session_gap_days=7" in note
    # With a shorter session gap, the 3-day pause splits the programme.
    short = episodes_from_hl7v2(msgs, PATHWAY, stitching=Stitching(session_gap_days=2))
    assert [e.id for e in short] == ["V0", "S2"]
    assert short[1].previous_episode_id == "V0"


def test_a_readmission_after_60_days_is_a_new_linked_episode() -> None:
    first, second = episodes_from_hl7v2(_residential_then_iop(60), PATHWAY)
    assert (first.id, second.id) == ("V1", "V2")
    assert first.outcome is Outcome.COMPLETED
    assert second.previous_episode_id == "V1"
    assert _moves(second) == [("M4", Event.ADMIT, "iop"), ("M5", Event.COMPLETE, "completed")]
    note = second.history[0].note or ""
    assert "new_episode: visit 'V2'" in note
    assert "60.0 days after visit 'V1' (inpatient) ended completed" in note
    assert "beyond continuity_days=14" in note
    # A wider window keeps it one course.
    [one] = episodes_from_hl7v2(
        _residential_then_iop(60), PATHWAY, stitching=Stitching(continuity_days=90)
    )
    assert [r.event_id for r in one.history] == ["M1", "M2", "M4", "M5"]


def test_a_cancel_that_spans_visits() -> None:
    """An A13 naming V1 cancels V1's discharge although V2 started in between: V1 was
    still open when V2 began, a step. An A11 naming no visit cancels the latest
    admission of any visit."""
    msgs = _residential_then_iop(1)
    cancel_discharge = adt("A13", "C1", "202602010900", visit="V1")
    [ep] = episodes_from_hl7v2([*msgs, cancel_discharge], PATHWAY)
    assert [r.event_id for r in ep.history] == ["M1", "M2", "M4", "M5"]
    assert "visit 'V1' (inpatient) was still open" in (ep.history[2].note or "")
    cancel_admit = adt("A11", "C2", "202601311000", visit="")
    [only] = episodes_from_hl7v2([*msgs[:4], cancel_admit], PATHWAY)
    assert _moves(only)[-1] == ("M3", Event.COMPLETE, "completed")


def test_a_late_message_that_belongs_before_others_changes_the_courses() -> None:
    msgs = _residential_then_iop(1)
    # Delivered in any order (the discharge of V1 last, after V2's), the same course.
    expected = episodes_from_hl7v2(msgs, PATHWAY)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = msgs[:]
        rng.shuffle(shuffled)
        assert episodes_from_hl7v2(shuffled, PATHWAY) == expected
    # Before V1's discharge arrives, V1 is open and V2 steps down from it.
    [early] = episodes_from_hl7v2([msgs[0], msgs[1], msgs[3]], PATHWAY)
    assert _moves(early)[-1] == ("M4", Event.STEP_DOWN, "iop")


def test_retries_and_many_patients_interleaved() -> None:
    a = _residential_then_iop(1)
    b = [
        m.replace("MRN0042", "PAT0099").replace("|M", "|B").replace("|V", "|W")
        for m in _residential_then_iop(60)
    ]
    feed = [x for pair in zip(a, b, strict=True) for x in pair] + a[:2]
    episodes = episodes_from_hl7v2(feed, PATHWAY)
    assert [(e.patient_id, e.id) for e in episodes] == [
        ("MRN0042", "V1"),
        ("PAT0099", "W1"),
        ("PAT0099", "W2"),
    ]
    assert all(r.fact for e in episodes for r in e.history)


def test_a_message_without_a_patient_id_is_refused_in_a_feed() -> None:
    msgs = [adt("A01", "M1", "202601050900", service="IOP", pid3="")]
    with pytest.raises(InteropError) as info:
        episodes_from_hl7v2(msgs, PATHWAY)
    assert info.value.field == "PID-3"


def test_arguments_are_checked() -> None:
    msgs = _residential_then_iop()
    with pytest.raises(InteropError, match="Stitching"):
        episodes_from_hl7v2(msgs, PATHWAY, stitching={"continuity_days": 3})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="continuity_days"):
        Stitching(continuity_days=-1)
    with pytest.raises(InvalidArgument, match="session_levels"):
        Stitching(session_levels="iop")
    with pytest.raises(InvalidArgument, match="continuity_after"):
        Stitching(continuity_after=["died"])


# -- the neutral stitcher (shared with FHIR) ----------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _stay(ref: str, level: str, start: int, end: int | None, outcome: Outcome | None) -> Stay:
    return Stay(
        ref=ref,
        level=level,
        start=T0 + timedelta(days=start),
        end_level=level,
        end=None if end is None else T0 + timedelta(days=end),
        outcome=outcome,
        start_refs=(f"{ref}-start",),
        end_refs=(f"{ref}-end",) if end is not None else (),
    )


def test_stitch_decides_by_level_gap_and_outcome() -> None:
    done = Outcome.COMPLETED
    stays = [
        _stay("e", "iop", 70, None, None),
        _stay("a", "detox", 0, 4, done),
        _stay("b", "inpatient", 10, 30, done),  # 6 days later, another level: step
        _stay("c", "inpatient", 32, 40, done),  # same residential level: a readmission
        _stay("d", "iop", 41, 45, Outcome.DROPPED_OUT),  # left against advice
        _stay("e", "iop", 70, None, None),
    ][1:]
    courses = stitch(stays, Stitching(continuity_after=[done]), session_levels={"iop"})
    assert [[s.ref for s in c.stays] for c in courses] == [["a", "b"], ["c", "d"], ["e"]]
    assert [link.rule for link in courses[0].links] == ["step"]
    link = courses[0].links[0]
    assert link == Link(
        rule="step",
        gap_days=6.0,
        previous="a",
        next="b",
        from_level="detox",
        to_level="inpatient",
        outcome=done,
        ended_by=("a-end",),
        started_by=("b-start",),
        limit_days=14,
    )
    assert courses[1].linked_from is not None
    assert courses[1].linked_from.rule == "new_episode"
    assert courses[2].linked_from is not None
    assert "ended dropped_out" in courses[2].linked_from.explain()
