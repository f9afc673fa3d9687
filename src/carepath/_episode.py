"""Episodes: one patient's course through a pathway, as an append-only history."""

from __future__ import annotations

import functools
import json
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from . import _display
from ._assessment import Assessment, Dimension
from ._errors import (
    CarepathError,
    EpisodeLoadError,
    InvalidArgument,
    InvalidEvent,
    PathwayMismatch,
    TransitionRejected,
)
from ._guards import Decision, Event, EventName, GuardContext, Override, Reason, stay_days
from ._levels import INTAKE, Level, Outcome
from ._pathway import Pathway, register_episode_opener
from ._suggest import did_you_mean
from ._textio import TextInputError, is_quotable, load_json, show

if TYPE_CHECKING:
    from ._pathway import Rule

__all__ = ["Episode", "EventRecord"]

FORMAT: Final = "carepath.episode"
FORMAT_VERSION: Final = 1

_OUTCOMES: Final[Mapping[str, Outcome]] = {o.value: o for o in Outcome}
_TERMINAL_EVENT: Final[Mapping[Event, Outcome]] = {
    Event.COMPLETE: Outcome.COMPLETED,
    Event.DROP_OUT: Outcome.DROPPED_OUT,
    Event.TRANSFER_OUT: Outcome.TRANSFERRED_OUT,
}
_MOVES_TO_LEVEL: Final = frozenset({Event.ADMIT, Event.STEP_DOWN, Event.STEP_UP})
_DIMENSION_KEYS: Final = tuple(d.value for d in Dimension)


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC)


