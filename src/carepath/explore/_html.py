"""Rich notebook display: HTML for pathways, episodes, placements and simulation results.

Pure Python (``html.escape``), no extra dependencies. The HTML shows ids,
levels, events, days since the episode started and who overrode a guard; it
never shows dates, assessments of a patient, drop-out notes or override
reasons, so a notebook shared by mistake leaks no clinical detail.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any, Final

from carepath._assessment import Dimension
from carepath._levels import Outcome

from ._common import (
    SETTING_COLOURS,
    SimulationTables,
    episode_stays,
    is_missing,
    records,
    state_colour,
)

if TYPE_CHECKING:
    from carepath._criteria import Placement
    from carepath._episode import Episode
    from carepath._pathway import Pathway

__all__ = ["episode_html", "pathway_html", "placement_html", "result_html"]

_STYLE: Final = (
    "<style>.carepath-repr table{border-collapse:collapse;margin:.4em 0}"
    ".carepath-repr th,.carepath-repr td{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left}.carepath-repr .deciding{background:#fde2e2;font-weight:bold}"
    ".carepath-repr .swatch{display:inline-block;width:.9em;height:.9em;"
    "border:1px solid #777;margin-right:.3em;vertical-align:middle}</style>"
)
_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(
    head: Sequence[str], rows: Iterable[Sequence[str]], *, row_class: Sequence[str] = ()
) -> str:
    """A table; cells in ``rows`` are already HTML (escape text before passing it)."""
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        cls = row_class[i] if i < len(row_class) and row_class[i] else ""
        out.append(f'<tr class="{_e(cls)}">' if cls else "<tr>")
        out.extend(f"<td>{cell}</td>" for cell in row)
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _wrap(title: str, *parts: str) -> str:
    return f'<div class="carepath-repr">{_STYLE}<strong>{title}</strong>{"".join(parts)}</div>'


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{_e(colour)}"></span>'


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def pathway_html(pathway: Pathway) -> str:
    """The pathway's diagram (inline SVG when ``dot`` is available, else Mermaid) and levels."""
    from ._diagrams import diagram_svg, to_mermaid  # noqa: PLC0415  # graphviz only if present

    svg = diagram_svg(pathway)
    if svg is not None:
        diagram = f'<div class="carepath-diagram">{_strip_xml_prolog(svg)}</div>'
    else:
        diagram = f'<pre class="mermaid">{_e(to_mermaid(pathway))}</pre>'
    rows = []
    for lv in reversed(pathway.levels):
        low, high = lv.hours_per_week
        hours = f"{low:g}+" if high is None else f"{low:g}-{high:g}"
        limits = pathway.criteria[lv.code].maximum
        rows.append([
            _e(lv.code),
            _swatch(SETTING_COLOURS[lv.setting]) + _e(lv.name),
            _e(lv.setting.value.replace("_", " ")),
            _e(hours),
            _e(lv.stay.describe()),
            *(_e(int(limits[d])) for d in Dimension),
        ])
    table = _table(
        ["code", "level", "setting", "hours/week", "stay", *(d.value for d in Dimension)], rows
    )
    title = (f"Pathway {_e(pathway.name)} ({_e(pathway.id)} v{_e(pathway.version)}): "
             f"{len(pathway.levels)} levels, {len(pathway.rules)} rules")
    note = "<p>Columns after <em>stay</em>: the most risk each level manages (0-4).</p>"
    return _wrap(title, diagram, table, note)


