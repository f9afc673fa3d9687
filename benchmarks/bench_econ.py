"""Economics benchmarks: PSA at the engine's speed, and cea() over a large table.

Run: ``.venv/bin/python benchmarks/bench_econ.py [--quick] [--repeat R]``.

1. PSA: ``simulate(uncertain, n=1_000, samples=1_000, days=365)`` (four uncertain
   parameters) against a single run of 1,000,000 patients of the same model, both in
   this process with tables in memory, after a warm-up run. Target: within 1.5x, and
   under 1.5 s on an idle machine. ``summary()`` of the PSA (statistics per sample and
   across samples) is timed too, against the single run's ``summary()``.
2. ``cea()`` with 4 strategies x 1,000 samples and 200 willingness-to-pay values,
   against a baseline: the bare numpy net-benefit array (200 x 4 x 1,000) and its
   argmax over strategies, the least any implementation must do. Target: under 1 s.

With ``--repeat R`` each figure is measured R times and the median ratio reported: the
machine is shared, and a single run varies with its load (printed before and after).
``--quick`` runs at a tenth of the size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

from carepath.econ import cea
from carepath.sim import Beta, Gamma, SimulationModel, UncertainModel, simulate


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min; {os.cpu_count()} CPUs)"


def uncertain_model() -> UncertainModel:
    model = SimulationModel.default().with_levels(
        cost_per_day={"detox": 900.0, "inpatient": 600.0, "php": 350.0, "iop": 150.0}
    )
    return model.with_distributions(
        continuation={"inpatient": Beta(a=75, b=25)},
        drop_out={"iop": Gamma(shape=20, scale=0.015 / 20)},
        relapse_after_discharge=Gamma(shape=4, scale=0.0025),
        cost_per_day={"iop": Gamma(shape=100, scale=1.5)},
    )


def psa_figure(scale: float) -> tuple[float, float, float, float]:
    """(PSA s, single run s, PSA summary s, single summary s)."""
    u = uncertain_model()
    patients, samples = int(1000 * scale), int(1000 * scale)
    simulate(u, n=200, samples=3, seed=1)  # compile / load the kernel
    start = time.perf_counter()
    single = simulate(u.mean_model(), n=patients * samples, seed=1)
    t_single = time.perf_counter() - start
    start = time.perf_counter()
    single.summary()
    s_single = time.perf_counter() - start
    del single
    start = time.perf_counter()
    psa = simulate(u, n=patients, samples=samples, seed=1)
    t_psa = time.perf_counter() - start
    start = time.perf_counter()
    psa.summary()
    s_psa = time.perf_counter() - start
    return t_psa, t_single, s_psa, s_single


def cea_figure(scale: float) -> tuple[float, float]:
    """(cea() s, baseline s) for 4 strategies x samples x 200 WTP values."""
    samples = int(1000 * scale)
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "strategy": np.repeat(["a", "b", "c", "d"], samples),
            "sample": np.tile(np.arange(samples), 4),
            "cost": rng.normal(10_000, 1_000, 4 * samples),
            "qalys": rng.normal(0.7, 0.02, 4 * samples),
        }
    )
    wtp = np.linspace(0, 150_000, 200)
    start = time.perf_counter()
    cea(table, wtp=wtp)
    t_cea = time.perf_counter() - start
    c = table["cost"].to_numpy().reshape(4, samples)
    e = table["qalys"].to_numpy().reshape(4, samples)
    start = time.perf_counter()
    nmb = wtp[:, None, None] * e[None] - c[None]
    nmb.argmax(axis=1)
    t_base = time.perf_counter() - start
    return t_cea, t_base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    parser.add_argument("--repeat", type=int, default=1, help="measure R times; median ratio")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    print(f"load before: {_load()}")
    ratios, psas = [], []
    for _ in range(args.repeat):
        t_psa, t_single, s_psa, s_single = psa_figure(scale)
        ratios.append(t_psa / t_single)
        psas.append(t_psa)
        print(
            f"1. PSA {int(1000 * scale)} samples x {int(1000 * scale)} patients x 365 days: "
            f"{t_psa:.2f} s; single run of {int(1e6 * scale * scale):,} patients: "
            f"{t_single:.2f} s; ratio {t_psa / t_single:.2f} (target <= 1.5); "
            f"summary() {s_psa:.2f} s vs {s_single:.2f} s"
        )
    if args.repeat > 1:
        print(
            f"   median ratio {statistics.median(ratios):.2f}, "
            f"median PSA {statistics.median(psas):.2f} s"
        )
    for _ in range(args.repeat):
        t_cea, t_base = cea_figure(scale)
        print(
            f"2. cea() 4 strategies x {int(1000 * scale)} samples x 200 WTP: {t_cea:.3f} s "
            f"(target < 1 s); bare numpy NMB + argmax {t_base:.3f} s; "
            f"ratio {t_cea / t_base:.1f}"
        )
    print(f"load after: {_load()}")


if __name__ == "__main__":
    main()
