"""HL7 v2 ADT in: messages replayed into episodes, each recorded as a fact.

Messages (HL7 v2.1 to v2.8.2) are read by carepath's bounded reader
(:mod:`._hl7_reader`, limits in :class:`HL7Limits`), field values unescaped,
deduplicated by message control id (MSH-10), put in event-time order (EVN-6, else
EVN-2, else MSH-7; at equal times a cancel comes after the other messages), cancels
(A11 / A12 / A13) remove the message they cancel, and what remains is recorded through
:meth:`Episode.record`: guards' verdicts become audit findings, and only a move the
pathway does not have rejects a message.

:func:`from_hl7v2` reads one visit; :func:`episodes_from_hl7v2` reads any number of
visits of any number of patients and stitches each patient's visits into courses of
treatment (:mod:`._stitching`), every decision explained in the notes of the events it
shaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, final

import attrs

from carepath._episode import Episode
from carepath._errors import CarepathError, InteropError, TransitionRejected
from carepath._guards import Event
from carepath._levels import Level, Outcome

from ._codes import codes_for
from ._hl7_map import DISCHARGE_STATUS, LevelMap, _lookup
from ._hl7_reader import STANDARD as _STANDARD
from ._hl7_reader import HL7Limits, RawMessage, read_message, split_messages
from ._quote import quotable, show

if TYPE_CHECKING:
    from carepath._pathway import Pathway

__all__ = ["from_hl7v2"]

_ADMITS: Final = frozenset({"A01", "A04"})
_TRANSFERS: Final = frozenset({"A02", "A06", "A07"})
_DISCHARGES: Final = frozenset({"A03"})
_UPDATES: Final = frozenset({"A08"})
_CANCELS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "A11": _ADMITS,
        "A12": _TRANSFERS,
        "A13": _DISCHARGES,
    }
)
_CANCEL_WHAT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A11": "an admission (A01/A04)",
        "A12": "a transfer (A02/A06/A07)",
        "A13": "a discharge (A03)",
    }
)
_SUPPORTED: Final = _ADMITS | _TRANSFERS | _DISCHARGES | _UPDATES | frozenset(_CANCELS)

_OUTCOME_EVENT: Final[Mapping[Outcome, Event]] = MappingProxyType(
    {
        Outcome.COMPLETED: Event.COMPLETE,
        Outcome.DROPPED_OUT: Event.DROP_OUT,
        Outcome.TRANSFERRED_OUT: Event.TRANSFER_OUT,
    }
)
_TERMINAL: Final = frozenset(_OUTCOME_EVENT.values())


@final
@attrs.frozen(kw_only=True)
class _Message:
    index: int
    control_id: str
    trigger: str
    at: datetime
    patient_id: str
    visit: str
    patient_class: str
    location: str
    service: str
    disposition: str

    @property
    def name(self) -> str:
        """The message as errors and notes name it (see :func:`_name`)."""
        return _name(self.control_id, self.trigger, self.index)

    @property
    def ref(self) -> str:
        return self.control_id


def _name(control_id: str, trigger: str, position: int) -> str:
    """A message as errors name it: its control id when that is a well-formed id, else its
    position in the input."""
    if quotable(control_id, kind="id"):
        return f"message {control_id!r} (ADT^{trigger})"
    return f"message #{position} (ADT^{trigger})"


_TS: Final = re.compile(
    r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?(?:([+-])(\d{2})(\d{2}))?"
)


def _timestamp(text: str, tz: tzinfo, resource: str, field: str) -> datetime:
    m = _TS.fullmatch(text.strip())
    if m is None:
        raise InteropError(
            standard=_STANDARD,
            resource=resource,
            field=field,
            problem="not an HL7 timestamp (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])",
        )
    year, month, day, hour, minute, second, frac, sign, oh, om = m.groups()
    try:
        zone: tzinfo = tz
        if sign is not None:
            if int(oh) > 23 or int(om) > 59:
                raise ValueError("offset out of range")
            delta = timedelta(hours=int(oh), minutes=int(om))
            zone = timezone(-delta if sign == "-" else delta)
        return datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((frac or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        raise InteropError(
            standard=_STANDARD, resource=resource, field=field, problem="not a valid date and time"
        ) from None


def _decode(item: bytes) -> str:
    try:
        return item.decode("utf-8")
    except UnicodeDecodeError:
        return item.decode("latin-1")


def _texts(messages: object) -> list[list[str]]:
    """Each message's segments, from text, bytes or a list of them."""
    items: Iterable[object]
    if isinstance(messages, str | bytes | bytearray):
        items = [messages]
    elif isinstance(messages, Iterable):
        items = messages
    else:
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            problem=f"expected text or a list of texts, got {type(messages).__name__}",
        )
    out: list[list[str]] = []
    for item in items:
        text: object = item
        if isinstance(item, bytes | bytearray):
            text = _decode(bytes(item))
        if not isinstance(text, str):
            raise InteropError(
                standard=_STANDARD,
                resource="messages",
                problem=f"expected text, got {type(item).__name__}",
            )
        out.extend(split_messages(text))
    return out


