"""Episodes: event methods, guards and their reasons, overrides, idempotency, readmission."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from carepath import (
    Assessment,
    Decision,
    Episode,
    Event,
    EventRecord,
    InvalidEvent,
    Outcome,
    Override,
    Reason,
    TransitionRejected,
    standard_pathway,
)
from carepath.levels import DETOX, IOP
from support import T0

OVERRIDE = Override(reason="team agreed: housing falls through Friday", by="dr-0042")
SECRET = "left after an argument with her partner about custody"

DETOX_NAME = "Withdrawal management (detox)"
IOP_NAME = "Intensive outpatient (IOP)"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def new(episode_id: str = "ep-1") -> Episode:
    return standard_pathway().start("pt-1", at=T0, episode_id=episode_id)


def at_level(code: str, assessment: Assessment, episode_id: str = "ep-1") -> Episode:
    ep = new(episode_id)
    ep.admit(code, at=T0, assessment=assessment)
    return ep


def in_detox() -> Episode:
    return at_level("detox", Assessment(withdrawal=3, relapse=2))


def in_iop() -> Episode:
    return at_level("iop", Assessment(relapse=2))


def messages(info: pytest.ExceptionInfo[TransitionRejected]) -> list[str]:
    return [r.message for r in info.value.reasons]


def snapshot(ep: Episode) -> tuple[object, ...]:
    return (
        ep.state,
        ep.version,
        ep.history,
        ep.assessment,
        ep.last_at,
        ep.entered_at,
        ep.to_json(),
    )


# -- start -----------------------------------------------------------------------------------


def test_start_opens_an_episode_at_intake() -> None:
    ep = new()
    assert ep.state == "intake"
    assert ep.level is None
    assert ep.outcome is None
    assert ep.is_open
    assert ep.assessment is None
    assert ep.history == ()
    assert ep.version == 0
    assert ep.id == "ep-1"
    assert ep.patient_id == "pt-1"
    assert ep.previous_episode_id is None
    assert ep.started_at == T0
    assert ep.last_at == T0
    assert ep.pathway is standard_pathway()


def test_generated_episode_ids_are_unique() -> None:
    p = standard_pathway()
    ids = {p.start("pt-1", at=T0).id for _ in range(100)}
    assert len(ids) == 100
    assert all(ids)


def test_episodes_cannot_be_constructed_directly() -> None:
    with pytest.raises(TypeError, match=r"pathway\.start"):
        Episode()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"patient_id": ""}, "patient_id"),
        ({"patient_id": "pt-1", "episode_id": " "}, "episode_id"),
        ({"patient_id": "pt-1", "at": datetime(2026, 1, 5)}, "at"),  # noqa: DTZ001  # deliberately naive
    ],
)
def test_start_validates_its_arguments(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"at": T0, **kw}
    with pytest.raises(InvalidEvent) as info:
        standard_pathway().start(**args)  # type: ignore[arg-type]  # built from a dict
    assert info.value.field == field
    assert info.value.event == "start"


# -- admit -----------------------------------------------------------------------------------


def test_admit_happy_path_records_everything() -> None:
    a = Assessment(withdrawal=3, relapse=2)
    ep = new()
    record = ep.admit("detox", at=T0, assessment=a, event_id="msg-1")
    assert record == EventRecord(
        seq=1,
        event_id="msg-1",
        event=Event.ADMIT,
        source="intake",
        target="detox",
        at=T0,
        assessment=a,
    )
    assert ep.level is DETOX
    assert ep.state == "detox"
    assert ep.assessment == a
    assert ep.entered_at == T0
    assert ep.history == (record,)
    assert ep.version == 1


def test_admit_accepts_a_level_object() -> None:
    ep = new()
    ep.admit(IOP, at=T0, assessment=Assessment(relapse=2))
    assert ep.level is IOP


def test_admit_refused_when_the_level_does_not_fit() -> None:
    ep = new()
    with pytest.raises(TransitionRejected) as info:
        ep.admit("iop", at=T0, assessment=Assessment(withdrawal=3, relapse=3))
    assert messages(info) == [
        f"withdrawal risk 3 (significant) exceeds {IOP_NAME}'s maximum of 1 (mild)",
        f"relapse potential 3 (significant) exceeds {IOP_NAME}'s maximum of 2 (moderate)",
    ]
    assert [r.kind for r in info.value.reasons] == ["fits_criteria", "fits_criteria"]
    assert info.value.overridable
    assert (info.value.event, info.value.source, info.value.target) == ("admit", "intake", "iop")
    assert info.value.episode_id == "ep-1"
    assert str(info.value) == (
        "admit from intake to iop refused for episode 'ep-1': 2 reasons (fits_criteria); "
        "see .reasons or .explain()"
    )
    # The words (with the ratings) are on the reasons, not in the message that reaches logs.
    assert "withdrawal risk" not in str(info.value)
    assert "withdrawal risk" in info.value.explain()


def test_admit_refused_when_more_intensive_than_needed() -> None:
    with pytest.raises(TransitionRejected) as info:
        new().admit("inpatient", at=T0, assessment=Assessment())
    assert messages(info) == [
        "the assessment places the patient in Outpatient; Inpatient / residential is more "
        "intensive than the ratings need",
    ]
    assert info.value.reasons[0].kind == "placement"


def test_admit_to_an_alternative_is_allowed() -> None:
    # relapse 1 sits at outpatient's limit, so IOP could also serve
    ep = new()
    ep.admit("iop", at=T0, assessment=Assessment(relapse=1))
    assert ep.state == "iop"


def test_admit_without_any_assessment_is_refused() -> None:
    with pytest.raises(TransitionRejected) as info:
        new().admit("outpatient", at=T0)
    assert messages(info) == [
        "no assessment on record: Outpatient's criteria cannot be checked without one",
    ]


def test_admit_uses_the_latest_assessment_from_intake() -> None:
    ep = new()
    ep.reassess(Assessment(relapse=2), at=T0)
    assert ep.state == "intake"
    ep.admit("iop", at=day(1))
    assert ep.state == "iop"
    assert ep.history[-1].assessment is None
    assert ep.assessment == Assessment(relapse=2)


def test_admit_twice_is_structural() -> None:
    ep = in_detox()
    with pytest.raises(TransitionRejected) as info:
        ep.admit("iop", at=day(1), assessment=Assessment(), override=OVERRIDE)
    assert messages(info) == [
        f"the pathway has no admit move from {DETOX_NAME} to {IOP_NAME}",
    ]
    assert info.value.reasons[0] == Reason(
        kind="structure", message=messages(info)[0], overridable=False
    )
    assert not info.value.overridable


# -- step down -------------------------------------------------------------------------------


def test_step_down_happy_path_skipping_levels() -> None:
    ep = in_detox()
    record = ep.step_down("outpatient", at=day(4), assessment=Assessment(relapse=1))
    assert (record.event, record.source, record.target) == (Event.STEP_DOWN, "detox", "outpatient")
    assert ep.state == "outpatient"
    assert ep.entered_at == day(4)


def test_step_down_refusal_lists_every_failed_reason() -> None:
    ep = in_detox()
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("iop", at=day(1), assessment=Assessment(withdrawal=2, relapse=3))
    assert messages(info) == [
        f"{DETOX_NAME}'s minimum stay is 3 days; the patient has been there 1.0 day "
        "(2.0 days to go)",
        f"withdrawal risk 2 (moderate) exceeds {IOP_NAME}'s maximum of 1 (mild)",
        f"relapse potential 3 (significant) exceeds {IOP_NAME}'s maximum of 2 (moderate)",
    ]
    assert [r.kind for r in info.value.reasons] == [
        "minimum_stay",
        "fits_criteria",
        "fits_criteria",
    ]


def test_step_down_minimum_stay_counts_fractional_days() -> None:
    ep = in_detox()
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("iop", at=day(2.5), assessment=Assessment())
    assert messages(info) == [
        f"{DETOX_NAME}'s minimum stay is 3 days; the patient has been there 2.5 days "
        "(0.5 days to go)",
    ]
    ep.step_down("iop", at=day(3), assessment=Assessment())
    assert ep.state == "iop"


def test_step_down_to_a_more_intensive_level_is_structural() -> None:
    ep = in_iop()
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("detox", at=day(60), assessment=Assessment(withdrawal=4))
    assert messages(info) == [
        f"the pathway has no step_down move from {IOP_NAME} to {DETOX_NAME}",
    ]


# -- step up ---------------------------------------------------------------------------------


def test_step_up_happy_path() -> None:
    ep = in_iop()
    record = ep.step_up("php", at=day(2), assessment=Assessment(emotional=3, relapse=2))
    assert (record.source, record.target) == ("iop", "php")
    assert ep.entered_at == day(2)
    assert ep.days_in_level(day(3)) == 1.0


def test_step_up_refused_when_the_current_level_still_fits() -> None:
    ep = in_iop()
    with pytest.raises(TransitionRejected) as info:
        ep.step_up("php", at=day(1), assessment=Assessment(relapse=1))
    assert messages(info) == [
        f"the assessment still fits {IOP_NAME}: no rating exceeds its limits, so a step up "
        "is not indicated",
    ]
    assert info.value.reasons[0].kind == "needs_more_care"


def test_step_up_refused_when_the_target_does_not_fit_either() -> None:
    ep = in_iop()
    with pytest.raises(TransitionRejected) as info:
        ep.step_up("php", at=day(1), assessment=Assessment(withdrawal=3))
    assert messages(info) == [
        "withdrawal risk 3 (significant) exceeds Partial hospitalization (PHP)'s maximum of "
        "1 (mild)",
    ]


def test_step_up_from_the_top_is_structural() -> None:
    with pytest.raises(TransitionRejected) as info:
        in_detox().step_up("inpatient", at=day(1), assessment=Assessment(withdrawal=4))
    assert info.value.reasons[0].kind == "structure"


# -- relapse ---------------------------------------------------------------------------------


def test_relapse_intensifies_in_place_when_the_level_still_fits() -> None:
    ep = in_iop()
    record = ep.relapse(at=day(10), assessment=Assessment(relapse=2, emotional=2))
    assert (record.event, record.source, record.target) == (Event.RELAPSE, "iop", "iop")
    assert ep.state == "iop"
    assert ep.entered_at == T0  # the clock at the level keeps running
    assert ep.assessment == Assessment(relapse=2, emotional=2)


def test_relapse_without_a_new_assessment_stays_in_place() -> None:
    ep = in_iop()
    assert ep.relapse(at=day(1)).target == "iop"


def test_relapse_steps_up_to_the_new_placement() -> None:
    ep = in_iop()
    record = ep.relapse(at=day(10), assessment=Assessment(relapse=3))
    assert (record.source, record.target) == ("iop", "inpatient")
    assert ep.entered_at == day(10)


@pytest.mark.parametrize("withdrawal", [3, 4])
def test_relapse_with_high_withdrawal_risk_goes_to_detox(withdrawal: int) -> None:
    for code, a in [
        ("outpatient", Assessment()),
        ("iop", Assessment(relapse=2)),
        ("inpatient", Assessment(relapse=4)),
    ]:
        ep = at_level(code, a)
        assert ep.relapse(at=day(1), assessment=Assessment(withdrawal=withdrawal)).target == (
            "detox"
        )
        assert ep.level is DETOX


def test_relapse_at_intake_is_refused() -> None:
    with pytest.raises(TransitionRejected) as info:
        new().relapse(at=T0, assessment=Assessment(relapse=3))
    assert messages(info) == [
        "relapse applies to a patient at a level; this episode is still at intake",
    ]


def test_relapse_in_place_past_the_maximum_stay_needs_an_override() -> None:
    ep = in_detox()
    with pytest.raises(TransitionRejected) as info:
        ep.relapse(at=day(12))
    assert messages(info) == [
        f"{DETOX_NAME}'s maximum stay of 10 days is exceeded (12.0 days); a continued stay "
        "needs a recorded override",
    ]
    record = ep.relapse(at=day(12), override=OVERRIDE)
    assert record.override == OVERRIDE
    assert record.reasons == info.value.reasons


# -- reassess --------------------------------------------------------------------------------


def test_reassess_records_the_assessment_without_moving() -> None:
    ep = in_iop()
    record = ep.reassess(Assessment(relapse=1), at=day(7))
    assert (record.event, record.source, record.target) == (Event.REASSESS, "iop", "iop")
    assert ep.assessment == Assessment(relapse=1)
    assert ep.entered_at == T0


def test_reassess_refused_when_the_level_no_longer_fits() -> None:
    ep = in_iop()
    with pytest.raises(TransitionRejected) as info:
        ep.reassess(Assessment(emotional=3), at=day(7))
    assert messages(info) == [
        f"emotional/behavioural risk 3 (significant) exceeds {IOP_NAME}'s maximum of 2 (moderate)",
    ]


def test_reassess_past_the_maximum_stay_needs_an_override() -> None:
    ep = in_detox()
    with pytest.raises(TransitionRejected) as info:
        ep.reassess(Assessment(withdrawal=3), at=day(11))
    assert messages(info) == [
        f"{DETOX_NAME}'s maximum stay of 10 days is exceeded (11.0 days); a continued stay "
        "needs a recorded override",
    ]
    assert info.value.reasons[0].kind == "maximum_stay"


def test_reassess_requires_an_assessment() -> None:
    with pytest.raises(InvalidEvent) as info:
        in_iop().reassess({"relapse": 2}, at=day(1))  # type: ignore[arg-type]  # wrong type
    assert info.value.field == "assessment"
    assert "expected an Assessment, got dict" in str(info.value)


# -- complete, drop out, transfer out --------------------------------------------------------


def test_complete_happy_path() -> None:
    ep = in_iop()
    record = ep.complete(at=day(42), assessment=Assessment(relapse=1))
    assert (record.event, record.target) == (Event.COMPLETE, "completed")
    assert ep.outcome is Outcome.COMPLETED
    assert ep.state == "completed"
    assert ep.level is None
    assert ep.entered_at is None
    assert not ep.is_open


def test_complete_refused_before_minimum_stay_and_with_higher_need() -> None:
    ep = in_iop()
    with pytest.raises(TransitionRejected) as info:
        ep.complete(at=day(10), assessment=Assessment(emotional=3))
    assert messages(info) == [
        f"{IOP_NAME}'s minimum stay is 42 days; the patient has been there 10.0 days "
        "(32.0 days to go)",
        "the assessment places the patient in Partial hospitalization (PHP), more intensive "
        f"than {IOP_NAME}: emotional/behavioural risk 3 (significant) exceeds {IOP_NAME}'s "
        "maximum of 2 (moderate)",
    ]
    assert [r.kind for r in info.value.reasons] == ["minimum_stay", "no_higher_need"]


def test_drop_out_keeps_the_reason_as_a_note() -> None:
    ep = in_iop()
    record = ep.drop_out(at=day(3), reason=SECRET)
    assert record.note == SECRET
    assert ep.outcome is Outcome.DROPPED_OUT
    assert ep.drop_out(at=day(3), reason=SECRET, event_id=record.event_id) is record


def test_drop_out_from_intake_and_transfer_out() -> None:
    a = new("a")
    a.drop_out(at=T0)
    assert a.outcome is Outcome.DROPPED_OUT
    b = in_iop()
    b.transfer_out(at=day(1))
    assert b.outcome is Outcome.TRANSFERRED_OUT
    assert b.history[-1].note is None


def test_drop_out_reason_must_be_a_string() -> None:
    with pytest.raises(InvalidEvent) as info:
        in_iop().drop_out(at=day(1), reason=3)  # type: ignore[arg-type]  # wrong type
    assert info.value.field == "reason"


def test_no_event_after_an_outcome() -> None:
    ep = in_iop()
    ep.transfer_out(at=day(1))
    attempts: tuple[Callable[[], object], ...] = (
        lambda: ep.reassess(Assessment(), at=day(2), override=OVERRIDE),
        lambda: ep.complete(at=day(2), override=OVERRIDE),
        lambda: ep.drop_out(at=day(2)),
        lambda: ep.relapse(at=day(2)),
    )
    for attempt in attempts:
        with pytest.raises(TransitionRejected) as info:
            attempt()
        assert messages(info) == [
            "the episode has ended (transferred_out); a readmission starts a new episode",
        ]
    assert ep.version == 2


def test_drop_out_reason_never_appears_in_reprs_or_errors() -> None:
    ep = in_iop()
    record = ep.drop_out(at=day(3), reason=SECRET)
    texts = [repr(record), str(record), repr(ep), str(ep), repr(ep.history)]
    attempts: tuple[Callable[[], object], ...] = (
        lambda: ep.transfer_out(at=day(4)),
        lambda: ep.drop_out(at=day(1), reason=SECRET),
        lambda: ep.reassess(Assessment(), at=day(4), event_id=record.event_id),
    )
    for attempt in attempts:
        with pytest.raises((TransitionRejected, InvalidEvent)) as info:
            attempt()
        texts += [str(info.value), repr(info.value)]
    for text in texts:
        assert SECRET not in text
        assert "custody" not in text


def test_override_reason_never_appears_in_reprs_or_errors() -> None:
    ep = in_detox()
    record = ep.step_down("iop", at=day(1), assessment=Assessment(), override=OVERRIDE)
    decision = ep.check(Event.COMPLETE, at=day(2), override=OVERRIDE)
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("detox", at=day(2), assessment=Assessment(), override=OVERRIDE)
    for text in (
        repr(record),
        repr(OVERRIDE),
        str(OVERRIDE),
        repr(decision),
        decision.explain(),
        str(info.value),
        repr(info.value),
        repr(ep),
    ):
        assert OVERRIDE.reason not in text
        assert "housing" not in text


# -- overrides -------------------------------------------------------------------------------


def test_override_sets_aside_criteria_and_duration_guards_and_is_recorded() -> None:
    ep = in_detox()
    refused = ep.check(Event.STEP_DOWN, "iop", at=day(1), assessment=Assessment(withdrawal=2))
    assert not refused.allowed
    record = ep.step_down("iop", at=day(1), assessment=Assessment(withdrawal=2), override=OVERRIDE)
    assert ep.state == "iop"
    assert record.override is OVERRIDE
    assert record.reasons == refused.reasons
    assert [r.kind for r in record.reasons] == ["minimum_stay", "fits_criteria"]
    assert ep.history[-1] is record


def test_override_is_not_recorded_when_nothing_was_set_aside() -> None:
    ep = in_detox()
    record = ep.step_down("iop", at=day(4), assessment=Assessment(), override=OVERRIDE)
    assert record.override is None
    assert record.reasons == ()


def test_override_on_admission() -> None:
    ep = new()
    record = ep.admit("inpatient", at=T0, assessment=Assessment(), override=OVERRIDE)
    assert record.override is OVERRIDE
    assert [r.kind for r in record.reasons] == ["placement"]


def test_override_never_creates_a_move_the_pathway_lacks() -> None:
    ep = in_iop()
    before = snapshot(ep)
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("php", at=day(60), assessment=Assessment(), override=OVERRIDE)
    assert info.value.reasons[0].kind == "structure"
    with pytest.raises(TransitionRejected):
        ep.step_up("iop", at=day(60), override=OVERRIDE)
    assert snapshot(ep) == before


def test_override_with_a_mix_of_structural_and_guard_reasons_is_refused() -> None:
    ep = in_iop()
    ep.complete(at=day(50))
    with pytest.raises(TransitionRejected) as info:
        ep.complete(at=day(51), override=OVERRIDE)
    assert not info.value.overridable


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"reason": "", "by": "dr-1"}, "Override.reason"),
        ({"reason": "why", "by": "  "}, "Override.by"),
    ],
)
def test_override_needs_a_reason_and_an_author(kw: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Override(**kw)


def test_override_argument_must_be_an_override() -> None:
    with pytest.raises(InvalidEvent) as info:
        in_detox().step_down("iop", at=day(1), override="dr said so")  # type: ignore[arg-type]
    assert info.value.field == "override"


# -- rejection changes nothing ---------------------------------------------------------------


def test_rejection_leaves_the_episode_unchanged() -> None:
    ep = in_detox()
    ep.reassess(Assessment(withdrawal=3, relapse=1), at=day(1))
    before = snapshot(ep)
    attempts: tuple[Callable[[], object], ...] = (
        lambda: ep.step_down("iop", at=day(2), assessment=Assessment(relapse=3)),
        lambda: ep.complete(at=day(2), assessment=Assessment(withdrawal=4)),
        lambda: ep.admit("iop", at=day(2), assessment=Assessment()),
        lambda: ep.reassess(Assessment(), at=day(20)),
    )
    for attempt in attempts:
        with pytest.raises(TransitionRejected):
            attempt()
        assert snapshot(ep) == before


# -- times -----------------------------------------------------------------------------------


def test_naive_datetimes_are_rejected_naming_the_field() -> None:
    naive = datetime(2026, 1, 6, 9, 0)  # noqa: DTZ001  # deliberately naive
    ep = in_iop()
    before = snapshot(ep)
    attempts: dict[str, Callable[[], object]] = {
        "step_down": lambda: ep.step_down("outpatient", at=naive),
        "relapse": lambda: ep.relapse(at=naive),
        "reassess": lambda: ep.reassess(Assessment(), at=naive),
        "complete": lambda: ep.complete(at=naive),
        "drop_out": lambda: ep.drop_out(at=naive),
        "transfer_out": lambda: ep.transfer_out(at=naive),
        "days_in_level": lambda: ep.days_in_level(naive),
        "options": lambda: ep.options(naive),
    }
    for event, attempt in attempts.items():
        with pytest.raises(InvalidEvent) as info:
            attempt()
        assert info.value.field == "at"
        assert info.value.event == event
        assert "naive datetime" in str(info.value)
        assert isinstance(info.value, ValueError)
    assert snapshot(ep) == before


def test_non_datetime_at_is_rejected() -> None:
    with pytest.raises(InvalidEvent) as info:
        in_iop().relapse(at="2026-01-06T09:00:00+00:00")  # type: ignore[arg-type]
    assert info.value.field == "at"
    assert "got str" in str(info.value)


def test_times_before_the_last_event_are_rejected() -> None:
    ep = in_iop()
    ep.reassess(Assessment(relapse=1), at=day(5))
    before = snapshot(ep)
    with pytest.raises(InvalidEvent) as info:
        ep.reassess(Assessment(), at=day(4))
    assert info.value.field == "at"
    assert info.value.event == "reassess"
    assert "earlier than the episode's latest event" in str(info.value)
    assert snapshot(ep) == before
    # the same instant is fine
    ep.reassess(Assessment(), at=day(5))


def test_non_utc_offsets_compare_by_instant() -> None:
    ep = in_iop()
    plus5 = timezone(timedelta(hours=5))
    # 13:00+05:00 is 08:00 UTC, one hour before the admission at 09:00 UTC
    with pytest.raises(InvalidEvent):
        ep.reassess(Assessment(), at=datetime(2026, 1, 5, 13, 0, tzinfo=plus5))
    ep.reassess(Assessment(), at=datetime(2026, 1, 5, 15, 0, tzinfo=plus5))
    # Days are elapsed time, whatever zone the times are written in.
    assert ep.days_in_level(datetime(2026, 1, 6, 14, 0, tzinfo=plus5)) == 1.0


def test_a_stay_across_a_daylight_saving_change_meets_a_week_long_minimum() -> None:
    """Monday 09:00 to the next Monday 09:00 local time meets a 7-day minimum across a DST
    start (6.96 elapsed days, within the stay guards' one hour of slack)."""
    ny = ZoneInfo("America/New_York")
    admitted = datetime(2026, 3, 2, 9, 0, tzinfo=ny)
    ep = standard_pathway().start("pt-dst", at=admitted, episode_id="ep-dst")
    ep.admit("inpatient", at=admitted, assessment=Assessment(relapse=3, environment=3))
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=ny)  # clocks went forward on 8 March
    assert ep.days_in_level(monday) == pytest.approx(7 - 1 / 24)  # elapsed time
    ep.step_down("php", at=monday, assessment=Assessment(emotional=3, relapse=2))
    # The same episode written in UTC (as a database may store it) loads the same.
    data = ep.to_dict()
    for item in data["events"]:
        item["at"] = datetime.fromisoformat(item["at"]).astimezone(UTC).isoformat()
    data["started_at"] = datetime.fromisoformat(data["started_at"]).astimezone(UTC).isoformat()
    assert Episode.from_dict(data, ep.pathway) == ep
    assert ep.level is not None
    assert ep.level.code == "php"


