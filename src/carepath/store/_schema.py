"""The store's tables, its schema version, and the migrations between versions.

Three tables, all prefixed ``carepath_`` so they can share a database:

- ``carepath_schema``: one row, the schema version the tables follow.
- ``carepath_episodes``: one row per episode: ids, the pathway's id, version and
  content hash, the episode's version (number of events), its current state and
  the time of its latest event (for cheap checks on append), the start time, and
  the previous episode of a readmission.
- ``carepath_events``: one row per event: the episode, the sequence number
  (1, 2, ... = the episode's version after it), the event id (unique per episode),
  the event as JSON text (an item of :meth:`Episode.to_dict`'s ``"events"``), the
  SHA-256 digest of that text (checked on every read, so a row changed outside
  carepath is reported), and when the store recorded it.

Times of care (``started_at``, ``last_at`` and the events' ``at``) are ISO 8601
text with their UTC offset, exactly as the episode JSON has them; ``created_at``
and ``recorded_at`` are the store's own clock, as timezone-aware timestamps.

Migrations: ``MIGRATIONS[n]`` upgrades a schema at version ``n`` to ``n + 1``
inside the same transaction that updates ``carepath_schema``; opening a store
runs every step from the stored version up to :data:`SCHEMA_VERSION`. A store
written by a newer carepath is refused, never downgraded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from carepath._errors import CorruptRecord

from ._rows import digest, read_event

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "UTCDateTime",
    "episodes",
    "events",
    "metadata",
    "schema",
]

SCHEMA_VERSION: Final = 2
"""The schema version this carepath writes (2: event rows carry a digest)."""


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC on every backend, read back aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite has no time zones: store the UTC wall time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata: Final = sa.MetaData()

schema: Final = sa.Table(
    "carepath_schema",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)

episodes: Final = sa.Table(
    "carepath_episodes",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("patient_id", sa.String, nullable=False, index=True),
    sa.Column("pathway_id", sa.String, nullable=False),
    sa.Column("pathway_version", sa.String, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("started_at", sa.String, nullable=False),
    sa.Column("last_at", sa.String, nullable=False),
    sa.Column("previous_episode_id", sa.String, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("version >= 0", name="carepath_episodes_version_check"),
)

events: Final = sa.Table(
    "carepath_events",
    metadata,
    sa.Column("episode_id", sa.String, sa.ForeignKey("carepath_episodes.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("episode_id", "event_id", name="carepath_events_event_id_key"),
    sa.CheckConstraint("seq >= 1", name="carepath_events_seq_check"),
)


def _add_digests(conn: Connection) -> None:
    """1 -> 2: add ``carepath_events.digest`` and fill it for the stored rows that are
    valid events (a row that is not keeps no digest, so every read checks it fully)."""
    conn.execute(sa.text("ALTER TABLE carepath_events ADD COLUMN digest VARCHAR(64)"))
    query = sa.select(events.c.episode_id, events.c.seq, events.c.event_id, events.c.payload)
    updates = []
    for episode_id, seq, event_id, text in conn.execute(query).all():
        try:
            read_event(text, None, episode_id=episode_id, seq=seq, event_id=event_id)
        except CorruptRecord:
            continue
        updates.append({"e": episode_id, "s": seq, "d": digest(text)})
    if updates:
        conn.execute(
            events.update()
            .where(events.c.episode_id == sa.bindparam("e"), events.c.seq == sa.bindparam("s"))
            .values(digest=sa.bindparam("d")),
            updates,
        )


MIGRATIONS: Final[Mapping[int, Callable[[Connection], None]]] = MappingProxyType({1: _add_digests})
"""``MIGRATIONS[n](connection)`` upgrades schema version ``n`` to ``n + 1``."""
