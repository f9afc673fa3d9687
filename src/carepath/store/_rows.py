"""Reading the store's rows back: every row parsed and checked on its own.

A row that is not a valid event (not text, not JSON, nested too deeply, the wrong
shape, another event id than its row, or a payload that no longer matches the
digest written with it) raises :class:`~carepath.CorruptRecord` naming the table,
the episode and the sequence number. Rows are never joined into one document, so
two damaged rows cannot make a valid one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from carepath._episode import FORMAT, FORMAT_VERSION
from carepath._errors import CorruptRecord
from carepath._guards import Event
from carepath._textio import TextInputError, describe, is_quotable, load_json

__all__ = [
    "EPISODES",
    "EVENTS",
    "ROW_MAX_DEPTH",
    "Head",
    "digest",
    "episode_data",
    "import_line",
    "json_text",
    "parse_time",
    "payload_fields",
    "read_event",
    "same_event",
    "shown_id",
]

EVENTS: Final = "carepath_events"
EPISODES: Final = "carepath_episodes"

ROW_MAX_DEPTH: Final = 16
"""The deepest JSON a stored event may be (an event is 3 deep: event, assessment,
ratings); anything deeper is damage, refused before it is parsed."""

IMPORT_MAX_DEPTH: Final = 16
"""The deepest JSON an import line may be (an episode is 4 deep)."""

EVENT_KINDS: Final = frozenset(e.value for e in Event)


class Head(NamedTuple):
    """An episodes row (the columns of ``HEADER_COLUMNS`` in ``_store``, in order)."""

    id: str
    patient_id: str
    pathway_id: str
    pathway_version: str
    content_hash: str
    version: int
    state: str
    started_at: str
    last_at: str
    previous_episode_id: str | None


def shown_id(episode_id: object) -> str:
    """An episode id as errors may show it: "" unless it is a well-formed id (an id
    read from a file or a damaged row could be anything a sender put there)."""
    return episode_id if isinstance(episode_id, str) and is_quotable(episode_id, kind="id") else ""


def json_text(value: object) -> str:
    """The JSON text the store writes (compact; a lone surrogate kept, escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in some text: keep it, escaped
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text


def digest(text: str) -> str:
    """The SHA-256 of a payload's text, written with it and checked on every read."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_time(
    text: object, episode_id: str, seq: int | None, what: str, *, table: str = EVENTS
) -> datetime:
    """An ISO 8601 date-time with a UTC offset, or :class:`CorruptRecord`."""
    if isinstance(text, str):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if value.tzinfo is not None and value.utcoffset() is not None:
                return value
    raise CorruptRecord(
        table=table,
        episode_id=shown_id(episode_id),
        seq=seq,
        problem=f"{what} is not an ISO 8601 date-time with a UTC offset",
    )


_REQUIRED: Final = ("event_id", "event", "source", "target", "at")


def payload_fields(
    p: object, episode_id: str, seq: int | None, *, table: str = EVENTS
) -> dict[str, Any]:
    """Check an event's shape: an object with the required strings, a known event, an
    instant with a UTC offset, and optional fields of the right types. The pathway's
    rules are checked by the replay."""

    def bad(problem: str) -> CorruptRecord:
        return CorruptRecord(table=table, episode_id=shown_id(episode_id), seq=seq, problem=problem)

    if not isinstance(p, dict):
        raise bad(f"an event must be a JSON object, not {describe(p)}")
    for key in _REQUIRED:
        if not isinstance(p.get(key), str) or not p[key]:
            raise bad(f"event field {key!r} is missing or not a string")
    if p["event"] not in EVENT_KINDS:
        raise bad("event field 'event' is not a known event")
    parse_time(p["at"], episode_id, seq, "event field 'at'", table=table)
    a = p.get("assessment")
    if a is not None and not (isinstance(a, dict) and all(type(v) is int for v in a.values())):
        raise bad("event field 'assessment' must be null or an object of whole-number ratings")
    o = p.get("override")
    if o is not None and not (
        isinstance(o, dict) and all(isinstance(o.get(k), str) for k in ("reason", "by"))
    ):
        raise bad("event field 'override' must be null or an object with 'reason' and 'by'")
    if p.get("note") is not None and not isinstance(p["note"], str):
        raise bad("event field 'note' must be null or a string")
    if not isinstance(p.get("fact", False), bool):
        raise bad("event field 'fact' must be true or false")
    return p


def read_event(
    text: object,
    stored_digest: object,
    *,
    episode_id: str,
    seq: int,
    event_id: object,
    strict: bool = False,
) -> dict[str, Any]:
    """One stored event row, parsed and checked on its own (see the module's docstring).

    A row whose text matches the digest carepath wrote with it is exactly an event
    carepath checked before writing: it is parsed with :func:`json.loads` alone.
    Any other row (no digest, another digest, or ``strict``) is parsed strictly and
    its shape checked, so the error says what is wrong with it.
    """
    if not strict and isinstance(text, str) and stored_digest == digest(text):
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):  # pragma: no cover - a digest of damage
            payload = None
        if isinstance(payload, dict) and payload.get("event_id") == event_id:
            return payload

    def bad(problem: str) -> CorruptRecord:
        return CorruptRecord(
            table=EVENTS, episode_id=shown_id(episode_id), seq=seq, problem=problem
        )

    if not isinstance(text, str):
        raise bad(f"the payload must be text, not {describe(text)}")
    try:
        payload = load_json(text, max_bytes=None, max_depth=ROW_MAX_DEPTH)
    except TextInputError as exc:
        raise bad(f"the payload is not valid JSON ({exc.problem})") from None
    checked = payload_fields(payload, episode_id, seq)
    if checked["event_id"] != event_id:
        raise bad("the payload's event id differs from the row's")
    if stored_digest is not None and stored_digest != digest(text):
        raise bad("the payload does not match the digest stored with it (changed outside carepath)")
    return checked


def episode_data(head: Head, rows: Sequence[tuple[int, object, object, object]]) -> dict[str, Any]:
    """An episode as :meth:`Episode.to_dict` data from its header and event rows
    ``(seq, event_id, payload, digest)``, every row checked on its own."""
    episode_id = head.id
    for expected, (seq, *_) in enumerate(rows, 1):
        if seq != expected:
            raise CorruptRecord(
                table=EVENTS,
                episode_id=shown_id(episode_id),
                seq=seq,
                problem=f"sequence number out of range: expected {expected} (events are "
                f"numbered 1 to the episode's version, {head.version}, without gaps)",
            )
    if len(rows) != head.version:
        raise CorruptRecord(
            table=EPISODES,
            episode_id=shown_id(episode_id),
            seq=len(rows) + 1 if len(rows) < head.version else None,
            problem=f"the episode's version is {head.version} but {len(rows)} events are stored",
        )
    payloads = [
        read_event(text, dig, episode_id=episode_id, seq=seq, event_id=eid)
        for seq, eid, text, dig in rows
    ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "id": episode_id,
        "patient_id": head.patient_id,
        "previous_episode_id": head.previous_episode_id,
        "pathway": {
            "id": head.pathway_id,
            "version": head.pathway_version,
            "content_hash": head.content_hash,
        },
        "started_at": head.started_at,
        "events": payloads,
    }


_SAME_EVENT_FIELDS: Final = ("event", "source", "target", "assessment")


def same_event(stored: str, new: Mapping[str, Any], episode_id: str) -> bool:
    """Whether a new event with a stored event's id repeats it: the same event, levels,
    assessment and instant (notes and overrides of a retry are not compared, as
    :class:`~carepath.Episode` does not compare them either)."""
    if stored == json_text(new):  # the usual retry: the same text, nothing to parse
        return True
    try:
        old = load_json(stored, max_bytes=None, max_depth=ROW_MAX_DEPTH)
    except TextInputError:
        raise CorruptRecord(
            table=EVENTS,
            episode_id=shown_id(episode_id),
            problem="a stored event with the same event id is not valid JSON",
        ) from None
    if not isinstance(old, dict):
        return False
    return all(old.get(k) == new.get(k) for k in _SAME_EVENT_FIELDS) and parse_time(
        old.get("at"), episode_id, None, "a stored event's 'at'"
    ) == parse_time(new.get("at"), episode_id, None, "event field 'at'")


# -- import lines ------------------------------------------------------------------------------


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def import_line(line: str, number: int) -> tuple[dict[str, Any], list[datetime | None]]:
    """An import line's episode data and its events' ``recorded_at`` (``None`` where a
    line of :meth:`Episode.to_dict` data has none): ``store export`` lines and
    ``Episode.to_dict()`` / ``Episode.to_json()`` lines are both accepted.

    Raises:
        CorruptRecord: not strict JSON, not an episode, or an event of the wrong shape
            (names the line and, for an event, its position).
    """
    where = f"line {number}"
    try:
        data = load_json(line, max_bytes=None, max_depth=IMPORT_MAX_DEPTH)
    except TextInputError as exc:
        raise CorruptRecord(problem=f"{where}: not valid JSON ({exc.problem})") from None
    pathway = data.get("pathway") if isinstance(data, dict) else None
    ok = (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and data.get("format_version") == FORMAT_VERSION
        and all(_is_text(data.get(k)) and data[k] for k in ("id", "patient_id", "started_at"))
        and isinstance(pathway, dict)
        and all(_is_text(pathway.get(k)) for k in ("id", "version", "content_hash"))
        and (data.get("previous_episode_id") is None or _is_text(data["previous_episode_id"]))
        and isinstance(data.get("events"), list)
    )
    if not ok:
        raise CorruptRecord(
            problem=f"{where}: not a carepath episode (store export or Episode.to_dict() "
            f"data, format {FORMAT!r} version {FORMAT_VERSION})"
        )
    assert isinstance(data, dict)
    episode_id: str = data["id"]
    parse_time(data["started_at"], episode_id, None, f"{where}: started_at", table=EPISODES)
    recorded: list[datetime | None] = []
    for seq, p in enumerate(data["events"], 1):
        payload_fields(p, episode_id, seq, table=f"{where}: events")
        at = p.pop("recorded_at", None)
        recorded.append(
            None if at is None else parse_time(at, episode_id, seq, f"{where}: recorded_at")
        )
    return data, recorded


def chunks(items: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    """Bounded IN lists."""
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
