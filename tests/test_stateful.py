"""Stateful and property tests: random event sequences must never break an episode.

A :class:`~hypothesis.stateful.RuleBasedStateMachine` fires random events (with
random assessments, overrides, times in several zones, times before the last
event, naive times and reused event ids) at one episode and checks the
episode's invariants after every step.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from carepath import (
    INTAKE,
    Assessment,
    Decision,
    Episode,
    EventRecord,
    InvalidEvent,
    Override,
    Pathway,
    Risk,
    Setting,
    TransitionRejected,
    standard_pathway,
)
from carepath import Event as Ev
from carepath.testing import (
    EventStep,
    assessments,
    aware_datetimes,
    episodes,
    event_sequences,
    overrides,
    time_zones,
)

PATHWAY: Final = standard_pathway()
LEVEL_CODES: Final = tuple(lv.code for lv in PATHWAY.levels)
NON_RESIDENTIAL: Final = frozenset(
    lv.code for lv in PATHWAY.levels if lv.setting is not Setting.RESIDENTIAL
)
MOVES: Final = frozenset({Ev.ADMIT, Ev.STEP_DOWN, Ev.STEP_UP})
TAKES_OVERRIDE: Final = frozenset(
    {Ev.ADMIT, Ev.STEP_DOWN, Ev.STEP_UP, Ev.RELAPSE, Ev.REASSESS, Ev.COMPLETE}
)

# Shortly before clocks change in the zones carepath.testing uses: local times repeat
# (or are skipped), and same-zone datetime comparison ignores the UTC offset.
NEAR_DST_CHANGES: Final = (
    datetime(2026, 11, 1, 5, 10, tzinfo=UTC),  # New York falls back at 06:00Z
    datetime(2026, 3, 8, 6, 10, tzinfo=UTC),  # New York springs forward at 07:00Z
    datetime(2026, 10, 25, 0, 10, tzinfo=UTC),  # Berlin falls back at 01:00Z
    datetime(2026, 4, 4, 14, 10, tzinfo=UTC),  # Lord Howe falls back 30 minutes at 15:00Z
)
TERMINAL: Final = (Ev.COMPLETE, Ev.DROP_OUT, Ev.TRANSFER_OUT)
# Events that end the episode are drawn rarely, so that runs get deep into the pathway.
EVENTS: Final = st.one_of(
    *[st.sampled_from([e for e in Ev if e not in TERMINAL])] * 6, st.sampled_from(TERMINAL)
)
# How an event's time relates to the episode's latest event.
TIME_MODES: Final = st.sampled_from(["forward", "forward", "forward", "same", "earlier", "naive"])
# How an event's id is chosen: generated, fresh, a reused one, or one that looks generated.
ID_MODES: Final = st.sampled_from(["none", "none", "fresh", "reuse", "generated_form"])


def snapshot(ep: Episode) -> tuple[str, int, str, Assessment | None, datetime]:
    """Everything observable about an episode, for "changed nothing" comparisons."""
    return ep.to_json(), ep.version, ep.state, ep.assessment, ep.last_at


def utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


def fire(
    ep: Episode,
    ev: Ev,
    level: str | None,
    *,
    at: datetime,
    assessment: Assessment | None,
    override: Override | None,
    event_id: str | None,
) -> EventRecord:
    """Fire ``ev`` through the episode's typed method."""
    if ev is Ev.ADMIT:
        assert level is not None
        return ep.admit(level, at=at, assessment=assessment, override=override, event_id=event_id)
    if ev is Ev.STEP_DOWN:
        assert level is not None
        return ep.step_down(
            level, at=at, assessment=assessment, override=override, event_id=event_id
        )
    if ev is Ev.STEP_UP:
        assert level is not None
        return ep.step_up(level, at=at, assessment=assessment, override=override, event_id=event_id)
    if ev is Ev.RELAPSE:
        return ep.relapse(at=at, assessment=assessment, override=override, event_id=event_id)
    if ev is Ev.REASSESS:
        assert assessment is not None
        return ep.reassess(assessment, at=at, override=override, event_id=event_id)
    if ev is Ev.COMPLETE:
        return ep.complete(at=at, assessment=assessment, override=override, event_id=event_id)
    if ev is Ev.DROP_OUT:
        return ep.drop_out(at=at, event_id=event_id)
    return ep.transfer_out(at=at, event_id=event_id)


def _differs(
    earlier: EventRecord,
    ev: Ev,
    level: str | None,
    at: datetime,
    assessment: Assessment | None,
) -> bool:
    """Whether a retry under ``earlier``'s id asks for a different event (then it is refused)."""
    return (
        earlier.event is not ev
        or (level is not None and earlier.target != level)
        or utc(earlier.at) != utc(at)
        or earlier.assessment != assessment
    )


