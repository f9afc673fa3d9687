"""Fast-engine benchmarks: throughput, the bare numpy baseline, workers and peak memory.

Run: ``.venv/bin/python benchmarks/bench_fast.py [--quick]``. Prints one line per
figure with its target; ``--quick`` runs every figure at a tenth of the size.

1. The fast engine, N patients x 365 days, one process, tables in memory, against a
   bare numpy semi-Markov loop of the same size run here (same six levels, one
   sojourn draw per stay and routing by a transition matrix, no guards; it also
   emits a stays table). Target: within 3x.
2. Fast vs reference engine, patients per second. Target: at least 50x.
3. 2 worker processes vs 1 (both streaming to Parquet). Target: at least 1.7x.
4. Peak memory (RSS summed over the process tree, sampled every 20 ms) of
   ``carepath simulate --patients N --workers 2 --out DIR``. Target: under 2 GB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from carepath.sim import SimulationModel, simulate

DAYS = 365


def bare_semi_markov(n: int, days: int = DAYS, seed: int = 0) -> int:
    """A bare numpy semi-Markov cohort loop: every patient advances one stay per pass.

    Six levels plus discharge; a stay's length is a geometric draw with the level's
    mean; the next level is drawn from a fixed routing matrix. Returns the stays.
    """
    rng = np.random.default_rng(seed)
    mean_stay = np.array([60.0, 45.0, 50.0, 25.0, 28.0, 4.0])
    routing = np.array([  # to outpatient, sober, iop, php, inpatient, detox, discharge
        [0.00, 0.05, 0.05, 0.02, 0.02, 0.02, 0.84],
        [0.40, 0.00, 0.10, 0.02, 0.03, 0.02, 0.43],
        [0.35, 0.10, 0.00, 0.05, 0.05, 0.03, 0.42],
        [0.15, 0.05, 0.50, 0.00, 0.05, 0.03, 0.22],
        [0.10, 0.10, 0.40, 0.15, 0.00, 0.03, 0.22],
        [0.10, 0.05, 0.15, 0.10, 0.40, 0.00, 0.20],
    ])
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
    return int(sum(len(c[0]) for c in out))


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


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run every figure and print it; returns the figures by name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--patients", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    n = args.patients // 10 if args.quick else args.patients
    n_ref = 500 if args.quick else 3_000
    model = SimulationModel.default()
    simulate(model, n=2_000, seed=99)  # warm caches (compiled tables, imports)
    figures: dict[str, float] = {}

    fast_s = timed(simulate, model, n=n, seed=1, days=DAYS, chunk_size=100_000)
    bare_s = timed(bare_semi_markov, n)
    figures["fast_patients_per_s"] = n / fast_s
    figures["bare_patients_per_s"] = n / bare_s
    figures["fast_over_bare"] = fast_s / bare_s
    print(f"fast engine, {n:,} patients x {DAYS} days, 1 process: {fast_s:.2f} s "
          f"({n / fast_s:,.0f} patients/s)")
    print(f"bare numpy semi-Markov loop, same size: {bare_s:.2f} s ({n / bare_s:,.0f} "
          f"patients/s)")
    print(f"  fast / bare time: {fast_s / bare_s:.1f}x (target within 3x)")

    ref_s = timed(simulate, model, n=n_ref, seed=1, days=DAYS, engine="reference")
    figures["reference_patients_per_s"] = n_ref / ref_s
    speedup = (n / fast_s) / (n_ref / ref_s)
    figures["fast_over_reference"] = speedup
    print(f"reference engine, {n_ref:,} patients: {n_ref / ref_s:,.0f} patients/s; fast is "
          f"{speedup:.0f}x (target >= 50x)")

    n_w = n // 2
    with tempfile.TemporaryDirectory() as tmp:
        one = timed(simulate, model, n=n_w, seed=2, days=DAYS, chunk_size=50_000,
                    out=Path(tmp) / "one")
        two = timed(simulate, model, n=n_w, seed=2, days=DAYS, chunk_size=50_000, workers=2,
                    out=Path(tmp) / "two")
    figures["two_workers_over_one"] = one / two
    print(f"{n_w:,} patients to Parquet: 1 worker {one:.2f} s, 2 workers {two:.2f} s: "
          f"{one / two:.2f}x (target >= 1.7x)")

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "carepath.cli", "simulate", "--patients", str(n),
               "--workers", "2", "--out", str(Path(tmp) / "run")]
        mb, secs = peak_rss(cmd)
    figures["peak_rss_mb"] = mb
    print(f"carepath simulate --patients {n:,} --workers 2 --out DIR: peak RSS of the "
          f"process tree {mb:,.0f} MB in {secs:.1f} s (target < 2048 MB)")
    return figures


if __name__ == "__main__":
    main()
