"""Reliability figures for docs/errors.md (issue 22): fuzz cases and escapes, kill -9
trials, concurrent writers.

Run with ``.venv/bin/python benchmarks/reliability.py`` (``--quick`` for a smoke run;
``--postgres-url URL`` to run the kill -9 and writer trials on PostgreSQL too).

1. Fuzz: seeded random mutations (deletions, insertions of JSON punctuation, duplicated
   slices, deep nesting, retyped values) of valid inputs to each reader hostile input
   reaches: ``Episode.from_json``, ``carepath.definitions.loads`` (TOML and JSON),
   ``EpisodeStore.import_episodes`` lines, and damaged store rows read back through
   ``load``/``data``/``export``/``check``. An *escape* is any exception that is not the
   reader's documented error (or any damaged row that ``check()`` does not report).
2. kill -9: a writer process appends events one transaction at a time and prints each
   acknowledged version; it is killed with SIGKILL at a random moment; the store must
   then pass ``check()`` and hold every acknowledged event.
3. Concurrent writers: W processes each apply N reassessments to shared episodes
   through ``store.apply``; nothing may be lost or duplicated.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from carepath import (
    Assessment,
    Episode,
    EpisodeLoadError,
    PathwayDefinitionError,
    StoreError,
    definitions,
    standard_pathway,
)
from carepath.store import EpisodeStore

PATHWAY = standard_pathway()
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _episode(episode_id: str = "ep-1") -> Episode:
    ep = PATHWAY.start("patient-1", at=T0, episode_id=episode_id)
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(days=1), event_id="MSG002")
    ep.step_down("inpatient", at=T0 + timedelta(days=3), event_id="MSG003")
    return ep


def _mutate(rng: random.Random, text: str) -> str:
    out = text
    for _ in range(rng.randint(1, 4)):
        i = rng.randint(0, len(out))
        j = rng.randint(i, min(len(out), i + 40))
        kind = rng.randrange(6)
        if kind == 0:
            out = out[:i] + out[j:]
        elif kind == 1:
            out = out[:i] + "".join(rng.choice('{}[]",:\\0-e. ') for _ in range(6)) + out[i:]
        elif kind == 2:
            out = out[:j] + out[i:j] + out[j:]
        elif kind == 3:
            n = rng.choice([3, 50, 5000, 100_000])
            out = out[:i] + "[" * n + out[i:j] + "]" * n + out[j:]
        elif kind == 4:
            out = out[:i] + "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(5)) + out[i:]
        else:
            out = out[:i] + rng.choice(["1", "null", "[]", "{}", '"x"', "true"]) + out[j:]
    return out


def _fuzz(cases: int, seed: int) -> dict[str, tuple[int, int]]:
    rng = random.Random(seed)
    episode = _episode().to_json()
    toml, js = definitions.dumps(PATHWAY), definitions.dumps(PATHWAY, "json")
    results: dict[str, tuple[int, int]] = {}

    def run(
        name: str, fn: Callable[[str], object], ok: tuple[type[BaseException], ...], base: str
    ) -> None:
        escapes = 0
        for _ in range(cases):
            text = _mutate(rng, base)
            try:
                fn(text)
            except ok:
                pass
            except BaseException as exc:  # counting escapes is the point
                escapes += 1
                where = traceback.extract_tb(exc.__traceback__)[-1]
                print(
                    f"  escape in {name}: {type(exc).__name__} at {where.filename}:{where.lineno}",
                    file=sys.stderr,
                )
        results[name] = (cases, escapes)

    run("episode JSON", lambda t: Episode.from_json(t, PATHWAY), (EpisodeLoadError,), episode)
    run("pathway TOML", definitions.loads, (PathwayDefinitionError,), toml)
    run("pathway JSON", lambda t: definitions.loads(t, "json"), (PathwayDefinitionError,), js)
    with tempfile.TemporaryDirectory() as tmp:
        with EpisodeStore.open(f"sqlite:///{Path(tmp) / 'i.db'}") as store:
            out = io.StringIO()
            with EpisodeStore.open(f"sqlite:///{Path(tmp) / 'src.db'}") as src:
                src.create(_episode())
                src.export(out)
            line = out.getvalue()
            run("store import", lambda t: store.import_episodes([t]), (StoreError,), line)
        results["store rows"] = _fuzz_rows(rng, max(1, cases // 10), Path(tmp))
    return results


def _fuzz_rows(rng: random.Random, cases: int, tmp: Path) -> tuple[int, int]:
    """Damage one row per case; every read path must raise CorruptRecord only, and
    check() must report the row."""
    escapes = 0
    for n in range(cases):
        url = f"sqlite:///{tmp / f'r{n}.db'}"
        with EpisodeStore.open(url) as store:
            store.create(_episode())
            seq = rng.randint(1, 3)
            with store.engine.begin() as conn:
                old = conn.execute(
                    sa.text("SELECT payload FROM carepath_events WHERE seq = :s"), {"s": seq}
                ).scalar_one()
                new = _mutate(rng, old)
                conn.execute(
                    sa.text("UPDATE carepath_events SET payload = :p WHERE seq = :s"),
                    {"p": new, "s": seq},
                )
            if new == old:
                continue
            for name, read in (
                ("load", lambda: store.load("ep-1", PATHWAY)),
                ("data", lambda: store.data("ep-1")),
                ("export", lambda: store.export(io.StringIO())),
            ):
                try:
                    read()
                    escapes += 1  # damage read back as if sound
                    print(f"  escape in store rows: {name} read a damaged row", file=sys.stderr)
                except StoreError:
                    pass
                except BaseException as exc:  # counting escapes
                    escapes += 1
                    print(f"  escape in store rows: {name}: {type(exc).__name__}", file=sys.stderr)
            try:
                if not any(f"seq {seq}" in p for p in store.check([PATHWAY])):
                    escapes += 1
                    print("  escape in store rows: check() missed a row", file=sys.stderr)
            except BaseException as exc:
                escapes += 1
                print(f"  escape in store rows: check: {type(exc).__name__}", file=sys.stderr)
    return cases, escapes


# -- kill -9 -------------------------------------------------------------------------------------

_WRITER = """
import sys
from datetime import timedelta
from carepath import Assessment, standard_pathway
from carepath.store import EpisodeStore
url = sys.argv[1]
pathway = standard_pathway()
with EpisodeStore.open(url) as store:
    i = 0
    while True:
        i += 1
        def change(ep, i=i):
            ep.reassess(Assessment(readiness=i % 2), at=ep.last_at + timedelta(minutes=1),
                        event_id=f"k-{i}")
        ep = store.apply("ep-1", pathway, change)
        print(ep.version, flush=True)
