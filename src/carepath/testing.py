"""Hypothesis strategies for testing code that uses carepath.

Use them in your own property tests to drive integrations with realistic,
valid inputs: random assessments, timezone-aware times, clinician overrides,
event sequences and whole episodes on any pathway. Importing this module
imports Hypothesis; ``import carepath`` never does.

Usage, in a test module::

    from hypothesis import given
    from carepath import Episode
    from carepath.testing import episodes

    @given(episodes())
    def test_my_store_round_trips(episode):
        assert my_store.load(my_store.save(episode)) == episode

To drive an episode of your own with a random event sequence, draw one with
:func:`event_sequences` and pass it to :func:`drive`, which applies each step
and keeps the ones the pathway accepts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ._assessment import Assessment, Risk
from ._episode import Episode, EventRecord
from ._errors import InvalidEvent, TransitionRejected
from ._guards import Decision, Event, Override
from ._levels import Outcome
from ._pathway import Pathway, standard_pathway

__all__ = [
    "EventStep",
    "assessments",
    "aware_datetimes",
    "drive",
    "episodes",
    "event_sequences",
    "overrides",
    "register_strategies",
    "risks",
    "time_zones",
]


def _zones() -> tuple[tzinfo, ...]:
    fixed: list[tzinfo] = [
        UTC,
        timezone(timedelta(hours=-8), "PST"),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-3, minutes=-30)),
        timezone(timedelta(hours=14)),
    ]
    for name in ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe"):
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):  # no tz database
            fixed.append(ZoneInfo(name))
    return tuple(fixed)


TIME_ZONES: Final[tuple[tzinfo, ...]] = _zones()
"""UTC, fixed non-UTC offsets, and daylight-saving zones when a tz database is present."""

_MIN: Final = datetime(2000, 1, 1)  # noqa: DTZ001  # Hypothesis takes naive bounds
_MAX: Final = datetime(2099, 12, 31)  # noqa: DTZ001  # Hypothesis takes naive bounds
_MOVES: Final = frozenset({Event.ADMIT, Event.STEP_DOWN, Event.STEP_UP})
_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)


def risks() -> SearchStrategy[Risk]:
    """A single rating, 0 (none) to 4 (severe); shrinks towards none."""
    return st.sampled_from(tuple(Risk))


def assessments(
    *, min_risk: Risk | int = Risk.NONE, max_risk: Risk | int = Risk.SEVERE
) -> SearchStrategy[Assessment]:
    """Assessments whose six ratings each lie in ``[min_risk, max_risk]``."""
    lo, hi = int(min_risk), int(max_risk)
    if not 0 <= lo <= hi <= 4:
        raise ValueError(f"need 0 <= min_risk <= max_risk <= 4, got {lo} and {hi}")
    r = st.sampled_from(tuple(Risk)[lo : hi + 1])
    return st.builds(
        Assessment,
        withdrawal=r,
        biomedical=r,
        emotional=r,
        readiness=r,
        relapse=r,
        environment=r,
    )


def time_zones() -> SearchStrategy[tzinfo]:
    """UTC, fixed non-UTC offsets, and a few daylight-saving zones."""
    return st.sampled_from(TIME_ZONES)


def aware_datetimes(
    *, min_value: datetime = _MIN, max_value: datetime = _MAX
) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes between two naive bounds, in several time zones."""
    return st.datetimes(
        min_value=min_value,
        max_value=max_value,
        timezones=time_zones(),
        allow_imaginary=False,
    )


_TEXT: Final = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=40,
).filter(lambda s: bool(s.strip()))


def overrides() -> SearchStrategy[Override]:
    """Clinician overrides with a non-empty reason and clinician id."""
    return st.builds(Override, reason=_TEXT, by=_TEXT)


