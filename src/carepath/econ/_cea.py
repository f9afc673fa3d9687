"""Cost-effectiveness analysis: the frontier, ICERs, net monetary benefit, CEAC, CEAF, EVPI.

Every figure is a reduction of the ``(strategy, sample)`` arrays of
:class:`~carepath.econ.Outcomes`, computed with numpy over all samples and
willingness-to-pay values at once (no Python loop over samples).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from ._table import (
    F64,
    InvalidAnalysis,
    Outcomes,
    interval_bounds,
    nan_safe_ratio,
    outcomes_of,
    wtp_values,
)

if TYPE_CHECKING:
    from ._voi import EVPPI

__all__ = ["CEA", "Status", "cea", "icers"]

Status = Literal["ND", "ED", "D"]
"""A strategy's place relative to the efficient frontier, as dampack labels it:
``ND`` on the frontier (non-dominated), ``ED`` extendedly dominated, ``D`` dominated."""

_ORDER: Final = {"ND": 0, "ED": 1, "D": 2}


def icers(
    cost: Sequence[float] | F64, qalys: Sequence[float] | F64, strategies: Sequence[str]
) -> pd.DataFrame:
    """The efficient frontier and its ICERs, from each strategy's mean cost and QALYs.

    As dampack's ``calculate_icers``: strategies are ordered by cost (then by QALYs,
    most first); one is dominated (``D``) when a strategy that costs no more gives at
    least as many QALYs (of two identical strategies the later one is dominated);
    among the rest, one is extendedly dominated (``ED``) when its ICER exceeds the next
    strategy's, repeated until the ICERs increase along the frontier (``ND``; equal
    ICERs are kept). Incremental cost, QALYs and the ICER compare each frontier
    strategy with the previous one on the frontier; the first has none.

    Returns:
        One row per strategy: ``strategy``, ``cost``, ``qalys``, ``inc_cost``,
        ``inc_qalys``, ``icer``, ``status``; frontier strategies first by cost, then
        ``ED``, then ``D``.

    >>> icers([0, 10, 25], [1.0, 1.2, 1.3], ["a", "b", "c"])[["strategy", "icer", "status"]]
      strategy    icer status
    0        a     NaN     ND
    1        b    50.0     ND
    2        c   150.0     ND
    """
    c = np.asarray(cost, dtype=np.float64).reshape(-1)
    e = np.asarray(qalys, dtype=np.float64).reshape(-1)
    names = [str(s) for s in strategies]
    if not (c.size == e.size == len(names)) or c.size == 0:
        raise InvalidAnalysis(
            field="strategies",
            problem="cost, qalys and strategies must be non-empty and of the same length",
        )
    if len(set(names)) != len(names):
        raise InvalidAnalysis(field="strategies", problem="strategy names must be distinct")
    if not (np.isfinite(c).all() and np.isfinite(e).all()):
        raise InvalidAnalysis(field="cost", problem="costs and QALYs must be finite numbers")
    order = np.lexsort((-e, c))  # by cost, then most QALYs first; stable on full ties
    status: dict[int, str] = {}
    best = -np.inf
    for i in order:
        if e[i] <= best:
            status[int(i)] = "D"
        else:
            best = e[i]
    frontier = [int(i) for i in order if int(i) not in status]
    while len(frontier) > 2:
        slopes = [nan_safe_ratio(c[b] - c[a], e[b] - e[a]) for a, b in itertools.pairwise(frontier)]
        extended = {frontier[j + 1] for j in range(len(slopes) - 1) if slopes[j] > slopes[j + 1]}
        if not extended:
            break
        for i in extended:
            status[i] = "ED"
        frontier = [i for i in frontier if i not in extended]
    rows: list[dict[str, Any]] = []
    for j, i in enumerate(frontier):
        prev = frontier[j - 1] if j else None
        dc = c[i] - c[prev] if prev is not None else np.nan
        de = e[i] - e[prev] if prev is not None else np.nan
        rows.append(
            {
                "strategy": names[i],
                "cost": c[i],
                "qalys": e[i],
                "inc_cost": dc,
                "inc_qalys": de,
                "icer": nan_safe_ratio(dc, de) if prev is not None else np.nan,
                "status": "ND",
            }
        )
    rest = sorted(status, key=lambda i: (_ORDER[status[i]], c[i], -e[i], i))
    rows.extend(
        {
            "strategy": names[i],
            "cost": c[i],
            "qalys": e[i],
            "inc_cost": np.nan,
            "inc_qalys": np.nan,
            "icer": np.nan,
            "status": status[i],
        }
        for i in rest
    )
    return pd.DataFrame.from_records(rows)


@final
@attrs.frozen(kw_only=True, eq=False)
class CEA:
    """A cost-effectiveness analysis: every figure a reduction of :attr:`outcomes`.

    Attributes:
        outcomes: The per-strategy, per-sample mean cost and QALYs per patient
            (:meth:`Outcomes.table` gives the tidy table).
        wtp: The willingness-to-pay values (per QALY) of the curves, ascending.
        interval: The level of the intervals across samples (0.95: 2.5% to 97.5%).
        summary: Per strategy: ``cost``, ``cost_low``, ``cost_high``, ``qalys``,
            ``qalys_low``, ``qalys_high`` (means and intervals across samples).
        frontier: :func:`icers` of the strategies' mean costs and QALYs.
        nmb: Expected net monetary benefit ``wtp * qalys - cost``, index ``wtp``, one
            column per strategy.
        ceac: Cost-effectiveness acceptability curves: the share of samples in which
            each strategy has the highest net monetary benefit (index ``wtp``; every
            row sums to 1; a tie goes to the strategy listed first).
        ceaf: The acceptability frontier: per ``wtp``, the ``strategy`` with the
            highest expected net monetary benefit and its ``probability`` on the CEAC.
        evpi: Expected value of perfect information per patient, index ``wtp``:
            ``mean over samples of max NMB - max of mean NMB``.
        comparator: The strategy ``pairwise`` compares with, if one was given.
        pairwise: With a comparator, per other strategy: mean ``inc_cost`` and
            ``inc_qalys`` with intervals across samples and the ``icer`` of the means.
    """

    outcomes: Outcomes
    wtp: F64
    interval: float
    summary: pd.DataFrame
    frontier: pd.DataFrame
    nmb: pd.DataFrame
    ceac: pd.DataFrame
    ceaf: pd.DataFrame
    evpi: pd.Series
    comparator: str | None = None
    pairwise: pd.DataFrame | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The tidy per-strategy, per-sample table (``strategy, sample, cost, qalys``)."""
        return self.outcomes.table()

    def evppi(self, parameters: Sequence[str], *, wtp: object = None) -> EVPPI:
        """:func:`carepath.econ.evppi` of a group of this analysis's parameters."""
        from ._voi import evppi  # noqa: PLC0415  # the regression lives with the VOI code

        return evppi(self.outcomes, parameters, wtp=self.wtp if wtp is None else wtp)

    def plot_ce_plane(self, *, wtp: float | None = None) -> Any:
        """:func:`carepath.econ.plot_ce_plane` of this analysis."""
        from ._plots import plot_ce_plane  # noqa: PLC0415  # plotly only when plotting

        return plot_ce_plane(self, wtp=wtp)

    def plot_ceac(self) -> Any:
        """:func:`carepath.econ.plot_ceac` of this analysis."""
        from ._plots import plot_ceac  # noqa: PLC0415

        return plot_ceac(self)

    def plot_evpi(self) -> Any:
        """:func:`carepath.econ.plot_evpi` of this analysis."""
        from ._plots import plot_evpi  # noqa: PLC0415

        return plot_evpi(self)


