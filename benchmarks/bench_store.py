"""Episode store benchmarks (issue 8): appends per second and loading a long episode.

Run with ``.venv/bin/python benchmarks/bench_store.py`` (``--quick`` for a smoke run).
PostgreSQL is measured when ``--postgres-url`` or ``CAREPATH_TEST_POSTGRES_URL`` names
a server, or when ``scripts/postgres.sh start`` can start one (stopped afterwards).

a. Single-event appends: ``store.append(id, [record], expected_version=v)``, one
   transaction (and one durable commit) each.
b. Batches of 100: the same with 100 records per call.
c. Loading an episode of 1,000 events: ``store.load`` (read the rows, replay them
   through the pathway). Target on SQLite: under 20 ms. The core's replay alone
   (``Episode.from_dict`` on the same data) is shown for comparison.

Records are built in memory beforehand, so a and b measure the store alone. Timings
are the best of several rounds (the median is shown too).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy

from carepath import Assessment, Episode, EventRecord, Pathway, standard_pathway
from carepath.store import EpisodeStore

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
LOAD_TARGET_MS = 20.0


def long_episode(pathway: Pathway, events: int) -> Episode:
    """An episode of ``events`` events: an admission, then reassessments a minute apart."""
    ep = pathway.start("patient-bench", at=T0, episode_id=f"bench-{uuid.uuid4().hex[:12]}")
    ep.admit("outpatient", at=T0, assessment=Assessment())
    for i in range(events - 1):
        ep.reassess(
            Assessment(readiness=i % 2, environment=(i // 2) % 2), at=T0 + timedelta(minutes=i + 1)
        )
    return ep


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """(best, median) seconds of ``fn`` over ``rounds`` rounds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def appends_per_second(
    store: EpisodeStore, pathway: Pathway, total: int, batch: int, rounds: int
) -> tuple[float, float]:
    """(best, median) events per second appending ``total`` events ``batch`` at a time."""
    rates = []
    for _ in range(rounds):
        ep = long_episode(pathway, total + 1)
        start = ep.history[0]
        empty = pathway.start(ep.patient_id, at=T0, episode_id=ep.id)
        store.create(empty)
        store.append(ep.id, [start], expected_version=0)
        records: list[EventRecord] = list(ep.history[1:])
        t = time.perf_counter()
        for i in range(0, total, batch):
            store.append(ep.id, records[i : i + batch], expected_version=1 + i)
        rates.append(total / (time.perf_counter() - t))
    return max(rates), statistics.median(rates)


def measure(label: str, url: str, quick: bool) -> tuple[list[str], float | None]:
    pathway = standard_pathway()
    rounds = 2 if quick else 5
    single = 100 if quick else 500
    batched = 1_000 if quick else 5_000
    lines = []
    with EpisodeStore.open(url) as store:
        best, med = appends_per_second(store, pathway, single, 1, rounds)
        lines.append(
            f"| {label} | single-event appends | {best:,.0f} events/s | {med:,.0f} events/s |"
        )
        best, med = appends_per_second(store, pathway, batched, 100, rounds)
        lines.append(f"| {label} | batches of 100 | {best:,.0f} events/s | {med:,.0f} events/s |")
        ep = long_episode(pathway, 1_000)
        store.create(ep)
        assert store.load(ep.id, pathway) == ep
        load_best, load_med = timed(lambda: store.load(ep.id, pathway), 5 if quick else 20)
        lines.append(
            f"| {label} | load a 1,000-event episode | {load_best * 1e3:.1f} ms | "
            f"{load_med * 1e3:.1f} ms |"
        )
        data = store.data(ep.id)
        read_best, read_med = timed(lambda: store.data(ep.id), 5 if quick else 20)
        lines.append(
            f"| {label} | of which: read the rows (`store.data`) | "
            f"{read_best * 1e3:.1f} ms | {read_med * 1e3:.1f} ms |"
        )
        replay_best, replay_med = timed(
            lambda: Episode.from_dict(data, pathway), 5 if quick else 20
        )
        lines.append(
            f"| {label} | of which: core replay (`Episode.from_dict`) | "
            f"{replay_best * 1e3:.1f} ms | {replay_med * 1e3:.1f} ms |"
        )
    return lines, load_best * 1e3


def postgres_url(given: str | None) -> tuple[str | None, Callable[[], None]]:
    url = given or os.environ.get("CAREPATH_TEST_POSTGRES_URL")
    if url:
        return url, lambda: None
    directory = tempfile.mkdtemp(prefix="carepath-bench-pg-")
    script = str(ROOT / "scripts" / "postgres.sh")
    done = subprocess.run([script, "start", directory], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"PostgreSQL not measured: {done.stderr.strip()}", file=sys.stderr)
        return None, lambda: None

    def stop() -> None:
        subprocess.run([script, "stop", directory], capture_output=True, check=False)

    return done.stdout.strip().splitlines()[-1], stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run; never fails")
    parser.add_argument("--postgres-url", help="a PostgreSQL server to measure")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    print(
        f"carepath store benchmarks: Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print("| backend | what | best | median |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        lines, load_ms = measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.quick)
    print("\n".join(lines), flush=True)
    if not args.no_postgres:
        url, stop = postgres_url(args.postgres_url)
        try:
            if url is not None:
                print("\n".join(measure("PostgreSQL", url, args.quick)[0]))
        finally:
            stop()
    ok = load_ms is not None and load_ms < LOAD_TARGET_MS
    print(
        f"load target (< {LOAD_TARGET_MS:.0f} ms on SQLite): "
        f"{'met' if ok else 'MISSED'} ({load_ms:.1f} ms)"
    )
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
