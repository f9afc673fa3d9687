"""HL7 v2 ADT in: a visit's messages replayed into an episode, each recorded as a fact.

Messages (HL7 v2.1 to v2.8.2, the versions hl7apy ships) are parsed with
hl7apy, field values unescaped, deduplicated by message control id (MSH-10), put
in event-time order (EVN-6, else EVN-2, else MSH-7; at equal times a cancel comes
after the other messages), cancels (A11 / A12 / A13) remove the message they
cancel, and what remains is recorded through :meth:`Episode.record`: guards'
verdicts become audit findings, and only a move the pathway does not have rejects
a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from carepath._episode import Episode
from carepath._errors import CarepathError, InteropError, TransitionRejected
from carepath._extras import require
from carepath._guards import Event
from carepath._levels import Outcome

from ._codes import LEVEL_CODES, codes_for

if TYPE_CHECKING:
    from carepath._pathway import Pathway

__all__ = ["DEFAULT_DISPOSITIONS", "LevelMap", "from_hl7v2"]

_STANDARD: Final = "HL7 v2"

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

DEFAULT_DISPOSITIONS: Final[Mapping[str, Outcome]] = MappingProxyType(
    {
        # UB-04 patient status codes, as commonly sent in PV1-36 (HL7 table 0112).
        "01": Outcome.COMPLETED,  # discharged to home or self care
        "07": Outcome.DROPPED_OUT,  # left against medical advice or discontinued care
        # To a hospital, nursing facility, hospice, another institution, home health care.
        **dict.fromkeys(
            (
                "02",
                "03",
                "04",
                "05",
                "06",
                "43",
                "50",
                "51",
                "61",
                "62",
                "63",
                "64",
                "65",
                "66",
                "70",
            ),
            Outcome.TRANSFERRED_OUT,
        ),
        # FHIR discharge-disposition codes, which some feeds send instead.
        "HOME": Outcome.COMPLETED,
        "ALT-HOME": Outcome.COMPLETED,
        "AADVICE": Outcome.DROPPED_OUT,
        **dict.fromkeys(
            ("OTHER-HCF", "HOSP", "LONG", "PSY", "REHAB", "SNF"), Outcome.TRANSFERRED_OUT
        ),
    }
)
"""PV1-36 discharge dispositions the default :class:`LevelMap` knows (upper case).

