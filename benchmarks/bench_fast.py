"""Fast-engine benchmarks: throughput, the bare numpy baseline, workers and peak memory.

Run: ``.venv/bin/python benchmarks/bench_fast.py [--quick] [--figures 3] [--repeat R]``.
Prints one line per figure with its target; ``--quick`` runs every figure at a tenth
of the size, ``--figures`` only the figures listed (e.g. ``3`` or ``1,2``).

1. The fast engine, N patients x 365 days, one process, tables in memory, against a
   bare numpy semi-Markov loop of the same size run here (same six levels, one
   sojourn draw per stay and routing by a transition matrix, no guards; it also
   builds its stays table in patient order, as the engine does). Target: within 3x.
   The fast engine is timed once (its first N-patient run in the process: what a
   one-run-per-process user sees, page faults for its rows included); the bare loop
   is timed three times after it and its fastest run is the baseline (its first run
   also pays for fresh memory, 0.3-0.5 s here, which would flatter the ratio).
   With ``--repeat R`` figure 1 is measured again in R - 1 fresh processes (the same
   way) and the figure is the median ratio: a single run on a shared machine varies
   by a third (a slower core, the kernel mapping fresh memory).
2. Fast vs reference engine, patients per second. Target: at least 50x.
3. 2 worker processes vs 1, both streaming 4 N patients (4,000,000 by default) to
   Parquet, so that a process's fixed costs (start, imports, first memory) are small
   next to its work. Target: at least 1.7x. "1 worker" runs in this process, in two
   blocks of 2 N; "2 workers" is a pool of two processes started (and warmed with a
   small run) beforehand and reused, each given one block of 2 N: the same blocks,
   only run side by side. Also shown: ``workers=2`` as a user calls it (the
   library's default blocks, its own pool, whose start is timed). With ``--repeat R``
   the two timings alternate R times (load average and ratio on every line; the
   figure is the median ratio). Each line also shows how busy the two workers were
   (their CPU seconds over twice the wall time): well under 100% means another
   process had one of the cores, and the ratio says more about the machine than
   about carepath. Also shown: two threads of this process (a ``ThreadPoolExecutor`` as
   ``executor``, the same blocks; the compiled kernel releases the GIL).
4. Peak memory (RSS summed over the process tree, sampled every 20 ms) of
   ``carepath simulate --patients N --workers 2 --out DIR``. Target: under 2 GB.

Figures 1, 2 and 4 use the library's default block size (``chunk_size``). The fast engine uses
its compiled kernel when numba is installed (``carepath[fast]``), else its numpy loop
(``CAREPATH_NUMBA=0`` forces the loop); the first call, which loads or compiles the
kernel, is timed separately and excluded from the figures. The load average
of the (shared) machine is printed before and after: figures taken under load are
not comparable.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from carepath.sim import SimulationModel, _kernel, simulate
from carepath.sim._simulate import _context

DAYS = 365


def bare_semi_markov(n: int, days: int = DAYS, seed: int = 0) -> int:
    """A bare numpy semi-Markov cohort loop: every patient advances one stay per pass.

    Six levels plus discharge; a stay's length is a geometric draw with the level's
    mean; the next level is drawn from a fixed routing matrix. Returns the stays.
    """
    rng = np.random.default_rng(seed)
    mean_stay = np.array([60.0, 45.0, 50.0, 25.0, 28.0, 4.0])
    routing = np.array(
        [  # to outpatient, sober, iop, php, inpatient, detox, discharge
            [0.00, 0.05, 0.05, 0.02, 0.02, 0.02, 0.84],
            [0.40, 0.00, 0.10, 0.02, 0.03, 0.02, 0.43],
            [0.35, 0.10, 0.00, 0.05, 0.05, 0.03, 0.42],
            [0.15, 0.05, 0.50, 0.00, 0.05, 0.03, 0.22],
            [0.10, 0.10, 0.40, 0.15, 0.00, 0.03, 0.22],
            [0.10, 0.05, 0.15, 0.10, 0.40, 0.00, 0.20],
        ]
    )
    cum = np.cumsum(routing, axis=1)
    start_mix = np.cumsum([0.45, 0.05, 0.16, 0.06, 0.14, 0.24])
    level = np.searchsorted(start_mix, rng.random(n) * start_mix[-1], side="right")
    patient = np.arange(n)
    t = np.zeros(n, dtype=np.int64)
    out: list[tuple[npt.NDArray[np.int64], ...]] = []
    while patient.size:
        stay = rng.geometric(1.0 / mean_stay[level])
        end = np.minimum(t + stay, days)
        out.append((patient, level, t, end))
        u = rng.random(patient.size)
        nxt = (u[:, None] >= cum[level]).sum(axis=1)
        live = (end < days) & (nxt < len(mean_stay))
        patient, level, t = patient[live], nxt[live], end[live]
    columns = [np.concatenate(c) for c in zip(*out, strict=True)]
    order = np.argsort(columns[0], kind="stable")  # patient order, as the engine's tables
    stays = [c[order] for c in columns]
    return len(stays[0])


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min; {os.cpu_count()} CPUs)"


def timed(fn: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]  # any callable
    return time.perf_counter() - start


def peak_rss(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MB summed over the process tree, seconds) of a command."""
    import psutil  # type: ignore[import-untyped]  # noqa: PLC0415  # no stubs; only this figure

    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [proc, *proc.children(recursive=True)]:
                total += p.memory_info().rss
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} exited with {proc.returncode}")
    return peak / 2**20, time.perf_counter() - start