def _patient_id(
    raw: RawMessage, level_map: LevelMap, position: int, control_id: str, trigger: str
) -> str:
    """The patient id from PID-3: the first repetition of a configured type (CX-5) and
    assigning authority (CX-4), else a lone untyped identifier; never another type."""
    reps = [r for r in raw.repetitions("PID", 3) if r and r[0]]
    if not reps:
        return ""
    authority = level_map.patient_id_authority.strip().upper()
    for wanted in level_map.patient_id_types:
        for r in reps:
            kind = r[4].upper() if len(r) > 4 else ""
            owner = r[3].upper() if len(r) > 3 else ""
            if kind == wanted and (not authority or owner == authority):
                return r[0]
    untyped = [r for r in reps if len(r) <= 4 or not r[4]]
    if level_map.untyped_patient_id and len(untyped) == len(reps) == 1 and not authority:
        return untyped[0][0]
    types = sorted({r[4].upper() for r in reps if len(r) > 4 and r[4]})
    found = ", ".join(show(t, what="an identifier type") for t in types) or "only untyped ones"
    wanted_types = "/".join(level_map.patient_id_types)
    owner_text = f" from assigning authority {show(authority, what='a code')}" if authority else ""
    raise InteropError(
        standard=_STANDARD,
        resource=_name(control_id, trigger, position),
        field="PID-3",
        problem=f"no identifier of type {wanted_types} (CX-5){owner_text} among "
        f"{len(reps)} identifier(s) (types: {found}); set LevelMap.patient_id_types or "
        "patient_id_authority to name the patient id",
    )


def _parse(
    segments: list[str], position: int, tz: tzinfo, limits: HL7Limits, level_map: LevelMap
) -> _Message | None:
    """One message, or ``None`` for a message that is not a supported ADT event."""
    where = f"message #{position}"
    raw = read_message(segments, position, limits)
    msg_type, trigger = raw.get("MSH", 9, 1).upper(), raw.get("MSH", 9, 2).upper()
    control_id = raw.get("MSH", 10)
    if not control_id:
        raise InteropError(
            standard=_STANDARD, resource=where, field="MSH-10", problem="missing message control id"
        )
    trigger = trigger or raw.get("EVN", 1).upper()
    if msg_type != "ADT" or trigger not in _SUPPORTED:
        return None
    for segment, number in (("EVN", 6), ("EVN", 2), ("MSH", 7)):
        value = raw.get(segment, number)
        if value:
            at = _timestamp(value, tz, _name(control_id, trigger, position), f"{segment}-{number}")
            break
    else:
        raise InteropError(
            standard=_STANDARD,
            resource=_name(control_id, trigger, position),
            field="EVN-2",
            problem="no event time (EVN-6, EVN-2 or MSH-7)",
        )
    return _Message(
        index=position,
        control_id=control_id,
        trigger=trigger,
        at=at,
        patient_id=_patient_id(raw, level_map, position, control_id, trigger),
        visit=raw.get("PV1", 19),
        patient_class=raw.get("PV1", 2),
        location=raw.get("PV1", 3),
        service=raw.get("PV1", 10),
        disposition=raw.get("PV1", 36),
    )


