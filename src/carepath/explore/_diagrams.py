"""Diagrams of a pathway: Mermaid text (no dependencies) and graphviz (extra ``viz``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import attrs

from carepath._extras import require
from carepath._guards import Event
from carepath._levels import INTAKE, Outcome, Setting

from ._common import (
    HIGHLIGHT,
    INTAKE_COLOUR,
    OUTCOME_COLOURS,
    SETTING_COLOURS,
    ExploreError,
    state_colour,
    state_label,
)
from ._paths import _events

if TYPE_CHECKING:
    from carepath._episode import Episode
    from carepath._pathway import Pathway

__all__ = ["dot_available", "to_graphviz", "to_mermaid"]

_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)


@attrs.frozen
class _Edge:
    source: str
    target: str
    lines: tuple[str, ...]


@attrs.frozen
class _Highlight:
    visited: frozenset[str]
    current: str
    route: frozenset[tuple[str, str]]


def _edges(pathway: Pathway, guards: bool, events: Iterable[Event | str] | None) -> list[_Edge]:
    """Rules grouped by (source, target), one label line per event."""
    chosen = _events(events)
    grouped: dict[tuple[str, str], list[str]] = {}
    for r in pathway.rules:
        if chosen is not None and r.event not in chosen:
            continue
        line = r.event.value
        if guards and r.guards:
            line += ": " + ", ".join(g.kind for g in r.guards)
        lines = grouped.setdefault((r.source, r.target), [])
        if line not in lines:
            lines.append(line)
    return [_Edge(s, t, tuple(lines)) for (s, t), lines in grouped.items()]


def _highlight(pathway: Pathway, episode: Episode | None) -> _Highlight | None:
    if episode is None:
        return None
    if episode.pathway != pathway:
        raise ExploreError(
            field="episode",
            problem=(
                f"episode {episode.id!r} runs on pathway {episode.pathway.id!r}, not {pathway.id!r}"
            ),
        )
    route = frozenset((r.source, r.target) for r in episode.history)
    visited = frozenset({INTAKE, *(r.target for r in episode.history)})
    return _Highlight(visited=visited, current=episode.state, route=route)


def _states(pathway: Pathway, edges: list[_Edge]) -> list[str]:
    used = {e.source for e in edges} | {e.target for e in edges}
    levels = [lv.code for lv in reversed(pathway.levels)]  # most intensive first
    return [
        s
        for s in (INTAKE, *levels, *(o.value for o in Outcome))
        if s in used or s in {lv.code for lv in pathway.levels}
    ]


def _mm(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _node_id(state: str) -> str:
    return f"n_{state}"  # prefixed: a level code such as "end" is a Mermaid keyword


def to_mermaid(
    pathway: Pathway,
    *,
    guards: bool = False,
    episode: Episode | None = None,
    events: Iterable[Event | str] | None = None,
    direction: str = "TD",
) -> str:
    """The pathway as a Mermaid flowchart (text).

    See :meth:`carepath.Pathway.to_mermaid`.
    """
    if direction not in ("TD", "LR"):
        raise ExploreError(field="direction", problem=f"expected 'TD' or 'LR', got {direction!r}")
    edges = _edges(pathway, guards, events)
    hl = _highlight(pathway, episode)
    out = [f"flowchart {direction}"]
    for s in _states(pathway, edges):
        label = _mm(state_label(pathway, s))
        if s == INTAKE:
            out.append(f'    {_node_id(s)}(("{label}"))')
        elif s in _OUTCOME_VALUES:
            out.append(f'    {_node_id(s)}(["{label}"])')
        else:
            out.append(f'    {_node_id(s)}["{label}"]')
    route_links: list[int] = []
    for i, e in enumerate(edges):
        label = "<br/>".join(_mm(x) for x in e.lines)
        out.append(f'    {_node_id(e.source)} -->|"{label}"| {_node_id(e.target)}')
        if hl is not None and (e.source, e.target) in hl.route:
            route_links.append(i)
    states = _states(pathway, edges)
    for setting in Setting:
        out.append(f"    classDef {setting.value} fill:{SETTING_COLOURS[setting]},stroke:#555")
    out.append(f"    classDef intake fill:{INTAKE_COLOUR},stroke:#555")
    for o in Outcome:
        out.append(f"    classDef {o.value} fill:{OUTCOME_COLOURS[o]},stroke:#555")
    for setting in Setting:
        members = [_node_id(lv.code) for lv in pathway.levels if lv.setting is setting]
        if members:
            out.append(f"    class {','.join(members)} {setting.value}")
    if INTAKE in states:
        out.append(f"    class {_node_id(INTAKE)} intake")
    for o in Outcome:
        if o.value in states:
            out.append(f"    class {_node_id(o.value)} {o.value}")
    if hl is not None:
        out.append("    classDef visited stroke:#333,stroke-width:3px")
        out.append(f"    classDef current stroke:{HIGHLIGHT},stroke-width:4px")
        visited = [_node_id(s) for s in states if s in hl.visited and s != hl.current]
        if visited:
            out.append(f"    class {','.join(visited)} visited")
        out.append(f"    class {_node_id(hl.current)} current")
        if route_links:
            out.append(
                f"    linkStyle {','.join(map(str, route_links))} "
                f"stroke:{HIGHLIGHT},stroke-width:3px"
            )
    return "\n".join(out) + "\n"


def to_graphviz(
    pathway: Pathway,
    *,
    guards: bool = False,
    episode: Episode | None = None,
    events: Iterable[Event | str] | None = None,
    direction: str = "TD",
) -> Any:
    """The pathway as a ``graphviz.Digraph`` (rendering it needs the ``dot`` program).

    See :meth:`carepath.Pathway.to_graphviz`.
    """
    graphviz = require("graphviz", extra="viz", needed_for="Pathway.to_graphviz")
    if direction not in ("TD", "LR"):
        raise ExploreError(field="direction", problem=f"expected 'TD' or 'LR', got {direction!r}")
    edges = _edges(pathway, guards, events)
    hl = _highlight(pathway, episode)
    dot = graphviz.Digraph(
        name=pathway.id,
        graph_attr={
            "rankdir": "TB" if direction == "TD" else "LR",
            "label": pathway.name,
            "labelloc": "t",
            "fontname": "Helvetica",
        },
        node_attr={"style": "filled", "fontname": "Helvetica", "color": "#555555"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#777777"},
    )
    for s in _states(pathway, edges):
        attrs_: dict[str, str] = {"fillcolor": state_colour(pathway, s)}
        if s == INTAKE:
            attrs_["shape"] = "circle"
        elif s in _OUTCOME_VALUES:
            attrs_["shape"] = "ellipse"
        else:
            attrs_["shape"] = "box"
            attrs_["style"] = "filled,rounded"
        if hl is not None and s == hl.current:
            attrs_.update(color=HIGHLIGHT, penwidth="4")
        elif hl is not None and s in hl.visited:
            attrs_.update(penwidth="2.5")
        dot.node(s, graphviz.escape(state_label(pathway, s)), **attrs_)
    for e in edges:
        label = "\\n".join(graphviz.escape(x) for x in e.lines)
        extra: dict[str, str] = {}
        if hl is not None and (e.source, e.target) in hl.route:
            extra = {"color": HIGHLIGHT, "penwidth": "2.5"}
        dot.edge(e.source, e.target, label=label, **extra)
    return dot


def dot_available() -> bool:
    """True when graphviz's ``dot`` program is on the PATH (needed to render SVG)."""
    return shutil.which("dot") is not None


def diagram_svg(pathway: Pathway, *, episode: Episode | None = None) -> str | None:
    """The diagram as inline SVG when graphviz and ``dot`` are available, else ``None``."""
    if not dot_available():
        return None
    try:
        import graphviz  # noqa: PLC0415, F401  # extra 'viz'
    except ImportError:  # pragma: no cover - exercised only without the extra
        return None
    svg: bytes = to_graphviz(pathway, episode=episode).pipe(format="svg")
    return svg.decode("utf-8")