Expired (``"20"``) and other codes are left out on purpose: no carepath outcome
fits them; map them yourself if your feed sends them.
"""

_DEFAULT_SERVICES: Final[Mapping[str, str]] = MappingProxyType(
    {service: row.level for row in LEVEL_CODES.values() for service in row.services}
)
_DEFAULT_PATIENT_CLASSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "I": "inpatient",
        "O": "outpatient",
    }
)


def _map_error(problem: str) -> InteropError:
    return InteropError(standard=_STANDARD, resource="LevelMap", problem=problem)


def _upper_map(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise _map_error(f"expected a mapping, got {type(value).__name__}")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise _map_error("tables map HL7 codes (strings) to level codes (strings)")
        out[k.strip().upper()] = v
    return MappingProxyType(out)


def _outcome(value: object) -> Outcome:
    try:
        return Outcome(value if isinstance(value, str) else "")
    except ValueError:
        raise _map_error(
            f"{value!r} is not an outcome; allowed: " + ", ".join(o.value for o in Outcome)
        ) from None


def _disposition_map(value: Mapping[str, Outcome | str]) -> Mapping[str, Outcome]:
    if not isinstance(value, Mapping):
        raise _map_error(f"expected a mapping, got {type(value).__name__}")
    return MappingProxyType({str(k).strip().upper(): _outcome(v) for k, v in value.items()})


@final
@attrs.frozen(kw_only=True)
class LevelMap:
    """Which PV1 fields of an ADT message mean which level of care, and which PV1-36
    discharge dispositions mean which outcome.

    A message's level is looked up in ``locations`` by the point of care (PV1-3.1),
    then in ``services`` by the hospital service (PV1-10), then in ``patient_classes``
    by the patient class (PV1-2); the first match wins. Keys are matched without
    regard to case. A transfer or update whose level is found only by the patient
    class moves no one whose current level already has that class
    (:func:`codes_for` ``.patient_class``): PV1-2 alone tells inpatient from
    outpatient, not one inpatient level from another.

    Attributes:
        locations: Point of care (PV1-3.1, e.g. a unit ``"DTX"``) -> level code. Empty
            by default: locations are site-specific.
        services: Hospital service (PV1-10) -> level code. By default the services of
            :data:`~carepath.interop.LEVEL_CODES` (``"DETOX"``/``"WM"`` -> detox,
            ``"INPATIENT"``/``"RES"`` -> inpatient, ``"PHP"``, ``"IOP"``,
            ``"SOBER_LIVING"``/``"SLH"``, ``"OUTPATIENT"``/``"OP"``).
        patient_classes: Patient class (PV1-2) -> level code. By default ``"I"`` ->
            inpatient and ``"O"`` -> outpatient.
        dispositions: Discharge disposition (PV1-36) -> outcome; by default
            :data:`DEFAULT_DISPOSITIONS` (``"01"`` completed, ``"07"`` left against
            advice, transfers to other care transferred out).
        missing_disposition: The outcome of a discharge without PV1-36.

    >>> m = LevelMap(locations={"DTX": "detox"})
    >>> m.level_for(patient_class="I", location="dtx", service="")
    'detox'
    >>> m.level_for(patient_class="O", location="", service="IOP")
    'iop'
    """

    locations: Mapping[str, str] = attrs.field(factory=dict, converter=_upper_map)
    services: Mapping[str, str] = attrs.field(
        factory=lambda: dict(_DEFAULT_SERVICES), converter=_upper_map
    )
    patient_classes: Mapping[str, str] = attrs.field(
        factory=lambda: dict(_DEFAULT_PATIENT_CLASSES), converter=_upper_map
    )
    dispositions: Mapping[str, Outcome] = attrs.field(
        factory=lambda: dict(DEFAULT_DISPOSITIONS), converter=_disposition_map
    )
    missing_disposition: Outcome = attrs.field(default=Outcome.COMPLETED, converter=_outcome)

    def level_for(self, *, patient_class: str, location: str, service: str) -> str | None:
        """The level code the PV1 fields map to, or ``None``."""
        return _lookup(self, patient_class=patient_class, location=location, service=service)[0]

    def outcome_for(self, disposition: str) -> Outcome | None:
        """The outcome a PV1-36 disposition means (``missing_disposition`` when empty)."""
        if not disposition.strip():
            return self.missing_disposition
        return self.dispositions.get(disposition.strip().upper())


def _lookup(
    level_map: LevelMap, *, patient_class: str, location: str, service: str
) -> tuple[str | None, str]:
    """The level code and the field it came from (``"PV1-3"``, ``"PV1-10"``, ``"PV1-2"``)."""
    for table, key, field in (
        (level_map.locations, location, "PV1-3"),
        (level_map.services, service, "PV1-10"),
        (level_map.patient_classes, patient_class, "PV1-2"),
    ):
        found = table.get(key.strip().upper()) if key else None
        if found is not None:
            return found, field
    return None, ""


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
        return f"message {self.control_id!r} (ADT^{self.trigger})"


_TS: Final = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?(?:([+-])(\d{2})(\d{2}))?$"
)


def _timestamp(text: str, tz: tzinfo, resource: str, field: str) -> datetime:
    m = _TS.match(text.strip())
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


def _split(text: str) -> list[str]:
    """One string per message: segments end in CR (LF and CRLF accepted), MLLP framing
    and batch header segments are dropped."""
    text = text.replace("\x0b", "").replace("\x1c", "")
    segments = [s.strip("\n") for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r")]
    messages: list[list[str]] = []
    for seg in segments:
        if not seg.strip():
            continue
        if seg.startswith("MSH"):
            messages.append([seg])
        elif seg[:3] in ("FHS", "BHS", "BTS", "FTS"):
            continue
        elif not messages:
            raise InteropError(
                standard=_STANDARD,
                resource="message #1",
                field="MSH",
                problem="text before the first MSH segment; every message starts with MSH",
            )
        else:
            messages[-1].append(seg)
    return ["\r".join(m) for m in messages]


def _texts(messages: object) -> list[str]:
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
    out: list[str] = []
    for item in items:
        text: object = item
        if isinstance(item, bytes | bytearray):
            try:
                text = bytes(item).decode("utf-8")
            except UnicodeDecodeError:
                text = bytes(item).decode("latin-1")
        if not isinstance(text, str):
            raise InteropError(
                standard=_STANDARD,
                resource="messages",
                problem=f"expected text, got {type(item).__name__}",
            )
        out.extend(_split(text))
    return out


_HEX: Final = re.compile(r"^X((?:[0-9A-Fa-f]{2})+)$")


def unescape(text: str, chars: Mapping[str, str]) -> str:
    r"""``text`` with its HL7 v2 escape sequences replaced (``\F\`` -> ``|`` and so on).

    The separators (``F``, ``S``, ``T``, ``R``), the escape character (``E``), the
    truncation character (``P``) and hexadecimal data (``Xhh...``) become the
    characters they stand for; formatting and character-set sequences (``H``, ``N``,
    ``.br``, ``Cxxyy``, ``Mxxyyzz``, ``Z...``) are dropped; anything else is kept as sent.
    """
    esc = chars.get("ESCAPE", "")
    if not esc or esc not in text:
        return text
    plain = {
        "F": chars.get("FIELD", "|"),
        "S": chars.get("COMPONENT", "^"),
        "T": chars.get("SUBCOMPONENT", "&"),
        "R": chars.get("REPETITION", "~"),
        "E": esc,
        "P": "#",
    }
    out: list[str] = []
    i = 0
    while i < len(text):
        end = text.find(esc, i + 1) if text[i] == esc else -1
        if end < 0:
            out.append(text[i])
            i += 1
            continue
        seq = text[i + 1 : end]
        hexdata = _HEX.match(seq)
        if seq in plain:
            out.append(plain[seq])
        elif hexdata is not None:
            out.append(bytes.fromhex(hexdata.group(1)).decode("latin-1"))
        elif seq in ("H", "N") or seq.startswith((".", "C", "M", "Z")):
            pass  # formatting or character-set switch: no text of its own
        else:
            out.append(text[i : end + 1])
        i = end + 1
    return "".join(out)


class _Fields:
    """Reads components of fields from a message hl7apy parsed, unescaped."""

    def __init__(self, message: Any) -> None:
        self.segments: dict[str, Any] = {}
        for child in message.children:
            self.segments.setdefault(str(child.name), child)
        self.chars: Mapping[str, str] = dict(message.encoding_chars)
        self.component = self.chars["COMPONENT"]
        self.subcomponent = self.chars["SUBCOMPONENT"]

    def get(self, segment: str, number: int, component: int = 1) -> str:
        """The first subcomponent of one component of a field's first repetition; empty
        when the segment, the field (some versions lack one, e.g. EVN-1 in v2.8) or the
        component is absent."""
        from hl7apy.exceptions import ChildNotFound  # noqa: PLC0415  # optional extra

        seg = self.segments.get(segment)
        if seg is None:
            return ""
        try:
            reps = list(getattr(seg, f"{segment.lower()}_{number}"))
        except ChildNotFound:
            return ""
        if not reps:
            return ""
        er7 = str(reps[0].to_er7())
        parts = er7.split(self.component)
        if len(parts) < component:
            return ""
        return unescape(parts[component - 1].split(self.subcomponent)[0], self.chars).strip()


def _parse(text: str, position: int, tz: tzinfo) -> _Message | None:
    """One message, or ``None`` for a message that is not a supported ADT event."""
    require("hl7apy", extra="hl7", needed_for="HL7 v2 import (from_hl7v2)")
    from hl7apy.consts import VALIDATION_LEVEL  # noqa: PLC0415  # optional extra
    from hl7apy.parser import parse_message  # noqa: PLC0415  # optional extra

    where = f"message #{position}"
    try:
        parsed = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT)
        f = _Fields(parsed)
        msg_type, trigger = f.get("MSH", 9, 1).upper(), f.get("MSH", 9, 2).upper()
        control_id = f.get("MSH", 10)
        values = {
            "evn6": f.get("EVN", 6),
            "evn2": f.get("EVN", 2),
            "msh7": f.get("MSH", 7),
            "evn1": f.get("EVN", 1).upper(),
            "patient_id": f.get("PID", 3),
            "visit": f.get("PV1", 19),
            "patient_class": f.get("PV1", 2),
            "location": f.get("PV1", 3),
            "service": f.get("PV1", 10),
            "disposition": f.get("PV1", 36),
        }
    except CarepathError:  # pragma: no cover - nothing above raises one
        raise
    except Exception as exc:  # hl7apy raises many kinds; never pass them on
        raise InteropError(
            standard=_STANDARD,
            resource=where,
            problem=f"not a parseable HL7 v2 message ({type(exc).__name__})",
        ) from None
    if not control_id:
        raise InteropError(
            standard=_STANDARD, resource=where, field="MSH-10", problem="missing message control id"
        )
    trigger = trigger or values["evn1"]
    name = f"message {control_id!r} ({msg_type}^{trigger})"
    if msg_type != "ADT" or trigger not in _SUPPORTED:
        return None
    for field, key in (("EVN-6", "evn6"), ("EVN-2", "evn2"), ("MSH-7", "msh7")):
        if values[key]:
            at = _timestamp(values[key], tz, name, field)
            break
    else:
        raise InteropError(
            standard=_STANDARD,
            resource=name,
            field="EVN-2",
            problem="no event time (EVN-6, EVN-2 or MSH-7)",
        )
    return _Message(
        index=position,
        control_id=control_id,
        trigger=trigger,
        at=at,
        patient_id=values["patient_id"],
        visit=values["visit"],
        patient_class=values["patient_class"],
        location=values["location"],
        service=values["service"],
        disposition=values["disposition"],
    )


def _effective(messages: list[_Message]) -> list[_Message]:
    """Deduplicated, time-ordered, with cancelled messages and the cancels removed."""
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
            if kept[i].trigger in cancels:
                break
        else:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                problem=f"cancels {_CANCEL_WHAT[m.trigger]}, but no such message precedes it",
            )
        if m.trigger == "A12":
            discharge = next((k for k in kept[i + 1 :] if k.trigger in _DISCHARGES), None)
            if discharge is not None:
                raise InteropError(
                    standard=_STANDARD,
                    resource=m.name,
                    problem=f"cancels the transfer {kept[i].control_id!r}, but the visit "
                    f"was discharged after it ({discharge.control_id!r}); cancel the "
                    "discharge (A13) first",
                )
        del kept[i]
    return kept


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
                "replay one patient's visit at a time",
            )
        if m.visit and m.visit != visit:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="PV1-19",
                problem="belongs to another visit than the earlier messages; "
                "replay one visit at a time",
            )
    if not patient:
        raise InteropError(
            standard=_STANDARD,
            resource=messages[0].name,
            field="PID-3",
            problem="no patient identifier in any message",
        )
    return patient, visit


def _level(
    m: _Message, level_map: LevelMap, pathway: Pathway, *, required: bool
) -> tuple[str | None, str]:
    """The level a message names and the field it came from (``"PV1-2"``: patient class)."""
    code, source = _lookup(
        level_map, patient_class=m.patient_class, location=m.location, service=m.service
    )
    if code is None:
        if not required:
            return None, ""
        raise InteropError(
            standard=_STANDARD,
            resource=m.name,
            field="PV1-3/PV1-10/PV1-2",
            problem=f"no level for point of care {m.location!r}, hospital service "
            f"{m.service!r} or patient class {m.patient_class!r}; add one to the LevelMap",
        )
    if code not in {lv.code for lv in pathway.levels}:
        raise InteropError(
            standard=_STANDARD,
            resource=m.name,
            field="PV1-3/PV1-10/PV1-2",
            problem=f"the LevelMap names level {code!r}, which pathway "
            f"{pathway.id!r} does not have",
        )
    return code, source


def _move(
    m: _Message, episode: Episode, level_map: LevelMap, pathway: Pathway
) -> tuple[Event, str | None] | None:
    """The carepath event a message means now, or ``None`` when it changes nothing."""
    if m.trigger in _ADMITS:
        return Event.ADMIT, _level(m, level_map, pathway, required=True)[0]
    if m.trigger in _DISCHARGES:
        outcome = level_map.outcome_for(m.disposition)
        if outcome is None:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="PV1-36",
                problem=f"unknown discharge disposition {m.disposition!r}; known: "
                + ", ".join(sorted(level_map.dispositions)),
            )
        return _OUTCOME_EVENT[outcome], None
    current = episode.level
    target, source = _level(m, level_map, pathway, required=m.trigger in _TRANSFERS)
    if target is None or (current is not None and target == current.code):
        return None  # a bed move within the level, or an update that changes no level
    if (
        source == "PV1-2"
        and current is not None
        and codes_for(current).patient_class == m.patient_class.strip().upper()
    ):
        # Only the patient class names a level, and it is the current level's class: a
        # demographic update or a bed move, not a change of level.
        return None
    if current is None:
        if m.trigger in _UPDATES:
            return None  # an update before admission or after discharge moves nobody
        return Event.STEP_UP, target  # refused below: the pathway has no such move
    up = pathway.level(target).intensity > current.intensity
    return (Event.STEP_UP if up else Event.STEP_DOWN), target


def from_hl7v2(
    messages: str | bytes | Iterable[str | bytes],
    pathway: Pathway,
    level_map: LevelMap | None = None,
    tz: tzinfo = UTC,
    *,
    episode_id: str | None = None,
) -> Episode:
    """Replay one visit's HL7 v2 ADT messages into an episode, recording each as a fact.

    Args:
        messages: One or more messages as text (segments end in CR; LF and CRLF are
            accepted), or a list of such texts.
        pathway: The pathway to record the episode on.
        level_map: Which PV1 fields mean which level; :class:`LevelMap` () by default.
        tz: The time zone of HL7 timestamps that carry no offset.
        episode_id: The episode id; by default the visit number (PV1-19), else the
            control id of the earliest message not cancelled.

    Returns:
        The episode, started at the earliest message not cancelled: admissions (A01,
        A04), transfers (A02, A06, A07, and A08 updates that change the level; see
        :class:`LevelMap` for PV1-2), and discharges (A03, outcome from PV1-36), in
        event-time order, each with its message control id as event id. Guards'
        objections are kept as findings (:meth:`Episode.findings`).

    Raises:
        InteropError: a malformed message, an HL7 version hl7apy does not ship (it
            reads 2.1 to 2.8.2), a cancel with nothing to cancel, a cancel-transfer
            (A12) whose transfer a discharge follows, a level
            the map does not know, or a move the pathway does not have (naming the
            message control id and the move).
    """
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
    texts = _texts(messages)
    parsed = [m for i, t in enumerate(texts, 1) if (m := _parse(t, i, tz)) is not None]
    if not parsed:
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            problem="no ADT admission, transfer, discharge or cancel message found",
        )
    patient_id, visit = _check_visit(parsed)
    effective = _effective(parsed)
    # A cancelled message leaves no trace: the start is the earliest message that stays
    # (the earliest of all only when the cancels leave none).
    first = min(effective or parsed, key=lambda m: (m.at, m.index))
    started = first.at
    try:
        episode = pathway.start(
            patient_id, at=started, episode_id=episode_id or visit or first.control_id
        )
    except CarepathError as exc:
        raise InteropError(standard=_STANDARD, resource=first.name, problem=str(exc)) from None
    for m in effective:
        move = _move(m, episode, level_map, pathway)
        if move is None:
            continue
        event, level = move
        try:
            episode.record(
                event, level, at=m.at, event_id=m.control_id, note=f"HL7 v2 ADT^{m.trigger}"
            )
        except TransitionRejected as exc:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                problem=f"the pathway has no {event.value} move from {exc.source} to {exc.target}",
                reasons=exc.reasons,
            ) from None
        except CarepathError as exc:
            raise InteropError(standard=_STANDARD, resource=m.name, problem=str(exc)) from None
    return episode
