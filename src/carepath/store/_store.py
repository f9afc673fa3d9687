"""The episode store: episodes as append-only event logs in SQLite or PostgreSQL."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, Final, final

import attrs
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

from carepath._episode import Episode, EventRecord
from carepath._errors import (
    ConcurrencyConflict,
    CorruptRecord,
    EpisodeLoadError,
    EpisodeNotFound,
    PathwayMismatch,
    StoreError,
)
from carepath._extras import MissingExtra
from carepath._pathway import Pathway

from . import _backup
from ._connect import db_error, sqlite_begin, sqlite_connect
from ._rows import EPISODES, EVENTS, Head, episode_data, parse_time
from ._schema import MIGRATIONS, SCHEMA_VERSION, episodes, events, metadata, schema
from ._writes import (
    HEADER_COLUMNS,
    append_rows,
    insert_episode,
    insert_events,
    same_header,
)
from ._writes import head as read_head

__all__ = ["EpisodeStore", "StoredEpisode"]

_ADVISORY_LOCK: Final = 0x43A2E9A7  # PostgreSQL: serialises schema creation across processes


def _utc_now() -> datetime:
    return datetime.now(UTC)


@final
@attrs.frozen(kw_only=True)
class StoredEpisode:
    """What the store knows about an episode without replaying it (see
    :meth:`EpisodeStore.episodes`).

    Attributes:
        id: The episode id.
        patient_id: The patient id.
        pathway_id: The id of the pathway it was recorded under.
        pathway_version: That pathway's version.
        content_hash: That pathway's content hash (what :meth:`EpisodeStore.load`
            checks).
        version: How many events are stored.
        state: ``"intake"``, the current level's code, or the outcome.
        started_at: When the episode started.
        previous_episode_id: For a readmission, the episode before it.
    """

    id: str
    patient_id: str
    pathway_id: str
    pathway_version: str
    content_hash: str = attrs.field(repr=False)
    version: int
    state: str
    started_at: datetime = attrs.field(repr=False)
    previous_episode_id: str | None = None


@final
class EpisodeStore:
    """Episodes stored as append-only event logs, in SQLite or PostgreSQL.

    Open one with :meth:`open`. Every operation is one transaction: an append
    writes all its events or none; an append built on a stale version raises
    :class:`~carepath.ConcurrencyConflict` and writes nothing; an event whose id is
    already stored is skipped, so retried feeds never double-count; readers see an
    episode before or after an append, never in between. Loading replays the
    events through the pathway (:meth:`Episode.from_dict`), so a stored episode
    that no longer fits its rules is reported, not silently accepted.

    >>> import tempfile, pathlib
    >>> from datetime import datetime, timezone
    >>> from carepath import Assessment, standard_pathway
    >>> from carepath.store import EpisodeStore
    >>> tmp = tempfile.TemporaryDirectory()
    >>> store = EpisodeStore.open(f"sqlite:///{pathlib.Path(tmp.name) / 'care.db'}")
    >>> pathway = standard_pathway()
    >>> t0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> episode = pathway.start("patient-1", at=t0, episode_id="ep-1")
    >>> store.create(episode)
    0
    >>> def admit(ep):
    ...     ep.admit("detox", at=t0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    >>> store.apply("ep-1", pathway, admit).level.code
    'detox'
    >>> store.load("ep-1", pathway).version
    1
    >>> store.close(); tmp.cleanup()
    """

    __slots__ = ("_clock", "_engine", "_rng", "_sqlite")

    _engine: Engine
    _sqlite: bool
    _clock: Callable[[], datetime]
    _rng: random.Random

    def __init__(self) -> None:
        raise TypeError("open a store with EpisodeStore.open(url)")

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | sa.URL,
        *,
        create: bool = True,
        timeout: float = 30.0,
        clock: Callable[[], datetime] | None = None,
    ) -> EpisodeStore:
        """Open the store at ``url``, creating its tables on first use.

        Args:
            url: ``sqlite:///path/to/file.db`` (embedded, no server; WAL mode) or
                ``postgresql+psycopg://user:password@host:port/database`` (extra
                ``postgres``; ``postgresql://`` means the same).
            create: Create the tables when the database has none (else raise).
            timeout: Seconds to wait for a lock (SQLite's busy timeout) or a
                connection (PostgreSQL).
            clock: Returns the time the store records appends at (timezone-aware);
                the wall clock by default. Times of care always come from the events.

        Raises:
            StoreError: an unsupported or malformed URL, an unreachable database, a
                missing driver, or a schema written by a newer carepath.
        """
        try:
            u = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise StoreError(
                problem="not a database URL; use sqlite:///file.db or "
                "postgresql+psycopg://user@host:port/database"
            ) from None
        backend = u.get_backend_name()
        if backend == "sqlite":
            connect_args: dict[str, Any] = {"timeout": timeout}
        elif backend == "postgresql":
            if u.drivername == "postgresql":
                u = u.set(drivername="postgresql+psycopg")
            connect_args = {"connect_timeout": max(1, round(timeout))}
        else:
            raise StoreError(
                problem=f"unsupported database {backend!r}; use "
                "sqlite:///file.db or postgresql+psycopg://..."
            )
        try:
            engine = sa.create_engine(u, hide_parameters=True, connect_args=connect_args)
        except ImportError as exc:
            raise MissingExtra(
                extra="postgres",
                needed_for=f"the episode store on {u.drivername}",
                module=exc.name or "psycopg",
            ) from None
        except sa.exc.SQLAlchemyError as exc:
            raise db_error(exc, "") from exc
        if backend == "sqlite":
            sa_event.listen(engine, "connect", sqlite_connect)
            sa_event.listen(engine, "begin", sqlite_begin)
        self = object.__new__(cls)
        self._engine = engine
        self._sqlite = backend == "sqlite"
        self._clock = clock if clock is not None else _utc_now
        self._rng = random.Random()  # retry jitter only; never the global random state
        try:
            self._setup(create)
        except BaseException:
            engine.dispose()
            raise
        return self

    def _setup(self, create: bool) -> None:
        with self._write("") as conn:
            if not self._sqlite:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK)))
            if not sa.inspect(conn).has_table(schema.name):
                if not create:
                    raise StoreError(
                        problem="the database holds no carepath store; open it "
                        "with create=True or run 'carepath store init URL'"
                    )
                metadata.create_all(conn)
                conn.execute(schema.insert().values(id=1, version=SCHEMA_VERSION))
                return
            version = conn.execute(sa.select(schema.c.version)).scalar()
            if not isinstance(version, int):
                raise CorruptRecord(problem="the carepath_schema table holds no version")
            if version > SCHEMA_VERSION:
                raise StoreError(
                    problem=f"the store has schema version {version}, written by a "
                    f"newer carepath; this one reads up to {SCHEMA_VERSION}"
                )
            while version < SCHEMA_VERSION:
                if version not in MIGRATIONS:
                    raise StoreError(
                        problem=f"the store has schema version {version}, from "
                        "which this carepath has no migration"
                    )
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(schema.update().values(version=version))

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for your own queries and tests; not needed otherwise)."""
        return self._engine

    @property
    def url(self) -> str:
        """The database URL, with any password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def schema_version(self) -> int:
        """The schema version of the tables (:data:`carepath.store.SCHEMA_VERSION`)."""
        with self._read("") as conn:
            value = conn.execute(sa.select(schema.c.version)).scalar()
        return int(value or 0)

    def close(self) -> None:
        """Close the store's connections."""
        self._engine.dispose()

    def __enter__(self) -> EpisodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EpisodeStore {self.url!r}>"

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _write(self, episode_id: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(carepath_write=True)
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise db_error(exc, episode_id) from exc

    @contextmanager
    def _read(self, episode_id: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                if not self._sqlite:  # one snapshot for every statement of the read
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise db_error(exc, episode_id) from exc

    # -- writing --------------------------------------------------------------------------------

    def create(self, episode: Episode) -> int:
        """Store a new episode with its history; returns its version.

        Raises:
            StoreError: an episode with this id is already stored (use :meth:`append`,
                :meth:`apply` or :meth:`save`).
        """
        if not isinstance(episode, Episode):
            raise StoreError(problem=f"expected an Episode, got {type(episode).__name__}")
        data = episode.to_dict()
        now = self._now()
        with self._write(episode.id) as conn:
            if read_head(conn, episode.id, lock=True) is not None:
                raise StoreError(
                    episode_id=episode.id,
                    problem="already in the store; use append, apply or save to add events",
                )
            insert_episode(conn, data, now)
            insert_events(conn, episode.id, 0, data["events"], [now] * episode.version)
        return episode.version

    def save(self, episode: Episode) -> int:
        """Create the episode, or append the events of its history the store lacks.

        The store's events must be a prefix of the episode's history (matched by
        event id): use this to store an episode rebuilt from a whole feed each time.
        Returns the stored version.

        Raises:
            StoreError: the stored episode belongs to another patient, pathway or start.
            ConcurrencyConflict: the stored events are not the start of the episode's
                history, or an event reuses a stored id for a different event.
        """
        if not isinstance(episode, Episode):
            raise StoreError(problem=f"expected an Episode, got {type(episode).__name__}")
        data = episode.to_dict()
        now = self._now()
        with self._write(episode.id) as conn:
            head = read_head(conn, episode.id, lock=True)
            if head is None:
                insert_episode(conn, data, now)
                insert_events(conn, episode.id, 0, data["events"], [now] * episode.version)
                return episode.version
            same_header(head, data)
            stored = {
                str(eid): str(text)
                for eid, text in conn.execute(
                    sa.select(events.c.event_id, events.c.payload)
                    .where(events.c.episode_id == episode.id)
                    .order_by(events.c.seq)
                )
            }
            mine = [r["event_id"] for r in data["events"][: len(stored)]]
            if mine != list(stored):
                raise ConcurrencyConflict(
                    episode_id=episode.id,
                    expected_version=None,
                    actual_version=head.version,
                    problem="the stored events are not the start of the episode's history "
                    "(a move was cancelled or replaced after it was stored; the store is "
                    "append-only)",
                )
            return append_rows(conn, head, data["events"], None, lambda: now, stored=stored)

    def append(
        self,
        episode_id: str,
        events: Iterable[EventRecord],
        *,
        expected_version: int | None = None,
    ) -> int:
        """Append events (from an episode's :attr:`~Episode.history`); returns the new version.

        All of them are written or none. Events whose id is already stored are
        skipped when they repeat the stored event (a different event under a stored id
        is a conflict); when every event is already stored the call changes nothing.

        Args:
            episode_id: The stored episode.
            events: The new records, oldest first.
            expected_version: The version the events were built on; ``None`` to
                append to whatever is stored (the events must still continue it).

        Raises:
            ConcurrencyConflict: ``expected_version`` is stale, an event reuses a
                stored event's id for a different event, or the events do not continue
                the stored history. Nothing is written.
            EpisodeNotFound: no such episode.
        """
        payloads: list[dict[str, Any]] = []
        for r in events:
            if not isinstance(r, EventRecord):
                raise StoreError(
                    episode_id=episode_id, problem=f"expected EventRecords, got {type(r).__name__}"
                )
            payloads.append(r.to_dict())
        if expected_version is not None and (
            isinstance(expected_version, bool) or not isinstance(expected_version, int)
        ):
            raise StoreError(episode_id=episode_id, problem="expected_version must be an int")
        with self._write(episode_id) as conn:
            head = read_head(conn, episode_id, lock=True)
            if head is None:
                raise EpisodeNotFound(episode_id=episode_id)
            return append_rows(conn, head, payloads, expected_version, self._now)

    def apply(
        self,
        episode_id: str,
        pathway: Pathway,
        fn: Callable[[Episode], object],
        *,
        retries: int = 20,
    ) -> Episode:
        """Load the episode, run ``fn(episode)``, and append the events it added.

        When another writer got there first, the episode is loaded again and ``fn``
        runs again (up to ``retries`` more times, with a short random pause), so
        ``fn`` must only act on the episode it is given; give its events ids
        (``event_id=``) so that a change already stored is a no-op the next time.
        Returns the episode as stored. Exceptions from ``fn`` propagate and nothing
        is written.

        Raises:
            ConcurrencyConflict: still conflicting after ``retries`` retries.
        """
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise StoreError(
                episode_id=episode_id,
                problem=f"retries must be a whole number >= 0, got {retries!r}",
            )
        conflict: ConcurrencyConflict | None = None
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(self._rng.uniform(0.0, min(0.05, 0.002 * 2**attempt)))
            episode = self.load(episode_id, pathway)
            before = episode.version
            fn(episode)
            if episode.version == before:
                return episode
            try:
                self.append(episode_id, episode.history[before:], expected_version=before)
            except ConcurrencyConflict as exc:
                conflict = exc
                continue
            return episode
        assert conflict is not None
        raise ConcurrencyConflict(
            episode_id=episode_id,
            expected_version=conflict.expected_version,
            actual_version=conflict.actual_version,
            problem=f"other writers kept changing the episode; gave up after {retries} retries",
        )

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise StoreError(problem="the store's clock must return timezone-aware datetimes")
        return now

    # -- reading --------------------------------------------------------------------------------

    def load(self, episode_id: str, pathway: Pathway) -> Episode:
        """The episode, rebuilt by replaying its stored events through ``pathway``.

        Raises:
            EpisodeNotFound: no such episode.
            PathwayMismatch: it was recorded under a pathway with another content hash.
            CorruptRecord: a row cannot be read, or an event does not replay (names
                the sequence number).
        """
        data = self.data(episode_id)
        try:
            return Episode.from_dict(data, pathway)
        except PathwayMismatch:
            raise
        except EpisodeLoadError as exc:
            seq = exc.event_index + 1 if exc.event_index is not None else None
            where = exc.event_field if exc.event_index is not None else exc.location
            raise CorruptRecord(
                table=EVENTS if seq is not None else EPISODES,
                episode_id=episode_id,
                seq=seq,
                problem=f"{where}: {exc.problem}" if where else exc.problem,
            ) from exc

    def data(self, episode_id: str) -> dict[str, Any]:
        """The stored episode as :meth:`Episode.to_dict` data, without replaying it.

        Every row is parsed and checked on its own (JSON within
        ``carepath.store._rows.ROW_MAX_DEPTH`` levels, the shape of an event, the
        row's event id, the digest written with it).

        Raises:
            EpisodeNotFound: no such episode.
            CorruptRecord: a row cannot be read (names the table, the episode and the
                sequence number).
        """
        with self._read(episode_id) as conn:
            head = read_head(conn, episode_id, lock=False)
            if head is None:
                raise EpisodeNotFound(episode_id=episode_id)
            rows = [
                (int(seq), eid, text, dig)
                for seq, eid, text, dig in conn.execute(
                    sa.select(events.c.seq, events.c.event_id, events.c.payload, events.c.digest)
                    .where(events.c.episode_id == episode_id)
                    .order_by(events.c.seq)
                )
            ]
        return episode_data(head, rows)

    def version(self, episode_id: str) -> int:
        """The stored episode's version (its number of events)."""
        with self._read(episode_id) as conn:
            value = conn.execute(
                sa.select(episodes.c.version).where(episodes.c.id == episode_id)
            ).scalar()
        if value is None:
            raise EpisodeNotFound(episode_id=episode_id)
        return int(value)

    def episodes(self, *, patient_id: str | None = None) -> list[StoredEpisode]:
        """The stored episodes (of one patient, if given), oldest start first."""
        query = sa.select(*HEADER_COLUMNS)
        if patient_id is not None:
            query = query.where(episodes.c.patient_id == patient_id)
        with self._read("") as conn:
            heads = [Head._make(row) for row in conn.execute(query)]
        out = [
            StoredEpisode(
                id=h.id,
                patient_id=h.patient_id,
                pathway_id=h.pathway_id,
                pathway_version=h.pathway_version,
                content_hash=h.content_hash,
                version=h.version,
                state=h.state,
                started_at=parse_time(h.started_at, h.id, None, "started_at"),
                previous_episode_id=h.previous_episode_id,
            )
            for h in heads
        ]
        out.sort(key=lambda e: (e.started_at, e.id))
        return out

    # -- backup and checking (carepath.store._backup) ------------------------------------------

    def export(self, out: IO[str], *, patient_id: str | None = None) -> int:
        """Write every episode (of one patient, if given) as JSON lines; returns how many.

        Each line is an episode's :meth:`Episode.to_dict` data whose events also
        carry ``"recorded_at"`` (when the store recorded them), so a line loads with
        :meth:`Episode.from_dict` and :meth:`import_episodes` restores it exactly.
        The whole export reads one consistent snapshot.
        """
        return _backup.export(self, out, patient_id=patient_id)

    def import_episodes(self, lines: Iterable[str]) -> int:
        """Restore episodes from :meth:`export` lines, or lines of
        :meth:`Episode.to_dict` data (events without ``"recorded_at"`` are recorded
        now); returns how many episodes were read.

        Each line is strict JSON (duplicate keys and nesting deeper than 16 levels are
        refused). Episodes not in the store are created; for stored ones the events they lack
        are appended (events already stored are skipped), so importing twice is
        harmless. Each line is its own transaction. Every event must continue the one
        before it (its source is the previous target, from ``"intake"``; its time is
        not earlier), as in :meth:`append`; that the levels are the pathway's is
        checked when the episode is loaded.

        Raises:
            CorruptRecord: a line that is not an episode (names the line and, for an
                event, its position).
            StoreError: a line that contradicts a stored episode, or whose events do
                not follow one another (:class:`ConcurrencyConflict`).
        """
        return _backup.import_episodes(self, lines)

    def check(self, pathways: Iterable[Pathway] = ()) -> list[str]:
        """Check the store's integrity; returns the problems found (empty when sound).

        Checks the database file (SQLite's ``integrity_check``), the schema version,
        and every episode: each event row on its own (strict JSON, nested at most 16
        deep, the shape of an event, its event id, the digest written with it; every
        damaged row is reported), sequence numbers 1..version without gaps, and, for
        episodes recorded under one of ``pathways``, that the events replay. Messages
        name the table, the episode and the sequence number, never row contents.
        Damage is reported, never raised.
        """
        return _backup.check(self, pathways)
