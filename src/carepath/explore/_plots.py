"""Plots of episodes and simulated cohorts (plotly, extra ``viz``).

Each function returns a ``plotly.graph_objects.Figure``; plotly is imported
only when one is called. The cohort plots take any object with ``events`` and
``stays`` data frames (:class:`SimulationTables`), such as a
``carepath.sim.SimulationResult``.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final, TypeGuard

from carepath._extras import require
from carepath._levels import INTAKE, Outcome
from carepath._pathway import Pathway, standard_pathway

from ._common import (
    HIGHLIGHT,
    INTAKE_COLOUR,
    OUTCOME_COLOURS,
    SETTING_PATTERNS,
    ExploreError,
    SimulationTables,
    days_since,
    episode_stays,
    is_missing,
    level_colour,
    records,
)

if TYPE_CHECKING:
    from carepath._episode import Episode

__all__ = ["SimulationTables", "length_of_stay", "occupancy", "sankey", "timeline"]

_STAY_COLUMNS: Final = ("patient", "episode", "level", "start_day", "end_day", "exit")
_EVENT_COLUMNS: Final = ("patient", "episode", "day", "event", "from_level", "to_level")
_OUTCOMES: Final = {o.value: o for o in Outcome}
_OTHER_COLOUR: Final = "#cccccc"


def _go() -> Any:
    return require("plotly.graph_objects", extra="viz", needed_for="carepath.explore's plots")


def _pathway(pathway: Pathway | None, result: object) -> Pathway:
    """``pathway``, else the result's own ``pathway`` attribute, else the standard pathway."""
    field = "pathway"
    if pathway is None:
        pathway, field = getattr(result, "pathway", None), "result.pathway"
        if pathway is None:
            return standard_pathway()
    if not isinstance(pathway, Pathway):
        raise ExploreError(field=field, problem=f"expected a Pathway, got {type(pathway).__name__}")
    return pathway


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_count(value: object, field: str) -> int:
    if not _is_count(value):
        raise ExploreError(field=field, problem=f"expected a positive integer, got {value!r}")
    return value


def _metadata_count(result: object, key: str) -> int | None:
    """``result.metadata[key]`` when it is a positive integer."""
    metadata = getattr(result, "metadata", None)
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if _is_count(value) else None


def _samples(result: object, rows: list[dict[str, Any]]) -> int:
    """How many parameter samples a PSA result holds (1 without a ``sample`` column)."""
    if not rows or "sample" not in rows[0]:
        return 1
    return _metadata_count(result, "samples") or len({r["sample"] for r in rows})


def _names(pathway: Pathway) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Labels and colours by state, and the level codes least intensive first."""
    labels = {
        INTAKE: "Intake",
        **{lv.code: lv.name for lv in pathway.levels},
        **{o.value: o.value.replace("_", " ").capitalize() for o in Outcome},
    }
    colours = {
        INTAKE: INTAKE_COLOUR,
        **{lv.code: level_colour(lv, pathway) for lv in pathway.levels},
        **{o.value: OUTCOME_COLOURS[o] for o in Outcome},
    }
    return labels, colours, [lv.code for lv in pathway.levels]


def _pattern(pathway: Pathway, code: str) -> dict[str, Any]:
    """A level's setting as a fill pattern (none for an unknown state)."""
    levels = {lv.code: lv for lv in pathway.levels}
    shape = SETTING_PATTERNS[levels[code].setting] if code in levels else ""
    return {"shape": shape, "fgcolor": "#333333", "fgopacity": 0.35, "size": 7}


def _state(value: object) -> str:
    return INTAKE if is_missing(value) else str(value)


