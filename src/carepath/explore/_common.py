"""Shared pieces of carepath.explore: the error, colours, state names and an episode's stays."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, final

import attrs

from carepath._errors import ExploreError
from carepath._guards import Event
from carepath._levels import INTAKE, Level, Outcome, Setting

if TYPE_CHECKING:
    from carepath._episode import Episode
    from carepath._pathway import Pathway

__all__ = [
    "ExploreError",
    "SimulationTables",
    "Stay",
    "Table",
    "episode_stays",
    "is_missing",
    "records",
    "resolve_state",
]

SECONDS_PER_DAY: Final = 86_400.0

OKABE_ITO: Final[tuple[str, ...]] = (
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#0072B2",  # blue
)
"""The Okabe-Ito colours (black aside), distinct for the common forms of colour blindness.

Levels take them in order of intensity, least intensive first (cool to warm on the
standard pathway): every picture, table and plot colours a level the same way.
"""

SETTING_WORDS: Final[Mapping[Setting, str]] = {
    Setting.RESIDENTIAL: "residential",
    Setting.DAY: "day programme",
    Setting.AMBULATORY: "ambulatory",
    Setting.RECOVERY_RESIDENCE: "recovery residence",
}
SETTING_BORDERS: Final[Mapping[Setting, str]] = {
    Setting.RESIDENTIAL: "double",
    Setting.DAY: "solid",
    Setting.AMBULATORY: "dashed",
    Setting.RECOVERY_RESIDENCE: "dotted",
}
"""How each picture shows a level's setting: by border (HTML) and shape (diagrams)."""

INTAKE_COLOUR: Final = "#eeeeee"
OUTCOME_COLOURS: Final[Mapping[Outcome, str]] = {
    Outcome.COMPLETED: "#ffffff",
    Outcome.DROPPED_OUT: "#bbbbbb",
    Outcome.TRANSFERRED_OUT: "#dddddd",
}
"""Outcomes and intake in white and greys, so no level colour is taken by them."""
HIGHLIGHT: Final = "#000000"


def level_colour(level: Level, pathway: Pathway | None = None) -> str:
    """The colour of ``level``: its rank in ``pathway`` (else its intensity) in Okabe-Ito.

    >>> from carepath import standard_pathway
    >>> p = standard_pathway()
    >>> [level_colour(lv, p) for lv in p.levels][:2]
    ['#56B4E9', '#009E73']
    """
    rank = level.intensity
    if pathway is not None:
        codes = [lv.code for lv in pathway.levels]
        if level.code in codes:
            rank = codes.index(level.code)
    return OKABE_ITO[rank % len(OKABE_ITO)]


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (WCAG contrast)."""
    h = fill.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


OUTCOME_EVENTS: Final = frozenset({Event.COMPLETE, Event.DROP_OUT, Event.TRANSFER_OUT})


def state_colour(pathway: Pathway, state: str) -> str:
    """The fill colour of a state: the level's colour, fixed greys for intake and outcomes."""
    if state == INTAKE:
        return INTAKE_COLOUR
    if state in _OUTCOME_BY_VALUE:
        return OUTCOME_COLOURS[_OUTCOME_BY_VALUE[state]]
    return level_colour(pathway.level(state), pathway)


_OUTCOME_BY_VALUE: Final[Mapping[str, Outcome]] = {o.value: o for o in Outcome}


def state_label(pathway: Pathway, state: str) -> str:
    """A human name for a state: the level's name, ``Intake``, or the outcome in words."""
    if state == INTAKE:
        return "Intake"
    if state in _OUTCOME_BY_VALUE:
        return state.replace("_", " ").capitalize()
    return pathway.level(state).name