def _read(messages: object, tz: tzinfo, limits: HL7Limits, level_map: LevelMap) -> list[_Message]:
    texts = _texts(messages)
    parsed = [
        m for i, t in enumerate(texts, 1) if (m := _parse(t, i, tz, limits, level_map)) is not None
    ]
    if not parsed:
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            problem="no ADT admission, transfer, discharge or cancel message found",
        )
    return parsed


def _effective(messages: list[_Message]) -> list[_Message]:
    """Deduplicated, time-ordered, with cancelled messages and the cancels removed.

    A cancel that names a visit (PV1-19) cancels the latest message of its kind in that
    visit; one that names none, the latest of its kind in any visit.
    """
    first: dict[str, _Message] = {}
    unique: list[_Message] = []
    for m in messages:
        earlier = first.get(m.control_id)
        if earlier is None:
            first[m.control_id] = m
            unique.append(m)
        elif (earlier.trigger, earlier.at) != (m.trigger, m.at):
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="MSH-10",
                problem=f"the message control id was already used by message "
                f"#{earlier.index} (ADT^{earlier.trigger}) at another time; a retried "
                "message repeats the original",
            )
    # At equal times a cancel sorts after what it may cancel, whatever the arrival order.
    unique.sort(key=lambda m: (m.at, m.trigger in _CANCELS, m.index))
    kept: list[_Message] = []
    for m in unique:
        cancels = _CANCELS.get(m.trigger)
        if cancels is None:
            kept.append(m)
            continue
        for i in range(len(kept) - 1, -1, -1):
            if kept[i].trigger in cancels and (not m.visit or kept[i].visit == m.visit):
                break
        else:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                problem=f"cancels {_CANCEL_WHAT[m.trigger]}, but no such message precedes it",
            )
        target = kept[i]
        if m.trigger == "A12":
            discharge = next(
                (k for k in kept[i + 1 :] if k.trigger in _DISCHARGES and k.visit == target.visit),
                None,
            )
            if discharge is not None:
                raise InteropError(
                    standard=_STANDARD,
                    resource=m.name,
                    problem=f"cancels the transfer {_quote_id(target)}, but the visit "
                    f"was discharged after it ({_quote_id(discharge)}); cancel the "
                    "discharge (A13) first",
                )
        del kept[i]
    return kept


def _quote_id(m: _Message) -> str:
    return repr(m.control_id) if quotable(m.control_id, kind="id") else f"message #{m.index}"


def _check_visit(messages: list[_Message]) -> tuple[str, str]:
    patient = next((m.patient_id for m in messages if m.patient_id), "")
    visit = next((m.visit for m in messages if m.visit), "")
    for m in messages:
        if m.patient_id and m.patient_id != patient:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="PID-3",
                problem="belongs to another patient than the earlier messages; "
                "replay one patient's visit at a time, or use episodes_from_hl7v2",
            )
        if m.visit and m.visit != visit:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="PV1-19",
                problem="belongs to another visit than the earlier messages; "
                "replay one visit at a time, or use episodes_from_hl7v2",
            )
    if not patient:
        raise InteropError(
            standard=_STANDARD,
            resource=messages[0].name,
            field="PID-3",
            problem="no patient identifier in any message",
        )
    return patient, visit


@final
@attrs.frozen(kw_only=True)
class _Move:
    message: _Message
    event: Event
    level: str | None
    outcome: Outcome | None = None
    findings: tuple[str, ...] = ()


def _unit_codes(m: _Message) -> str:
    unit = m.location.split("^")[0] if m.location else ""
    parts = []
    if unit:
        parts.append(
            f"point of care {show(unit, what='a point-of-care code')} to LevelMap.locations"
        )
    if m.service:
        parts.append(
            f"hospital service {show(m.service, what='a hospital-service code')} "
            "to LevelMap.services"
        )
    return " or ".join(parts) if parts else "a point of care (PV1-3) or hospital service (PV1-10)"


