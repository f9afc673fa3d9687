"""Running a model: :func:`simulate` and scenario comparison with :func:`compare`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, final

import attrs
import numpy as np
import pandas as pd

from carepath import __version__
from carepath._errors import InvalidParameter

from ._engine import Rows, Tables, run
from ._model import MAX_DAYS, AssessedCohort, SimulationModel
from ._random import MAX_PATIENTS
from ._result import SimulationResult

__all__ = ["Comparison", "compare", "simulate"]

_MASK: Final = (1 << 64) - 1

# Two-sided 95% quantiles of Student's t by degrees of freedom.
_T975: Final = (
    math.nan, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)


def _t975(df: int) -> float:
    if df < len(_T975):
        return _T975[df]
    if df <= 40:
        return 2.021
    if df <= 60:
        return 2.000
    if df <= 120:
        return 1.980
    return 1.960


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(parameter=name,
                               problem=f"expected a whole number, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidParameter(parameter=name,
                               problem=f"{value} is out of range; allowed {low} to {high}")
    return value


def simulate(
    model: SimulationModel,
    *,
    n: int | None = None,
    seed: int = 0,
    days: int | None = None,
    first_patient: int = 0,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Simulate ``n`` patients through the model's pathway with the reference engine.

    Args:
        model: The pathway and parameters.
        n: Number of patients; defaults to the cohort's size for the caller's own
            assessments, else 1,000.
        seed: Any integer in 0 .. 2**64 - 1. The same seed gives identical tables.
        days: The horizon; defaults to ``model.days``.
        first_patient: Index of the first patient. Patients are numbered, and their
            random numbers keyed, by index, so simulating ``[0, n)`` in one run or as
            ``[0, k)`` and ``[k, n)`` (``first_patient=k``) gives the same rows.
        progress: Called with the number of patients just finished, after every
            block of patients.

    >>> from carepath.sim import SimulationModel, simulate
    >>> result = simulate(SimulationModel.default(), n=50, seed=7, days=90)
    >>> sorted(result.stays.columns)
    ['end_day', 'episode', 'exit', 'level', 'patient', 'start_day']
    """
    if not isinstance(model, SimulationModel):
        raise TypeError(f"expected a SimulationModel, got {type(model).__name__}")
    if n is None:
        n = len(model.cohort.profiles) if isinstance(model.cohort, AssessedCohort) else 1000
    n = _whole("n", n, 0, MAX_PATIENTS)
    seed = _whole("seed", seed, 0, _MASK)
    days = _whole("days", model.days if days is None else days, 1, MAX_DAYS)
    first_patient = _whole("first_patient", first_patient, 0, MAX_PATIENTS - n)
    tab = Tables(model, days)
    rows = Rows()
    run(tab, seed, first_patient, n, rows, progress)
    from ._result import _frames  # noqa: PLC0415  # keeps the public module surface small

    events, stays = _frames(rows, tab)
    p = model.pathway
    metadata = {
        "engine": "reference",
        "seed": seed,
        "n": n,
        "first_patient": first_patient,
        "days": days,
        "carepath_version": __version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "pathway": {"id": p.id, "version": p.version, "content_hash": p.content_hash},
        "model": model.parameters(),
    }
    return SimulationResult(events=events, stays=stays, metadata=metadata, model=model)


@final
@attrs.frozen(kw_only=True, eq=False)
class Comparison:
    """Two scenarios on common random numbers, with differences over replications.

    Attributes:
        table: One row per statistic (index ``metric``): ``a`` and ``b`` (means over
            replications), ``difference`` (mean of ``b - a``), ``ci_low`` and
            ``ci_high`` (95% t interval of the mean difference; NaN with one
            replication).
        replications: Per replication and statistic: ``a``, ``b``, ``difference``.
        n: Patients per replication.
        seed: Replication ``r`` ran both models with seed ``seed + r``.
    """

    table: pd.DataFrame
    replications: pd.DataFrame
    n: int
    seed: int

    def __str__(self) -> str:
        return str(self.table.to_string(float_format=lambda x: f"{x:.4f}"))


def compare(
    model_a: SimulationModel,
    model_b: SimulationModel,
    *,
    n: int = 1000,
    seed: int = 0,
    replications: int = 10,
    days: int | None = None,
) -> Comparison:
    """Run two models on common random numbers and report ``b - a`` with 95% intervals.

    Replication ``r`` simulates both models with seed ``seed + r``: patient ``i``
    draws the same numbers for the same purpose in both, so the difference
    reflects the scenarios, not the luck of the draw.
    """
    replications = _whole("replications", replications, 1, 10_000)
    seed = _whole("seed", seed, 0, _MASK - replications)
    records: list[dict[str, object]] = []
    for r in range(replications):
        ma = simulate(model_a, n=n, seed=seed + r, days=days).summary().metrics()
        mb = simulate(model_b, n=n, seed=seed + r, days=days).summary().metrics()
        for metric in dict.fromkeys([*ma, *mb]):
            a, b = ma.get(metric, math.nan), mb.get(metric, math.nan)
            records.append({"replication": r, "metric": metric, "a": a, "b": b,
                            "difference": b - a})
    reps = pd.DataFrame.from_records(records)
    order = list(dict.fromkeys(reps["metric"]))
    g = reps.groupby("metric", sort=False)
    mean = g[["a", "b", "difference"]].mean().reindex(order)
    sd = g["difference"].std(ddof=1).reindex(order)
    count = g["difference"].count().reindex(order)
    half = pd.Series(
        [_t975(int(k) - 1) * s / math.sqrt(k) if k > 1 else math.nan
         for k, s in zip(count, sd, strict=True)],
        index=order,
    )
    table = mean.assign(ci_low=mean["difference"] - half, ci_high=mean["difference"] + half)
    table.index.name = "metric"
    return Comparison(table=table, replications=reps, n=n, seed=seed)