@final
@attrs.frozen(kw_only=True)
class EventStep:
    """One event to apply to an episode, timed relative to its latest event.

    Attributes:
        event: The event.
        level: The target level code for admit, step down and step up (else ``None``).
        after: How long after the episode's latest event it happens.
        tz: The time zone ``at`` is expressed in.
        assessment: The assessment it brings (``reassess`` always has one).
        override: A clinician override to apply it under, if any.
        event_id: The caller's event id, or ``None`` to have one generated.
    """

    event: Event
    level: str | None = None
    after: timedelta = timedelta(0)
    tz: tzinfo = UTC
    assessment: Assessment | None = None
    override: Override | None = None
    event_id: str | None = None

    def at(self, episode: Episode) -> datetime:
        """When the step happens on ``episode``: ``after`` past its latest event."""
        return (episode.last_at.astimezone(UTC) + self.after).astimezone(self.tz)

    def check(self, episode: Episode) -> Decision:
        """Would the pathway allow this step now? Changes nothing."""
        return episode.check(
            self.event,
            self.level,
            at=self.at(episode),
            assessment=self.assessment,
            override=self.override,
        )

    def apply(self, episode: Episode) -> EventRecord:
        """Apply the step through the episode's typed event methods.

        Raises:
            TransitionRejected: a guard or the pathway refused it.
            InvalidEvent: an argument was unusable (e.g. an event id reused for
                another kind of event).
        """
        at, a, o, eid = self.at(episode), self.assessment, self.override, self.event_id
        ev = self.event
        if ev in _MOVES:
            if self.level is None:
                raise InvalidEvent(
                    event=ev.value, field="level", problem="this event needs a target level"
                )
            move = {
                Event.ADMIT: episode.admit,
                Event.STEP_DOWN: episode.step_down,
                Event.STEP_UP: episode.step_up,
            }[ev]
            return move(self.level, at=at, assessment=a, override=o, event_id=eid)
        if ev is Event.RELAPSE:
            return episode.relapse(at=at, assessment=a, override=o, event_id=eid)
        if ev is Event.REASSESS:
            return episode.reassess(a or Assessment(), at=at, override=o, event_id=eid)
        if ev is Event.COMPLETE:
            return episode.complete(at=at, assessment=a, override=o, event_id=eid)
        if ev is Event.DROP_OUT:
            return episode.drop_out(at=at, event_id=eid)
        return episode.transfer_out(at=at, event_id=eid)


def drive(episode: Episode, steps: Sequence[EventStep]) -> list[EventRecord]:
    """Apply ``steps`` in order, skipping those refused; returns the accepted records."""
    out: list[EventRecord] = []
    for step in steps:
        try:
            out.append(step.apply(episode))
        except (TransitionRejected, InvalidEvent):
            continue
    return out


_GAPS: Final = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)),
    st.integers(min_value=1, max_value=100).map(lambda d: timedelta(days=d)),
)


@st.composite
def _steps(
    draw: st.DrawFn,
    pathway: Pathway,
    events: Sequence[Event],
    override_probability: float,
) -> EventStep:
    ev = draw(st.sampled_from(tuple(events)))
    maybe = assessments() if ev is Event.REASSESS else st.none() | assessments()
    assessment: Assessment | None = draw(maybe)
    level: str | None = None
    if ev in _MOVES:
        choices = [lv.code for lv in pathway.levels]
        if assessment is not None and draw(st.booleans()):
            level = pathway.place(assessment).level.code
        else:
            level = draw(st.sampled_from(choices))
    override = None
    if ev not in (Event.DROP_OUT, Event.TRANSFER_OUT) and override_probability > 0:
        use = draw(st.integers(0, 999)) < int(override_probability * 1000)
        override = draw(overrides()) if use else None
    return EventStep(
        event=ev,
        level=level,
        after=draw(_GAPS),
        tz=draw(time_zones()),
        assessment=assessment,
        override=override,
    )


