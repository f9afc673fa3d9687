"""Reference-engine throughput: patients per second over a 365-day horizon, one core.

Run: ``.venv/bin/python benchmarks/bench_sim.py [--patients N] [--repeat R]``.
Prints one line per repeat and the best, and returns the best rate from
:func:`main` so a benchmark runner can collect it.
"""

from __future__ import annotations

import argparse
import time

from carepath.sim import SimulationModel, simulate

TARGET = 2_000.0
"""Issue 4: the reference engine must manage at least this many patients a second."""


def measure(patients: int, seed: int = 0) -> float:
    """Patients per second for one run of ``patients`` over 365 days (default model)."""
    model = SimulationModel.default()
    simulate(model, n=200, seed=seed + 1, days=365, engine="reference")  # warm the caches
    start = time.perf_counter()
    result = simulate(model, n=patients, seed=seed, days=365, engine="reference")
    elapsed = time.perf_counter() - start
    assert len(result.stays) >= patients
    return patients / elapsed


def main(argv: list[str] | None = None) -> float:
    """Run the benchmark and print the figures; returns the best patients per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rates = []
    for i in range(args.repeat):
        rate = measure(args.patients, seed=i)
        rates.append(rate)
        print(f"reference engine, {args.patients} patients x 365 days: {rate:,.0f} patients/s")
    best = max(rates)
    verdict = "ok" if best >= TARGET else "BELOW TARGET"
    print(f"best: {best:,.0f} patients/s (target {TARGET:,.0f}): {verdict}")
    return best


if __name__ == "__main__":
    main()