def test_a_refusal_never_reads_zero_days_to_go() -> None:
    ep = standard_pathway().start("pt-z", at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    ep.admit("detox", at=datetime(2026, 1, 5, 9, tzinfo=UTC), assessment=Assessment(withdrawal=3))
    almost = datetime(2026, 1, 8, 7, 59, tzinfo=UTC)  # 1 minute short of 3 days less 1 hour
    decision = ep.check(
        Event.STEP_DOWN, "inpatient", at=almost, assessment=Assessment(relapse=3, environment=3)
    )
    message = next(r.message for r in decision.reasons if r.kind == "minimum_stay")
    assert "(0.1 days to go)" in message


# -- levels ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["IOP", "iopp", "", "completed", "intake"])
def test_unknown_level_names_are_rejected(level: str) -> None:
    ep = new()
    with pytest.raises(InvalidEvent) as info:
        ep.admit(level, at=T0, assessment=Assessment())
    assert info.value.field == "level"
    assert info.value.event == "admit"
    assert f"{level!r} is not a level of pathway 'standard'" in str(info.value)
    assert "known: outpatient, sober_living, iop, php, inpatient, detox" in str(info.value)
    assert ep.version == 0


def test_a_level_object_from_another_definition_is_rejected() -> None:
    import attrs  # noqa: PLC0415  # only here

    other = attrs.evolve(IOP, name="Another IOP")
    with pytest.raises(InvalidEvent) as info:
        new().admit(other, at=T0, assessment=Assessment())
    assert info.value.field == "level"


# -- event ids and versions ------------------------------------------------------------------


def test_same_event_id_is_a_no_op_returning_the_earlier_record() -> None:
    ep = new()
    first = ep.admit("iop", at=T0, assessment=Assessment(relapse=2), event_id="MSG0001")
    ep.reassess(Assessment(relapse=1), at=day(5), event_id="MSG0002")
    before = snapshot(ep)
    # a retried feed re-sends the admission with its original time
    again = ep.admit("iop", at=T0, assessment=Assessment(relapse=2), event_id="MSG0001")
    assert again is first
    assert ep.reassess(Assessment(relapse=1), at=day(5), event_id="MSG0002") is ep.history[1]
    assert snapshot(ep) == before
    assert ep.version == 2


def test_same_event_id_for_a_different_event_kind_is_invalid() -> None:
    ep = in_iop()
    ep.reassess(Assessment(relapse=1), at=day(1), event_id="MSG0002")
    with pytest.raises(InvalidEvent) as info:
        ep.complete(at=day(50), event_id="MSG0002")
    assert info.value.field == "event_id"
    assert "already used for a reassess event (seq 2)" in str(info.value)
    assert ep.version == 2


def test_generated_event_ids_never_collide_with_given_ones() -> None:
    ep = new()
    ep.admit("iop", at=T0, assessment=Assessment(relapse=2), event_id="ep-1:2")
    second = ep.reassess(Assessment(relapse=1), at=day(1))
    assert second.event_id != "ep-1:2"
    assert len({r.event_id for r in ep.history}) == 2
    assert Episode.from_json(ep.to_json(), ep.pathway) == ep


def test_empty_event_id_is_invalid() -> None:
    with pytest.raises(InvalidEvent) as info:
        in_iop().reassess(Assessment(), at=day(1), event_id="")
    assert info.value.field == "event_id"


def test_version_counts_applied_events_only() -> None:
    ep = new()
    assert ep.version == 0
    ep.reassess(Assessment(withdrawal=3), at=T0)
    ep.admit("detox", at=T0)
    assert ep.version == 2
    with pytest.raises(TransitionRejected):
        ep.step_down("iop", at=day(1))
    assert ep.version == 2
    ep.step_down("iop", at=day(4), assessment=Assessment())
    assert ep.version == 3
    assert [r.seq for r in ep.history] == [1, 2, 3]


# -- days_in_level ---------------------------------------------------------------------------


def test_days_in_level() -> None:
    ep = new()
    assert ep.days_in_level(day(3)) == 0.0
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3))
    assert ep.days_in_level(T0) == 0.0
    assert ep.days_in_level(day(1.5)) == 1.5
    ep.reassess(Assessment(withdrawal=2), at=day(2))
    assert ep.days_in_level(day(2)) == 2.0  # reassessment does not reset the clock
    ep.step_down("inpatient", at=day(4), assessment=Assessment(withdrawal=2))
    assert ep.days_in_level(day(4)) == 0.0
    assert ep.days_in_level(day(11)) == 7.0
    ep.transfer_out(at=day(12))
    assert ep.days_in_level(day(13)) == 0.0