def event_sequences(
    pathway: Pathway | None = None,
    *,
    min_size: int = 0,
    max_size: int = 12,
    override_probability: float = 0.2,
    events: Sequence[Event] = tuple(Event),
) -> SearchStrategy[list[EventStep]]:
    """Lists of :class:`EventStep` to drive an episode with (see :func:`drive`).

    Steps are independent of the episode's state, so many will be refused;
    targets of moves are often the placement of the step's assessment, so many
    are accepted too. Times only move forward.

    Args:
        pathway: Whose levels to name; the standard pathway if ``None``.
        min_size: Fewest steps.
        max_size: Most steps.
        override_probability: Share of steps carrying a clinician override.
        events: The events to draw from.
    """
    p = pathway if pathway is not None else standard_pathway()
    if not events:
        raise ValueError("events must name at least one event")
    if not 0.0 <= override_probability <= 1.0:
        raise ValueError("override_probability must be between 0 and 1")
    return st.lists(_steps(p, events, override_probability), min_size=min_size, max_size=max_size)


@st.composite
def _episodes(
    draw: st.DrawFn,
    pathway: Pathway,
    max_events: int,
    override_probability: float,
    open_only: bool,
) -> Episode:
    start = draw(aware_datetimes(max_value=datetime(2090, 1, 1)))  # noqa: DTZ001
    patient = draw(st.from_regex(r"\Apatient-[0-9]{1,6}\Z"))
    episode_id = draw(st.from_regex(r"\Aep-[0-9a-f]{8}\Z"))
    ep = pathway.start(patient, at=start, episode_id=episode_id)
    for _ in range(draw(st.integers(0, max_events))):
        if not ep.is_open:
            break
        rules = pathway.rules_from(ep.state)
        ending = [r for r in rules if r.target in _OUTCOME_VALUES]
        moving = [r for r in rules if r.target not in _OUTCOME_VALUES]
        # Endings are always allowed; draw them rarely so that episodes get somewhere.
        if ending and not open_only and (not moving or draw(st.integers(0, 9)) == 0):
            rule = draw(st.sampled_from(ending))
        elif moving:
            rule = draw(st.sampled_from(moving))
        else:  # pragma: no cover - every valid pathway has moves from a level
            break
        a: Assessment | None = draw(st.none() | assessments())
        level: str | None = rule.target if rule.event in _MOVES else None
        if rule.event is Event.ADMIT and a is not None and draw(st.booleans()):
            level = pathway.place(a).level.code
        use = draw(st.integers(0, 999)) < int(override_probability * 1000)
        step = EventStep(
            event=rule.event,
            level=level,
            after=draw(_GAPS),
            tz=draw(time_zones()),
            assessment=a if rule.event is not Event.REASSESS else (a or draw(assessments())),
            override=draw(overrides()) if use else None,
        )
        drive(ep, [step])
    return ep


def episodes(
    pathway: Pathway | None = None,
    *,
    max_events: int = 10,
    override_probability: float = 0.1,
    open_only: bool = False,
) -> SearchStrategy[Episode]:
    """Valid episodes, built by firing random events and keeping the accepted ones.

    Time moves forward between events; events may be expressed in different
    time zones. Every episode replays exactly from its own JSON.

    Args:
        pathway: The pathway; the standard pathway if ``None``.
        max_events: Most events attempted (accepted ones are usually fewer).
        override_probability: Share of attempted events carrying an override.
        open_only: Never fire an event that ends the episode.
    """
    p = pathway if pathway is not None else standard_pathway()
    if max_events < 0:
        raise ValueError("max_events must be >= 0")
    if not 0.0 <= override_probability <= 1.0:
        raise ValueError("override_probability must be between 0 and 1")
    return _episodes(p, max_events, override_probability, open_only)


def register_strategies() -> None:
    """Register carepath's public values with :func:`hypothesis.strategies.from_type`.

    Hypothesis calls this through its ``hypothesis`` entry point when it is imported,
    so ``st.from_type(Assessment)``, ``st.from_type(Episode)``, ``st.from_type(Risk)``,
    ``st.from_type(Override)`` and ``st.from_type(Pathway)`` (the standard pathway)
    give valid values in any test. Calling it again changes nothing.
    """
    st.register_type_strategy(Risk, risks())
    st.register_type_strategy(Assessment, assessments())
    st.register_type_strategy(Override, overrides())
    st.register_type_strategy(Episode, episodes())
    st.register_type_strategy(Pathway, st.just(standard_pathway()))
