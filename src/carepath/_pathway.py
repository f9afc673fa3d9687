"""Pathway definitions: levels, criteria and transition rules, validated and compiled."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, final

from . import _deprecated, _display
from ._assessment import Assessment
from ._criteria import Criteria, Placement, place_among
from ._errors import InvalidArgument, PathwayError, UnknownLevel
from ._guards import (
    Event,
    EventName,
    GuardFactory,
)
from ._hooks import Hook, Hooks, Unregister
from ._levels import INTAKE, Level, Outcome
from ._machine import Engine
from ._rules import Rule, default_rules, guard_data
from ._suggest import did_you_mean
from ._textio import show
from ._validate import pathway_problems
from .levels import STANDARD_CRITERIA, STANDARD_LEVELS

if TYPE_CHECKING:
    from os import PathLike

    from ._episode import Episode


class _Opener(Protocol):
    def __call__(
        self,
        pathway: Pathway,
        patient_id: str,
        /,
        *,
        at: datetime,
        episode_id: str | None,
        previous: Episode | None,
    ) -> Episode: ...


# How an episode opens, registered by carepath._episode (the episode layer sits above this
# one, so the pathway does not import it).
_EPISODE_OPENER: list[_Opener | None] = [None]


def register_episode_opener(opener: _Opener) -> None:
    """Called once by :mod:`carepath._episode`: how :meth:`Pathway.start` opens an episode."""
    _EPISODE_OPENER[0] = opener


__all__ = ["Pathway", "Rule", "default_rules", "place", "standard_pathway"]


@final
class Pathway:
    """A care pathway: its levels, their criteria and the moves between them.

    A pathway is immutable and validated when built: every problem is reported at
    once in a :class:`~carepath.PathwayError`. It compiles onto one
    ``transitions.Machine`` shared by all of its episodes.

    Args:
        id: Stable identifier (``"standard"``).
        version: Version of the rules (``"1"``); recorded on every episode.
        levels: The levels of care (any order; sorted by intensity).
        criteria: Per-level criteria keyed by level code.
        rules: The allowed moves; see :func:`default_rules`.
        name: Human name.

    >>> from carepath import standard_pathway
    >>> p = standard_pathway()
    >>> [lv.code for lv in p.levels]
    ['outpatient', 'sober_living', 'iop', 'php', 'inpatient', 'detox']
    """

    __slots__ = (
        "_by_code",
        "_by_source",
        "_criteria",
        "_engine",
        "_hash",
        "_hooks",
        "_id",
        "_levels",
        "_lock",
        "_name",
        "_placements",
        "_rules",
        "_rules_by_key",
        "_version",
    )

    def __init__(
        self,
        *,
        id: str,
        version: str,
        levels: Sequence[Level],
        criteria: Mapping[str, Criteria],
        rules: Sequence[Rule],
        name: str = "",
    ) -> None:
        self._id = id
        self._version = version
        self._name = name or id
        self._levels: tuple[Level, ...] = tuple(
            sorted(levels, key=lambda lv: lv.intensity if isinstance(lv, Level) else 0)
        )
        self._criteria: Mapping[str, Criteria] = MappingProxyType(dict(criteria))
        self._rules: tuple[Rule, ...] = tuple(rules)
        problems = pathway_problems(
            id=id, version=version, levels=self._levels, criteria=self._criteria, rules=self._rules
        )
        if problems:
            raise PathwayError(pathway_id=str(id), problems=problems)
        self._by_code: dict[str, Level] = {lv.code: lv for lv in self._levels}
        self._rules_by_key: dict[tuple[Event, str, str], Rule] = {
            (r.event, r.source, r.target): r for r in self._rules
        }
        by_source: dict[str, list[Rule]] = {}
        for r in self._rules:
            by_source.setdefault(r.source, []).append(r)
        self._by_source: dict[str, tuple[Rule, ...]] = {k: tuple(v) for k, v in by_source.items()}
        self._placements: dict[int, Placement] = {}
        self._engine: Engine | None = None
        self._hash: str | None = None
        self._lock = threading.Lock()
        self._hooks: Hooks | None = None  # none until one is registered: events pay nothing

    # -- validation ---------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Deprecated: a built pathway has no problems (they are raised when it is built)."""
        _deprecated.warn(
            "Pathway.problems()", "the PathwayError raised when a pathway is built (.problems)"
        )
        return []

    def validate(self) -> None:
        """Deprecated: a built pathway is valid (problems are raised when it is built)."""
        _deprecated.warn("Pathway.validate()", "the PathwayError raised when a pathway is built")

    # -- identity (read-only: the content hash covers them) -----------------------------------

    @property
    def id(self) -> str:
        """Stable identifier (``"standard"``)."""
        return self._id

    @property
    def version(self) -> str:
        """Version of the rules; recorded on every episode."""
        return self._version

    @property
    def name(self) -> str:
        """Human name."""
        return self._name

    # -- structure ----------------------------------------------------------------------------

    @property
    def levels(self) -> tuple[Level, ...]:
        """The levels, least intensive first."""
        return self._levels

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every allowed move."""
        return self._rules

    @property
    def criteria(self) -> Mapping[str, Criteria]:
        """Per-level criteria keyed by level code (read-only)."""
        return self._criteria

    @property
    def states(self) -> tuple[str, ...]:
        """Every state an episode can be in: intake, the level codes, the outcomes."""
        return (INTAKE, *(lv.code for lv in self._levels), *(o.value for o in Outcome))

    def level(self, code: str | Level) -> Level:
        """The level with ``code`` (a :class:`Level` of this pathway is returned as is).

        Raises:
            UnknownLevel: no such level in this pathway (a ``LookupError``); the error
                names it and lists the levels there are.
        """
        if isinstance(code, Level):
            found = self._by_code.get(code.code)
            if found is not None and found == code:
                return found
        elif isinstance(code, str):
            found = self._by_code.get(code)
            if found is not None:
                return found
        raise UnknownLevel(
            level=_describe(code),
            pathway_id=self.id,
            known=[lv.code for lv in self._levels],
            hint=did_you_mean(code, self._by_code),
        )

    def criteria_for(self, level: Level | str) -> Criteria:
        """The criteria of one of this pathway's levels (a :class:`Level` or its code).

        Raises:
            InvalidEvent: no such level in this pathway.
        """
        found = (
            self._criteria.get(level.code if isinstance(level, Level) else level)
            if (isinstance(level, Level | str))
            else None
        )
        if found is None:
            self.level(level)  # raises, naming the levels there are
            raise AssertionError("unreachable: a level of the pathway has criteria")
        return found

    def rules_from(self, state: str) -> tuple[Rule, ...]:
        """The rules that leave ``state`` (a level code or ``"intake"``)."""
        return self._by_source.get(state, ())

    def rule(self, event: Event, source: str, target: str) -> Rule | None:
        """The rule for ``event`` from ``source`` to ``target``, or ``None``."""
        return self._rules_by_key.get((event, source, target))

    # -- placement ----------------------------------------------------------------------------

    def place(self, assessment: Assessment) -> Placement:
        """Where ``assessment`` places a patient on this pathway (see :func:`carepath.place`)."""
        if not isinstance(assessment, Assessment):
            raise InvalidArgument(
                owner="Pathway",
                field="place",
                problem=f"expected an Assessment, got {type(assessment).__name__}",
            )
        key = assessment.index
        found = self._placements.get(key)
        if found is None:
            found = place_among(self._levels, self._criteria, assessment)
            self._placements[key] = found
        return found

    def relapse_target(self, level: Level | str, assessment: Assessment) -> Level:
        """Where a relapse re-places a patient at ``level`` (a :class:`Level` or its code).

        In place when ``level`` can still manage every rating (care intensifies
        there); otherwise the least intensive more intensive level that can (detox
        when withdrawal risk is significant or severe).

        Raises:
            InvalidEvent: no such level in this pathway.
            InvalidArgument: ``assessment`` is not an :class:`Assessment`.
        """
        if not isinstance(level, Level) or self._by_code.get(level.code) is not level:
            level = self.level(level)
        if not isinstance(assessment, Assessment):
            raise InvalidArgument(
                owner="Pathway",
                field="relapse_target",
                problem=f"expected an Assessment, got {type(assessment).__name__}",
            )
        criteria = self._criteria
        if criteria[level.code].fits(assessment):
            return level
        for other in self._levels:
            if other.intensity > level.intensity and criteria[other.code].fits(assessment):
                return other
        raise AssertionError("unreachable: the most intensive level accepts every profile")

    # -- identity -----------------------------------------------------------------------------

    def to_canonical(self) -> dict[str, Any]:
        """The definition as plain data in a canonical order (what the content hash covers)."""
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "levels": [_level_data(lv) for lv in self._levels],
            "criteria": {code: self._criteria[code].as_dict() for code in sorted(self._criteria)},
            "rules": sorted(
                (
                    {
                        "event": r.event.value,
                        "source": r.source,
                        "target": r.target,
                        "guards": [guard_data(g) for g in r.guards],
                    }
                    for r in self._rules
                ),
                key=lambda d: (d["event"], d["source"], d["target"]),
            ),
        }

    @property
    def content_hash(self) -> str:
        """Hex SHA-256 of the canonical definition; episodes record it."""
        if self._hash is None:
            text = json.dumps(self.to_canonical(), sort_keys=True, separators=(",", ":"))
            self._hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self._hash

    @property
    def engine(self) -> Engine:
        """The compiled ``transitions`` machine shared by every episode of this pathway."""
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = Engine(
                        self.states, ((r.trigger, r.source, r.target) for r in self._rules)
                    )
                engine = self._engine
        return engine

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pathway):
            return NotImplemented
        return self is other or self.content_hash == other.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        return (
            f"Pathway(id={self.id!r}, version={self.version!r}, levels={len(self._levels)}, "
            f"rules={len(self._rules)})"
        )

    # -- deprecated aliases: files live in carepath.definitions, pictures in carepath.explore --

    @classmethod
    def from_file(
        cls, path: str | PathLike[str], *, guards: Mapping[str, GuardFactory] | None = None
    ) -> Pathway:
        """Deprecated: use :func:`carepath.definitions.load`."""
        _deprecated.warn("Pathway.from_file(path)", "carepath.definitions.load(path)")
        result: Pathway = _deprecated.upper("carepath.definitions").load(path, guards=guards)
        return result

    @classmethod
    def from_toml(
        cls, text: str, *, guards: Mapping[str, GuardFactory] | None = None, file: str = ""
    ) -> Pathway:
        """Deprecated: use :func:`carepath.definitions.loads`."""
        _deprecated.warn("Pathway.from_toml(text)", "carepath.definitions.loads(text)")
        result: Pathway = _deprecated.upper("carepath.definitions").loads(
            text, "toml", guards=guards, file=file
        )
        return result

    @classmethod
    def from_json(
        cls, text: str | bytes, *, guards: Mapping[str, GuardFactory] | None = None, file: str = ""
    ) -> Pathway:
        """Deprecated: use ``carepath.definitions.loads(text, "json")``."""
        _deprecated.warn("Pathway.from_json(text)", 'carepath.definitions.loads(text, "json")')
        result: Pathway = _deprecated.upper("carepath.definitions").loads(
            text, "json", guards=guards, file=file
        )
        return result

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, guards: Mapping[str, GuardFactory] | None = None
    ) -> Pathway:
        """Deprecated: use :func:`carepath.definitions.from_dict`."""
        _deprecated.warn("Pathway.from_dict(data)", "carepath.definitions.from_dict(data)")
        result: Pathway = _deprecated.upper("carepath.definitions").from_dict(data, guards=guards)
        return result

    def to_dict(self, *, compact: bool = False) -> dict[str, Any]:
        """Deprecated: use :func:`carepath.definitions.to_dict`."""
        _deprecated.warn("Pathway.to_dict()", "carepath.definitions.to_dict(pathway)")
        result: dict[str, Any] = _deprecated.upper("carepath.definitions").to_dict(
            self, compact=compact
        )
        return result

    def to_toml(self, *, compact: bool = False) -> str:
        """Deprecated: use :func:`carepath.definitions.dumps`."""
        _deprecated.warn("Pathway.to_toml()", "carepath.definitions.dumps(pathway)")
        result: str = _deprecated.upper("carepath.definitions").dumps(self, compact=compact)
        return result

    def to_json(self, *, compact: bool = False, indent: int | None = 2) -> str:
        """Deprecated: use ``carepath.definitions.dumps(pathway, "json")``."""
        _deprecated.warn("Pathway.to_json()", 'carepath.definitions.dumps(pathway, "json")')
        result: str = _deprecated.upper("carepath.definitions").dumps(
            self, "json", compact=compact, indent=indent
        )
        return result

    def paths(
        self,
        start: str | Level,
        end: str | Level | Outcome,
        *,
        max_steps: int | None = None,
        loops: int = 0,
        events: Iterable[Event | str] | None = None,
        assessments: Assessment | Sequence[Assessment] | None = None,
    ) -> list[tuple[str, ...]]:
        """Deprecated: use :func:`carepath.explore.paths`."""
        _deprecated.warn("Pathway.paths(...)", "carepath.explore.paths(pathway, ...)")
        result: list[tuple[str, ...]] = _deprecated.upper("carepath.explore").paths(
            self,
            start,
            end,
            max_steps=max_steps,
            loops=loops,
            events=events,
            assessments=assessments,
        )
        return result

    def shortest_path(
        self,
        start: str | Level,
        end: str | Level | Outcome,
        *,
        events: Iterable[Event | str] | None = None,
        assessments: Assessment | Sequence[Assessment] | None = None,
    ) -> tuple[str, ...] | None:
        """Deprecated: use :func:`carepath.explore.shortest_path`."""
        _deprecated.warn(
            "Pathway.shortest_path(...)", "carepath.explore.shortest_path(pathway, ...)"
        )
        result: tuple[str, ...] | None = _deprecated.upper("carepath.explore").shortest_path(
            self, start, end, events=events, assessments=assessments
        )
        return result

    def to_networkx(self) -> Any:
        """Deprecated: use :func:`carepath.explore.to_networkx`."""
        _deprecated.warn("Pathway.to_networkx()", "carepath.explore.to_networkx(pathway)")
        return _deprecated.upper("carepath.explore").to_networkx(self)

    def to_mermaid(
        self,
        *,
        guards: bool = False,
        episode: Episode | None = None,
        events: Iterable[Event | str] | None = None,
        direction: str = "TD",
        detail: Literal["summary", "full"] = "summary",
    ) -> str:
        """Deprecated: use :func:`carepath.explore.to_mermaid`."""
        _deprecated.warn("Pathway.to_mermaid()", "carepath.explore.to_mermaid(pathway)")
        result: str = _deprecated.upper("carepath.explore").to_mermaid(
            self, guards=guards, episode=episode, events=events, direction=direction, detail=detail
        )
        return result

    def to_graphviz(
        self,
        *,
        guards: bool = False,
        episode: Episode | None = None,
        events: Iterable[Event | str] | None = None,
        direction: str = "TD",
        detail: Literal["summary", "full"] = "summary",
    ) -> Any:
        """Deprecated: use :func:`carepath.explore.to_graphviz`."""
        _deprecated.warn("Pathway.to_graphviz()", "carepath.explore.to_graphviz(pathway)")
        return _deprecated.upper("carepath.explore").to_graphviz(
            self, guards=guards, episode=episode, events=events, direction=direction, detail=detail
        )

    def _repr_html_(self) -> str:
        return _display.html("pathway", self)

    # -- hooks --------------------------------------------------------------------------------

    def on_enter(self, state: str | Level | Outcome, fn: Hook) -> Unregister:
        """Call ``fn(episode, record)`` after an episode moves into ``state``.

        ``state`` is a level (or its code) or an outcome. The hook runs after the event
        is recorded (the episode already shows it), on the thread that applied the event;
        loading an episode from JSON runs no hooks. An exception from a hook reaches the
        caller; the event stays recorded. Returns a function that removes the hook.

        >>> from datetime import datetime, timezone
        >>> from carepath import Assessment, standard_pathway
        >>> p = standard_pathway()
        >>> beds = []
        >>> remove = p.on_enter("detox", lambda ep, rec: beds.append(ep.patient_id))
        >>> ep = p.start("patient-1", at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> _ = ep.admit("detox", at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc),
        ...              assessment=Assessment(withdrawal=3))
        >>> beds
        ['patient-1']
        >>> remove()
        """
        return self._hook("enter", self._state_key(state, "on_enter"), fn)

    def on_exit(self, state: str | Level | Outcome, fn: Hook) -> Unregister:
        """Call ``fn(episode, record)`` after an episode leaves ``state`` for another one.

        As :meth:`on_enter`; ``state`` is ``"intake"`` or a level.
        """
        return self._hook("exit", self._state_key(state, "on_exit"), fn)

    def after(self, event: Event | EventName, fn: Hook) -> Unregister:
        """Call ``fn(episode, record)`` after every ``event`` recorded on an episode.

        As :meth:`on_enter`; also after events that keep the episode in place
        (``reassess``, a relapse treated in place).
        """
        try:
            key = Event(event).value
        except ValueError:
            raise InvalidArgument(
                owner="Pathway",
                field="after",
                problem=f"{event!r} is not an event; events: " + ", ".join(e.value for e in Event),
            ) from None
        return self._hook("after", key, fn)

    def _state_key(self, state: object, owner: str) -> str:
        key = state.code if isinstance(state, Level) else state
        if isinstance(key, Outcome):
            key = key.value
        if not isinstance(key, str) or key not in self.states:
            raise UnknownLevel(
                level=_describe(state),
                pathway_id=self.id,
                known=self.states,
                hint=did_you_mean(key, self.states),
            )
        return key

    def _hook(self, kind: str, key: str, fn: Hook) -> Unregister:
        if not callable(fn):
            raise InvalidArgument(
                owner="Pathway", field=kind, problem=f"expected a callable, got {type(fn).__name__}"
            )
        with self._lock:
            if self._hooks is None:
                self._hooks = Hooks()
            hooks = self._hooks
        return hooks.add(kind, key, fn)

    # -- episodes -----------------------------------------------------------------------------

    def start(
        self,
        patient_id: str,
        *,
        at: datetime,
        episode_id: str | None = None,
        previous: Episode | None = None,
    ) -> Episode:
        """Open a new episode at intake.

        Args:
            patient_id: The caller's id for the patient (the only identifier stored).
            at: When the episode opens (timezone-aware).
            episode_id: The caller's id for the episode; generated when ``None``.
            previous: The episode this one readmits after (it must have ended).

        >>> from datetime import datetime, timezone
        >>> from carepath import standard_pathway
        >>> ep = standard_pathway().start("patient-1", at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> ep.state
        'intake'
        """
        opener = _EPISODE_OPENER[0]
        if opener is None:  # pragma: no cover - carepath/__init__ imports the episode module
            raise AssertionError("carepath._episode registers how episodes open")
        return opener(self, patient_id, at=at, episode_id=episode_id, previous=previous)


def _describe(value: object) -> str:
    if isinstance(value, Level):
        return f"level {value.code!r}"
    if isinstance(value, str):
        return show(value)  # a sender's value is quoted only when it is a short code
    return f"a {type(value).__name__}"


def _level_data(lv: Level) -> dict[str, Any]:
    return {
        "code": lv.code,
        "name": lv.name,
        "intensity": lv.intensity,
        "setting": lv.setting.value,
        "medically_monitored": lv.medically_monitored,
        "hours_per_week": list(lv.hours_per_week),
        "stay": {
            "minimum_days": lv.stay.minimum_days,
            "typical_days": lv.stay.typical_days,
            "maximum_days": lv.stay.maximum_days,
        },
        "asam3": list(lv.asam3),
        "asam4": list(lv.asam4),
        "description": lv.description,
    }


@functools.cache
def standard_pathway() -> Pathway:
    """The built-in standard continuum: the six levels of :mod:`carepath.levels`.

    Uses :data:`carepath.levels.STANDARD_CRITERIA` and :func:`default_rules`.
    The same object is returned on every call.
    """
    return Pathway(
        id="standard",
        version="1",
        name="Standard addiction-care continuum",
        levels=STANDARD_LEVELS,
        criteria=STANDARD_CRITERIA,
        rules=default_rules(STANDARD_LEVELS),
    )


def place(assessment: Assessment, pathway: Pathway | None = None) -> Placement:
    """Place an assessment: the least intensive level whose criteria accept every rating.

    Args:
        assessment: The six ratings.
        pathway: The pathway whose levels and criteria to use; the standard one if ``None``.

    Returns:
        The :class:`Placement`: the level, alternatives that could also serve, and reasons.

    >>> from carepath import Assessment, place
    >>> place(Assessment(withdrawal=3)).level.code
    'detox'
    >>> place(Assessment(relapse=1, environment=1)).level.code
    'outpatient'
    """
    if pathway is not None and not isinstance(pathway, Pathway):
        raise InvalidArgument(
            owner="place",
            field="pathway",
            problem=f"expected a Pathway, got {type(pathway).__name__}",
        )
    return (pathway or standard_pathway()).place(assessment)


def _closure(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