def _level(
    m: _Message, level_map: LevelMap, pathway: Pathway, current: Level | None, *, required: bool
) -> tuple[str | None, str, tuple[str, ...]]:
    """The level a message names, the field it came from and any findings.

    ``(None, "", ())`` when it names none (and none is required) or only the current
    level's patient class."""
    code, source = _lookup(
        level_map, patient_class=m.patient_class, location=m.location, service=m.service
    )
    findings: tuple[str, ...] = ()
    if source == "PV1-2":
        klass = m.patient_class.strip().upper()
        if current is not None and codes_for(current).patient_class == klass:
            # Only the patient class, and it is the current level's class: a demographic
            # update or a bed move, not a change of level.
            return None, "", ()
        if not level_map.patient_class_fallback:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="PV1-3/PV1-10",
                problem="only the patient class (PV1-2 "
                f"{show(klass, what='a patient-class code')}) suggests a level; "
                f"add {_unit_codes(m)}, or set "
                "LevelMap.patient_class_fallback to accept the guess",
            )
        findings = (
            f"finding: level {code!r} guessed from the patient class alone (PV1-2 "
            f"{show(klass, what='a patient-class code')}); add {_unit_codes(m)}",
        )
    if code is None:
        if not required:
            return None, "", ()
        raise InteropError(
            standard=_STANDARD,
            resource=m.name,
            field="PV1-3/PV1-10",
            problem=f"no level for point of care, hospital service or patient class; "
            f"add {_unit_codes(m)}",
        )
    if code not in pathway._by_code:
        raise InteropError(
            standard=_STANDARD,
            resource=m.name,
            field=source or "PV1-3/PV1-10",
            problem=f"the LevelMap names level {code!r}, which pathway "
            f"{pathway.id!r} does not have",
        )
    return code, source, findings


def _move(
    m: _Message, current: Level | None, level_map: LevelMap, pathway: Pathway
) -> _Move | None:
    """The carepath event a message means after ``current``, or ``None`` when it
    changes nothing."""
    if m.trigger in _ADMITS:
        code, _, findings = _level(m, level_map, pathway, None, required=True)
        return _Move(message=m, event=Event.ADMIT, level=code, findings=findings)
    if m.trigger in _DISCHARGES:
        outcome = level_map.outcome_for(m.disposition)
        findings = ()
        if outcome is None:
            outcome = level_map.unmapped_disposition
            code = m.disposition.strip().upper()
            meaning = DISCHARGE_STATUS.get(code)
            said = show(code, what="a discharge-disposition code")
            known = f" ({meaning})" if meaning else " (not a UB-04 discharge status)"
            findings = (
                f"finding: PV1-36 {said}{known if quotable(code) else ''} maps to no "
                f"outcome; recorded as {outcome.value} (LevelMap.unmapped_disposition); "
                "map it in LevelMap.dispositions",
            )
        return _Move(
            message=m, event=_OUTCOME_EVENT[outcome], level=None, outcome=outcome, findings=findings
        )
    target, _, findings = _level(m, level_map, pathway, current, required=m.trigger in _TRANSFERS)
    if target is None or (current is not None and target == current.code):
        return None  # a bed move within the level, or an update that changes no level
    if current is None:
        if m.trigger in _UPDATES:
            return None  # an update before admission or after discharge moves nobody
        # Refused when recorded: the pathway has no such move.
        return _Move(message=m, event=Event.STEP_UP, level=target, findings=findings)
    up = pathway.level(target).intensity > current.intensity
    return _Move(
        message=m, event=Event.STEP_UP if up else Event.STEP_DOWN, level=target, findings=findings
    )


def _plan(messages: Sequence[_Message], level_map: LevelMap, pathway: Pathway) -> list[_Move]:
    """The moves one visit's effective messages mean, in order, each level change
    judged from the level the visit is at."""
    current: Level | None = None
    moves: list[_Move] = []
    for m in messages:
        mv = _move(m, current, level_map, pathway)
        if mv is None:
            continue
        moves.append(mv)
        current = pathway._by_code.get(mv.level) if mv.level is not None else None
    return moves