def sankey(
    result: SimulationTables,
    *,
    pathway: Pathway | None = None,
    by_step: bool = False,
    max_steps: int = 8,
    title: str = "Flows between levels of care",
) -> Any:
    """A Sankey diagram of the moves between levels in a simulated cohort.

    Built from the ``events`` table: every event that changes the state is a flow. By
    default each state is one node: intake on the left, the levels from the most
    intensive to the least, then the outcomes on the right, so step-downs and exits
    flow left to right and no level appears twice. Moves to a more intensive level
    (step-ups, relapses that step up) would flow backwards: they are counted in the
    subtitle, not drawn. With ``by_step=True`` each column is a step of the episode
    (admission, first move, ...) instead, so loops read left to right but a level
    appears once per step. Moves after ``max_steps`` are left out. Each node's full
    name is its hover text (``customdata``); long labels wrap. The pathway defaults
    to ``result.pathway`` when the result has one. With a ``sample`` column
    (``simulate(..., samples=K)``) each sample's episodes are kept apart and the flows
    add up over all K samples.

    Raises:
        ExploreError: ``pathway`` is not a Pathway or ``max_steps`` is not a positive integer.
    """
    _check_count(max_steps, "max_steps")
    go = _go()
    chosen = _pathway(pathway, result)
    labels, colours, order = _names(chosen)
    rank = {code: i for i, code in enumerate(order)}  # least intensive first
    rows = records(result.events, _EVENT_COLUMNS, name="events")
    by_episode: dict[tuple[str, str, str], list[tuple[float, int, str, str]]] = defaultdict(list)
    for i, r in enumerate(rows):
        src, dst = _state(r["from_level"]), _state(r["to_level"])
        if src != dst:
            sample = str(r.get("sample", ""))
            by_episode[(sample, str(r["patient"]), str(r["episode"]))].append(
                (float(r["day"]), i, src, dst)
            )
    nodes: dict[tuple[int, str], int] = {}
    if not by_step:  # every state once, in a fixed order: intake, levels, outcomes
        for state in (INTAKE, *reversed(order), *_OUTCOMES):
            nodes[(0, state)] = len(nodes)
    flows: dict[tuple[int, int], int] = defaultdict(int)
    upward = 0

    def node(step: int, state: str) -> int:
        key = (-1 if state in _OUTCOMES else step, state) if by_step else (0, state)
        if key not in nodes:
            nodes[key] = len(nodes)
        return nodes[key]

    for moves in by_episode.values():
        moves.sort()
        for step, (_, _, src, dst) in enumerate(moves):
            if step >= max_steps:
                break
            if not by_step and src in rank and dst in rank and rank[dst] > rank[src]:
                upward += 1
                continue
            flows[(node(step, src), node(step + 1, dst))] += 1
    keys = sorted(nodes, key=nodes.__getitem__)
    if not by_step:  # leave out states no flow touches
        touched = {i for pair in flows for i in pair}
        kept = [k for k in keys if nodes[k] in touched]
        renumber = {nodes[k]: j for j, k in enumerate(kept)}
        flows = {(renumber[s], renumber[t]): v for (s, t), v in flows.items()}
        keys = kept
    states = [state for _, state in keys]
    link_colour = [
        _rgba(colours.get(states[t] if states[t] in rank else states[s], _OTHER_COLOUR))
        for (s, t) in flows
    ]
    node_spec: dict[str, Any] = {
        "label": ["<br>".join(textwrap.wrap(labels.get(x, x), 16)) for x in states],
        "customdata": [labels.get(x, x) for x in states],
        "hovertemplate": "%{customdata}: %{value}<extra></extra>",
        "color": [colours.get(x, _OTHER_COLOUR) for x in states],
        "pad": 18,
        "line": {"color": "#333333", "width": 0.5},
    }
    if not by_step:
        node_spec["x"], node_spec["y"] = _sankey_positions(states, rank)
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node=node_spec,
            link={
                "source": [s for s, _ in flows],
                "target": [t for _, t in flows],
                "value": list(flows.values()),
                "color": link_colour,
            },
        )
    )
    text = title
    if upward:
        text += (
            f"<br><sup>Not drawn: {upward} move{'s' if upward != 1 else ''} to a more "
            "intensive level (step-ups, relapses)</sup>"
        )
    fig.update_layout(title={"text": text}, font={"size": 12})
    return fig


def _sankey_positions(states: list[str], rank: dict[str, int]) -> tuple[list[float], list[float]]:
    """Intake left, levels on a diagonal (most intensive top left), outcomes right."""
    levels = sorted((s for s in states if s in rank), key=lambda s: -rank[s])
    outcomes = [s for s in states if s in _OUTCOMES]
    xs, ys = [], []
    for s in states:
        if s in rank:
            i = levels.index(s)
            frac = i / max(1, len(levels) - 1)
            xs.append(0.12 + 0.72 * frac)
            ys.append(0.05 + 0.75 * frac)
        elif s in _OUTCOMES:
            xs.append(0.999)
            ys.append(0.1 + 0.8 * outcomes.index(s) / max(1, len(outcomes) - 1))
        else:
            xs.append(0.001)
            ys.append(0.45)
    return xs, ys