def _busy(pool_pids: list[int]) -> float:
    """CPU seconds (user and system) used so far by these processes."""
    import psutil  # noqa: PLC0415  # no stubs; only for the workers' figure

    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pool_pids)


def workers_figure(model: SimulationModel, n: int, repeat: int) -> dict[str, float]:
    """Figure 3: 4 n patients to Parquet, 1 worker against 2 warm workers (see above)."""

    n_w = 4 * n
    block = -(-n_w // 2)
    print(f"load average before the workers: {_load()}")
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        with ProcessPoolExecutor(2, mp_context=_context()) as pool:
            # Start both workers and warm them (imports, the kernel) before timing.
            simulate(model, n=4_000, seed=3, days=DAYS, chunk_size=2_000, executor=pool)
            # The workers themselves (with a fork server, this process's children are
            # the server and its resource tracker, not the workers).
            pids = list(pool._processes)  # no public way to list them
            for r in range(repeat):
                load = os.getloadavg()[0]
                one = timed(
                    simulate,
                    model,
                    n=n_w,
                    seed=2,
                    days=DAYS,
                    chunk_size=block,
                    out=Path(tmp) / f"one{r}",
                )
                cpu = _busy(pids)
                two = timed(
                    simulate,
                    model,
                    n=n_w,
                    seed=2,
                    days=DAYS,
                    chunk_size=block,
                    executor=pool,
                    out=Path(tmp) / f"two{r}",
                )
                busy = (_busy(pids) - cpu) / (2 * two)
                ratios.append(one / two)
                print(
                    f"{n_w:,} patients to Parquet, blocks of {block:,}: 1 worker (this "
                    f"process) {one:.2f} s, 2 warm workers {two:.2f} s: {one / two:.2f}x "
                    f"(target >= 1.7x; workers busy {busy:.0%}, 1-min load before "
                    f"{load:.2f})"
                )
                shutil.rmtree(Path(tmp) / f"one{r}")
                shutil.rmtree(Path(tmp) / f"two{r}")
        # After that pool is gone: with its threads running, workers=2 would not fork.
        method = _context().get_start_method()  # what workers=2 uses, here and now
        default = timed(
            simulate, model, n=n_w, seed=2, days=DAYS, workers=2, out=Path(tmp) / "default"
        )
        # Two threads of this process, the same blocks (the compiled kernel releases the GIL).
        with ThreadPoolExecutor(2) as threads:
            simulate(model, n=4_000, seed=3, days=DAYS, chunk_size=2_000, executor=threads)
            threaded = timed(
                simulate,
                model,
                n=n_w,
                seed=2,
                days=DAYS,
                chunk_size=block,
                executor=threads,
                out=Path(tmp) / "threads",
            )
    ratio = float(np.median(ratios))
    if repeat > 1:
        print(f"  median of {repeat}: {ratio:.2f}x (runs {', '.join(f'{x:.2f}' for x in ratios)})")
    print(
        f"  workers=2 as called by a user (default blocks, own {method} pool, start "
        f"included): {default:.2f} s: {one / default:.2f}x (against the last 1 worker)"
    )
    print(
        f"  2 threads (ThreadPoolExecutor as executor, blocks of {block:,}): {threaded:.2f} s: "
        f"{one / threaded:.2f}x (against the last 1 worker)"
    )
    print(f"load average after the workers: {_load()}")
    return {
        "two_workers_over_one": ratio,
        "default_two_workers_over_one": one / default,
        "two_threads_over_one": one / threaded,
    }


_CHILD = "figure-1-times:"


def _fresh_figure_1(patients: int, quick: bool) -> float:
    """Figure 1 (fast / bare) measured again in a fresh process, as the first one was."""
    cmd = [sys.executable, __file__, "--figures", "1", "--child", "--patients", str(patients)]
    out = subprocess.run(
        cmd + (["--quick"] if quick else []), capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith(_CHILD))
    fast_s, bare_s = (float(v) for v in line.split()[1:])
    print(
        f"  again in a fresh process: fast {fast_s:.2f} s, bare {bare_s:.2f} s: "
        f"{fast_s / bare_s:.2f}x"
    )
    return fast_s / bare_s


def speed_figure(
    model: SimulationModel, n: int, args: argparse.Namespace, figures: dict[str, float]
) -> float:
    """Figure 1 (see above), added to ``figures``; returns the fast engine's time."""
    fast_s = timed(simulate, model, n=n, seed=1, days=DAYS)
    bare_runs = [timed(bare_semi_markov, n) for _ in range(3)]
    bare_s = min(bare_runs)
    if args.child:  # one fresh-process run of figure 1 for --repeat: the two times
        print(f"{_CHILD} {fast_s!r} {bare_s!r}")
        figures["fast_over_bare"] = fast_s / bare_s
        return fast_s
    figures["fast_patients_per_s"] = n / fast_s
    figures["bare_patients_per_s"] = n / bare_s
    figures["fast_over_bare"] = fast_s / bare_s
    print(
        f"fast engine, {n:,} patients x {DAYS} days, 1 process (first run): "
        f"{fast_s:.2f} s ({n / fast_s:,.0f} patients/s)"
    )
    print(
        f"bare numpy semi-Markov loop, same size, fastest of 3: {bare_s:.2f} s "
        f"({n / bare_s:,.0f} patients/s; runs {', '.join(f'{x:.2f}' for x in bare_runs)} s)"
    )
    print(f"  fast / bare time: {fast_s / bare_s:.2f}x (target within 3x)")
    if args.repeat > 1:
        ratios = [fast_s / bare_s] + [
            _fresh_figure_1(args.patients, args.quick) for _ in range(args.repeat - 1)
        ]
        figures["fast_over_bare"] = float(np.median(ratios))
        print(
            f"  median of {args.repeat} processes (this one and {args.repeat - 1} more, "
            "each timing its first run): "
            f"{figures['fast_over_bare']:.2f}x (runs "
            f"{', '.join(f'{x:.2f}' for x in ratios)})"
        )
    return fast_s


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the figures asked for (every one by default) and print them; returns them by
    name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument(
        "--figures", default="1,2,3,4", help="the figures to run, comma-separated (default: all)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="figure 1: run it in this many fresh processes; figure 3: "
        "alternate its two timings this many times (medians reported)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    chosen = {int(f) for f in args.figures.split(",")}
    n = args.patients // 10 if args.quick else args.patients
    n_ref = 500 if args.quick else 3_000
    model = SimulationModel.default()
    # The first call warms caches (compiled tables, imports and, with numba installed, the
    # compiled kernel: loaded from numba's on-disk cache, or compiled when there is none).
    # It is timed and shown on its own; the figures below exclude it.
    first_s = timed(simulate, model, n=2_000, seed=99)
    figures: dict[str, float] = {"first_call_s": first_s}

    print(f"load average at start: {_load()}")
    kernel = "numba kernel" if _kernel.kernel() is not None else "numpy loop (no numba)"
    print(
        f"fast engine path: {kernel}; first call (2,000 patients, warms the caches, "
        f"excluded below): {first_s:.2f} s"
    )
    fast_s = math.nan
    if 1 in chosen:
        fast_s = speed_figure(model, n, args, figures)
        if args.child:
            return figures

    if 2 in chosen:
        if 1 not in chosen:  # figure 2 compares with figure 1's fast run
            fast_s = timed(simulate, model, n=n, seed=1, days=DAYS)
        ref_s = timed(simulate, model, n=n_ref, seed=1, days=DAYS, engine="reference")
        figures["reference_patients_per_s"] = n_ref / ref_s
        speedup = (n / fast_s) / (n_ref / ref_s)
        figures["fast_over_reference"] = speedup
        print(
            f"reference engine, {n_ref:,} patients: {n_ref / ref_s:,.0f} patients/s; fast is "
            f"{speedup:.0f}x (target >= 50x)"
        )

    if 3 in chosen:
        figures.update(workers_figure(model, n, max(1, args.repeat)))

    if 4 in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "carepath.cli",
                "simulate",
                "--patients",
                str(n),
                "--workers",
                "2",
                "--out",
                str(Path(tmp) / "run"),
            ]
            mb, secs = peak_rss(cmd)
        figures["peak_rss_mb"] = mb
        print(
            f"carepath simulate --patients {n:,} --workers 2 --out DIR: peak RSS of the "
            f"process tree {mb:,.0f} MB in {secs:.1f} s (target < 2048 MB)"
        )
    print(f"load average at end: {_load()}")
    return figures


if __name__ == "__main__":
    main()
