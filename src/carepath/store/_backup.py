"""Export, import and integrity check of an episode store (methods of EpisodeStore)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa

from carepath._errors import CarepathError, CorruptRecord, EpisodeNotFound
from carepath._pathway import Pathway

from ._rows import (
    EPISODES,
    EVENTS,
    Head,
    episode_data,
    import_line,
    json_text,
    parse_time,
    read_event,
    shown_id,
)
from ._schema import SCHEMA_VERSION, episodes, events, schema
from ._writes import HEADER_COLUMNS, append_rows, head, insert_episode, same_header

if TYPE_CHECKING:
    from ._store import EpisodeStore

__all__ = ["check", "export", "import_episodes"]


def export(store: EpisodeStore, out: IO[str], *, patient_id: str | None) -> int:
    """See :meth:`EpisodeStore.export`."""
    heads_q = sa.select(*HEADER_COLUMNS).order_by(episodes.c.id)
    events_q = sa.select(
        events.c.episode_id,
        events.c.seq,
        events.c.event_id,
        events.c.payload,
        events.c.digest,
        events.c.recorded_at,
    ).order_by(events.c.episode_id, events.c.seq)
    if patient_id is not None:
        heads_q = heads_q.where(episodes.c.patient_id == patient_id)
        events_q = events_q.join(episodes, episodes.c.id == events.c.episode_id).where(
            episodes.c.patient_id == patient_id
        )
    count = 0
    with store._read("") as conn:
        heads = [Head._make(row) for row in conn.execute(heads_q)]
        stream = iter(conn.execution_options(yield_per=1000).execute(events_q))
        pending = next(stream, None)
        for h in heads:
            rows: list[tuple[int, Any, Any, Any]] = []
            recorded: list[str] = []
            while pending is not None and pending[0] == h.id:
                rows.append((pending[1], pending[2], pending[3], pending[4]))
                recorded.append(pending[5].isoformat())
                pending = next(stream, None)
            data = episode_data(h, rows)
            for payload, at in zip(data["events"], recorded, strict=True):
                payload["recorded_at"] = at
            out.write(json_text(data) + "\n")
            count += 1
        if pending is not None:
            raise CorruptRecord(
                table=EVENTS,
                episode_id=shown_id(pending[0]),
                seq=pending[1],
                problem="an event row belongs to no stored episode",
            )
    return count


def import_episodes(store: EpisodeStore, lines: Iterable[str]) -> int:
    """See :meth:`EpisodeStore.import_episodes`."""
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        data, recorded = import_line(line, number)
        now = store._now()
        stamps: list[datetime] = [now if at is None else at for at in recorded]
        episode_id: str = data["id"]
        with store._write(shown_id(episode_id)) as conn:
            h = head(conn, episode_id, lock=True)
            if h is None:
                # The header first, with no events; the events then go through the
                # same checks as an append (each continues the last, in time order).
                insert_episode(conn, {**data, "events": []}, min(stamps, default=now))
                h = head(conn, episode_id, lock=True)
                if h is None:  # pragma: no cover - inserted just above
                    raise EpisodeNotFound(episode_id=shown_id(episode_id))
            else:
                same_header(h, data)
            append_rows(conn, h, data["events"], None, store._now, stamps)
        count += 1
    return count


def check(store: EpisodeStore, pathways: Iterable[Pathway]) -> list[str]:
    """See :meth:`EpisodeStore.check`: every row is read on its own and every damaged
    row is reported; nothing is raised for damage."""
    by_hash = {p.content_hash: p for p in pathways}
    problems: list[str] = []
    with store._read("") as conn:
        if store._sqlite:
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if result != ["ok"]:
                problems.extend(f"sqlite integrity_check: {r}" for r in result)
        version = conn.execute(sa.select(schema.c.version)).scalar()
        if version != SCHEMA_VERSION:
            problems.append(f"schema version {version!r}, expected {SCHEMA_VERSION}")
        orphans = (
            conn.execute(
                sa.select(events.c.episode_id)
                .distinct()
                .where(~events.c.episode_id.in_(sa.select(episodes.c.id)))
            )
            .scalars()
            .all()
        )
        heads = [Head._make(row) for row in conn.execute(sa.select(*HEADER_COLUMNS))]
    problems.extend(
        f"{EVENTS}: events stored for an unknown episode {shown_id(e)!r}" for e in orphans
    )
    for h in sorted(heads, key=lambda x: str(x.id)):
        problems.extend(_check_episode(store, h, by_hash))
    return problems


def _check_episode(store: EpisodeStore, h: Head, by_hash: dict[str, Pathway]) -> list[str]:
    found: list[str] = []
    try:
        parse_time(h.started_at, h.id, None, "started_at", table=EPISODES)
        parse_time(h.last_at, h.id, None, "last_at", table=EPISODES)
    except CorruptRecord as exc:
        found.append(str(exc))
    with store._read(shown_id(h.id)) as conn:
        rows = conn.execute(
            sa.select(events.c.seq, events.c.event_id, events.c.payload, events.c.digest)
            .where(events.c.episode_id == h.id)
            .order_by(events.c.seq)
        ).all()
    ids: set[object] = set()
    bad_rows = 0
    for seq, eid, text, dig in rows:
        try:
            read_event(text, dig, episode_id=h.id, seq=seq, event_id=eid, strict=True)
        except CorruptRecord as exc:
            found.append(str(exc))
            bad_rows += 1
        if eid in ids:
            twice = CorruptRecord(
                table=EVENTS,
                episode_id=shown_id(h.id),
                seq=seq,
                problem="the event id appears twice",
            )
            found.append(str(twice))
        ids.add(eid)
    if bad_rows:
        return found
    # Every row reads on its own: now the episode as a whole (sequence numbers, the
    # version, and the replay through its pathway when it is given).
    try:
        pathway = by_hash.get(h.content_hash)
        if pathway is not None:
            store.load(h.id, pathway)
        else:
            store.data(h.id)
    except CarepathError as exc:
        found.append(str(exc))
    return found
