"""Rich notebook display: HTML for pathways, episodes, placements and simulation results.

Pure Python (``html.escape``), no extra dependencies. The HTML shows ids,
levels, events, days since the episode started and who overrode a guard; it
never shows dates, assessments of a patient, drop-out notes or override
reasons, so a notebook shared by mistake leaks no clinical detail.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any, Final

import attrs

from carepath._assessment import Dimension
from carepath._levels import Outcome, Setting

from ._common import (
    SETTING_BORDERS,
    SETTING_WORDS,
    episode_stays,
    level_colour,
    state_colour,
    state_label,
)
from ._diagrams import diagram_svg

if TYPE_CHECKING:
    from carepath._criteria import Placement
    from carepath._episode import Episode
    from carepath._pathway import Pathway
    from carepath.sim import CareRecords, SimulationResult

__all__ = ["episode_html", "pathway_html", "placement_html", "result_html"]

_STYLE: Final = (
    "<style>.carepath-repr table{border-collapse:collapse;margin:.4em 0}"
    ".carepath-repr th,.carepath-repr td{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left}.carepath-repr .deciding{background:#fde2e2;font-weight:bold}"
    ".carepath-repr .swatch{display:inline-block;width:.9em;height:.9em;"
    "border:2px solid #333;margin-right:.3em;vertical-align:middle}"
    ".carepath-repr{overflow-x:auto;max-width:100%}</style>"
)


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


def _swatch(colour: str, setting: Setting | None = None) -> str:
    """A colour square; a level's setting shows as its border (double: residential, ...)."""
    border = "" if setting is None else f";border-style:{SETTING_BORDERS[setting]}"
    title = "" if setting is None else f' title="{_e(SETTING_WORDS[setting])}"'
    return f'<span class="swatch" style="background:{_e(colour)}{border}"{title}></span>'


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def pathway_html(pathway: Pathway) -> str:
    """The pathway's diagram (inline SVG when ``dot`` is available, else Mermaid) and levels."""
    svg = diagram_svg(pathway)
    if svg is not None:
        diagram = f'<div class="carepath-diagram">{_strip_xml_prolog(svg)}</div>'
    else:
        diagram = _moves_table(pathway)
    rows = []
    for lv in reversed(pathway.levels):
        low, high = lv.hours_per_week
        hours = f"{low:g}+" if high is None else f"{low:g}" if low == high else f"{low:g}-{high:g}"
        limits = pathway.criteria[lv.code].maximum
        rows.append(
            [
                _e(lv.code),
                _swatch(level_colour(lv, pathway), lv.setting) + _e(lv.name),
                _e(SETTING_WORDS[lv.setting]),
                _e(hours),
                _e(lv.stay.describe()),
                *(_e(int(limits[d])) for d in Dimension),
            ]
        )
    table = _table(
        ["code", "level", "setting", "hours/week", "stay", *(d.value for d in Dimension)], rows
    )
    title = (
        f"Pathway {_e(pathway.name)} ({_e(pathway.id)} v{_e(pathway.version)}): "
        f"{len(pathway.levels)} levels, {len(pathway.rules)} rules"
    )
    note = "<p>Columns after <em>stay</em>: the most risk each level manages (0-4).</p>"
    return _wrap(title, diagram, table, note)


def _moves_table(pathway: Pathway) -> str:
    """The moves between different states, for a notebook without graphviz's ``dot``."""
    moves: dict[tuple[str, str], list[str]] = {}
    for r in pathway.rules:
        if r.source != r.target:
            events = moves.setdefault((r.source, r.target), [])
            if r.event.value not in events:
                events.append(r.event.value)
    rows = [
        [_e(f"{state_label(pathway, s)} -> {state_label(pathway, t)}"), _e(", ".join(ev))]
        for (s, t), ev in moves.items()
    ]
    note = (
        "<p>The diagram needs graphviz's <code>dot</code> program (Debian: "
        "<code>apt-get install graphviz</code>) and the <code>viz</code> extra; "
        "the moves it would draw:</p>"
    )
    return f'<div class="carepath-moves">{note}{_table(["move", "events"], rows)}</div>'