# -- check and options -----------------------------------------------------------------------


def test_check_changes_nothing() -> None:
    ep = in_detox()
    before = snapshot(ep)
    refused = ep.check(Event.STEP_DOWN, "iop", at=day(1), assessment=Assessment())
    allowed = ep.check("step_down", "iop", at=day(4), assessment=Assessment())
    overridden = ep.check(Event.STEP_DOWN, "iop", at=day(1), override=OVERRIDE)
    ep.check(Event.COMPLETE, at=day(20))
    ep.check(Event.RELAPSE, at=day(2), assessment=Assessment(withdrawal=4))
    assert snapshot(ep) == before
    assert not refused
    assert not refused.allowed
    assert [r.kind for r in refused.reasons] == ["minimum_stay"]
    assert allowed == Decision(event=Event.STEP_DOWN, source="detox", target="iop", allowed=True)
    assert allowed.explain() == "step_down detox -> iop: allowed"
    assert overridden.allowed
    assert overridden.overridden
    assert overridden.explain().startswith("step_down detox -> iop: allowed by override")


def test_check_agrees_with_the_event() -> None:
    ep = in_detox()
    d = ep.check(Event.STEP_DOWN, "iop", at=day(1), assessment=Assessment(relapse=3))
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("iop", at=day(1), assessment=Assessment(relapse=3))
    assert d.reasons == info.value.reasons
    assert d.explain().startswith("step_down detox -> iop: refused:\n  - ")