def resolve_state(pathway: Pathway, value: object, *, field: str) -> str:
    """A state name from a level code, a :class:`Level`, ``"intake"``, or an outcome.

    Raises:
        ExploreError: the value names no state of the pathway.
    """
    if isinstance(value, Outcome):
        return value.value
    if isinstance(value, Level):
        if value in pathway.levels:
            return value.code
    elif isinstance(value, str) and value in pathway.states:
        return value
    known = ", ".join(pathway.states)
    shown = f"level {value.code!r}" if isinstance(value, Level) else repr(value)
    raise ExploreError(
        field=field, problem=f"{shown} is not a state of pathway {pathway.id!r}; known: {known}"
    )


@final
@attrs.frozen(kw_only=True)
class Stay:
    """One stay at a level of an episode, in days since the episode started.

    ``end_day`` and ``exit`` are ``None`` while the stay is open.
    """

    level: Level
    start_day: float
    end_day: float | None
    exit: Event | None

    @property
    def days(self) -> float | None:
        """Length of the stay in days (``None`` while open)."""
        return None if self.end_day is None else self.end_day - self.start_day


def days_since(start: datetime, at: datetime) -> float:
    """Days from ``start`` to ``at``."""
    return (at - start).total_seconds() / SECONDS_PER_DAY


def episode_stays(episode: Episode) -> list[Stay]:
    """The stays of ``episode`` in order; a stay ends when the patient leaves its level."""
    pathway = episode.pathway
    stays: list[Stay] = []
    current: tuple[Level, float] | None = None
    t0 = episode.started_at
    for rec in episode.history:
        if rec.target == rec.source:
            continue
        day = days_since(t0, rec.at)
        if current is not None:
            stays.append(Stay(level=current[0], start_day=current[1], end_day=day, exit=rec.event))
            current = None
        if rec.target in {lv.code for lv in pathway.levels}:
            current = (pathway.level(rec.target), day)
    if current is not None:
        stays.append(Stay(level=current[0], start_day=current[1], end_day=None, exit=None))
    return stays


class Table(Protocol):
    """A table that yields its rows as dictionaries (a ``pandas.DataFrame`` does)."""

    def to_dict(self, orient: Literal["records"]) -> Any: ...


class SimulationTables(Protocol):
    """What the plots need from a simulation result: its ``events`` and ``stays`` tables.

    ``events`` has the columns patient, episode, day, event, from_level, to_level;
    ``stays`` has patient, episode, level, start_day, end_day, exit. A stay occupies days
    ``start_day`` to ``end_day - 1``. A stay still open has a missing ``end_day``, or (as
    in :class:`carepath.sim.SimulationResult`, whose open stays end at the horizon)
    ``exit == "censored"``; the plots count neither as an ended stay. A result of
    ``simulate(..., samples=K)`` adds a ``sample`` column to both tables.
    :class:`carepath.sim.SimulationResult` fits, and so does any object with two such
    data frames; an optional ``pathway`` (a :class:`carepath.Pathway`) and ``metadata``
    (a dict with ``days`` and ``samples``) are used when present.
    """

    @property
    def events(self) -> Table: ...

    @property
    def stays(self) -> Table: ...


def records(table: Table, columns: tuple[str, ...], *, name: str) -> list[dict[str, Any]]:
    """The rows of ``table`` as dictionaries, checking that ``columns`` are present."""
    names = getattr(table, "columns", None)
    if names is not None:
        missing = [c for c in columns if c not in {str(n) for n in names}]
        if missing:
            raise ExploreError(field=name, problem="missing columns: " + ", ".join(missing))
    rows = table.to_dict("records")
    if not isinstance(rows, list):
        raise ExploreError(field=name, problem="to_dict('records') did not return a list")
    out: list[dict[str, Any]] = []
    for row in rows:
        missing = [c for c in columns if c not in row]
        if missing:
            raise ExploreError(field=name, problem="missing columns: " + ", ".join(missing))
        out.append({str(k): v for k, v in row.items()})
    return out


def is_missing(value: object) -> bool:
    """True for ``None``, NaN and pandas' missing-value markers."""
    if value is None:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124  # NaN is the one value unequal to itself
    except TypeError:  # pandas.NA refuses to be a bool
        return True