@final
@attrs.frozen(kw_only=True)
class EventRecord:
    """One applied event in an episode's history.

    Attributes:
        seq: Position in the history, from 1 (the episode's version after it).
        event_id: The caller's id for the event (e.g. an HL7 message control id), or
            a generated one.
        event: What happened.
        source: The state before (``"intake"`` or a level code).
        target: The state after (a level code or an outcome).
        at: When it happened.
        assessment: The assessment the event brought, if any.
        override: The clinician override it was applied under, if any.
        reasons: The guard reasons the override set aside; for a fact, the guards'
            verdict kept as audit findings (empty when every guard passed).
        note: Free text the caller gave (a drop-out reason).
        fact: True for an event recorded as something that already happened
            (:meth:`Episode.record`), e.g. imported from an EHR feed.

    The repr shows only ids, the event and the states: times, assessments,
    overrides and notes never reach logs through it.
    """

    seq: int
    event_id: str
    event: Event
    source: str
    target: str
    # Dates of service and clinical detail stay out of reprs (they end up in logs).
    # Compared as instants: a wall time in a DST fold still equals its UTC reading.
    at: datetime = attrs.field(repr=False, eq=_instant)
    assessment: Assessment | None = attrs.field(default=None, repr=False)
    override: Override | None = attrs.field(default=None, repr=False)
    reasons: tuple[Reason, ...] = attrs.field(default=(), repr=False)
    note: str | None = attrs.field(default=None, repr=False)
    fact: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data: one item of :meth:`Episode.to_dict`'s
        ``"events"`` (``seq`` is its position there, so it is not repeated)."""
        return _record_data(self)


def _check_at(event: str, at: object, episode_id: str) -> datetime:
    # ``event`` may be an Event (a str enum): str() gives its value, and only when raising.
    if not isinstance(at, datetime):
        raise InvalidEvent(
            event=str(event),
            field="at",
            episode_id=episode_id,
            problem=f"expected a timezone-aware datetime, got {type(at).__name__}",
        )
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidEvent(
            event=str(event),
            field="at",
            episode_id=episode_id,
            problem="naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)",
        )
    if not isinstance(at.tzinfo, timezone):
        # Pin zones with daylight saving (ZoneInfo) to the instant's fixed offset: Python
        # compares and subtracts datetimes of one such zone by wall time, ignoring the
        # offset, and never finds a repeated (fold) time equal to one in another zone.
        at = at.astimezone(timezone(at.utcoffset() or timedelta(0)))
    return at


def _check_id(event: str, field: str, value: object, episode_id: str = "") -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(
            event=event,
            field=field,
            episode_id=episode_id,
            problem=f"expected a non-empty string, got {type(value).__name__}",
        )


@final
class Episode:
    """One patient's treatment episode on a pathway.

    Created with :meth:`Pathway.start`; moved only by its event methods, each of
    which checks the pathway's guards, raises :class:`~carepath.TransitionRejected`
    with every reason when they refuse (changing nothing), and otherwise appends
    a frozen :class:`EventRecord` to :attr:`history`.

    Every event takes ``at`` (timezone-aware, not earlier than the last event) and
    an optional ``event_id``; applying an event whose id is already in the history
    returns the earlier record and changes nothing, so retried feeds never
    double-count.

    >>> from datetime import datetime, timedelta, timezone
    >>> from carepath import Assessment, standard_pathway
    >>> t0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> ep = standard_pathway().start("patient-1", at=t0)
    >>> _ = ep.admit("detox", at=t0, assessment=Assessment(withdrawal=3, relapse=2))
    >>> ep.level.code
    'detox'
    >>> ep.check(Event.STEP_DOWN, "iop", at=t0 + timedelta(days=1)).allowed
    False
    """

    __slots__ = (
        "_assessment",
        "_entered_at",
        "_ids",
        "_last_at",
        "_lock",
        "_pathway",
        "_records",
        "_state",
        "id",
        "patient_id",
        "previous_episode_id",
        "started_at",
    )

    id: str
    patient_id: str
    previous_episode_id: str | None
    started_at: datetime
    _pathway: Pathway
    _state: str
    _records: list[EventRecord]
    _ids: dict[str, EventRecord] | None
    _assessment: Assessment | None
    _entered_at: datetime | None
    _last_at: datetime
    _lock: threading.Lock

    def __init__(self) -> None:
        raise TypeError("episodes are created with pathway.start(...) or Episode.from_json(...)")

    @classmethod
    def _open(
        cls,
        pathway: Pathway,
        patient_id: str,
        *,
        at: datetime,
        episode_id: str | None,
        previous: Episode | None,
    ) -> Episode:
        _check_id("start", "patient_id", patient_id)
        if episode_id is not None:
            _check_id("start", "episode_id", episode_id)
        at = _check_at("start", at, episode_id or "")
        previous_id: str | None = None
        if previous is not None:
            if not isinstance(previous, Episode):
                raise InvalidEvent(
                    event="start",
                    field="previous",
                    problem=f"expected an Episode, got {type(previous).__name__}",
                )
            if previous.outcome is None:
                raise InvalidEvent(
                    event="start",
                    field="previous",
                    episode_id=previous.id,
                    problem="the previous episode has not ended; a readmission follows an outcome",
                )
            if previous.patient_id != patient_id:
                raise InvalidEvent(
                    event="start",
                    field="previous",
                    episode_id=previous.id,
                    problem="the previous episode belongs to another patient id",
                )
            if at < previous._last_at:
                raise InvalidEvent(
                    event="start",
                    field="at",
                    episode_id=previous.id,
                    problem="a readmission cannot start before the previous episode's last event",
                )
            previous_id = previous.id
        self = object.__new__(cls)
        self.id = episode_id if episode_id is not None else uuid.uuid4().hex
        self.patient_id = patient_id
        self.previous_episode_id = previous_id
        self.started_at = at
        self._pathway = pathway
        self._state = INTAKE
        self._records = []
        self._ids = None
        self._assessment = None
        self._entered_at = None
        self._last_at = at
        self._lock = threading.Lock()
        return self

    # -- state ----------------------------------------------------------------------------------

    @property
    def pathway(self) -> Pathway:
        """The pathway whose rules govern this episode."""
        return self._pathway

    @property
    def state(self) -> str:
        """``"intake"``, the current level's code, or the outcome's value."""
        return self._state

    @property
    def level(self) -> Level | None:
        """The current level (``None`` at intake and after an outcome)."""
        return self._pathway._by_code.get(self._state)

    @property
    def outcome(self) -> Outcome | None:
        """How the episode ended (``None`` while it is open)."""
        return _OUTCOMES.get(self._state)

    @property
    def is_open(self) -> bool:
        """True until an outcome is reached."""
        return self._state not in _OUTCOMES

    @property
    def assessment(self) -> Assessment | None:
        """The latest assessment on record."""
        return self._assessment

    @property
    def history(self) -> tuple[EventRecord, ...]:
        """Every applied event, oldest first."""
        return tuple(self._records)

    @property
    def version(self) -> int:
        """How many events have been applied (for optimistic concurrency in a store)."""
        return len(self._records)

    @property
    def entered_at(self) -> datetime | None:
        """When the patient entered the current level (``None`` when not at a level)."""
        return self._entered_at if self.level is not None else None

    @property
    def last_at(self) -> datetime:
        """The time of the latest event (the start time before any)."""
        return self._last_at

    def days_in_level(self, at: datetime) -> float:
        """Days at the current level as of ``at`` (0 when not at a level).

        Elapsed days, whatever zones the times are written in.

        Raises:
            InvalidEvent: ``at`` is naive, or earlier than the patient entered the level.
        """
        at = _check_at("days_in_level", at, self.id)
        if self._entered_at is None or self.level is None:
            return 0.0
        if at < self._entered_at:
            raise InvalidEvent(
                event="days_in_level",
                field="at",
                episode_id=self.id,
                problem="earlier than the patient entered the current level",
            )
        return stay_days(self._entered_at, at)

    # -- events ---------------------------------------------------------------------------------

    def admit(
        self,
        level: Level | str,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """Admit the patient from intake to ``level``.

        Guards (standard rules): the level's criteria fit the assessment, and it is
        the placement or one of its alternatives.
        """
        return self._apply(Event.ADMIT, level, at, assessment, override, event_id)

    def step_down(
        self,
        level: Level | str,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """Move to a less intensive level (levels may be skipped).

        Guards: the minimum stay at the current level is met; the target fits.
        """
        return self._apply(Event.STEP_DOWN, level, at, assessment, override, event_id)

    def step_up(
        self,
        level: Level | str,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """Move to a more intensive level.

        Guards: the target fits; the current level no longer does.
        """
        return self._apply(Event.STEP_UP, level, at, assessment, override, event_id)

    def relapse(
        self,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """Record a relapse; it re-places the patient.

        Judged on the assessment (or the latest one): while the current level can
        still manage every rating, care intensifies in place; otherwise the patient
        steps up to the least intensive more intensive level that can (detox when
        withdrawal risk is significant or severe).
        """
        return self._apply(Event.RELAPSE, None, at, assessment, override, event_id)

    def reassess(
        self,
        assessment: Assessment,
        *,
        at: datetime,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """Record a new assessment without moving. Past a level's maximum stay, a
        continued stay needs an override."""
        if not isinstance(assessment, Assessment):
            raise InvalidEvent(
                event="reassess",
                field="assessment",
                episode_id=self.id,
                problem=f"expected an Assessment, got {type(assessment).__name__}",
            )
        return self._apply(Event.REASSESS, None, at, assessment, override, event_id)

    def complete(
        self,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """End the episode as completed (after the minimum stay, with no higher need)."""
        return self._apply(Event.COMPLETE, None, at, assessment, override, event_id)

    def drop_out(
        self,
        *,
        at: datetime,
        reason: str | None = None,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """End the episode as dropped out (left against advice). ``reason`` is kept as a
        note and never shown in reprs or errors."""
        if reason is not None and not isinstance(reason, str):
            raise InvalidEvent(
                event="drop_out",
                field="reason",
                episode_id=self.id,
                problem=f"expected a string, got {type(reason).__name__}",
            )
        return self._apply(Event.DROP_OUT, None, at, assessment, override, event_id, note=reason)

    def transfer_out(
        self,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
        event_id: str | None = None,
    ) -> EventRecord:
        """End the episode as transferred to another provider."""
        return self._apply(Event.TRANSFER_OUT, None, at, assessment, override, event_id)

    def record(
        self,
        event: Event | EventName,
        level: Level | str | None = None,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        event_id: str | None = None,
        note: str | None = None,
    ) -> EventRecord:
        """Record an event that already happened (e.g. imported from an EHR feed).

        Facts are recorded even where a criteria or duration guard would have
        refused them; the guards' verdict is kept on the record as audit findings
        (see :meth:`findings`). Only a move the pathway does not have at all is
        refused, with :class:`~carepath.TransitionRejected`. Idempotent by
        ``event_id`` like every event.
        """
        ev = self._event(event)
        if note is not None and not isinstance(note, str):
            raise InvalidEvent(
                event=ev.value,
                field="note",
                episode_id=self.id,
                problem=f"expected a string, got {type(note).__name__}",
            )
        return self._apply(ev, level, at, assessment, None, event_id, note=note, fact=True)

    def findings(self) -> tuple[EventRecord, ...]:
        """The recorded facts that a guard would have refused, oldest first."""
        return tuple(r for r in self._records if r.fact and r.reasons)

    def readmit(self, *, at: datetime, episode_id: str | None = None) -> Episode:
        """Start a new episode for the same patient, linked to this ended one."""
        return self._pathway.start(self.patient_id, at=at, episode_id=episode_id, previous=self)

    # -- questions ------------------------------------------------------------------------------

    def check(
        self,
        event: Event | EventName,
        level: Level | str | None = None,
        *,
        at: datetime,
        assessment: Assessment | None = None,
        override: Override | None = None,
    ) -> Decision:
        """Would ``event`` be allowed now? Changes nothing.

        ``level`` names the target for admit, step down and step up.
        """
        ev = self._event(event)
        at = self._check_order(ev.value, at)
        self._check_args(ev, assessment, override)
        target = self._target(ev, level, assessment)
        decision, _ = self._decide(ev, target, at, assessment, override)
        return decision

    def options(self, at: datetime) -> tuple[Decision, ...]:
        """Every next move from the current state, each with its decision.

        Judged on the latest assessment; relapse is shown with the target it would
        lead to on that assessment.
        """
        at = self._check_order("options", at)
        out: list[Decision] = []
        relapse_target: str | None = None
        if self.level is not None and self._assessment is not None:
            relapse_target = self._pathway.relapse_target(self.level, self._assessment).code
        for rule in self._pathway.rules_from(self._state):
            if rule.event is Event.RELAPSE and rule.target != (relapse_target or self._state):
                continue
            decision, _ = self._decide(rule.event, rule.target, at, None, None)
            out.append(decision)
        return tuple(out)

    # -- machinery ------------------------------------------------------------------------------

    def _check_order(self, ev: str, at: datetime) -> datetime:
        at = _check_at(ev, at, self.id)
        if at < self._last_at:
            raise InvalidEvent(
                event=ev,
                field="at",
                episode_id=self.id,
                problem=f"{at.isoformat()} is earlier than the episode's latest event at "
                f"{self._last_at.isoformat()}; events are applied in time order",
            )
        return at

    @staticmethod
    def _event(event: Event | str) -> Event:
        try:
            return Event(event)
        except ValueError:
            raise InvalidEvent(
                event=str(event),
                field="event",
                problem="unknown event; "
                + did_you_mean(event, (e.value for e in Event))
                + "allowed: "
                + ", ".join(e.value for e in Event),
            ) from None

    def _check_args(
        self, ev: Event, assessment: Assessment | None, override: Override | None
    ) -> None:
        if assessment is not None and not isinstance(assessment, Assessment):
            raise InvalidEvent(
                event=ev.value,
                field="assessment",
                episode_id=self.id,
                problem=f"expected an Assessment, got {type(assessment).__name__}",
            )
        if override is not None and not isinstance(override, Override):
            raise InvalidEvent(
                event=ev.value,
                field="override",
                episode_id=self.id,
                problem=f"expected an Override, got {type(override).__name__}",
            )

    def _target(self, ev: Event, level: Level | str | None, assessment: Assessment | None) -> str:
        if ev in _MOVES_TO_LEVEL or (ev is Event.RELAPSE and level is not None):
            if level is None:
                raise InvalidEvent(
                    event=ev.value,
                    field="level",
                    episode_id=self.id,
                    problem="this event needs a target level",
                )
            try:
                return self._pathway.level(level).code
            except InvalidEvent as exc:
                raise InvalidEvent(
                    event=ev.value, field="level", episode_id=self.id, problem=exc.problem
                ) from None
        if level is not None:
            raise InvalidEvent(
                event=ev.value,
                field="level",
                episode_id=self.id,
                problem="this event takes no target level",
            )
        if ev in _TERMINAL_EVENT:
            return _TERMINAL_EVENT[ev].value
        if ev is Event.RELAPSE:
            current = self.level
            a = assessment if assessment is not None else self._assessment
            if current is not None and a is not None:
                return self._pathway.relapse_target(current, a).code
        return self._state

    def _decide(
        self,
        ev: Event,
        target: str,
        at: datetime,
        assessment: Assessment | None,
        override: Override | None,
    ) -> tuple[Decision, Rule | None]:
        reasons, allowed, rule = self._verdict(ev, target, at, assessment, override)
        return Decision(
            event=ev,
            source=self._state,
            target=target,
            allowed=allowed,
            reasons=reasons,
            overridden=allowed and bool(reasons),
        ), rule

    def _verdict(
        self,
        ev: Event,
        target: str,
        at: datetime,
        assessment: Assessment | None,
        override: Override | None,
    ) -> tuple[tuple[Reason, ...], bool, Rule | None]:
        """``(reasons, allowed, rule)``: what :meth:`_decide` reports, without building a
        :class:`Decision` (events only need the verdict; this is their hot path)."""
        source = self._state
        reasons: list[Reason] = []
        rule = None
        if source in _OUTCOMES:
            reasons.append(
                Reason(
                    kind="structure",
                    overridable=False,
                    message=f"the episode has ended ({source}); a readmission starts a new episode",
                )
            )
        else:
            rule = self._pathway._rules_by_key.get((ev, source, target))
            if rule is None:
                reasons.append(
                    Reason(
                        kind="structure",
                        overridable=False,
                        message=self._no_rule(ev, source, target, assessment),
                    )
                )
            elif rule.guards:
                by_code = self._pathway._by_code
                ctx = GuardContext._of(
                    ev,
                    by_code.get(source),
                    by_code.get(target),
                    assessment if assessment is not None else self._assessment,
                    at,
                    self._entered_at,
                    self._pathway,
                )
                for guard in rule.guards:
                    said = guard.check(ctx)
                    if said:
                        if isinstance(said, str):  # a str is a Sequence[str] of letters
                            raise TypeError(
                                f"guard {guard.kind!r} returned a string; return a tuple or "
                                "list of reasons"
                            )
                        for message in said:
                            reasons.append(
                                Reason(
                                    kind=guard.kind, message=message, overridable=guard.overridable
                                )
                            )
        if not reasons:
            return (), True, rule
        allowed = override is not None and all(r.overridable for r in reasons)
        return tuple(reasons), allowed, rule

    def _no_rule(self, ev: Event, source: str, target: str, a: Assessment | None) -> str:
        if ev is Event.RELAPSE and source == INTAKE:
            return "relapse applies to a patient at a level; this episode is still at intake"
        if ev is Event.RELAPSE and (a is None and self._assessment is None):
            return f"the pathway has no relapse move from {source} to {target}"
        names = {lv.code: lv.name for lv in self._pathway.levels}
        return (
            f"the pathway has no {ev.value} move from {names.get(source, source)} to "
            f"{names.get(target, target)}"
        )

    def _apply(
        self,
        ev: Event,
        level: Level | str | None,
        at: datetime,
        assessment: Assessment | None,
        override: Override | None,
        event_id: str | None,
        note: str | None = None,
        fact: bool = False,
        replay: bool = False,
    ) -> EventRecord:
        at = _check_at(ev, at, self.id)
        self._check_args(ev, assessment, override)
        if event_id is not None:
            _check_id(ev.value, "event_id", event_id, self.id)
        with self._lock:
            n = len(self._records)
            record = self._apply_locked(
                ev, level, at, assessment, override, event_id, note, fact, replay
            )
        hooks = self._pathway._hooks
        if hooks is not None and not replay and len(self._records) > n:  # not on a retry
            hooks.run(self, record)
        return record

    def _apply_locked(
        self,
        ev: Event,
        level: Level | str | None,
        at: datetime,
        assessment: Assessment | None,
        override: Override | None,
        event_id: str | None,
        note: str | None,
        fact: bool,
        replay: bool = False,
    ) -> EventRecord:
        if event_id is not None:
            ids = self._ids
            if ids is not None and event_id in ids:
                return self._retried(ids[event_id], ev, level, at, assessment)
        # After the id check: a retried event carries its original (earlier) time.
        if at < self._last_at:  # (``at`` is checked above; only the order is left to raise)
            self._check_order(ev.value, at)
        target = self._target(ev, level, assessment)
        reasons, allowed, rule = self._verdict(ev, target, at, assessment, override)
        if fact and rule is not None:
            # A fact already happened: only the pathway's structure can refuse it; the
            # guards' verdict is kept as an audit finding.
            allowed = True
        if not allowed or rule is None:
            raise TransitionRejected(
                event=ev.value,
                source=self._state,
                target=target,
                episode_id=self.id,
                reasons=reasons,
            )
        source = self._state
        # A stored event being replayed has passed the same rule lookup and guards; its
        # destination is the rule's, the very table the shared machine is compiled from,
        # so replay skips firing the machine (loading long histories ~40% faster).
        new_state = rule.target if replay else self._pathway.engine.fire(rule.trigger, source)
        seq = len(self._records) + 1
        if event_id is None:
            event_id = f"{self.id}:{seq}"
            while self._ids is not None and event_id in self._ids:  # a caller took it
                event_id += "+"
        record = EventRecord(
            seq=seq,
            event_id=event_id,
            event=ev,
            source=source,
            target=new_state,
            at=at,
            assessment=assessment,
            override=override if reasons else None,
            reasons=reasons,
            note=note,
            fact=fact,
        )
        # Commit: nothing above changed the episode.
        self._records.append(record)
        if self._ids is None:
            self._ids = {}
        self._ids[record.event_id] = record
        if new_state != source or ev is Event.ADMIT:
            self._entered_at = at
        if assessment is not None:
            self._assessment = assessment
        self._last_at = at
        self._state = new_state
        return record

    def _retried(
        self,
        earlier: EventRecord,
        ev: Event,
        level: Level | str | None,
        at: datetime,
        assessment: Assessment | None,
    ) -> EventRecord:
        """A retry of ``earlier`` (same event id) is a no-op; a different event is an error."""
        differs = ""
        if earlier.event is not ev:
            differs = f"a {earlier.event.value} event"
        elif level is not None and earlier.target != self._pathway.level(level).code:
            differs = "a move to another level"
        elif _instant(earlier.at) != _instant(at):
            differs = "an event at another time"
        elif earlier.assessment != assessment:
            differs = "an event with another assessment"
        if differs:
            raise InvalidEvent(
                event=ev.value,
                field="event_id",
                episode_id=self.id,
                problem=f"event id {show(earlier.event_id, kind='id')} was already used for "
                f"{differs} (seq {earlier.seq}); a retry must repeat the event exactly",
            )
        return earlier

    # -- comparison and display -----------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Episode):
            return NotImplemented
        return (
            self.id == other.id
            and self.patient_id == other.patient_id
            and self.previous_episode_id == other.previous_episode_id
            and _instant(self.started_at) == _instant(other.started_at)
            and self._pathway == other._pathway
            and self._records == other._records
        )

    __hash__ = None  # type: ignore[assignment]  # mutable: episodes are not hashable

    def __repr__(self) -> str:
        return (
            f"<Episode {self.id!r} patient={self.patient_id!r} pathway="
            f"{self._pathway.id}@{self._pathway.version} state={self._state!r} "
            f"version={len(self._records)}>"
        )

    def _repr_html_(self) -> str:
        """Notebook display (registered by :mod:`carepath.explore`): stays and decisions."""
        return _display.html("episode", self)

    # -- JSON -----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The episode as plain JSON-ready data: ids, pathway identity and the events."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": self.id,
            "patient_id": self.patient_id,
            "previous_episode_id": self.previous_episode_id,
            "pathway": {
                "id": self._pathway.id,
                "version": self._pathway.version,
                "content_hash": self._pathway.content_hash,
            },
            "started_at": self.started_at.isoformat(),
            "events": [_record_data(r) for r in self._records],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The episode as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes, pathway: Pathway) -> Episode:
        """Load an episode by replaying its events through ``pathway``.

        ``text`` is strict JSON (a UTF-8 BOM is stripped; duplicate keys, nesting
        deeper than 100 levels and text over 64 MiB are refused).

        Raises:
            PathwayMismatch: the JSON was recorded under a pathway with another
                content hash; pass the pathway it was recorded under.
            EpisodeLoadError: the JSON is malformed, or an event no longer replays
                (the error names the event's position and id, and the reasons).
        """
        try:  # strict JSON, a BOM stripped, bounded size and depth: carepath._textio
            data = load_json(text)
        except TextInputError as exc:
            raise EpisodeLoadError(
                problem=f"not valid JSON: {exc.problem}", location=exc.where()
            ) from None
        return cls.from_dict(data, pathway)

    @classmethod
    def from_dict(cls, data: object, pathway: Pathway) -> Episode:
        """Load an episode from :meth:`to_dict` data; see :meth:`from_json`."""
        if not isinstance(pathway, Pathway):
            raise InvalidArgument(
                owner="Episode",
                field="pathway",
                problem=f"expected a Pathway, got {type(pathway).__name__}",
            )
        r = _Reader(data, "")
        if r.text("format") != FORMAT:
            raise EpisodeLoadError(problem=f"'format' must be {FORMAT!r}", location="format")
        version = r.get("format_version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise EpisodeLoadError(
                problem=f"unsupported format_version; this carepath reads {FORMAT_VERSION}",
                location="format_version",
            )
        episode_id = r.text("id")
        shown_id = _shown_id(episode_id)  # errors quote sender values only when well-formed
        r.episode_id = shown_id
        p = _Reader(r.get("pathway"), shown_id, "pathway")
        recorded_hash = p.text("content_hash")
        if recorded_hash != pathway.content_hash:
            raise PathwayMismatch(
                episode_id=shown_id,
                recorded=f"{show(p.text('id'), kind='id')} version {show(p.text('version'))}",
                recorded_hash=recorded_hash,
                given=f"{pathway.id!r} version {pathway.version!r}",
                given_hash=pathway.content_hash,
            )
        previous = r.get("previous_episode_id")
        if previous is not None and not isinstance(previous, str):
            raise EpisodeLoadError(
                problem="expected a string or null",
                location="previous_episode_id",
                episode_id=shown_id,
            )
        started = r.time("started_at")
        patient_id = r.text("patient_id")  # outside the try: keeps the error's location
        try:
            ep = pathway.start(patient_id, at=started, episode_id=episode_id)
        except CarepathError as exc:
            raise EpisodeLoadError(problem=_problem(exc), episode_id=shown_id) from None
        ep.previous_episode_id = previous
        events = r.get("events")
        if not isinstance(events, list):
            raise EpisodeLoadError(
                problem="expected a list", location="events", episode_id=shown_id
            )
        for i, item in enumerate(events):
            at = f"events[{i}]"
            try:
                ep._replay(_Reader(item, shown_id, at))
            except EpisodeLoadError as exc:
                raise exc.in_event(i, at) from exc.__cause__
        return ep

    def _replay(self, r: _Reader) -> None:
        event_id = r.text("event_id")
        where = f"{r.location} (event id {show(event_id, kind='id')})"
        try:
            ev = Event(r.text("event"))
        except ValueError:
            raise EpisodeLoadError(
                problem="unknown event", location=f"{r.location}.event", episode_id=r.episode_id
            ) from None
        target = r.text("target")
        source = r.text("source")
        if source != self._state:
            raise EpisodeLoadError(
                problem=f"recorded source {show(source)} but the episode is at {self._state!r}",
                location=f"{r.location}.source",
                episode_id=r.episode_id,
            )
        at = r.time("at")
        raw_a = r.get("assessment")
        assessment: Assessment | None = None
        if raw_a is not None:
            try:
                assessment = _stored_assessment(raw_a)
            except CarepathError as exc:
                raise EpisodeLoadError(
                    problem=_problem(exc),
                    location=f"{r.location}.assessment",
                    episode_id=r.episode_id,
                ) from None
        raw_o = r.get("override")
        override: Override | None = None
        if raw_o is not None:
            o = _Reader(raw_o, self.id, f"{r.location}.override")
            # Read outside the try: EpisodeLoadError is a ValueError, and its location matters.
            reason, by = o.text("reason"), o.text("by")
            try:
                override = Override(reason=reason, by=by)
            except ValueError as exc:
                raise EpisodeLoadError(
                    problem=_problem(exc), location=o.location, episode_id=r.episode_id
                ) from None
        note = r.get("note")
        if note is not None and not isinstance(note, str):
            raise EpisodeLoadError(
                problem="expected a string or null",
                location=f"{r.location}.note",
                episode_id=r.episode_id,
            )
        if self._ids is not None and event_id in self._ids:
            raise EpisodeLoadError(
                problem="the event id appears twice in the history",
                location=where,
                episode_id=r.episode_id,
            )
        fact = r.data.get("fact", False)
        if not isinstance(fact, bool):
            raise EpisodeLoadError(
                problem="expected true or false",
                location=f"{r.location}.fact",
                episode_id=r.episode_id,
            )
        if fact and override is not None:
            raise EpisodeLoadError(
                problem="a recorded fact carries no override",
                location=f"{r.location}.override",
                episode_id=r.episode_id,
            )
        # A recorded fact may have named its relapse destination; a live relapse's is
        # re-computed and must match what was stored (checked below).
        relapse_named = fact and ev is Event.RELAPSE
        level = target if ev in _MOVES_TO_LEVEL or relapse_named else None
        try:
            record = self._apply(
                ev, level, at, assessment, override, event_id, note=note, fact=fact, replay=True
            )
        except TransitionRejected as exc:
            raise EpisodeLoadError(
                problem="the event does not replay through the pathway (refused by "
                + ", ".join(dict.fromkeys(x.kind for x in exc.reasons))
                + "; see .reasons)",
                location=where,
                episode_id=r.episode_id,
                reasons=exc.reasons,
            ) from None
        except CarepathError as exc:
            raise EpisodeLoadError(
                problem=_problem(exc), location=where, episode_id=r.episode_id
            ) from None
        if record.target != target:
            raise EpisodeLoadError(
                problem=f"recorded target {show(target)} but the pathway leads to "
                f"{record.target!r}",
                location=where,
                episode_id=r.episode_id,
            )


@functools.lru_cache(maxsize=4096)
def _cached_assessment(ratings: tuple[object, ...]) -> Assessment:
    return Assessment(**dict(zip(_DIMENSION_KEYS, ratings, strict=True)))  # type: ignore[arg-type]


def _stored_assessment(raw: object) -> Assessment:
    """An assessment from stored JSON; the common exact shape is served from a cache."""
    if isinstance(raw, dict) and len(raw) == len(_DIMENSION_KEYS):
        try:
            ratings = tuple(raw[k] for k in _DIMENSION_KEYS)
        except KeyError:
            pass
        else:
            if all(type(v) is int for v in ratings):
                return _cached_assessment(ratings)
    return Assessment.from_mapping(raw)  # type: ignore[arg-type]  # checked by from_mapping


def _record_data(r: EventRecord) -> dict[str, Any]:
    return {
        "event_id": r.event_id,
        "event": r.event.value,
        "source": r.source,
        "target": r.target,
        "at": r.at.isoformat(),
        "assessment": r.assessment.as_dict() if r.assessment is not None else None,
        "override": {"reason": r.override.reason, "by": r.override.by} if r.override else None,
        "note": r.note,
        "fact": r.fact,
    }


def _shown_id(episode_id: str) -> str:
    """The id of an episode read from JSON as its errors may show it ("" when it is not
    a well-formed id: it could be anything a sender put there)."""
    return episode_id if is_quotable(episode_id, kind="id") else ""


def _problem(exc: Exception) -> str:
    """An inner error's problem without the episode id it names (the id is named once,
    by the EpisodeLoadError, when it may be shown)."""
    if isinstance(exc, InvalidArgument):
        return str(exc)  # "Owner.field: problem": names no episode
    problem = getattr(exc, "problem", None)
    if isinstance(problem, str):
        field = getattr(exc, "field", "")
        return f"{field}: {problem}" if isinstance(field, str) and field else problem
    return str(exc)


class _Reader:
    """Reads fields from loaded JSON, naming the location of every problem."""

    __slots__ = ("data", "episode_id", "location")

    def __init__(self, data: object, episode_id: str, location: str = "") -> None:
        if not isinstance(data, dict):
            raise EpisodeLoadError(
                problem=f"expected an object, got {type(data).__name__}",
                location=location or "top level",
                episode_id=episode_id,
            )
        self.data: dict[str, object] = data
        self.episode_id = episode_id
        self.location = location

    def _where(self, key: str) -> str:
        return f"{self.location}.{key}" if self.location else key

    def get(self, key: str) -> object:
        if key not in self.data:
            raise EpisodeLoadError(
                problem="missing", location=self._where(key), episode_id=self.episode_id
            )
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise EpisodeLoadError(
                problem=f"expected a string, got {type(value).__name__}",
                location=self._where(key),
                episode_id=self.episode_id,
            )
        return value

    def time(self, key: str) -> datetime:
        text = self.text(key)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise EpisodeLoadError(
                problem="not an ISO 8601 date-time",
                location=self._where(key),
                episode_id=self.episode_id,
            ) from None
        if value.tzinfo is None:
            raise EpisodeLoadError(
                problem="date-time without a UTC offset",
                location=self._where(key),
                episode_id=self.episode_id,
            )
        return value


register_episode_opener(Episode._open)