def _strip_xml_prolog(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def episode_html(episode: Episode) -> str:
    """The episode's stays and decisions, in days since it started; ids only, no dates."""
    pathway = episode.pathway
    stays = episode_stays(episode)
    stay_rows = [
        [
            _swatch(SETTING_COLOURS[s.level.setting]) + _e(s.level.name),
            _days(s.start_day),
            _days(s.end_day) if s.end_day is not None else "(open)",
            _days(s.days),
            _e(s.exit.value) if s.exit is not None else "",
        ]
        for s in stays
    ]
    t0 = episode.started_at
    decision_rows = []
    for r in episode.history:
        override = ""
        if r.override is not None:
            kinds = sorted({x.kind for x in r.reasons})
            override = f"by {_e(r.override.by)}" + (f" (set aside: {_e(', '.join(kinds))})"
                                                     if kinds else "")
        decision_rows.append([
            _e(r.seq), _e(r.event.value), _e(r.source), _e(r.target),
            _days((r.at - t0).total_seconds() / 86_400.0), override,
        ])
    colour = state_colour(pathway, episode.state)
    title = (f"Episode {_e(episode.id)} &middot; patient {_e(episode.patient_id)} &middot; "
             f"pathway {_e(pathway.id)} v{_e(pathway.version)} &middot; "
             f"state {_swatch(colour)}{_e(episode.state)}")
    parts = []
    if episode.previous_episode_id is not None:
        parts.append(f"<p>Readmission after episode {_e(episode.previous_episode_id)}.</p>")
    parts.append("<p>Stays (days since the episode started)</p>")
    parts.append(_table(["level", "from day", "to day", "days", "left by"], stay_rows)
                 if stay_rows else "<p>(no stays yet)</p>")
    parts.append("<p>Decisions</p>")
    parts.append(_table(["#", "event", "from", "to", "day", "override"], decision_rows)
                 if decision_rows else "<p>(no events yet)</p>")
    return _wrap(title, *parts)


def placement_html(placement: Placement) -> str:
    """The placement's dimension table, the deciding ratings highlighted."""
    level = placement.level
    reasons = placement.reasons
    rows, classes = [], []
    blocked = {d: [ru.level.name for ru in placement.ruled_out
                   if any(x[0] is d for x in ru.exceeded)] for d in Dimension}
    for d, r in placement.assessment.items():
        rows.append([_e(d.label), _e(r.describe()),
                     _e(", ".join(blocked[d]) or "-"), _e(reasons[d])])
        classes.append("deciding" if d in placement.deciding else "")
    parts = [_table(["dimension", "rating", "rules out", "reason"], rows, row_class=classes)]
    if placement.deciding:
        parts.append("<p>Highlighted: the deciding ratings.</p>")
    if placement.alternatives:
        parts.append("<p>Could also serve: "
                     + _e(", ".join(a.name for a in placement.alternatives)) + "</p>")
    if placement.with_safer_home is not None:
        parts.append(f"<p>With a safer place to live: {_e(placement.with_safer_home.name)}</p>")
    title = f"Placement: {_swatch(SETTING_COLOURS[level.setting])}{_e(level.name)}"
    return _wrap(title, *parts)


_STAY_COLUMNS: Final = ("patient", "episode", "level", "start_day", "end_day", "exit")
_EVENT_COLUMNS: Final = ("patient", "episode", "day", "event", "from_level", "to_level")


def result_html(result: SimulationTables) -> str:
    """A summary of a simulated cohort: patients, stays per level, outcomes.

    Meant for ``SimulationResult._repr_html_``; works on any object with
    ``events`` and ``stays`` data frames.
    """
    stays = records(result.stays, _STAY_COLUMNS, name="stays")
    events = records(result.events, _EVENT_COLUMNS, name="events")
    patients = {str(r["patient"]) for r in stays} | {str(r["patient"]) for r in events}
    episodes = {(str(r["patient"]), str(r["episode"])) for r in events}
    per_level: dict[str, list[float]] = defaultdict(list)
    open_stays: Counter[str] = Counter()
    for r in stays:
        level = str(r["level"])
        if is_missing(r["end_day"]):
            open_stays[level] += 1
            per_level.setdefault(level, [])
        else:
            per_level[level].append(float(r["end_day"]) - float(r["start_day"]))
    level_rows = []
    for level in sorted(per_level, key=lambda lv: -len(per_level[lv])):
        los = per_level[level]
        level_rows.append([
            _e(level), _e(len(los) + open_stays[level]), _e(open_stays[level]),
            _days(statistics.fmean(los)) if los else "", _days(statistics.median(los))
            if los else "",
        ])
    outcomes: Counter[str] = Counter(
        str(r["to_level"]) for r in events if str(r["to_level"]) in _OUTCOME_VALUES
    )
    total = sum(outcomes.values())
    outcome_rows = [
        [_e(o.value), _e(outcomes[o.value]),
         f"{100 * outcomes[o.value] / total:.1f}%" if total else ""]
        for o in Outcome
    ]
    parts = [
        f"<p>{len(patients)} patients, {len(episodes)} episodes, {len(stays)} stays, "
        f"{len(events)} events.</p>",
        _table(["level", "stays", "still open", "mean days", "median days"], level_rows),
        _table(["outcome", "episodes", "share"], outcome_rows),
    ]
    summary = getattr(result, "summary", None)
    if callable(summary):
        parts.append(_summary_html(summary()))
    return _wrap("Simulation result", *parts)


def _summary_html(summary: object) -> str:
    if isinstance(summary, Mapping):
        return _table(["measure", "value"], [[_e(k), _e(v)] for k, v in summary.items()])
    to_dict = getattr(summary, "to_dict", None)
    if callable(to_dict):
        try:
            split: Any = to_dict("split")
            head = ["", *(str(c) for c in split["columns"])]
            rows = [[_e(i), *(_e(x) for x in row)]
                    for i, row in zip(split["index"], split["data"], strict=True)]
        except (TypeError, ValueError, KeyError):
            return f"<pre>{_e(summary)}</pre>"
        return _table(head, rows)
    return f"<pre>{_e(summary)}</pre>"

