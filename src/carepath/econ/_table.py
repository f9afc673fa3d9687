"""The tidy (strategy, sample, cost, qalys) table every economic figure reduces.

Whatever the source (simulation results of several strategies, or a table built
elsewhere), the analysis starts from one row per strategy and parameter sample,
held here as two ``(strategies, samples)`` arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._errors import CarepathError

__all__ = ["InvalidAnalysis", "Outcomes", "outcomes_of", "wtp_values"]

F64 = npt.NDArray[np.float64]
COLUMNS: Final = ("strategy", "sample", "cost", "qalys")


class InvalidAnalysis(CarepathError, ValueError):
    """Input an economic analysis cannot use; ``field`` names it (``"table.cost"``,
    ``"wtp"``, ``"comparator"``), ``problem`` says what is wrong and what is allowed."""

    def __init__(self, *, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"economic analysis input {field!r}: {problem}")


@final
@attrs.frozen(kw_only=True, eq=False)
class Outcomes:
    """Mean cost and QALYs per patient for each strategy and parameter sample.

    Attributes:
        strategies: The strategies' names, in the order given.
        samples: The sample numbers (sorted).
        cost: Shape ``(strategies, samples)``.
        qalys: Shape ``(strategies, samples)``.
        parameters: Optional parameter values per sample (index ``sample``), for EVPPI.
    """

    strategies: tuple[str, ...]
    samples: npt.NDArray[np.int64]
    cost: F64
    qalys: F64
    parameters: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """The tidy table: one row per strategy and sample."""
        s, k = self.cost.shape
        return pd.DataFrame(
            {
                "strategy": pd.Categorical.from_codes(
                    np.repeat(np.arange(s), k), categories=list(self.strategies)
                ),
                "sample": np.tile(self.samples, s),
                "cost": self.cost.reshape(-1),
                "qalys": self.qalys.reshape(-1),
            }
        )


def _from_frame(frame: pd.DataFrame, parameters: pd.DataFrame | None) -> Outcomes:
    for column in ("strategy", "cost", "qalys"):
        if column not in frame.columns:
            hint = (
                "; a model without utilities reports costs only: give it utility and "
                "utility_out_of_care to count QALYs"
                if column == "qalys"
                else ""
            )
            raise InvalidAnalysis(
                field=f"table.{column}",
                problem="missing; the table needs columns strategy, sample, cost, qalys" + hint,
            )
    if len(frame) == 0:
        raise InvalidAnalysis(field="table", problem="the table has no rows")
    strategy = frame["strategy"]
    if isinstance(strategy.dtype, pd.CategoricalDtype):
        names = [str(c) for c in strategy.cat.categories if (strategy == c).any()]
        codes_of = {str(c): i for i, c in enumerate(names)}
        s_codes = np.array([codes_of[str(v)] for v in strategy.astype(str)], dtype=np.int64)
    else:
        s_codes, uniques = pd.factorize(strategy.astype(str), sort=False)
        names = [str(u) for u in uniques]
    sample = (
        frame["sample"].to_numpy() if "sample" in frame.columns else np.zeros(len(frame), np.int64)
    )
    if not np.issubdtype(np.asarray(sample).dtype, np.integer):
        raise InvalidAnalysis(field="table.sample", problem="expected whole numbers")
    k_codes, samples = pd.factorize(sample, sort=True)
    n_s, n_k = len(names), len(samples)
    if len(frame) != n_s * n_k:
        raise InvalidAnalysis(
            field="table",
            problem=f"{len(frame)} rows for {n_s} strategies x {n_k} samples; every "
            "strategy needs exactly one row per sample",
        )
    key = s_codes * n_k + k_codes
    if np.unique(key).size != key.size:
        raise InvalidAnalysis(
            field="table", problem="a (strategy, sample) pair appears more than once"
        )
    out: dict[str, F64] = {}
    for column in ("cost", "qalys"):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise InvalidAnalysis(
                field=f"table.{column}", problem="every value must be a finite number"
            )
        grid = np.empty(n_s * n_k, dtype=np.float64)
        grid[key] = values
        out[column] = grid.reshape(n_s, n_k)
    if parameters is not None:
        parameters = _parameters(parameters, np.asarray(samples, dtype=np.int64))
    return Outcomes(
        strategies=tuple(names),
        samples=np.asarray(samples, dtype=np.int64),
        cost=out["cost"],
        qalys=out["qalys"],
        parameters=parameters,
    )


def _parameters(frame: pd.DataFrame, samples: npt.NDArray[np.int64]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidAnalysis(
            field="parameters",
            problem=f"expected a DataFrame indexed by sample, got {type(frame).__name__}",
        )
    if "sample" in frame.columns:
        frame = frame.set_index("sample")
    missing = [int(s) for s in samples if s not in frame.index]
    if missing:
        raise InvalidAnalysis(
            field="parameters", problem=f"no row for sample(s) {missing[:5]} of the table"
        )
    return frame.loc[samples]


def outcomes_of(source: object, parameters: pd.DataFrame | None = None) -> Outcomes:
    """:class:`Outcomes` from a tidy table, an :class:`Outcomes`, or anything with an
    ``outcomes()`` method returning one (e.g. :class:`carepath.sim.Strategies`)."""
    if isinstance(source, Outcomes):
        if parameters is not None:
            return attrs.evolve(source, parameters=_parameters(parameters, source.samples))
        return source
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, parameters)
    method = getattr(source, "outcomes", None)
    if callable(method):
        got = method()
        if parameters is None:
            own = getattr(source, "parameters", None)
            parameters = own if isinstance(own, pd.DataFrame) else None
        if isinstance(got, Outcomes):
            return outcomes_of(got, parameters)
        if isinstance(got, pd.DataFrame):
            return _from_frame(got, parameters)
    if isinstance(source, Mapping):
        from carepath.sim import Strategies  # noqa: PLC0415  # the sim extra, imported on use

        return outcomes_of(Strategies.of(dict(source)), parameters)
    raise InvalidAnalysis(
        field="results",
        problem="expected a DataFrame with columns strategy, sample, cost, qalys, "
        f"or the simulated strategies (carepath.sim.Strategies), got {type(source).__name__}",
    )


def wtp_values(wtp: object) -> F64:
    """Willingness-to-pay values as a sorted array of finite numbers >= 0."""
    values: Any = [wtp] if isinstance(wtp, int | float) else wtp
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray | pd.Index):
        raise InvalidAnalysis(
            field="wtp", problem=f"expected a number or a sequence of numbers, got {wtp!r}"
        )
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidAnalysis(field="wtp", problem="expected numbers") from None
    if arr.size == 0 or not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidAnalysis(
            field="wtp", problem="expected at least one finite willingness to pay >= 0"
        )
    return np.unique(arr)


def interval_bounds(level: float) -> tuple[float, float]:
    """The lower and upper quantiles of a central interval of ``level``."""
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidAnalysis(field="interval", problem=f"{level!r} is not a level in (0, 1)")
    tail = (1.0 - float(level)) / 2.0
    return tail, 1.0 - tail


def nan_safe_ratio(num: float, den: float) -> float:
    """``num / den`` (inf with the sign of ``num`` over 0, NaN for 0 / 0)."""
    if den == 0:
        return math.nan if num == 0 else math.copysign(math.inf, num)
    return num / den