def _rgba(hex_colour: str, alpha: float = 0.45) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def occupancy(
    result: SimulationTables,
    *,
    pathway: Pathway | None = None,
    days: int | None = None,
    title: str = "Patients per level of care",
) -> Any:
    """Patients at each level on each day (a stacked area chart), from the ``stays`` table.

    A stay occupies days ``start_day`` to ``end_day - 1``; a stay with no ``end_day``
    counts through the last day shown. The chart shows days ``0`` to ``days - 1``: by
    default the result's horizon (``metadata["days"]``), else the last ``end_day`` in the
    table. A simulation's open stays end ``censored`` at the horizon, so they count on
    every day shown. With a ``sample`` column (``simulate(..., samples=K)``) each day
    shows the mean over the K parameter samples. The pathway defaults to
    ``result.pathway`` when the result has one.

    Raises:
        ExploreError: ``days`` is not a positive integer or ``pathway`` is not a Pathway.
    """
    if days is not None:
        _check_count(days, "days")
    go = _go()
    chosen = _pathway(pathway, result)
    labels, colours, order = _names(chosen)
    rows = records(result.stays, _STAY_COLUMNS, name="stays")
    shown = days if days is not None else _metadata_count(result, "days")
    if shown is None:
        last = 0.0
        for r in rows:
            last = max(last, float(r["start_day"]) + 1)
            if not is_missing(r["end_day"]):
                last = max(last, float(r["end_day"]))
        shown = max(1, math.ceil(last))
    k = _samples(result, rows)
    delta: dict[str, list[int]] = defaultdict(lambda: [0] * (shown + 1))
    for r in rows:
        first = max(0, math.ceil(float(r["start_day"])))
        end = shown if is_missing(r["end_day"]) else math.ceil(float(r["end_day"]))
        end = min(end, shown)
        if first < end:
            d = delta[str(r["level"])]
            d[first] += 1
            d[end] -= 1
    x = list(range(shown))
    fig = go.Figure()
    codes = [c for c in order if c in delta] + sorted(c for c in delta if c not in order)
    for code in codes:
        running = 0
        y: list[float] = []
        for v in delta[code][:shown]:
            running += v
            y.append(running / k if k > 1 else running)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=labels.get(code, code),
                mode="lines",
                stackgroup="levels",
                line={"width": 0.5, "color": colours.get(code, _OTHER_COLOUR)},
                fillcolor=colours.get(code, _OTHER_COLOUR),
                fillpattern=_pattern(chosen, code),
            )
        )
    y_title = "patients" if k == 1 else f"patients (mean of {k} parameter samples)"
    fig.update_layout(title={"text": title}, xaxis_title="day", yaxis_title=y_title)
    return fig


def length_of_stay(
    result: SimulationTables,
    *,
    pathway: Pathway | None = None,
    title: str = "Length of stay per level",
) -> Any:
    """The distribution of ended stays' lengths, one box per level.

    Open stays are left out: those with no ``end_day`` and, when the table has an ``exit``
    column, those that end ``censored`` at a simulation's horizon. The boxes therefore
    match ``result.summary().length_of_stay``. The pathway defaults to ``result.pathway``
    when the result has one.

    Raises:
        ExploreError: ``pathway`` is not a Pathway.
    """
    go = _go()
    labels, colours, order = _names(_pathway(pathway, result))
    rows = records(result.stays, _STAY_COLUMNS, name="stays")
    los: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if is_missing(r["end_day"]) or (not is_missing(r["exit"]) and str(r["exit"]) == "censored"):
            continue
        los[str(r["level"])].append(float(r["end_day"]) - float(r["start_day"]))
    fig = go.Figure()
    codes = [c for c in reversed(order) if c in los] + sorted(c for c in los if c not in order)
    for code in codes:
        fig.add_trace(
            go.Box(
                y=los[code],
                name=labels.get(code, code),
                boxpoints=False,
                marker={"color": colours.get(code, _OTHER_COLOUR)},
                line={"color": "#555555"},
                fillcolor=colours.get(code, _OTHER_COLOUR),
            )
        )
    fig.update_layout(title={"text": title}, yaxis_title="days", showlegend=False)
    return fig


def timeline(episode: Episode, *, title: str | None = None) -> Any:
    """An episode's stays as a Gantt-like chart, in days since it started.

    Bars are stays (coloured by setting); markers show events that kept the
    patient in place (reassessments, relapses treated in place) and the outcome.
    Shows no dates and no assessments.
    """
    go = _go()
    pathway = episode.pathway
    labels, colours, order = _names(pathway)
    stays = episode_stays(episode)
    now = days_since(episode.started_at, episode.last_at)
    fig = go.Figure()
    for code in order:
        mine = [s for s in stays if s.level.code == code]
        if not mine:
            continue
        ends = [s.end_day if s.end_day is not None else now for s in mine]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[labels[code]] * len(mine),
                x=[max(end - s.start_day, 0.05) for s, end in zip(mine, ends, strict=True)],
                base=[s.start_day for s in mine],
                name=labels[code],
                marker={
                    "color": colours[code],
                    "line": {"color": "#555555", "width": 1},
                    "pattern": _pattern(pathway, code),
                },
                hovertemplate="day %{base:.1f} to %{x:.1f} days later<extra>%{y}</extra>",
            )
        )
    marks_x, marks_y, marks_text = [], [], []
    for r in episode.history:
        if r.source == r.target or r.target in _OUTCOMES:
            level = r.source
            if level in labels and level != INTAKE:
                marks_x.append(days_since(episode.started_at, r.at))
                marks_y.append(labels[level])
                marks_text.append(r.event.value)
    if marks_x:
        fig.add_trace(
            go.Scatter(
                x=marks_x,
                y=marks_y,
                mode="markers+text",
                text=marks_text,
                textposition="top center",
                name="events",
                marker={"symbol": "diamond", "size": 10, "color": HIGHLIGHT},
            )
        )
    fig.update_layout(
        title={"text": title or f"Episode {episode.id}: {episode.state}"},
        xaxis_title="days since the episode started",
        yaxis={"categoryorder": "array", "categoryarray": [labels[c] for c in order]},
        barmode="overlay",
        showlegend=False,
    )
    return fig