"""


def _kill_trials(url_for: Callable[[int], str], trials: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    lost = 0
    for n in range(trials):
        url = url_for(n)
        with EpisodeStore.open(url) as store:
            ep = PATHWAY.start("patient-1", at=T0, episode_id="ep-1")
            ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="admit")
            store.create(ep)
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, url], stdout=subprocess.PIPE, text=True
        )
        time.sleep(rng.uniform(0.5, 2.0))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged = max((int(x) for x in out.split()), default=1)
        with EpisodeStore.open(url) as store:
            ok = store.check([PATHWAY]) == [] and store.version("ep-1") >= acknowledged
            ok = ok and store.load("ep-1", PATHWAY).version == store.version("ep-1")
        lost += not ok
    return trials, lost


def _writer(url: str, worker: int, count: int, ids: list[str]) -> Counter[str]:
    rng = random.Random(worker)
    done: Counter[str] = Counter()
    with EpisodeStore.open(url) as store:
        for i in range(count):
            episode_id = ids[rng.randrange(len(ids))]

            def change(ep: Episode, i: int = i) -> None:
                ep.reassess(
                    Assessment(readiness=i % 2),
                    at=ep.last_at + timedelta(minutes=1),
                    event_id=f"w{worker}-{i}",
                )

            store.apply(episode_id, PATHWAY, change, retries=500)
            done[episode_id] += 1
    return done


def _writers(url: str, workers: int, count: int) -> tuple[int, int, int]:
    ids = []
    with EpisodeStore.open(url) as store:
        for i in range(10):
            ep = PATHWAY.start(f"p-{i}", at=T0, episode_id=f"ep-{i}")
            ep.admit("outpatient", at=T0, assessment=Assessment(), event_id=f"admit-{i}")
            store.create(ep)
            ids.append(ep.id)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(_writer, [(url, w, count, ids) for w in range(workers)])
    sent: Counter[str] = sum(results, Counter())
    seen: Counter[str] = Counter()
    with EpisodeStore.open(url) as store:
        assert store.check([PATHWAY]) == []
        for e in ids:
            ep = store.load(e, PATHWAY)
            seen.update(r.event_id for r in ep.history[1:])
            assert ep.version == 1 + sent[e]
    expected = {f"w{w}-{i}" for w in range(workers) for i in range(count)}
    lost = len(expected - set(seen))
    duplicated = sum(v - 1 for v in seen.values() if v > 1)
    return workers * count, lost, duplicated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="fuzz cases per reader")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 trials per backend")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--events", type=int, default=100, help="events per writer")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--postgres-url", default=os.environ.get("CAREPATH_TEST_POSTGRES_URL"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.kills, args.events = 100, 2, 10
    print(f"carepath reliability (seed {args.seed})")
    total = escapes = 0
    for name, (n, e) in _fuzz(args.cases, args.seed).items():
        total, escapes = total + n, escapes + e
        print(f"  fuzz {name:<13} {n:>6} cases, {e} escapes")
    print(f"  fuzz total         {total:>6} cases, {escapes} escapes")
    with tempfile.TemporaryDirectory() as tmp:
        backends: dict[str, Callable[[int], str]] = {
            "sqlite": lambda n: f"sqlite:///{Path(tmp) / f'k{n}.db'}"
        }
        if args.postgres_url:
            backends["postgresql"] = lambda n: _fresh_pg(args.postgres_url, f"k{n}")
        for name, url_for in backends.items():
            n, lost = _kill_trials(url_for, args.kills, args.seed)
            print(f"  kill -9 {name:<10} {n:>3} trials, {lost} with a lost acknowledged write")
            w = _writers(url_for(10_000), args.workers, args.events)
            print(
                f"  writers {name:<10} {args.workers} processes, {w[0]} events: "
                f"{w[1]} lost, {w[2]} duplicated"
            )


def _fresh_pg(url: str, name: str) -> str:
    schema = f"rel_{name}_{os.getpid()}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return str(
        sa.make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


if __name__ == "__main__":
    main()
