"""carepath.store under concurrent writers and a writer killed mid-append, on SQLite and
PostgreSQL. Writers are separate processes (spawned), as in a real deployment."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import _store_support as support
from carepath import Assessment, Episode, Event, standard_pathway
from carepath.store import EpisodeStore

PATHWAY = standard_pathway()
WORKERS = 8
EVENTS_PER_WORKER = 500
EPISODES = 50


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server, why = support.postgres_server()
    if server is None:
        pytest.skip(why)
    with support.postgres_schema(server) as fresh:
        yield fresh


def serial_replay(stored: Episode) -> Episode:
    """The same events applied one by one, in stored order, to a fresh episode."""
    ep = PATHWAY.start(stored.patient_id, at=stored.started_at, episode_id=stored.id)
    for r in stored.history:
        if r.event is Event.ADMIT:
            ep.admit(r.target, at=r.at, assessment=r.assessment, event_id=r.event_id)
        else:
            assert r.event is Event.REASSESS
            assert r.assessment is not None
            ep.reassess(r.assessment, at=r.at, event_id=r.event_id)
    return ep


@pytest.mark.slow
def test_concurrent_writers_lose_and_duplicate_nothing(url: str) -> None:
    """8 processes x 500 events through store.apply on 50 shared episodes: every event is
    stored exactly once, and every episode equals a serial replay of its events."""
    ids = support.shared_episodes(url, EPISODES)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        results = pool.starmap_async(
            support.append_worker,
            [(url, w, EVENTS_PER_WORKER, ids) for w in range(WORKERS)],
        ).get(timeout=150)  # a hang (e.g. writers waiting on each other's locks) fails
    sent: Counter[str] = Counter()
    for done in results:
        sent.update(done)
    with EpisodeStore.open(url) as store:
        assert store.check([PATHWAY]) == []
        seen: Counter[str] = Counter()
        for episode_id in ids:
            ep = store.load(episode_id, PATHWAY)
            seen.update(r.event_id for r in ep.history[1:])
            assert ep.version == 1 + sent[episode_id]
            assert ep == serial_replay(ep)
            assert [r.seq for r in ep.history] == list(range(1, ep.version + 1))
    expected = {f"w{w}-{i}" for w in range(WORKERS) for i in range(EVENTS_PER_WORKER)}
    assert set(seen) == expected  # nothing lost
    assert max(seen.values()) == 1  # nothing duplicated


def test_a_writer_killed_mid_append_leaves_only_whole_appends(url: str, tmp_path: Path) -> None:
    """SIGKILL while an append's event rows are written but not committed: the store
    opens, passes its integrity check, and holds only whole batches."""
    ids = support.shared_episodes(url, 3)
    marker = tmp_path / "mid-batch"
    hang_at = 5
    ctx = multiprocessing.get_context("spawn")
    writer = ctx.Process(target=support.crash_writer, args=(url, ids, str(marker), hang_at))
    writer.start()
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert writer.is_alive(), "the writer died before reaching the batch"
            assert time.monotonic() < deadline, "the writer never reached the batch"
            time.sleep(0.02)
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(30)
    finally:
        if writer.is_alive():  # pragma: no cover - only when an assertion above failed
            writer.kill()
            writer.join()
    assert writer.exitcode == -signal.SIGKILL
    with EpisodeStore.open(url) as store:
        assert store.check([PATHWAY]) == []
        batches: set[str] = set()
        for episode_id in ids:
            ep = store.load(episode_id, PATHWAY)
            assert (ep.version - 1) % support.BATCH == 0, ep.version
            batches.update(r.event_id.split("-")[0] for r in ep.history[1:])
            counts = Counter(r.event_id.split("-")[0] for r in ep.history[1:])
            assert set(counts.values()) <= {support.BATCH}
        assert batches == {f"b{b}" for b in range(1, hang_at)}  # the killed one left nothing
        # The store still takes writes, including the killed batch's events.
        store.apply(
            ids[0],
            PATHWAY,
            lambda ep: ep.reassess(
                ep.assessment or ep.history[0].assessment or Assessment(),
                at=ep.last_at,
                event_id=f"b{hang_at}-0",
            ),
        )
        assert store.version(ids[0]) % support.BATCH == 2
