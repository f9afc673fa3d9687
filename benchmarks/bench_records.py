"""Records, measures and fit benchmarks, each against a baseline timed in the same run.

Run: ``.venv/bin/python benchmarks/bench_records.py [--quick]``.

1. ``measures()`` on 1,000,000 simulated patients x 365 days (about 2,000,000 stays).
   Target: under 5 s. Baseline: one pandas pass over the same stays (sorting them by
   patient and start, then counting stays per level and exit), the least any
   table-reading measure could cost.
2. ``fit()`` on records of about 30,000 episodes (about 45,000 to 70,000 stays: the
   default model's episodes have about 1.5 to 2.3 stays), built by ``records()`` from
   the episodes a simulation replays (the replay is not timed; ``records()`` is shown
   on its own line). Target: under 2 s on one core. Baseline: the same pandas pass over
   those stays.

Every figure is the fastest of three runs. The load average of the (shared) machine is
printed before and after: figures taken under load are not comparable.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from carepath.sim import SimulationModel, fit, measures, records, simulate

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def fastest(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def baseline(stays: pd.DataFrame) -> None:
    ordered = stays.sort_values(["patient", "start_day"], kind="stable")
    ordered.groupby(["level", "exit"], observed=True).size()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    n = 1_000_000 // scale
    result = simulate(SimulationModel.default(), n=n, seed=1, days=365)
    stays = result.stays
    measures(result)  # first call: imports, caches
    took = fastest(lambda: measures(result))
    base = fastest(lambda: baseline(stays))
    print(
        f"1. measures(): {n:,} patients, {len(stays):,} stays: {took:.2f} s "
        f"(baseline pandas pass {base:.2f} s, ratio {took / base:.1f}x; target < 5 s)"
    )

    n2 = 20_000 // scale
    small = simulate(SimulationModel.default(), n=n2, seed=2, days=365)
    episodes = [ep for i in range(n2) for ep in small.replay(i)]
    until = EPOCH + timedelta(days=365)
    took_records = fastest(lambda: records(episodes, until=until))
    care = records(episodes, until=until)
    took_fit = fastest(lambda: fit(care))
    base2 = fastest(lambda: baseline(care.stays))
    print(
        f"2. fit(): {len(episodes):,} episodes, {len(care.stays):,} stays: {took_fit:.2f} s "
        f"(baseline pandas pass {base2:.3f} s, ratio {took_fit / base2:.0f}x; target < 2 s); "
        f"records() from the episodes: {took_records:.2f} s"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