class EpisodeMachine(RuleBasedStateMachine):
    """Random events against one episode of the standard pathway."""

    def __init__(self) -> None:
        super().__init__()
        self.pathway: Pathway = PATHWAY
        self.ep: Episode = PATHWAY.start(
            "patient-s", at=datetime(2026, 1, 5, tzinfo=UTC), episode_id="ep-s"
        )
        self.fresh = 0
        self.accepted = 0
        self.readmissions = 0

    @initialize(
        start=aware_datetimes(max_value=datetime(2090, 1, 1))  # noqa: DTZ001
        | st.sampled_from(NEAR_DST_CHANGES),
    )
    def open_episode(self, start: datetime) -> None:
        self.ep = self.pathway.start("patient-s", at=start, episode_id="ep-s")

    # -- how to time and name an event ---------------------------------------------------------

    def _time(self, data: st.DataObject) -> datetime:
        mode = data.draw(TIME_MODES, label="time mode")
        tz: tzinfo = data.draw(time_zones(), label="tz")
        last = utc(self.ep.last_at)
        if mode == "same":
            return last.astimezone(tz)
        if mode == "earlier":
            back = data.draw(
                st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(hours=2))
                | st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=30)),
                label="back",
            )
            return (last - back).astimezone(tz)
        gap = data.draw(
            st.one_of(
                st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2)),
                st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
                st.integers(min_value=1, max_value=120).map(lambda d: timedelta(days=d)),
            ),
            label="gap",
        )
        at = (last + gap).astimezone(tz)
        return at.replace(tzinfo=None) if mode == "naive" else at

    def _event_id(self, data: st.DataObject) -> str | None:
        mode = data.draw(ID_MODES, label="id mode")
        history = self.ep.history
        if mode == "fresh":
            self.fresh += 1
            return f"msg-{self.fresh}"
        if mode == "reuse" and history:
            return data.draw(st.sampled_from([r.event_id for r in history]), label="reused id")
        if mode == "generated_form":
            ahead = data.draw(st.integers(1, 3), label="ahead")
            return f"{self.ep.id}:{self.ep.version + ahead}"
        return None

    # -- the step under test -------------------------------------------------------------------

    def _attempt(
        self,
        data: st.DataObject,
        ev: Ev,
        level: str | None,
        assessment: Assessment | None,
        override: Override | None,
        *,
        fact: bool = False,
    ) -> None:
        ep = self.ep
        if ev not in TAKES_OVERRIDE:
            assessment, override = None, None
        if ev is Ev.REASSESS and assessment is None:
            assessment = Assessment()
        if fact:
            override = None
        at = self._time(data)
        event_id = self._event_id(data)
        before = snapshot(ep)
        earlier = {r.event_id: r for r in ep.history}.get(event_id or "")
        naive = at.tzinfo is None
        out_of_order = not naive and utc(at) < utc(ep.last_at)
        decision: Decision | None = None
        check_error: InvalidEvent | None = None
        if earlier is None:
            try:
                decision = ep.check(ev, level, at=at, assessment=assessment, override=override)
            except InvalidEvent as exc:
                check_error = exc
            assert snapshot(ep) == before, "check() changed the episode"
        note(
            f"{'record' if fact else 'fire'} {ev.value} {level} at={at.isoformat()} "
            f"id={event_id} override={override is not None}"
        )
        rejected: TransitionRejected | None = None
        invalid = False
        try:
            if fact:
                record = ep.record(ev, level, at=at, assessment=assessment, event_id=event_id)
            else:
                record = fire(
                    ep,
                    ev,
                    level,
                    at=at,
                    assessment=assessment,
                    override=override,
                    event_id=event_id,
                )
        except TransitionRejected as exc:
            rejected = exc
        except InvalidEvent:
            invalid = True
        if rejected is not None:
            assert snapshot(ep) == before, "a rejected event changed the episode"
            assert rejected.reasons, "a rejection must give reasons"
            assert earlier is None, "a duplicate event id was judged again"
            assert decision is not None, "check() raised, firing rejected"
            assert not decision.allowed, "check() allowed what firing rejected"
            assert rejected.reasons == decision.reasons
            if fact:  # only the pathway's structure refuses a fact
                assert all(not r.overridable for r in rejected.reasons)
            return
        if invalid:
            assert snapshot(ep) == before, "an invalid event changed the episode"
            if earlier is None:
                assert check_error is not None, "check() answered, firing said invalid"
            else:  # a reused id: naive time, or an id already used for a different event
                assert naive or _differs(earlier, ev, level, at, assessment)
            return
        assert not naive, "a naive time was accepted"
        if earlier is not None:
            assert not _differs(earlier, ev, level, at, assessment)
            assert record is earlier, "a duplicate event id must return the earlier record"
            assert snapshot(ep) == before, "a duplicate event id must be a no-op"
            return
        assert not out_of_order, "an event dated before the latest one was accepted"
        assert check_error is None
        assert decision is not None
        assert decision.allowed or fact, "check() refused what firing accepted"
        assert ep.version == before[1] + 1
        assert ep.history[-1] is record
        assert record.event is ev
        assert utc(record.at) == utc(at)
        assert record.source == before[2]
        assert record.target == ep.state
        assert record.fact is fact
        if event_id is not None:
            assert record.event_id == event_id
        if fact:
            assert record.override is None
            assert record.reasons == decision.reasons
        elif record.reasons:
            assert override is not None
            assert record.override == override
        else:
            assert record.override is None
        self.accepted += 1

    # -- rules ---------------------------------------------------------------------------------

    @rule(
        data=st.data(),
        ev=EVENTS,
        level=st.sampled_from(LEVEL_CODES),
        assessment=st.none() | assessments(),
        override=st.none() | overrides(),
    )
    def any_event(
        self,
        data: st.DataObject,
        ev: Ev,
        level: str,
        assessment: Assessment | None,
        override: Override | None,
    ) -> None:
        """Any event, any target level, any assessment, sometimes overridden."""
        self._attempt(data, ev, level if ev in MOVES else None, assessment, override)

    @rule(data=st.data(), assessment=assessments(), override=st.none() | overrides())
    def move_to_placement(
        self, data: st.DataObject, assessment: Assessment, override: Override | None
    ) -> None:
        """Admit, step up or step down to where the assessment places the patient."""
        target = self.pathway.place(assessment).level
        current = self.ep.level
        if current is None:
            ev = Ev.ADMIT
        elif target.intensity > current.intensity:
            ev = Ev.STEP_UP
        elif target.intensity < current.intensity:
            ev = Ev.STEP_DOWN
        else:
            ev = Ev.REASSESS
        self._attempt(data, ev, target.code if ev in MOVES else None, assessment, override)

    @rule(
        data=st.data(),
        ev=EVENTS,
        level=st.sampled_from(LEVEL_CODES),
        assessment=st.none() | assessments(),
    )
    def record_fact(
        self, data: st.DataObject, ev: Ev, level: str, assessment: Assessment | None
    ) -> None:
        """Record an event that already happened (an EHR import): guards become findings."""
        self._attempt(data, ev, level if ev in MOVES else None, assessment, None, fact=True)

    @precondition(lambda self: not self.ep.is_open)
    @rule(gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
    def readmit(self, gap: timedelta) -> None:
        """After an outcome, a readmission starts a new episode linked to the ended one."""
        old = self.ep
        self.readmissions += 1
        new = old.readmit(at=utc(old.last_at) + gap, episode_id=f"ep-s{self.readmissions}")
        assert new.previous_episode_id == old.id
        assert new.patient_id == old.patient_id
        assert new.state == INTAKE
        assert new.version == 0
        self.ep = new

    @precondition(lambda self: self.ep.level is not None)
    @rule(data=st.data(), assessment=st.none() | assessments(), override=st.none() | overrides())
    def relapse(
        self, data: st.DataObject, assessment: Assessment | None, override: Override | None
    ) -> None:
        """A relapse at a level, with or without a new assessment."""
        self._attempt(data, Ev.RELAPSE, None, assessment, override)

    @precondition(lambda self: self.ep.level is not None)
    @rule(data=st.data(), override=st.none() | overrides())
    def step_down_with_dangerous_withdrawal(
        self, data: st.DataObject, override: Override | None
    ) -> None:
        """Try to move a patient with withdrawal risk 3-4 to a non-residential level."""
        a = Assessment(withdrawal=data.draw(st.sampled_from([Risk.SIGNIFICANT, Risk.SEVERE])))
        target = data.draw(st.sampled_from(sorted(NON_RESIDENTIAL)), label="target")
        current = self.ep.level
        assert current is not None
        ev = (
            Ev.STEP_DOWN
            if self.pathway.level(target).intensity < current.intensity
            else (Ev.STEP_UP if target != current.code else Ev.REASSESS)
        )
        self._attempt(data, ev, target if ev in MOVES else None, a, override)

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def state_is_one_the_pathway_has(self) -> None:
        """The episode's state is intake, one of the pathway's levels, or an outcome."""
        ep = self.ep
        assert ep.state in self.pathway.states
        assert (ep.level is None) == (ep.state == INTAKE or ep.outcome is not None)
        assert ep.is_open == (ep.outcome is None)

    @invariant()
    def history_is_a_time_ordered_walk_along_pathway_edges(self) -> None:
        """History is time-ordered, each record is a rule of the pathway, and records chain."""
        ep = self.ep
        state = INTAKE
        last = utc(ep.started_at)
        for seq, r in enumerate(ep.history, start=1):
            assert r.seq == seq
            assert r.source == state, "records must chain: each starts where the last ended"
            assert self.pathway.rule(r.event, r.source, r.target) is not None, r
            assert r.at.tzinfo is not None
            assert utc(r.at) >= last, "history out of time order"
            state, last = r.target, utc(r.at)
        assert state == ep.state
        assert utc(ep.last_at) == last

    @invariant()
    def version_counts_applied_events(self) -> None:
        """version == len(history), and event ids in the history are unique."""
        ep = self.ep
        assert ep.version == len(ep.history)
        ids = [r.event_id for r in ep.history]
        assert len(set(ids)) == len(ids), f"duplicate event ids in the history: {ids}"

    @invariant()
    def json_round_trip_gives_an_equal_episode(self) -> None:
        """Episode.from_json(ep.to_json(), pathway) equals ep, with the same state."""
        ep = self.ep
        back = Episode.from_json(ep.to_json(), self.pathway)
        assert back == ep
        assert back.state == ep.state
        assert back.assessment == ep.assessment
        assert back.version == ep.version
        assert back.to_json() == ep.to_json()

    @invariant()
    def no_dangerous_withdrawal_outside_24_hour_care_without_override(self) -> None:
        """A non-residential level never holds a patient with withdrawal >= 3, unless the
        event that put or kept them there carries a recorded override of the criteria (or,
        for an imported fact, the criteria finding)."""
        ep = self.ep
        a = ep.assessment
        if ep.state not in NON_RESIDENTIAL or a is None or a.withdrawal < Risk.SIGNIFICANT:
            return
        history = ep.history
        entered = max(r.seq for r in history if r.target == ep.state and r.source != ep.state)
        assessed = max(r.seq for r in history if r.assessment is not None)
        responsible = history[max(entered, assessed) - 1]
        assert responsible.override is not None or responsible.fact, responsible
        assert any(r.kind == "fits_criteria" for r in responsible.reasons), responsible


# Every step replays the whole history from JSON, so keep runs short; the number of
# runs comes from the active profile (tests/conftest.py).
EpisodeMachine.TestCase.settings = settings(stateful_step_count=25)
TestEpisodeMachine = EpisodeMachine.TestCase


@given(ep=episodes(), steps=event_sequences(min_size=1, max_size=3))
def test_check_agrees_with_firing(ep: Episode, steps: list[EventStep]) -> None:
    """check(...) is allowed exactly when firing the same event does not raise
    TransitionRejected, and check(...) changes nothing."""
    for step in steps:
        before = ep.to_json()
        decision = step.check(ep)
        assert ep.to_json() == before
        rejected: TransitionRejected | None = None
        try:
            step.apply(ep)
        except TransitionRejected as exc:
            rejected = exc
        if rejected is None:
            assert decision.allowed
        else:
            assert not decision.allowed
            assert rejected.reasons == decision.reasons
            assert ep.to_json() == before


@given(ep=episodes())
def test_generated_episodes_round_trip_through_json(ep: Episode) -> None:
    """Every episode the public `episodes()` strategy builds replays exactly from its JSON."""
    assert Episode.from_json(ep.to_json(), ep.pathway) == ep
    assert ep.version == len(ep.history)


@given(a=assessments(min_risk=1, max_risk=2), t=aware_datetimes())
def test_public_strategies_respect_their_bounds(a: Assessment, t: datetime) -> None:
    """assessments() honours its rating bounds; aware_datetimes() is always timezone-aware."""
    assert all(1 <= r <= 2 for r in a.as_tuple())
    assert t.tzinfo is not None
    assert t.utcoffset() is not None


def test_importing_carepath_does_not_import_hypothesis() -> None:
    """`import carepath` leaves Hypothesis (and carepath.testing) unimported."""
    code = (
        "import sys, carepath; "
        "bad = [m for m in ('hypothesis', 'carepath.testing') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("bad", [{"min_risk": 3, "max_risk": 2}, {"max_risk": 5}])
def test_assessments_rejects_bad_bounds(bad: dict[str, int]) -> None:
    """assessments() refuses empty or out-of-range rating bounds."""
    with pytest.raises(ValueError, match="min_risk"):
        assessments(**bad)
