"""The episode store: episodes as append-only event logs in SQLite or PostgreSQL."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, Final, NamedTuple, final

import attrs
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

from carepath._episode import FORMAT, FORMAT_VERSION, Episode, EventRecord
from carepath._errors import (
    CarepathError,
    ConcurrencyConflict,
    CorruptRecord,
    EpisodeLoadError,
    EpisodeNotFound,
    PathwayMismatch,
    StoreError,
)
from carepath._extras import MissingExtra
from carepath._pathway import Pathway

from ._schema import MIGRATIONS, SCHEMA_VERSION, episodes, events, metadata, schema

__all__ = ["EpisodeStore", "StoredEpisode"]

_ADVISORY_LOCK: Final = 0x43A2E9A7  # PostgreSQL: serialises schema creation across processes
_EVENT_INDEX: Final = re.compile(r"^events\[(\d+)\]")
_HEADER_COLUMNS: Final = (
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


class _Head(NamedTuple):
    """An episodes row (the columns of ``_HEADER_COLUMNS``, in order)."""

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


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event (below) emit BEGIN itself: pysqlite's own
    # transaction handling would start write transactions lazily and late.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")  # a committed append survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock up front (waiting up to the busy timeout), so two
    # writers never both read a version and then race to upgrade their locks.
    write = conn.get_execution_options().get("carepath_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _db_error(exc: sa.exc.SQLAlchemyError, episode_id: str) -> StoreError:
    """A driver error as a StoreError: its class and first line, never row contents."""
    orig = getattr(exc, "orig", None)
    source: BaseException = orig if isinstance(orig, BaseException) else exc
    lines = str(source).strip().splitlines()
    first = lines[0] if lines else ""
    if not isinstance(orig, BaseException):
        first = first.split(" [SQL:")[0]
    return StoreError(
        episode_id=episode_id, problem=f"database error ({type(source).__name__}): {first}"
    )


def _json_text(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in some text: keep it, escaped
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text


def _parse_time(text: object, episode_id: str, seq: int | None, what: str) -> datetime:
    if isinstance(text, str):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if value.tzinfo is not None and value.utcoffset() is not None:
                return value
    raise CorruptRecord(
        episode_id=episode_id,
        seq=seq,
        problem=f"{what} is not an ISO 8601 date-time with a UTC offset",
    )


_SAME_EVENT_FIELDS: Final = ("event", "source", "target", "assessment")


def _same_event(stored: str, new: dict[str, Any], episode_id: str) -> bool:
    """Whether a new event with a stored event's id repeats it: the same event, levels,
    assessment and instant (notes and overrides of a retry are not compared, as
    :class:`~carepath.Episode` does not compare them either)."""
    if stored == _json_text(new):  # the usual retry: the same text, nothing to parse
        return True
    try:
        old = json.loads(stored)
    except ValueError:
        raise CorruptRecord(
            episode_id=episode_id,
            seq=None,
            problem=f"the stored event {new['event_id']!r} is not JSON",
        ) from None
    if not isinstance(old, dict):
        return False
    return all(old.get(k) == new.get(k) for k in _SAME_EVENT_FIELDS) and _parse_time(
        old.get("at"), episode_id, None, "a stored event's 'at'"
    ) == _parse_time(new.get("at"), episode_id, None, "event field 'at'")


def _payload_fields(p: object, episode_id: str, seq: int | None) -> dict[str, Any]:
    """Check the fields the store itself relies on; the full check is the replay."""
    if not isinstance(p, dict):
        raise CorruptRecord(
            episode_id=episode_id,
            seq=seq,
            problem=f"an event must be a JSON object, got {type(p).__name__}",
        )
    for key in ("event_id", "event", "source", "target", "at"):
        if not isinstance(p.get(key), str) or not p[key]:
            raise CorruptRecord(
                episode_id=episode_id,
                seq=seq,
                problem=f"event field {key!r} is missing or not a string",
            )
    _parse_time(p["at"], episode_id, seq, "event field 'at'")
    return p


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
            raise _db_error(exc, "") from exc
        if backend == "sqlite":
            sa_event.listen(engine, "connect", _sqlite_connect)
            sa_event.listen(engine, "begin", _sqlite_begin)
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
            raise _db_error(exc, episode_id) from exc

    @contextmanager
    def _read(self, episode_id: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                if not self._sqlite:  # one snapshot for every statement of the read
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise _db_error(exc, episode_id) from exc

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
            if self._head(conn, episode.id, lock=True) is not None:
                raise StoreError(
                    episode_id=episode.id,
                    problem="already in the store; use append, apply or save to add events",
                )
            self._insert_episode(conn, data, now)
            self._insert_events(conn, episode.id, 0, data["events"], [now] * episode.version)
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
            head = self._head(conn, episode.id, lock=True)
            if head is None:
                self._insert_episode(conn, data, now)
                self._insert_events(conn, episode.id, 0, data["events"], [now] * episode.version)
                return episode.version
            self._same_header(head, data)
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
            return self._append_rows(conn, head, data["events"], None, lambda: now, stored=stored)

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
            head = self._head(conn, episode_id, lock=True)
            if head is None:
                raise EpisodeNotFound(episode_id=episode_id)
            return self._append_rows(conn, head, payloads, expected_version, self._now)

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

    def _head(self, conn: Connection, episode_id: str, *, lock: bool) -> _Head | None:
        query = sa.select(*_HEADER_COLUMNS).where(episodes.c.id == episode_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL; SQLite holds the write lock already
        row = conn.execute(query).first()
        return None if row is None else _Head._make(row)

    def _insert_episode(self, conn: Connection, data: dict[str, Any], now: datetime) -> None:
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

    def _insert_events(
        self,
        conn: Connection,
        episode_id: str,
        version: int,
        payloads: Sequence[dict[str, Any]],
        recorded: Sequence[datetime],
    ) -> None:
        if payloads:
            conn.execute(
                events.insert(),
                [
                    {
                        "episode_id": episode_id,
                        "seq": version + i,
                        "event_id": p["event_id"],
                        "payload": _json_text(p),
                        "recorded_at": at,
                    }
                    for i, (p, at) in enumerate(zip(payloads, recorded, strict=True), 1)
                ],
            )

    @staticmethod
    def _same_header(head: _Head, data: dict[str, Any]) -> None:
        mine = (
            data["patient_id"],
            data["pathway"]["content_hash"],
            _parse_time(data["started_at"], head.id, None, "started_at"),
        )
        stored = (
            head.patient_id,
            head.content_hash,
            _parse_time(head.started_at, head.id, None, "the stored started_at"),
        )
        if mine != stored:
            raise StoreError(
                episode_id=head.id,
                problem="the stored episode has another "
                "patient id, pathway content hash or start time",
            )

    def _append_rows(
        self,
        conn: Connection,
        head: _Head,
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
            ids = list(dict.fromkeys(p["event_id"] for p in payloads))
            found: dict[str, str] = {}
            for start in range(0, len(ids), 500):  # bounded IN lists
                chunk = ids[start : start + 500]
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
                if not _same_event(stored[eid], p, episode_id):
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
        last_at = _parse_time(head.last_at, episode_id, version, "the stored last_at")
        for offset, p in enumerate(new, 1):
            if (
                p["source"] != state
                or _parse_time(p["at"], episode_id, version + offset, "event field 'at'") < last_at
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
        self._insert_events(conn, episode_id, version, new, new_recorded)
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
            m = _EVENT_INDEX.match(exc.location)
            seq = int(m.group(1)) + 1 if m else None
            where = exc.location[m.end() :].lstrip(".") if m else exc.location
            raise CorruptRecord(
                episode_id=episode_id,
                seq=seq,
                problem=f"{where}: {exc.problem}" if where else exc.problem,
            ) from exc

    def data(self, episode_id: str) -> dict[str, Any]:
        """The stored episode as :meth:`Episode.to_dict` data, without replaying it.

        Raises:
            EpisodeNotFound: no such episode.
            CorruptRecord: a row cannot be read (names the sequence number).
        """
        with self._read(episode_id) as conn:
            head = self._head(conn, episode_id, lock=False)
            if head is None:
                raise EpisodeNotFound(episode_id=episode_id)
            result = conn.execute(
                sa.select(events.c.seq, events.c.event_id, events.c.payload)
                .where(events.c.episode_id == episode_id)
                .order_by(events.c.seq)
            )
            rows = [(int(seq), str(eid), str(text)) for seq, eid, text in result]
        return self._episode_data(head, rows)

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
        query = sa.select(*_HEADER_COLUMNS)
        if patient_id is not None:
            query = query.where(episodes.c.patient_id == patient_id)
        with self._read("") as conn:
            heads = [_Head._make(row) for row in conn.execute(query)]
        out = [
            StoredEpisode(
                id=h.id,
                patient_id=h.patient_id,
                pathway_id=h.pathway_id,
                pathway_version=h.pathway_version,
                content_hash=h.content_hash,
                version=h.version,
                state=h.state,
                started_at=_parse_time(h.started_at, h.id, None, "started_at"),
                previous_episode_id=h.previous_episode_id,
            )
            for h in heads
        ]
        out.sort(key=lambda e: (e.started_at, e.id))
        return out

    @staticmethod
    def _episode_data(head: _Head, rows: Sequence[tuple[int, str, str]]) -> dict[str, Any]:
        episode_id = head.id
        for expected, (seq, _, _) in enumerate(rows, 1):
            if seq != expected:
                raise CorruptRecord(
                    episode_id=episode_id,
                    seq=seq,
                    problem=f"sequence number out of range: expected {expected} (events are "
                    f"numbered 1 to the episode's version, {head.version}, without gaps)",
                )
        if len(rows) != head.version:
            raise CorruptRecord(
                episode_id=episode_id,
                seq=len(rows) + 1 if len(rows) < head.version else None,
                problem=f"the episode's version is {head.version} but {len(rows)} events "
                "are stored",
            )
        try:  # one parse for the whole history: much faster than one per row
            payloads = json.loads("[" + ",".join(text for _, _, text in rows) + "]")
            if len(payloads) != len(rows):
                raise ValueError("a payload holds more than one value")
        except (TypeError, ValueError):
            payloads = []
            for seq, _, text in rows:  # find the row to blame
                try:
                    payloads.append(json.loads(text))
                except (TypeError, ValueError):
                    raise CorruptRecord(
                        episode_id=episode_id,
                        seq=seq,
                        problem="the event's payload is not valid JSON",
                    ) from None
        for (seq, event_id, _), payload in zip(rows, payloads, strict=True):
            if not isinstance(payload, dict):
                raise CorruptRecord(
                    episode_id=episode_id,
                    seq=seq,
                    problem="the event's "
                    f"payload must be a JSON object, not {type(payload).__name__}",
                )
            if payload.get("event_id") != event_id:
                raise CorruptRecord(
                    episode_id=episode_id,
                    seq=seq,
                    problem="the payload's event id differs from the row's",
                )
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

    # -- backup ---------------------------------------------------------------------------------

    def export(self, out: IO[str], *, patient_id: str | None = None) -> int:
        """Write every episode (of one patient, if given) as JSON lines; returns how many.

        Each line is an episode's :meth:`Episode.to_dict` data whose events also
        carry ``"recorded_at"`` (when the store recorded them), so a line loads with
        :meth:`Episode.from_dict` and :meth:`import_episodes` restores it exactly.
        The whole export reads one consistent snapshot.
        """
        heads_q = sa.select(*_HEADER_COLUMNS).order_by(episodes.c.id)
        events_q = sa.select(
            events.c.episode_id,
            events.c.seq,
            events.c.event_id,
            events.c.payload,
            events.c.recorded_at,
        ).order_by(events.c.episode_id, events.c.seq)
        if patient_id is not None:
            heads_q = heads_q.where(episodes.c.patient_id == patient_id)
            events_q = events_q.join(episodes, episodes.c.id == events.c.episode_id).where(
                episodes.c.patient_id == patient_id
            )
        count = 0
        with self._read("") as conn:
            heads = [_Head._make(row) for row in conn.execute(heads_q)]
            stream = iter(conn.execution_options(yield_per=1000).execute(events_q))
            pending = next(stream, None)
            for head in heads:
                rows: list[tuple[int, str, str]] = []
                recorded: list[str] = []
                while pending is not None and pending[0] == head.id:
                    rows.append((pending[1], pending[2], pending[3]))
                    recorded.append(pending[4].isoformat())
                    pending = next(stream, None)
                data = self._episode_data(head, rows)
                for payload, at in zip(data["events"], recorded, strict=True):
                    payload["recorded_at"] = at
                out.write(_json_text(data) + "\n")
                count += 1
            if pending is not None:
                raise CorruptRecord(
                    episode_id=pending[0],
                    seq=pending[1],
                    problem="an event row belongs to no stored episode",
                )
        return count

    def import_episodes(self, lines: Iterable[str]) -> int:
        """Restore episodes from :meth:`export` lines; returns how many lines were read.

        Episodes not in the store are created; for stored ones the events they lack
        are appended (events already stored are skipped), so importing twice is
        harmless. Each line is its own transaction. Every event must continue the one
        before it (its source is the previous target, from ``"intake"``; its time is
        not earlier), as in :meth:`append`; that the levels are the pathway's is
        checked when the episode is loaded.

        Raises:
            CorruptRecord: a line that is not an exported episode (names the line).
            StoreError: a line that contradicts a stored episode, or whose events do
                not follow one another (:class:`ConcurrencyConflict`).
        """
        count = 0
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            data, recorded = self._import_line(line, number)
            episode_id: str = data["id"]
            with self._write(episode_id) as conn:
                head = self._head(conn, episode_id, lock=True)
                if head is None:
                    # The header first, with no events; the events then go through the
                    # same checks as an append (each continues the last, in time order).
                    self._insert_episode(
                        conn, {**data, "events": []}, min(recorded, default=self._now())
                    )
                    head = self._head(conn, episode_id, lock=True)
                    if head is None:  # pragma: no cover - inserted just above
                        raise EpisodeNotFound(episode_id=episode_id)
                else:
                    self._same_header(head, data)
                self._append_rows(conn, head, data["events"], None, self._now, recorded)
            count += 1
        return count

    def _import_line(self, line: str, number: int) -> tuple[dict[str, Any], list[datetime]]:
        where = f"line {number}"
        try:
            data = json.loads(line)
        except ValueError:
            raise CorruptRecord(problem=f"{where}: not valid JSON") from None
        ok = (
            isinstance(data, dict)
            and data.get("format") == FORMAT
            and data.get("format_version") == FORMAT_VERSION
            and all(isinstance(data.get(k), str) for k in ("id", "patient_id", "started_at"))
            and isinstance(data.get("pathway"), dict)
            and all(
                isinstance(data["pathway"].get(k), str) for k in ("id", "version", "content_hash")
            )
            and (
                data.get("previous_episode_id") is None
                or isinstance(data["previous_episode_id"], str)
            )
            and isinstance(data.get("events"), list)
        )
        if not ok:
            raise CorruptRecord(
                problem=f"{where}: not a carepath episode export "
                f"(format {FORMAT!r} version {FORMAT_VERSION})"
            )
        episode_id: str = data["id"]
        _parse_time(data["started_at"], episode_id, None, f"{where}: started_at")
        recorded: list[datetime] = []
        for seq, p in enumerate(data["events"], 1):
            _payload_fields(p, episode_id, seq)
            recorded.append(
                _parse_time(p.pop("recorded_at", None), episode_id, seq, f"{where}: recorded_at")
            )
        return data, recorded

    # -- checking -------------------------------------------------------------------------------

    def check(self, pathways: Iterable[Pathway] = ()) -> list[str]:
        """Check the store's integrity; returns the problems found (empty when sound).

        Checks the database file (SQLite's ``integrity_check``), the schema version,
        and every episode: sequence numbers 1..version without gaps, unique event
        ids, readable payloads, and, for episodes recorded under one of
        ``pathways``, that the events replay. Messages name episodes and sequence
        numbers, never row contents.
        """
        by_hash = {p.content_hash: p for p in pathways}
        problems: list[str] = []
        with self._read("") as conn:
            if self._sqlite:
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
        problems.extend(f"events stored for unknown episode {e!r}" for e in orphans)
        for stored in self.episodes():
            try:
                data = self.data(stored.id)
                pathway = by_hash.get(stored.content_hash)
                if pathway is not None:
                    self.load(stored.id, pathway)
                elif len({p["event_id"] for p in data["events"]}) != stored.version:
                    problems.append(f"episode {stored.id!r}: an event id appears twice")
            except CarepathError as exc:
                problems.append(str(exc))
        return problems
