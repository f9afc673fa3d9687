"""Static images of carepath's plots through matplotlib (no browser needed).

plotly's own static export (kaleido) needs Google Chrome. These functions
redraw the figures of :mod:`carepath.explore` (timeline, length of stay,
occupancy: bar, box and line/area traces) with matplotlib's Agg backend. A
Sankey diagram is refused: export it with ``fig.write_image`` where kaleido and
Chrome are available.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

from carepath._extras import require

from ._common import ExploreError

__all__ = ["to_png", "to_svg"]


def _seq(value: Any) -> list[Any]:
    return [] if value is None else list(value)


def _text(obj: Any) -> str:
    text = getattr(obj, "text", None)
    return "" if text is None else str(text)


def _draw(fig: Any, width: float, height: float, dpi: float) -> Any:
    figure = require("matplotlib.figure", extra="viz", needed_for="explore.to_png and to_svg")
    out = figure.Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
    ax = out.add_subplot()
    traces = list(getattr(fig, "data", ()))
    unsupported = sorted({t.type for t in traces if t.type not in {"bar", "box", "scatter"}})
    if unsupported:
        raise ExploreError(
            field="fig",
            problem=(
                f"cannot draw {', '.join(unsupported)} traces with matplotlib; use "
                "fig.write_image (kaleido, which needs Chrome) for those"
            ),
        )
    categories: dict[str, int] = {}
    yaxis = fig.layout.yaxis
    for c in _seq(getattr(yaxis, "categoryarray", None)):
        categories.setdefault(str(c), len(categories))

    def pos(value: Any) -> float:
        if isinstance(value, str):
            return float(categories.setdefault(value, len(categories)))
        return float(value)

    stack_x: list[float] = []
    stack_ys: list[list[float]] = []
    stack_colours: list[str] = []
    stack_labels: list[str] = []
    stack_hatches: list[str | None] = []
    boxes: list[tuple[list[float], str, str]] = []
    for t in traces:
        colour = getattr(t.marker, "color", None) if hasattr(t, "marker") else None
        if t.type == "bar":
            xs, ys = _seq(t.x), _seq(t.y)
            bases = _seq(t.base) or [0.0] * len(xs)
            if t.orientation == "h":
                ax.barh(
                    [pos(y) for y in ys],
                    [float(x) for x in xs],
                    left=[float(b) for b in bases],
                    color=colour,
                    edgecolor="#555555",
                    hatch=_hatch(getattr(t.marker, "pattern", None)),
                )
            else:
                ax.bar(
                    [pos(x) for x in xs],
                    [float(y) for y in ys],
                    bottom=[float(b) for b in bases],
                    color=colour,
                    edgecolor="#555555",
                )
        elif t.type == "box":
            boxes.append(([float(v) for v in _seq(t.y)], str(t.name or ""), colour or "#cccccc"))
        elif t.stackgroup:
            stack_x = [float(x) for x in _seq(t.x)]
            stack_ys.append([float(y) for y in _seq(t.y)])
            stack_colours.append(str(t.fillcolor or colour or "#cccccc"))
            stack_hatches.append(_hatch(getattr(t, "fillpattern", None)))
            stack_labels.append(str(t.name or ""))
        else:
            xs = [float(x) for x in _seq(t.x)]
            ys = [pos(y) for y in _seq(t.y)]
            marker = "D" if "markers" in (t.mode or "lines") else None
            linestyle = "-" if "lines" in (t.mode or "lines") else "none"
            ax.plot(xs, ys, marker=marker, linestyle=linestyle, color=colour)
            for x, y, label in zip(xs, ys, _seq(t.text), strict=False):
                ax.annotate(
                    str(label),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=7,
                )
    _finish(ax, fig, categories, stack_x, stack_ys, stack_colours, stack_labels, boxes)
    for area, hatch in zip(ax.collections, stack_hatches, strict=False):
        if hatch:
            area.set_hatch(hatch)
    if stack_ys:  # the legend again, with the hatches, top of the stack first
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="upper right", fontsize=7)
    return out


def _hatch(pattern: Any) -> str | None:
    """matplotlib's hatch for a plotly fill pattern (the same characters, doubled)."""
    shape = getattr(pattern, "shape", None)
    return str(shape) * 2 if shape else None


def _finish(
    ax: Any,
    fig: Any,
    categories: dict[str, int],
    stack_x: list[float],
    stack_ys: list[list[float]],
    stack_colours: list[str],
    stack_labels: list[str],
    boxes: list[tuple[list[float], str, str]],
) -> None:
    if stack_ys:
        ax.stackplot(stack_x, *stack_ys, colors=stack_colours, labels=stack_labels)
        ax.legend(loc="upper right", fontsize=7)
    if boxes:
        parts = ax.boxplot(
            [b[0] for b in boxes],
            patch_artist=True,
            tick_labels=[b[1] for b in boxes],
            showfliers=False,
        )
        for patch, (_, _, colour) in zip(parts["boxes"], boxes, strict=True):
            patch.set_facecolor(colour)
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    if categories:
        ax.set_yticks(list(categories.values()), list(categories))
    ax.set_title(_text(fig.layout.title))
    ax.set_xlabel(_text(fig.layout.xaxis.title))
    ax.set_ylabel(_text(fig.layout.yaxis.title))


def to_png(
    fig: Any, path: str | PathLike[str], *, width: int = 900, height: int = 500, dpi: int = 100
) -> None:
    """Write one of carepath's plotly figures to ``path`` as PNG (``width`` x ``height`` px).

    Raises:
        ExploreError: the figure has traces matplotlib cannot redraw (a Sankey).
    """
    _draw(fig, width, height, dpi).savefig(path, format="png", dpi=dpi)


def to_svg(fig: Any, path: str | PathLike[str], *, width: int = 900, height: int = 500) -> None:
    """Write one of carepath's plotly figures to ``path`` as SVG; see :func:`to_png`."""
    _draw(fig, width, height, 100).savefig(path, format="svg")