def test_check_validates_its_arguments() -> None:
    ep = in_iop()
    with pytest.raises(InvalidEvent) as info:
        ep.check("discharge", at=day(1))  # type: ignore[arg-type]  # the runtime check
    assert info.value.field == "event"
    with pytest.raises(InvalidEvent, match="this event needs a target level"):
        ep.check(Event.STEP_DOWN, at=day(1))
    with pytest.raises(InvalidEvent, match="this event takes no target level"):
        ep.check(Event.COMPLETE, "detox", at=day(1))
    # A relapse may name its destination (as a feed does); the relapse guard judges it.
    named = ep.check(Event.RELAPSE, "detox", at=day(1), assessment=Assessment(relapse=3))
    assert not named.allowed
    assert [r.kind for r in named.reasons] == ["relapse_placement"]
    with pytest.raises(InvalidEvent) as info:
        ep.check(Event.REASSESS, at=day(-1))
    assert info.value.field == "at"


def test_options_lists_every_next_move_with_its_decision() -> None:
    ep = in_iop()
    before = snapshot(ep)
    options = ep.options(day(43))
    assert snapshot(ep) == before
    moves = {(d.event, d.target): d for d in options}
    assert set(moves) == {
        (Event.STEP_DOWN, "outpatient"),
        (Event.STEP_DOWN, "sober_living"),
        (Event.STEP_UP, "php"),
        (Event.STEP_UP, "inpatient"),
        (Event.STEP_UP, "detox"),
        (Event.RELAPSE, "iop"),
        (Event.REASSESS, "iop"),
        (Event.COMPLETE, "completed"),
        (Event.DROP_OUT, "dropped_out"),
        (Event.TRANSFER_OUT, "transferred_out"),
    }
    assert len(options) == len(moves)
    assert all(d.source == "iop" for d in options)
    assert moves[Event.REASSESS, "iop"].allowed
    assert moves[Event.COMPLETE, "completed"].allowed
    assert moves[Event.DROP_OUT, "dropped_out"].allowed
    # relapse 2 is above outpatient's limit
    assert not moves[Event.STEP_DOWN, "outpatient"].allowed
    assert not moves[Event.STEP_UP, "php"].allowed
    for d in options:
        assert d.allowed is (not d.reasons)
        assert d == ep.check(
            d.event, d.target if d.event in (Event.STEP_DOWN, Event.STEP_UP) else None, at=day(43)
        )


