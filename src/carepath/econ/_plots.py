"""Plots of a cost-effectiveness analysis (plotly, extra ``viz``; imported when called).

Each returns a ``plotly.graph_objects.Figure``; export it with
:func:`carepath.explore.to_png` / ``to_svg`` like carepath's other figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._table import InvalidAnalysis

if TYPE_CHECKING:
    from ._cea import CEA
    from ._dsa import OneWay

__all__ = ["plot_ce_plane", "plot_ceac", "plot_evpi", "plot_tornado"]


def _go() -> Any:
    try:
        import plotly.graph_objects as go  # noqa: PLC0415  # extra 'viz', imported when used
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise InvalidAnalysis(
            field="plotly", problem="plots need the 'viz' extra: pip install 'carepath[viz]'"
        ) from exc
    return go


def plot_ce_plane(result: CEA, *, wtp: float | None = None) -> Any:
    """The cost-effectiveness plane: every sample's QALYs and cost per strategy, the
    strategies' means, the efficient frontier, and a willingness-to-pay line through
    the cheapest frontier strategy when ``wtp`` is given."""
    go = _go()
    fig = go.Figure()
    out = result.outcomes
    for i, name in enumerate(out.strategies):
        fig.add_trace(
            go.Scatter(
                x=out.qalys[i],
                y=out.cost[i],
                mode="markers",
                name=name,
                marker={"size": 4, "opacity": 0.35},
                legendgroup=name,
            )
        )
    f = result.frontier
    on = f[f["status"] == "ND"]
    fig.add_trace(
        go.Scatter(
            x=on["qalys"],
            y=on["cost"],
            mode="lines+markers",
            name="efficient frontier",
            line={"color": "black"},
            marker={"size": 10, "symbol": "diamond"},
        )
    )
    off = f[f["status"] != "ND"]
    if len(off):
        fig.add_trace(
            go.Scatter(
                x=off["qalys"],
                y=off["cost"],
                mode="markers",
                name="dominated (D) / extendedly (ED)",
                text=[f"{s} ({t})" for s, t in zip(off["strategy"], off["status"], strict=True)],
                marker={"size": 10, "symbol": "x", "color": "grey"},
            )
        )
    if wtp is not None and len(on):
        x0, y0 = float(on["qalys"].iloc[0]), float(on["cost"].iloc[0])
        xs = [float(out.qalys.min()), float(out.qalys.max())]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[y0 + wtp * (x - x0) for x in xs],
                mode="lines",
                name=f"WTP {wtp:,.0f} per QALY",
                line={"dash": "dash", "color": "grey"},
            )
        )
    fig.update_layout(
        title="Cost-effectiveness plane",
        xaxis_title="QALYs per patient",
        yaxis_title="Cost per patient",
    )
    return fig


def plot_ceac(result: CEA) -> Any:
    """Acceptability curves of every strategy and the acceptability frontier."""
    go = _go()
    fig = go.Figure()
    for name in result.ceac.columns:
        fig.add_trace(go.Scatter(x=result.wtp, y=result.ceac[name], mode="lines", name=str(name)))
    fig.add_trace(
        go.Scatter(
            x=result.wtp,
            y=result.ceaf["probability"],
            mode="markers",
            name="acceptability frontier",
            text=result.ceaf["strategy"],
            marker={"size": 5, "color": "black"},
        )
    )
    fig.update_layout(
        title="Cost-effectiveness acceptability",
        xaxis_title="Willingness to pay per QALY",
        yaxis_title="Probability cost-effective",
        yaxis_range=[0, 1],
    )
    return fig


def plot_evpi(result: CEA) -> Any:
    """The expected value of perfect information per patient over willingness to pay."""
    go = _go()
    fig = go.Figure(go.Scatter(x=result.wtp, y=result.evpi, mode="lines", name="EVPI"))
    fig.update_layout(
        title="Expected value of perfect information",
        xaxis_title="Willingness to pay per QALY",
        yaxis_title="EVPI per patient",
    )
    return fig


def plot_tornado(result: OneWay) -> Any:
    """A tornado diagram of a one-way analysis: per parameter, the measure at its low
    and high values as bars from the base value (widest swing on top)."""
    go = _go()
    t = result.tornado.iloc[::-1]
    names = [str(p) for p in t.index]
    fig = go.Figure()
    for column, label in (("at_low", "low value"), ("at_high", "high value")):
        fig.add_trace(
            go.Bar(
                y=names,
                x=t[column] - result.base,
                base=result.base,
                orientation="h",
                name=label,
                customdata=t[column.replace("at_", "")],
                hovertemplate="%{y}=%{customdata}: %{x}<extra></extra>",
            )
        )
    what = "net monetary benefit" if result.measure == "nmb" else "ICER"
    vs = f" vs {result.comparator}" if result.comparator else ""
    fig.update_layout(
        title=f"One-way sensitivity: {what} of {result.strategy}{vs}",
        barmode="overlay",
        xaxis_title=what,
    )
    return fig