def _note(mv: _Move, extra: Sequence[str] = ()) -> str:
    """``HL7 v2 ADT^A04``, then one line per stitching decision and per finding."""
    return "\n".join((f"HL7 v2 ADT^{mv.message.trigger}", *extra, *mv.findings))


def _apply(episode: Episode, mv: _Move, event: Event, level: str | None, note: str) -> None:
    m = mv.message
    try:
        episode.record(event, level, at=m.at, event_id=m.control_id, note=note)
    except TransitionRejected as exc:
        raise InteropError(
            standard=_STANDARD,
            resource=m.name,
            problem=f"the pathway has no {event.value} move from {exc.source} to {exc.target}",
            reasons=exc.reasons,
        ) from None
    except CarepathError as exc:
        raise InteropError(standard=_STANDARD, resource=m.name, problem=str(exc)) from None


def _check_args(level_map: LevelMap | None, tz: object) -> LevelMap:
    level_map = level_map if level_map is not None else LevelMap()
    if not isinstance(level_map, LevelMap):
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            field="level_map",
            problem=f"expected a LevelMap, got {type(level_map).__name__}",
        )
    if not isinstance(tz, tzinfo):
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            field="tz",
            problem=f"expected a tzinfo, got {type(tz).__name__}",
        )
    return level_map


def _limits(limits: HL7Limits | None) -> HL7Limits:
    if limits is None:
        return HL7Limits()
    if not isinstance(limits, HL7Limits):
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            field="limits",
            problem=f"expected HL7Limits, got {type(limits).__name__}",
        )
    return limits


def from_hl7v2(
    messages: str | bytes | Iterable[str | bytes],
    pathway: Pathway,
    level_map: LevelMap | None = None,
    tz: tzinfo = UTC,
    *,
    episode_id: str | None = None,
    limits: HL7Limits | None = None,
) -> Episode:
    """Replay one visit's HL7 v2 ADT messages into an episode, recording each as a fact.

    Args:
        messages: One or more messages as text (segments end in CR; LF and CRLF are
            accepted; MLLP framing and batch headers are dropped), or a list of such
            texts, or bytes (UTF-8, else Latin-1).
        pathway: The pathway to record the episode on.
        level_map: Which PV1 fields mean which level; :class:`LevelMap` () by default.
        tz: The time zone of HL7 timestamps that carry no offset.
        episode_id: The episode id; by default the visit number (PV1-19), else the
            control id of the earliest message not cancelled.
        limits: Size limits of the reader; :class:`HL7Limits` () by default.

    Returns:
        The episode, started at the earliest message not cancelled: admissions (A01,
        A04), transfers (A02, A06, A07, and A08 updates that change the level; see
        :class:`LevelMap` for PV1-2), and discharges (A03, outcome from PV1-36), in
        event-time order, each with its message control id as event id. Guards'
        objections are kept as findings (:meth:`Episode.findings`); the reader's own
        findings (an unmapped disposition, a level guessed from PV1-2) in the note.

    Raises:
        InteropError: a malformed message, input past a limit of ``limits``, an HL7
            version other than 2.1 to 2.8.2, a cancel with nothing to cancel, a
            cancel-transfer (A12) whose transfer a discharge follows, no usable patient
            id in PID-3, a level the map does not know, messages of several visits or
            patients, or a move the pathway does not have (naming the message and the
            move).
    """
    level_map = _check_args(level_map, tz)
    parsed = _read(messages, tz, _limits(limits), level_map)
    patient_id, visit = _check_visit(parsed)
    effective = _effective(parsed)
    # A cancelled message leaves no trace: the start is the earliest message that stays
    # (the earliest of all only when the cancels leave none).
    first = min(effective or parsed, key=lambda m: (m.at, m.index))
    try:
        episode = pathway.start(
            patient_id, at=first.at, episode_id=episode_id or visit or first.control_id
        )
    except CarepathError as exc:
        raise InteropError(standard=_STANDARD, resource=first.name, problem=str(exc)) from None
    for mv in _plan(effective, level_map, pathway):
        _apply(episode, mv, mv.event, mv.level, _note(mv))
    return episode
