"""Writing to the store: episode headers and event rows, and the checks of an append."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from carepath._errors import ConcurrencyConflict, StoreError

from ._rows import Head, chunks, digest, json_text, parse_time, same_event
from ._schema import episodes, events

__all__ = [
    "HEADER_COLUMNS",
    "append_rows",
    "head",
    "insert_episode",
    "insert_events",
    "same_header",
]

HEADER_COLUMNS: Final = (
    episodes.c.id,
    episodes.c.patient_id,
    episodes.c.pathway_id,
    episodes.c.pathway_version,
    episodes.c.content_hash,
    episodes.c.version,
    episodes.c.state,
    episodes.c.started_at,
    episodes.c.last_at,
    episodes.c.previous_episode_id,
)


def head(conn: Connection, episode_id: str, *, lock: bool) -> Head | None:
    query = sa.select(*HEADER_COLUMNS).where(episodes.c.id == episode_id)
    if lock:
        query = query.with_for_update()  # PostgreSQL; SQLite holds the write lock already
    row = conn.execute(query).first()
    return None if row is None else Head._make(row)


def insert_episode(conn: Connection, data: dict[str, Any], now: datetime) -> None:
    evs: list[dict[str, Any]] = data["events"]
    conn.execute(
        episodes.insert().values(
            id=data["id"],
            patient_id=data["patient_id"],
            pathway_id=data["pathway"]["id"],
            pathway_version=data["pathway"]["version"],
            content_hash=data["pathway"]["content_hash"],
            version=len(evs),
            state=evs[-1]["target"] if evs else "intake",
            started_at=data["started_at"],
            last_at=evs[-1]["at"] if evs else data["started_at"],
            previous_episode_id=data["previous_episode_id"],
            created_at=now,
        )
    )


def insert_events(
    conn: Connection,
    episode_id: str,
    version: int,
    payloads: Sequence[dict[str, Any]],
    recorded: Sequence[datetime],
) -> None:
    """Insert event rows after ``version``, each with its payload's digest."""
    rows = []
    for i, (p, at) in enumerate(zip(payloads, recorded, strict=True), 1):
        text = json_text(p)
        rows.append(
            {
                "episode_id": episode_id,
                "seq": version + i,
                "event_id": p["event_id"],
                "payload": text,
                "digest": digest(text),
                "recorded_at": at,
            }
        )
    if rows:
        conn.execute(events.insert(), rows)


def same_header(head: Head, data: dict[str, Any]) -> None:
    mine = (
        data["patient_id"],
        data["pathway"]["content_hash"],
        parse_time(data["started_at"], head.id, None, "started_at"),
    )
    stored = (
        head.patient_id,
        head.content_hash,
        parse_time(head.started_at, head.id, None, "the stored started_at"),
    )
    if mine != stored:
        raise StoreError(
            episode_id=head.id,
            problem="the stored episode has another patient id, pathway content hash or start time",
        )


def append_rows(
    conn: Connection,
    head: Head,
    payloads: Sequence[dict[str, Any]],
    expected_version: int | None,
    clock: Callable[[], datetime],
    recorded: Sequence[datetime] | None = None,
    *,
    stored: Mapping[str, str] | None = None,
) -> int:
    """Append the payloads not stored yet; ``stored`` (event id to payload text) when
    the caller has already read the episode's stored events."""
    episode_id: str = head.id
    version: int = head.version
    if stored is None:
        found: dict[str, str] = {}
        for chunk in chunks(dict.fromkeys(p["event_id"] for p in payloads)):
            found.update(
                (str(eid), str(text))
                for eid, text in conn.execute(
                    sa.select(events.c.event_id, events.c.payload).where(
                        events.c.episode_id == episode_id, events.c.event_id.in_(chunk)
                    )
                )
            )
        stored = found
    new: list[dict[str, Any]] = []
    new_recorded: list[datetime] = []
    seen: set[str] = set()
    for i, p in enumerate(payloads):
        eid = p["event_id"]
        if eid in stored:
            if not same_event(stored[eid], p, episode_id):
                raise ConcurrencyConflict(
                    episode_id=episode_id,
                    expected_version=expected_version,
                    actual_version=version,
                    problem=f"event id {eid!r} is already stored for a different event "
                    "(another writer, or a corrected resend); load the episode and apply "
                    "the change to it",
                )
            if new:
                raise ConcurrencyConflict(
                    episode_id=episode_id,
                    expected_version=expected_version,
                    actual_version=version,
                    problem=f"event {eid!r} is already stored but follows a new event "
                    f"({new[-1]['event_id']!r}); the histories diverge",
                )
            continue
        if eid in seen:
            continue
        seen.add(eid)
        new.append(p)
        if recorded is not None:
            new_recorded.append(recorded[i])
    if not new:
        return version  # a retry of an append already made: nothing to do
    if expected_version is not None and expected_version != version:
        raise ConcurrencyConflict(
            episode_id=episode_id, expected_version=expected_version, actual_version=version
        )
    state: str = head.state
    last_at = parse_time(head.last_at, episode_id, version, "the stored last_at")
    for offset, p in enumerate(new, 1):
        if (
            p["source"] != state
            or parse_time(p["at"], episode_id, version + offset, "event field 'at'") < last_at
        ):
            raise ConcurrencyConflict(
                episode_id=episode_id,
                expected_version=expected_version,
                actual_version=version,
                problem=f"event {p['event_id']!r} does not continue the stored history "
                f"(stored state {state!r}, event from {p['source']!r}, or earlier than "
                "the latest stored event); load the episode and apply the change to it",
            )
        state = p["target"]
        last_at = datetime.fromisoformat(p["at"])
    if recorded is None:
        now = clock()
        new_recorded = [now] * len(new)
    insert_events(conn, episode_id, version, new, new_recorded)
    conn.execute(
        episodes.update()
        .where(episodes.c.id == episode_id)
        .values(
            version=version + len(new),
            state=state,
            last_at=new[-1]["at"],
        )
    )
    return version + len(new)
