"""Deterministic sensitivity analysis: one-way (tornado) and two-way (grid).

The model is any function from parameter values to each strategy's mean cost and
QALYs (:data:`Evaluate`); :func:`simulated` makes one from carepath strategies,
and :func:`ranges` takes each parameter's range from its distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, final

import attrs
import numpy as np
import pandas as pd

from ._table import InvalidAnalysis, nan_safe_ratio, outcomes_of

__all__ = ["Evaluate", "OneWay", "TwoWay", "one_way", "ranges", "simulated", "two_way"]

Evaluate = Callable[[Mapping[str, float]], pd.DataFrame]
"""A model: parameter values (name to value; others at their base) to a table with
one row per strategy and columns ``strategy``, ``cost``, ``qalys``."""

Measure = Literal["nmb", "icer"]


@final
@attrs.frozen(kw_only=True, eq=False)
class OneWay:
    """A one-way sensitivity analysis.

    Attributes:
        runs: Every evaluation: ``parameter``, ``bound`` (``low``, ``base``,
            ``high``), ``value``, ``strategy``, ``cost``, ``qalys``, ``nmb``.
        tornado: Per parameter (widest swing first): ``low`` and ``high`` (its
            values), ``at_low``, ``at_high`` (the measure there), ``swing``.
        base: The measure with every parameter at its base.
        measure: ``"nmb"`` (net monetary benefit of ``strategy``, incremental to
            ``comparator`` if one was given) or ``"icer"`` (of ``strategy`` against
            ``comparator``).
        wtp: The willingness to pay per QALY of the net monetary benefit.
        strategy: The strategy measured.
        comparator: The strategy compared with, if any.
    """

    runs: pd.DataFrame
    tornado: pd.DataFrame
    base: float
    measure: Measure
    wtp: float
    strategy: str
    comparator: str | None

    def plot(self) -> Any:
        """:func:`carepath.econ.plot_tornado` of this analysis."""
        from ._plots import plot_tornado  # noqa: PLC0415  # plotly only when plotting

        return plot_tornado(self)


@final
@attrs.frozen(kw_only=True, eq=False)
class TwoWay:
    """A two-way sensitivity analysis over a grid of two parameters.

    Attributes:
        runs: Every evaluation: the two parameters' values (columns named after them),
            ``strategy``, ``cost``, ``qalys``, ``nmb``.
        best: The strategy with the highest net monetary benefit at each grid point
            (index the first parameter's values, columns the second's).
        wtp: The willingness to pay per QALY.
    """

    runs: pd.DataFrame
    best: pd.DataFrame
    wtp: float


def _wtp(wtp: object) -> float:
    if isinstance(wtp, bool) or not isinstance(wtp, int | float) or not np.isfinite(wtp) or wtp < 0:
        raise InvalidAnalysis(field="wtp", problem=f"expected one number >= 0, got {wtp!r}")
    return float(wtp)


def _evaluate(evaluate: Evaluate, values: Mapping[str, float], wtp: float) -> pd.DataFrame:
    frame = evaluate(dict(values))
    out = outcomes_of(frame)
    return pd.DataFrame(
        {
            "strategy": list(out.strategies),
            "cost": out.cost[:, 0],
            "qalys": out.qalys[:, 0],
            "nmb": wtp * out.qalys[:, 0] - out.cost[:, 0],
        }
    )


def _measure(frame: pd.DataFrame, measure: Measure, strategy: str, comparator: str | None) -> float:
    rows = frame.set_index("strategy")
    for name in (strategy, comparator):
        if name is not None and name not in rows.index:
            raise InvalidAnalysis(
                field="strategy", problem=f"{name!r} is not a strategy the model returned"
            )
    if measure == "nmb":
        value = float(rows.loc[strategy, "nmb"])
        return value - float(rows.loc[comparator, "nmb"]) if comparator is not None else value
    assert comparator is not None
    return nan_safe_ratio(
        float(rows.loc[strategy, "cost"] - rows.loc[comparator, "cost"]),
        float(rows.loc[strategy, "qalys"] - rows.loc[comparator, "qalys"]),
    )


def one_way(
    evaluate: Evaluate,
    ranges: Mapping[str, tuple[float, float, float]],
    *,
    wtp: float,
    strategy: str,
    comparator: str | None = None,
    measure: Measure = "nmb",
) -> OneWay:
    """Move each parameter alone to its low and high value, the others at their base.

    Args:
        evaluate: The model (:data:`Evaluate`; :func:`simulated` for carepath models).
        ranges: Parameter name to ``(low, base, high)`` (:func:`ranges` gives them
            from distributions' intervals).
        wtp: Willingness to pay per QALY.
        strategy: The strategy whose net monetary benefit (or ICER) is measured.
        comparator: Measure ``strategy`` against this one (required for ``"icer"``).
        measure: ``"nmb"`` or ``"icer"``.
    """
    w = _wtp(wtp)
    if measure not in ("nmb", "icer"):
        raise InvalidAnalysis(field="measure", problem=f"{measure!r}; allowed nmb, icer")
    if measure == "icer" and comparator is None:
        raise InvalidAnalysis(field="comparator", problem="an ICER needs a comparator")
    if not ranges:
        raise InvalidAnalysis(field="ranges", problem="give at least one parameter")
    base_values = {}
    for name, bounds in ranges.items():
        if len(bounds) != 3 or not bounds[0] <= bounds[1] <= bounds[2]:
            raise InvalidAnalysis(
                field=f"ranges[{name!r}]",
                problem="expected (low, base, high) with low <= base <= high",
            )
        base_values[name] = float(bounds[1])
    base_frame = _evaluate(evaluate, base_values, w)
    base = _measure(base_frame, measure, strategy, comparator)
    frames = [base_frame.assign(parameter="", bound="base", value=np.nan)]
    rows: list[dict[str, Any]] = []
    for name, (low, _, high) in ranges.items():
        at: dict[str, float] = {}
        for bound, value in (("low", low), ("high", high)):
            f = _evaluate(evaluate, {**base_values, name: float(value)}, w)
            frames.append(f.assign(parameter=name, bound=bound, value=float(value)))
            at[bound] = _measure(f, measure, strategy, comparator)
        rows.append(
            {
                "parameter": name,
                "low": float(low),
                "high": float(high),
                "at_low": at["low"],
                "at_high": at["high"],
                "swing": abs(at["high"] - at["low"]),
            }
        )
    tornado = (
        pd.DataFrame.from_records(rows)
        .sort_values("swing", ascending=False, kind="stable")
        .set_index("parameter")
    )
    runs = pd.concat(frames, ignore_index=True)[
        ["parameter", "bound", "value", "strategy", "cost", "qalys", "nmb"]
    ]
    return OneWay(
        runs=runs,
        tornado=tornado,
        base=base,
        measure=measure,
        wtp=w,
        strategy=strategy,
        comparator=comparator,
    )


def two_way(
    evaluate: Evaluate,
    first: tuple[str, Sequence[float]],
    second: tuple[str, Sequence[float]],
    *,
    wtp: float,
    base: Mapping[str, float] | None = None,
) -> TwoWay:
    """Evaluate the model over a grid of two parameters' values (others at ``base``)."""
    w = _wtp(wtp)
    (a, a_values), (b, b_values) = first, second
    if a == b:
        raise InvalidAnalysis(field="second", problem="choose two different parameters")
    frames = []
    for x in a_values:
        for y in b_values:
            f = _evaluate(evaluate, {**(base or {}), a: float(x), b: float(y)}, w)
            frames.append(f.assign(**{a: float(x), b: float(y)}))
    runs = pd.concat(frames, ignore_index=True)[[a, b, "strategy", "cost", "qalys", "nmb"]]
    top = runs.loc[runs.groupby([a, b], sort=False)["nmb"].idxmax()]
    best = top.pivot(index=a, columns=b, values="strategy")
    return TwoWay(runs=runs, best=best, wtp=w)


def ranges(
    model: Any, *, level: float = 0.95, bounds: Mapping[str, tuple[float, float]] | None = None
) -> dict[str, tuple[float, float, float]]:
    """``(low, mean, high)`` of every uncertain parameter of an
    :class:`~carepath.sim.UncertainModel`: the central interval of its distribution
    holding ``level``, or the caller's ``bounds``."""
    out: dict[str, tuple[float, float, float]] = {}
    for name in model.names():
        dist = model.distribution(name)
        low, high = bounds[name] if bounds and name in bounds else dist.interval(level)
        out[name] = (float(low), float(dist.mean), float(high))
    for name in bounds or {}:
        if name not in out:
            raise InvalidAnalysis(
                field=f"bounds[{name!r}]", problem="not an uncertain parameter of the model"
            )
    return out


def simulated(
    strategies: Mapping[str, Any], *, n: int = 1000, seed: int = 0, days: int | None = None
) -> Evaluate:
    """An :data:`Evaluate` that simulates each strategy (on common random numbers) with
    the given parameter values: an :class:`~carepath.sim.UncertainModel` is set to them
    (its other parameters at their means), a plain model is simulated as it is."""
    from carepath.sim import UncertainModel, compare  # noqa: PLC0415  # the sim extra

    def evaluate(values: Mapping[str, float]) -> pd.DataFrame:
        models = {
            name: m.with_values(values) if isinstance(m, UncertainModel) else m
            for name, m in strategies.items()
        }
        return compare(models, n=n, seed=seed, days=days).outcomes()

    return evaluate