def test_options_show_relapse_with_its_target() -> None:
    ep = at_level("outpatient", Assessment())
    ep.relapse(at=day(1), assessment=Assessment(withdrawal=3))
    assert ep.state == "detox"
    relapses = [d for d in ep.options(day(2)) if d.event is Event.RELAPSE]
    assert [(d.target, d.allowed) for d in relapses] == [("detox", True)]


def test_options_at_intake_and_after_an_outcome() -> None:
    ep = new()
    events = {d.event for d in ep.options(T0)}
    assert events == {Event.REASSESS, Event.ADMIT, Event.DROP_OUT, Event.TRANSFER_OUT}
    ep.drop_out(at=T0)
    assert ep.options(day(1)) == ()


# -- readmission -----------------------------------------------------------------------------


def test_readmission_starts_a_new_linked_episode() -> None:
    ep = in_iop()
    ep.drop_out(at=day(3), reason=SECRET)
    again = ep.readmit(at=day(30), episode_id="ep-2")
    assert again.id == "ep-2"
    assert again.previous_episode_id == "ep-1"
    assert again.patient_id == ep.patient_id
    assert again.state == "intake"
    assert again.version == 0
    assert again.started_at == day(30)
    assert ep.outcome is Outcome.DROPPED_OUT  # the old episode is untouched
    again.admit("detox", at=day(30), assessment=Assessment(withdrawal=4))
    assert Episode.from_json(again.to_json(), again.pathway) == again