def _nmb(outcomes: Outcomes, wtp: F64) -> npt.NDArray[np.float64]:
    """Net monetary benefit per (wtp, strategy, sample)."""
    return wtp[:, None, None] * outcomes.qalys[None, :, :] - outcomes.cost[None, :, :]


def cea(
    results: object,
    *,
    wtp: object,
    comparator: str | None = None,
    interval: float = 0.95,
    parameters: pd.DataFrame | None = None,
) -> CEA:
    """Cost-effectiveness analysis of several strategies.

    Args:
        results: A tidy table with columns ``strategy``, ``sample`` (optional: one
            sample), ``cost`` and ``qalys`` (mean per patient), an
            :class:`Outcomes`, or strategies simulated on common random numbers
            (:func:`carepath.sim.compare` given a mapping of strategies).
        wtp: Willingness-to-pay value(s) per QALY for the net monetary benefit and
            the curves (e.g. ``numpy.linspace(0, 100_000, 201)``).
        comparator: A strategy to compare every other one with (``pairwise``).
        interval: Level of the intervals across samples.
        parameters: Parameter values per sample (index ``sample``) for EVPPI, when
            ``results`` is a table (simulated strategies carry their own).

    >>> import pandas as pd
    >>> table = pd.DataFrame({"strategy": ["a", "a", "b", "b"], "sample": [0, 1, 0, 1],
    ...                       "cost": [100.0, 120.0, 300.0, 260.0],
    ...                       "qalys": [0.50, 0.52, 0.55, 0.60]})
    >>> result = cea(table, wtp=[0, 2_000, 10_000])
    >>> result.ceac.round(2).to_dict("list")
    {'a': [1.0, 0.5, 0.0], 'b': [0.0, 0.5, 1.0]}
    """
    out = outcomes_of(results, parameters)
    grid = wtp_values(wtp)
    low, high = interval_bounds(interval)
    names = list(out.strategies)
    index = pd.Index(names, name="strategy")
    summary = pd.DataFrame(
        {
            "cost": out.cost.mean(axis=1),
            "cost_low": np.quantile(out.cost, low, axis=1),
            "cost_high": np.quantile(out.cost, high, axis=1),
            "qalys": out.qalys.mean(axis=1),
            "qalys_low": np.quantile(out.qalys, low, axis=1),
            "qalys_high": np.quantile(out.qalys, high, axis=1),
        },
        index=index,
    )
    frontier = icers(summary["cost"].to_numpy(), summary["qalys"].to_numpy(), names)
    nmb = _nmb(out, grid)  # (wtp, strategy, sample)
    expected = nmb.mean(axis=2)
    w_index = pd.Index(grid, name="wtp")
    n_s, n_k = out.cost.shape
    best = nmb.argmax(axis=1)  # (wtp, sample): the first of tied maxima
    best += (np.arange(grid.size) * n_s)[:, None]
    counts = np.bincount(best.reshape(-1), minlength=grid.size * n_s).reshape(grid.size, n_s)
    ceac = pd.DataFrame(counts / n_k, index=w_index, columns=names)
    optimal = expected.argmax(axis=1)
    ceaf = pd.DataFrame(
        {
            "strategy": [names[i] for i in optimal],
            "probability": ceac.to_numpy()[np.arange(grid.size), optimal],
        },
        index=w_index,
    )
    evpi = pd.Series(
        np.maximum(nmb.max(axis=1).mean(axis=1) - expected.max(axis=1), 0.0),
        index=w_index,
        name="evpi",
    )
    pairwise = None
    if comparator is not None:
        if comparator not in names:
            raise InvalidAnalysis(
                field="comparator",
                problem=f"{comparator!r} is not a strategy; known: " + ", ".join(names),
            )
        ref = names.index(comparator)
        others = [i for i in range(n_s) if i != ref]
        dc = out.cost[others] - out.cost[ref]
        de = out.qalys[others] - out.qalys[ref]
        mc, me = dc.mean(axis=1), de.mean(axis=1)
        pairwise = pd.DataFrame(
            {
                "inc_cost": mc,
                "inc_cost_low": np.quantile(dc, low, axis=1),
                "inc_cost_high": np.quantile(dc, high, axis=1),
                "inc_qalys": me,
                "inc_qalys_low": np.quantile(de, low, axis=1),
                "inc_qalys_high": np.quantile(de, high, axis=1),
                "icer": [nan_safe_ratio(a, b) for a, b in zip(mc, me, strict=True)],
            },
            index=pd.Index([names[i] for i in others], name="strategy"),
        )
    return CEA(
        outcomes=out,
        wtp=grid,
        interval=float(interval),
        summary=summary,
        frontier=frontier,
        nmb=pd.DataFrame(expected, index=w_index, columns=names),
        ceac=ceac,
        ceaf=ceaf,
        evpi=evpi,
        comparator=comparator,
        pairwise=pairwise,
    )