def _strip_xml_prolog(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def episode_html(episode: Episode) -> str:
    """The episode's stays and decisions, in days since it started; ids only, no dates."""
    pathway = episode.pathway
    stays = episode_stays(episode)
    stay_rows = [
        [
            _swatch(level_colour(s.level, pathway), s.level.setting) + _e(s.level.name),
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
            override = f"by {_e(r.override.by)}" + (
                f" (set aside: {_e(', '.join(kinds))})" if kinds else ""
            )
        decision_rows.append(
            [
                _e(r.seq),
                _e(r.event.value),
                _e(r.source),
                _e(r.target),
                _days((r.at - t0).total_seconds() / 86_400.0),
                override,
            ]
        )
    colour = state_colour(pathway, episode.state)
    title = (
        f"Episode {_e(episode.id)} &middot; patient {_e(episode.patient_id)} &middot; "
        f"pathway {_e(pathway.id)} v{_e(pathway.version)} &middot; "
        f"state {_swatch(colour)}{_e(episode.state)}"
    )
    parts = []
    if episode.previous_episode_id is not None:
        parts.append(f"<p>Readmission after episode {_e(episode.previous_episode_id)}.</p>")
    parts.append("<p>Stays (days since the episode started)</p>")
    parts.append(
        _table(["level", "from day", "to day", "days", "left by"], stay_rows)
        if stay_rows
        else "<p>(no stays yet)</p>"
    )
    parts.append("<p>Decisions</p>")
    parts.append(
        _table(["#", "event", "from", "to", "day", "override"], decision_rows)
        if decision_rows
        else "<p>(no events yet)</p>"
    )
    return _wrap(title, *parts)


def placement_html(placement: Placement) -> str:
    """The placement's dimension table, the deciding ratings highlighted."""
    level = placement.level
    reasons = placement.reasons
    rows, classes = [], []
    blocked = {
        d: [ru.level.name for ru in placement.ruled_out if any(x[0] is d for x in ru.exceeded)]
        for d in Dimension
    }
    for d, r in placement.assessment.items():
        rows.append(
            [_e(d.label), _e(r.describe()), _e(", ".join(blocked[d]) or "-"), _e(reasons[d])]
        )
        classes.append("deciding" if d in placement.deciding else "")
    parts = [_table(["dimension", "rating", "rules out", "reason"], rows, row_class=classes)]
    if placement.deciding:
        parts.append("<p>Highlighted: the deciding ratings.</p>")
    if placement.alternatives:
        parts.append(
            "<p>Could also serve: " + _e(", ".join(a.name for a in placement.alternatives)) + "</p>"
        )
    if placement.with_safer_home is not None:
        parts.append(f"<p>With a safer place to live: {_e(placement.with_safer_home.name)}</p>")
    title = f"Placement: {_swatch(level_colour(level), level.setting)}{_e(level.name)}"
    return _wrap(title, *parts)


_OUTCOME_OF_EVENT: Final[Mapping[str, Outcome]] = {
    "complete": Outcome.COMPLETED,
    "drop_out": Outcome.DROPPED_OUT,
    "transfer_out": Outcome.TRANSFERRED_OUT,
}


@attrs.define
class _Counts:
    """The few counts the result view adds to the summary, summed over tables or parts."""

    events: int = 0
    stays: int = 0
    episodes: int = 0
    ended: Counter[Outcome] = attrs.Factory(Counter)
    open_stays: Counter[str] = attrs.Factory(Counter)
    """Stays still open at the horizon (``exit == "censored"``), per level."""

    def add(self, events: Any, stays: Any) -> None:
        """Add a block: ``events`` (column ``event``), ``stays`` (``level``, ``exit``)."""
        self.events += len(events)
        for name, n in events["event"].value_counts().items():
            if str(name) == "admit":
                self.episodes += int(n)
            elif str(name) in _OUTCOME_OF_EVENT:
                self.ended[_OUTCOME_OF_EVENT[str(name)]] += int(n)
        self.stays += len(stays)
        censored = stays.loc[stays["exit"] == "censored", "level"].value_counts()
        for level, n in censored.items():
            if int(n):
                self.open_stays[str(level)] += int(n)


def _counts(result: SimulationResult | CareRecords) -> _Counts:
    """Counts from the event and exit columns only, vectorised; streamed parts one at a time."""
    counts = _Counts()
    parts = result.parts
    if parts is None:
        counts.add(result.events[["event"]], result.stays[["level", "exit"]])
        return counts
    import pandas as pd  # noqa: PLC0415  # only results of carepath.sim get here

    event_files = sorted((parts / "events").glob("*.parquet"))
    stay_files = sorted((parts / "stays").glob("*.parquet"))
    for ev, st in zip(event_files, stay_files, strict=True):
        counts.add(
            pd.read_parquet(ev, columns=["event"]), pd.read_parquet(st, columns=["level", "exit"])
        )
    return counts


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return _e("" if value is None else value)
    if isinstance(value, numbers.Integral):
        return _e(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        return "" if math.isnan(x) else f"{x:.3f}"
    return _e(value)


def _frame_table(frame: Any, *, extra: tuple[str, Mapping[str, str]] | None = None) -> str:
    """A DataFrame as a table: its index (named by ``index.name``) first, then its columns.

    ``extra`` appends one column: a heading and the (already escaped) cell per index label.
    """
    split = frame.to_dict("split")
    head = [str(frame.index.name or ""), *(str(c) for c in split["columns"])]
    rows = [
        [_e(i), *(_cell(x) for x in row)]
        for i, row in zip(split["index"], split["data"], strict=True)
    ]
    if extra is not None:
        head.append(extra[0])
        for label, row in zip(split["index"], rows, strict=True):
            row.append(extra[1].get(str(label), ""))
    return _table(head, rows)


def _readable(
    summary: Any, name: str, *, extra: tuple[str, Mapping[str, str]] | None = None
) -> tuple[str, str]:
    """A summary table as people read it (``Summary.readable``): its title, then the table."""
    frame = summary.readable(name)
    return f"<p>{_e(frame.attrs['title'])}</p>", _frame_table(frame, extra=extra)


def result_html(result: SimulationResult | CareRecords) -> str:
    """A simulated cohort's summary as HTML tables (what ``SimulationResult`` shows in notebooks).

    Built from ``result.summary()`` (which a run streamed to Parquet computes without
    loading its tables) and a few counts taken from the ``event``, ``level`` and ``exit``
    columns; stays still open at the horizon (``exit == "censored"``) count as open, never
    as ended stays. No row becomes a Python object, and streamed parts are read one at a
    time, those columns only. A run with parameter samples shows its patients as
    "N patients times K parameter samples".
    """
    summary = result.summary()
    counts = _counts(result)
    days = result.metadata.get("days")
    still_open = sum(counts.open_stays.values())
    samples = result.metadata.get("samples")
    who = f"{_e(summary.patients)} patients"
    if isinstance(samples, int) and not isinstance(samples, bool) and samples >= 1:
        who = f"{_e(summary.patients // samples)} patients &times; {_e(samples)} parameter " + (
            "sample" if samples == 1 else "samples"
        )
    header = (
        f"<p>{who}"
        + (f" over {_e(days)} days" if days is not None else "")
        + f": {counts.episodes} episodes, {counts.stays} stays "
        f"({still_open} still open at the horizon), {counts.events} events.</p>"
    )
    ended = sum(counts.ended.values())
    outcome_rows = [
        [
            _e(o.value),
            _e(counts.ended[o]),
            f"{100 * counts.ended[o] / counts.episodes:.1f}%" if counts.episodes else "",
        ]
        for o in Outcome
    ]
    in_care = counts.episodes - ended
    outcome_rows.append(
        [
            "in care at the horizon",
            _e(in_care),
            f"{100 * in_care / counts.episodes:.1f}%" if counts.episodes else "",
        ]
    )
    open_by_level = {lv: _e(n) for lv, n in counts.open_stays.items()}
    for code in summary.length_of_stay.index:
        open_by_level.setdefault(str(code), "0")
    parts = [
        header,
        "<p>Episodes by outcome</p>",
        _table(["outcome", "episodes", "share"], outcome_rows),
        *_readable(summary, "length_of_stay", extra=("stays open at the horizon", open_by_level)),
        *_readable(summary, "outcomes"),
        *_readable(summary, "continuation"),
        *_readable(summary, "readmissions"),
        *_readable(summary, "care"),
        f"<p>Relapses per patient: {summary.relapses_per_patient:.2f}</p>",
    ]
    if summary.across_samples is not None:
        parts += [
            "<p>Across parameter samples (mean, 95% interval)</p>",
            _frame_table(summary.across_samples),
        ]
    return _wrap("Simulation result", *parts)
