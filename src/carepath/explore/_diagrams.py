"""Diagrams of a pathway: Mermaid text (no dependencies) and graphviz (extra ``viz``).

Two levels of detail share one picture model:

- ``"summary"`` (the default) draws what a clinician thinks in: the levels ranked by
  intensity (most intensive at the top), step-downs as solid edges and step-ups as
  dashed ones, rules between the same two states merged into one labelled edge, a
  move that skips levels left to the ladder when the ladder allows the same steps,
  and admissions and exits open to every level drawn once, from or to the group of
  levels ("any level -> dropped out" is one edge). Moves that stay in place
  (reassessment, relapse treated in place) are left out. A caption says what the
  picture leaves implied.
- ``"full"`` draws every rule: one edge per (source, target) with one label line per
  event, self-loops included.

Every level has its own colour (Okabe-Ito, by intensity); its setting shows as its
shape (residential: double border, day programme: box, ambulatory: rounded,
recovery residence: hexagon) and in words under its name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from carepath._extras import require
from carepath._guards import Event
from carepath._levels import INTAKE, Outcome, Setting

from ._common import (
    HIGHLIGHT,
    SETTING_WORDS,
    ExploreError,
    state_colour,
    state_label,
    text_colour,
)
from ._paths import _events

if TYPE_CHECKING:
    from carepath._episode import Episode
    from carepath._pathway import Pathway

__all__ = ["Detail", "dot_available", "to_graphviz", "to_mermaid"]

Detail = Literal["summary", "full"]

_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)
LEVELS_GROUP: Final = "levels"
"""The id of the group of every level, as an end of a grouped edge."""

_DOWN: Final = "down"
_UP: Final = "up"
_OTHER: Final = "other"


@attrs.frozen
class _Edge:
    source: str  # a state, or LEVELS_GROUP
    target: str
    lines: tuple[str, ...]
    kind: str = _OTHER  # _DOWN, _UP or _OTHER: how the edge is drawn


@attrs.frozen
class _Picture:
    """What a diagram draws: its states, edges and the caption of what it leaves implied."""

    states: tuple[str, ...]
    edges: tuple[_Edge, ...]
    notes: tuple[str, ...]
    grouped: bool  # some edge starts or ends at LEVELS_GROUP


@attrs.frozen
class _Highlight:
    visited: frozenset[str]
    current: str
    route: frozenset[tuple[str, str]]


def _grouped_rules(
    pathway: Pathway, guards: bool, events: Iterable[Event | str] | None
) -> dict[tuple[str, str], tuple[str, ...]]:
    """Rules grouped by (source, target), one label line per event (with guard kinds)."""
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
    return {k: tuple(v) for k, v in grouped.items()}


def _kind(pathway: Pathway, source: str, target: str) -> str:
    codes = [lv.code for lv in pathway.levels]
    if source in codes and target in codes:
        return _DOWN if codes.index(target) < codes.index(source) else _UP
    return _OTHER


def _full(pathway: Pathway, guards: bool, events: Iterable[Event | str] | None) -> _Picture:
    grouped = _grouped_rules(pathway, guards, events)
    edges = tuple(_Edge(s, t, lines, _kind(pathway, s, t)) for (s, t), lines in grouped.items())
    return _Picture(states=_states(pathway, edges), edges=edges, notes=(), grouped=False)


def _summary(pathway: Pathway, guards: bool, events: Iterable[Event | str] | None) -> _Picture:
    grouped = _grouped_rules(pathway, guards, events)
    codes = [lv.code for lv in pathway.levels]  # least intensive first
    rank = {c: i for i, c in enumerate(codes)}
    notes: list[str] = []
    in_place = {s for (s, t) in grouped if s == t and s in rank}
    moves = {k: v for k, v in grouped.items() if k[0] != k[1]}

    # A move that skips levels is implied when every step of the ladder between its two
    # levels allows the same events (and guards): leave it to the ladder.
    implied: set[tuple[str, str]] = set()
    for (s, t), lines in moves.items():
        if s in rank and t in rank and abs(rank[s] - rank[t]) > 1:
            step = 1 if rank[t] > rank[s] else -1
            ladder = [(codes[i], codes[i + step]) for i in range(rank[s], rank[t], step)]
            if all(moves.get(pair) == lines for pair in ladder):
                implied.add((s, t))
    if implied:
        notes.append("Step-downs and step-ups may skip levels.")

    edges: list[_Edge] = []
    used: set[tuple[str, str]] = set(implied)
    all_levels = set(codes)
    # Admissions to every level, and each exit open from every level: one grouped edge.
    by_target: dict[str, dict[str, tuple[str, ...]]] = {}
    by_source: dict[str, dict[str, tuple[str, ...]]] = {}
    for (s, t), lines in moves.items():
        if s == INTAKE and t in rank:
            by_source.setdefault(s, {})[t] = lines
        if s in rank and t in _OUTCOME_VALUES:
            by_target.setdefault(t, {})[s] = lines
    admits = by_source.get(INTAKE, {})
    if len(all_levels) > 1 and set(admits) == all_levels and len(set(admits.values())) == 1:
        lines = next(iter(admits.values()))
        edges.append(_Edge(INTAKE, LEVELS_GROUP, tuple(f"{x} (to any level)" for x in lines)))
        used |= {(INTAKE, c) for c in codes}
    for outcome in (o.value for o in Outcome):
        sources = by_target.get(outcome, {})
        if len(all_levels) > 1 and set(sources) == all_levels and len(set(sources.values())) == 1:
            lines = next(iter(sources.values()))
            edges.append(
                _Edge(LEVELS_GROUP, outcome, tuple(f"{x} (from any level)" for x in lines))
            )
            used |= {(c, outcome) for c in codes}
    for (s, t), lines in moves.items():
        if (s, t) not in used:
            edges.append(_Edge(s, t, lines, _kind(pathway, s, t)))
    if in_place:
        where = "every level" if in_place == all_levels else "some levels"
        notes.append(f"Reassessment and relapse treated in place happen at {where}.")
    grouped_any = any(LEVELS_GROUP in (e.source, e.target) for e in edges)
    states = _states(pathway, tuple(edges))
    return _Picture(states=states, edges=tuple(edges), notes=tuple(notes), grouped=grouped_any)


def _picture(
    pathway: Pathway,
    detail: object,
    guards: bool,
    events: Iterable[Event | str] | None,
    hl: _Highlight | None,
) -> _Picture:
    if detail == "full":
        pic = _full(pathway, guards, events)
    elif detail == "summary":
        pic = _summary(pathway, guards, events)
    else:
        raise ExploreError(field="detail", problem=f"expected 'summary' or 'full', got {detail!r}")
    if hl is None:
        return pic
    drawn = {(e.source, e.target) for e in pic.edges}
    grouped = _grouped_rules(pathway, guards, None)
    extra = [
        _Edge(s, t, grouped.get((s, t), ()), _kind(pathway, s, t))
        for (s, t) in sorted(hl.route)
        if s != t and (s, t) not in drawn
    ]
    return attrs.evolve(pic, edges=(*pic.edges, *extra))


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


def _states(pathway: Pathway, edges: Iterable[_Edge]) -> tuple[str, ...]:
    """Intake, the levels (most intensive first) and the outcomes any edge reaches."""
    edges = tuple(edges)
    used = {e.source for e in edges} | {e.target for e in edges}
    levels = [lv.code for lv in reversed(pathway.levels)]
    return tuple(
        s
        for s in (INTAKE, *levels, *(o.value for o in Outcome))
        if s in used or s in {lv.code for lv in pathway.levels}
    )


def _check_direction(direction: object) -> None:
    if direction not in ("TD", "LR"):
        raise ExploreError(field="direction", problem=f"expected 'TD' or 'LR', got {direction!r}")


def _label(pathway: Pathway, state: str) -> tuple[str, str]:
    """A state's name, and for a level its setting in words."""
    if state in {lv.code for lv in pathway.levels}:
        return state_label(pathway, state), SETTING_WORDS[pathway.level(state).setting]
    return state_label(pathway, state), ""