def test_readmission_refused_while_the_previous_episode_is_open() -> None:
    ep = in_iop()
    with pytest.raises(InvalidEvent) as info:
        ep.readmit(at=day(30))
    assert info.value.field == "previous"
    assert "has not ended" in str(info.value)


def test_readmission_checks_patient_and_time() -> None:
    ep = in_iop()
    ep.complete(at=day(50))
    with pytest.raises(InvalidEvent, match="another patient"):
        standard_pathway().start("pt-2", at=day(60), previous=ep)
    with pytest.raises(InvalidEvent) as info:
        ep.readmit(at=day(49))
    assert info.value.field == "at"


# -- the shared engine is safe across threads ------------------------------------------------


def test_concurrent_episodes_do_not_interfere() -> None:
    errors: list[BaseException] = []

    def drive(n: int) -> None:
        try:
            for i in range(30):
                ep = standard_pathway().start(f"pt-{n}-{i}", at=T0)
                ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3))
                ep.step_down("inpatient", at=day(4), assessment=Assessment(relapse=3))
                ep.step_down("iop", at=day(12), assessment=Assessment(relapse=2))
                ep.complete(at=day(60), assessment=Assessment())
                assert [r.target for r in ep.history] == [
                    "detox",
                    "inpatient",
                    "iop",
                    "completed",
                ]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_recorded_relapse_to_another_level_keeps_the_replacement_as_a_finding() -> None:
    """A feed says the patient relapsed and went to detox; the assessment re-places in
    inpatient care: recorded as a fact, with the relapse guard's verdict as a finding."""
    ep = in_iop()
    record = ep.record(
        Event.RELAPSE, "detox", at=day(3), assessment=Assessment(relapse=3, environment=3)
    )
    assert record.target == "detox"
    assert record.fact
    assert [r.kind for r in record.reasons] == ["relapse_placement"]
    assert "re-places the patient in Inpatient / residential, not Withdrawal" in (
        record.reasons[0].message
    )
    assert ep.findings() == (record,)
    assert Episode.from_json(ep.to_json(), ep.pathway) == ep


def test_mixed_offsets_cannot_shorten_a_minimum_stay() -> None:
    """5.96 elapsed days written in zones 26 hours apart are still 5.96 days: refused."""
    west, east = timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))
    admitted = datetime(2024, 1, 1, 0, 0, tzinfo=west)
    ep = standard_pathway().start("pt-tz", at=admitted, episode_id="ep-tz")
    ep.admit("inpatient", at=admitted, assessment=Assessment(relapse=3, environment=3))
    later = (admitted + timedelta(days=5.96)).astimezone(east)
    assert ep.days_in_level(later) == pytest.approx(5.96)
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("php", at=later, assessment=Assessment(emotional=3, relapse=2))
    assert [r.kind for r in info.value.reasons] == ["minimum_stay"]
