"""Shared by the store tests: a PostgreSQL server for the session, per-test databases,
and the functions worker processes run (importable by name, as spawn needs).

PostgreSQL: ``CAREPATH_TEST_POSTGRES_URL`` names a running server; otherwise
``scripts/postgres.sh start`` installs (when missing) and starts a throwaway one for
the session, stopped at exit. Tests marked ``postgres`` are skipped, with the reason,
only when no server can be started.
"""

from __future__ import annotations

import atexit
import functools
import os
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from carepath import Assessment, Episode, standard_pathway
from carepath.store import EpisodeStore
from support import T0

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "postgres.sh"
ENV = "CAREPATH_TEST_POSTGRES_URL"


@functools.cache
def postgres_server() -> tuple[str | None, str]:
    """``(url, "")`` for a running server, or ``(None, why not)``."""
    url = os.environ.get(ENV)
    if url:
        return url, ""
    try:
        import psycopg  # noqa: F401, PLC0415  # only to see whether the driver is there
    except ImportError:
        return None, "psycopg is not installed (the 'postgres' extra)"
    directory = tempfile.mkdtemp(prefix="carepath-pg-")
    try:
        done = subprocess.run(
            [str(SCRIPT), "start", directory],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"could not run {SCRIPT.name}: {exc}"
    if done.returncode != 0:
        lines = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        return None, f"PostgreSQL could not be started: {' / '.join(lines)}"
    atexit.register(
        subprocess.run, [str(SCRIPT), "stop", directory], capture_output=True, check=False
    )
    return done.stdout.strip().splitlines()[-1], ""


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL whose tables go to a fresh schema, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
        yield str(
            sa.make_url(url)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        engine.dispose()


def wipe(store: EpisodeStore) -> None:
    """Delete every episode (between Hypothesis examples)."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM carepath_events")
        conn.exec_driver_sql("DELETE FROM carepath_episodes")


def shared_episodes(url: str, count: int) -> list[str]:
    """Create ``count`` admitted episodes; returns their ids."""
    pathway = standard_pathway()
    ids = []
    with EpisodeStore.open(url) as store:
        for i in range(count):
            ep = pathway.start(f"patient-{i}", at=T0, episode_id=f"ep-{i:03d}")
            ep.admit("outpatient", at=T0, assessment=Assessment(), event_id=f"admit-{i}")
            store.create(ep)
            ids.append(ep.id)
    return ids


def append_worker(url: str, worker: int, count: int, episode_ids: list[str]) -> dict[str, int]:
    """Append ``count`` reassessments, one per ``store.apply``, to random shared episodes.

    Returns how many went to each episode.
    """
    warnings.simplefilter("error")
    import random  # noqa: PLC0415  # a seeded instance, never the global state

    rng = random.Random(worker)
    pathway = standard_pathway()
    done: dict[str, int] = {}
    with EpisodeStore.open(url) as store:
        for i in range(count):
            episode_id = episode_ids[rng.randrange(len(episode_ids))]
            a = Assessment(readiness=rng.randrange(2), environment=rng.randrange(2))
            event_id = f"w{worker}-{i}"

            def change(ep: Episode, a: Assessment = a, event_id: str = event_id) -> None:
                ep.reassess(a, at=ep.last_at + timedelta(minutes=1), event_id=event_id)

            store.apply(episode_id, pathway, change, retries=200)
            done[episode_id] = done.get(episode_id, 0) + 1
    return done


BATCH = 20


def crash_writer(url: str, episode_ids: list[str], marker: str, hang_at_batch: int) -> None:
    """Append batches of ``BATCH`` events; in batch ``hang_at_batch`` hang after the event
    rows are written but before the transaction commits (and say so in ``marker``)."""
    warnings.simplefilter("error")
    pathway = standard_pathway()
    batch = 0

    def hang(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if batch == hang_at_batch and statement.lstrip().upper().startswith(
            "INSERT INTO CAREPATH_EVENTS"
        ):
            Path(marker).write_text("mid-batch", encoding="utf-8")
            time.sleep(600)  # killed here

    store = EpisodeStore.open(url)
    sa.event.listen(store.engine, "after_cursor_execute", hang)
    while True:
        for episode_id in episode_ids:
            batch += 1

            def change(ep: Episode, b: int = batch) -> None:
                for k in range(BATCH):
                    ep.reassess(
                        Assessment(readiness=k % 2),
                        at=ep.last_at + timedelta(minutes=1),
                        event_id=f"b{b}-{k}",
                    )

            store.apply(episode_id, pathway, change)