def _edge_label(e: _Edge, detail: object, escape: Any, newline: str) -> str:
    """One line per event (full), or the events in words on one line (summary)."""
    if detail == "full":
        return newline.join(escape(x) for x in e.lines)
    return ", ".join(escape(x.replace("_", " ")) for x in e.lines)


# -- Mermaid -------------------------------------------------------------------------------------


def _mm(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _node_id(state: str) -> str:
    return f"n_{state}"  # prefixed: a level code such as "end" is a Mermaid keyword


_MERMAID_SHAPES: Final[dict[Setting, tuple[str, str]]] = {
    Setting.RESIDENTIAL: ("[[", "]]"),
    Setting.DAY: ("[", "]"),
    Setting.AMBULATORY: ("(", ")"),
    Setting.RECOVERY_RESIDENCE: ("{{", "}}"),
}


def _mermaid_end(state: str) -> str:
    return LEVELS_GROUP if state == LEVELS_GROUP else _node_id(state)


def to_mermaid(
    pathway: Pathway,
    *,
    guards: bool = False,
    episode: Episode | None = None,
    events: Iterable[Event | str] | None = None,
    direction: str = "TD",
    detail: Detail = "summary",
) -> str:
    """The pathway as a Mermaid flowchart (text).

    See :meth:`carepath.Pathway.to_mermaid`.
    """
    _check_direction(direction)
    hl = _highlight(pathway, episode)
    pic = _picture(pathway, detail, guards, events, hl)
    level_codes = [lv.code for lv in reversed(pathway.levels)]
    out = [f"flowchart {direction}"]

    def node(s: str) -> str:
        name, setting = _label(pathway, s)
        text = _mm(name) + (f"<br/><small>{_mm(setting)}</small>" if setting else "")
        if s == INTAKE:
            return f'{_node_id(s)}(("{text}"))'
        if s in _OUTCOME_VALUES:
            return f'{_node_id(s)}(["{text}"])'
        left, right = _MERMAID_SHAPES[pathway.level(s).setting]
        return f'{_node_id(s)}{left}"{text}"{right}'

    for s in pic.states:
        if s not in level_codes:
            out.append(f"    {node(s)}")
    if pic.grouped:
        out.append(f'    subgraph {LEVELS_GROUP} ["Levels of care, most intensive first"]')
        out.append("    direction TB")
    for s in level_codes:
        out.append(f"    {'  ' if pic.grouped else ''}{node(s)}")
    if pic.grouped:
        out.append("    end")
    route_links: list[int] = []
    for i, e in enumerate(pic.edges):
        label = _edge_label(e, detail, _mm, "<br/>")
        arrow = "-.->" if e.kind == _UP else ("==>" if e.kind == _DOWN else "-->")
        src, dst = _mermaid_end(e.source), _mermaid_end(e.target)
        out.append(f'    {src} {arrow}|"{label}"| {dst}' if label else f"    {src} {arrow} {dst}")
        if hl is not None and (e.source, e.target) in hl.route:
            route_links.append(i)
    if pic.notes:
        out.append(f'    note["{_mm(" ".join(pic.notes))}"]')
        out.append("    classDef note fill:none,stroke:none,font-size:12px")
        out.append("    class note note")
    for s in pic.states:
        fill = state_colour(pathway, s)
        border = "stroke:#333"
        if s in _OUTCOME_VALUES or s == INTAKE:
            border = "stroke:#777"
        out.append(f"    style {_node_id(s)} fill:{fill},color:{text_colour(fill)},{border}")
    if pic.grouped:
        out.append(f"    style {LEVELS_GROUP} fill:#fafafa,stroke:#999")
    if hl is not None:
        out.append("    classDef visited stroke:#000,stroke-width:3px")
        out.append(f"    classDef current stroke:{HIGHLIGHT},stroke-width:5px")
        visited = [_node_id(s) for s in pic.states if s in hl.visited and s != hl.current]
        if visited:
            out.append(f"    class {','.join(visited)} visited")
        out.append(f"    class {_node_id(hl.current)} current")
        if route_links:
            out.append(
                f"    linkStyle {','.join(map(str, route_links))} "
                f"stroke:{HIGHLIGHT},stroke-width:4px"
            )
    return "\n".join(out) + "\n"


# -- graphviz ------------------------------------------------------------------------------------

_DOT_SHAPES: Final[dict[Setting, dict[str, str]]] = {
    Setting.RESIDENTIAL: {"shape": "box", "peripheries": "2", "style": "filled"},
    Setting.DAY: {"shape": "box", "style": "filled"},
    Setting.AMBULATORY: {"shape": "box", "style": "filled,rounded"},
    Setting.RECOVERY_RESIDENCE: {"shape": "hexagon", "style": "filled"},
}


def _dot_node(graphviz: Any, pathway: Pathway, s: str, hl: _Highlight | None) -> dict[str, str]:
    """The label and attributes of one state's node."""
    name, setting = _label(pathway, s)
    fill = state_colour(pathway, s)
    attrs_: dict[str, str] = {"fillcolor": fill, "fontcolor": text_colour(fill)}
    if s == INTAKE:
        attrs_.update(shape="circle", style="filled", color="#777777")
    elif s in _OUTCOME_VALUES:
        attrs_.update(shape="ellipse", style="filled", color="#777777")
    else:
        attrs_.update(_DOT_SHAPES[pathway.level(s).setting])
    if hl is not None and s == hl.current:
        attrs_.update(color=HIGHLIGHT, penwidth="4")
    elif hl is not None and s in hl.visited:
        attrs_.update(penwidth="2.5")
    attrs_["label"] = graphviz.escape(name) + (
        f"\\n({graphviz.escape(setting)})" if setting else ""
    )
    return attrs_


def to_graphviz(
    pathway: Pathway,
    *,
    guards: bool = False,
    episode: Episode | None = None,
    events: Iterable[Event | str] | None = None,
    direction: str = "TD",
    detail: Detail = "summary",
) -> Any:
    """The pathway as a ``graphviz.Digraph`` (rendering it needs the ``dot`` program).

    See :meth:`carepath.Pathway.to_graphviz`.
    """
    graphviz = require("graphviz", extra="viz", needed_for="explore.to_graphviz")
    _check_direction(direction)
    hl = _highlight(pathway, episode)
    pic = _picture(pathway, detail, guards, events, hl)
    title = pathway.name + ("\n" + " ".join(pic.notes) if pic.notes else "")
    dot = graphviz.Digraph(
        name=pathway.id,
        graph_attr={
            "rankdir": "TB" if direction == "TD" else "LR",
            "label": graphviz.escape(title),
            "labelloc": "t",
            "fontname": "Helvetica",
            "compound": "true",
            "newrank": "true",
            "nodesep": "0.35",
            "ranksep": "0.45",
            "size": "11,16",  # inches: a wide picture is scaled down to fit a page
        },
        node_attr={"fontname": "Helvetica", "fontsize": "11", "color": "#333333"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#555555"},
    )
    level_codes = [lv.code for lv in reversed(pathway.levels)]  # most intensive first

    def add_node(graph: Any, s: str) -> None:
        graph.node(s, **_dot_node(graphviz, pathway, s, hl))

    for s in pic.states:
        if s not in level_codes:
            add_node(dot, s)
    anchor_top, anchor_bottom = level_codes[0], level_codes[-1]
    if pic.grouped:
        with dot.subgraph(name=f"cluster_{LEVELS_GROUP}") as cluster:
            cluster.attr(
                label="Levels of care, most intensive first",
                style="rounded,filled",
                fillcolor="#fafafa",
                color="#999999",
                fontsize="10",
            )
            for s in level_codes:
                add_node(cluster, s)
    else:
        for s in level_codes:
            add_node(dot, s)
    outcomes = [s for s in pic.states if s in _OUTCOME_VALUES]
    if outcomes:
        with dot.subgraph() as bottom:
            bottom.attr(rank="max")
            for s in outcomes:
                bottom.node(s)
    for e in pic.edges:
        label = _edge_label(e, detail, graphviz.escape, "\\n")
        extra: dict[str, str] = {}
        src, dst = e.source, e.target
        if src == LEVELS_GROUP:
            src, extra["ltail"] = anchor_bottom, f"cluster_{LEVELS_GROUP}"
        if dst == LEVELS_GROUP:
            dst, extra["lhead"] = anchor_top, f"cluster_{LEVELS_GROUP}"
        if e.kind == _DOWN:
            extra.update(penwidth="2", color="#222222")
        elif e.kind == _UP:
            extra.update(style="dashed", constraint="false", color="#777777")
        if hl is not None and (e.source, e.target) in hl.route:
            extra.update(color=HIGHLIGHT, penwidth="3.5")
        dot.edge(src, dst, label=label, **extra)
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
