"""Pathway definitions: levels, criteria and transition rules, validated and compiled."""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, final

import attrs

from . import _deprecated, _display
from ._assessment import Assessment, Dimension, Risk
from ._checks import typed
from ._criteria import Criteria, Placement, place_among
from ._errors import InvalidArgument, InvalidEvent, PathwayError
from ._guards import (
    BUILTIN_GUARDS,
    Event,
    EventName,
    FitsCriteria,
    Guard,
    GuardFactory,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    PlacementMatches,
    RelapsePlacement,
    RiskAtMost,
)
from ._levels import INTAKE, Level, Outcome
from ._machine import Engine, trigger_name
from ._suggest import did_you_mean
from ._textio import show
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

_OUTCOME_OF: Final[Mapping[Event, Outcome]] = {
    Event.COMPLETE: Outcome.COMPLETED,
    Event.DROP_OUT: Outcome.DROPPED_OUT,
    Event.TRANSFER_OUT: Outcome.TRANSFERRED_OUT,
}
_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)


def _to_event(value: Event | EventName) -> Event:
    try:
        return Event(value)
    except ValueError:
        raise InvalidEvent(
            event=str(value),
            field="event",
            problem="unknown event; "
            + did_you_mean(value, (e.value for e in Event))
            + "allowed: "
            + ", ".join(e.value for e in Event),
        ) from None


def _guard_tuple(value: Iterable[Guard]) -> tuple[Guard, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(
            owner="Rule",
            field="guards",
            problem=f"expected a sequence of guards, got {type(value).__name__}",
        )
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class Rule:
    """One move the pathway allows: ``event`` from ``source`` to ``target``, if ``guards`` pass.

    ``source`` is ``"intake"`` or a level code; ``target`` is a level code or an
    outcome (``"completed"``, ``"dropped_out"``, ``"transferred_out"``). A rule
    whose target equals its source keeps the patient in place (reassess, relapse
    treated in place).

    >>> Rule(event=Event.STEP_DOWN, source="inpatient", target="iop",
    ...      guards=[MinimumStay(), FitsCriteria()])
    Rule(event=<Event.STEP_DOWN: 'step_down'>, source='inpatient', target='iop', guards=(MinimumStay(), FitsCriteria()))
    """  # noqa: E501

    event: Event = attrs.field(converter=_to_event)
    source: str = attrs.field(validator=typed(str))
    target: str = attrs.field(validator=typed(str))
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guard_tuple)

    @functools.cached_property
    def trigger(self) -> str:
        """The name of this rule's trigger on the compiled machine."""
        return trigger_name(self.event.value, self.target)


def default_rules(levels: Sequence[Level]) -> list[Rule]:
    """The standard rule set over any list of levels.

    Admit from intake to any level the assessment places in (or an alternative);
    step down to any less intensive level that fits, after the minimum stay (levels
    may be skipped); step up to any more intensive level that fits when the current
    one no longer does; relapse re-places the patient (in place while the level
    still fits, else up to the least intensive level that does); reassess at any
    time (staying past the maximum, or at a level that no longer fits, needs an
    override); complete after the minimum stay when no more intensive care is
    needed and withdrawal risk is at most mild; drop out or transfer out at any time.
    """
    fits, minimum, maximum = FitsCriteria(), MinimumStay(), MaximumStay()
    replaced = RelapsePlacement()
    # Withdrawal must have settled before an episode completes (matters for detox,
    # whose criteria accept every profile).
    settled = RiskAtMost(dimension=Dimension.WITHDRAWAL, risk=Risk.MILD)
    rules: list[Rule] = [Rule(event=Event.REASSESS, source=INTAKE, target=INTAKE)]
    for lv in levels:
        rules.append(
            Rule(
                event=Event.ADMIT, source=INTAKE, target=lv.code, guards=(fits, PlacementMatches())
            )
        )
    for out in (Event.DROP_OUT, Event.TRANSFER_OUT):
        rules.append(Rule(event=out, source=INTAKE, target=_OUTCOME_OF[out].value))
    for lv in levels:
        c = lv.code
        for other in levels:
            if other.intensity < lv.intensity:
                rules.append(
                    Rule(event=Event.STEP_DOWN, source=c, target=other.code, guards=(minimum, fits))
                )
            elif other.intensity > lv.intensity:
                rules.append(
                    Rule(
                        event=Event.STEP_UP,
                        source=c,
                        target=other.code,
                        guards=(fits, NeedsMoreCare()),
                    )
                )
                rules.append(
                    Rule(event=Event.RELAPSE, source=c, target=other.code, guards=(fits, replaced))
                )
        rules.append(Rule(event=Event.RELAPSE, source=c, target=c, guards=(maximum, replaced)))
        rules.append(Rule(event=Event.REASSESS, source=c, target=c, guards=(fits, maximum)))
        rules.append(
            Rule(
                event=Event.COMPLETE,
                source=c,
                target=Outcome.COMPLETED.value,
                guards=(minimum, NoHigherNeed(), settled),
            )
        )
        for out in (Event.DROP_OUT, Event.TRANSFER_OUT):
            rules.append(Rule(event=out, source=c, target=_OUTCOME_OF[out].value))
    return rules


_BUILTIN_GUARD_TYPES: Final = frozenset(BUILTIN_GUARDS)


def _guard_params(guard: Guard) -> dict[str, Any] | None:
    """A guard's settings, so the content hash covers them (``None``: unreadable).

    From its attrs fields, else its ``params()`` method, else its instance
    ``__dict__`` (a plain class that keeps no settings has an empty one).
    """
    cls = type(guard)
    raw: Mapping[str, Any]
    if attrs.has(cls):
        raw = {f.name: getattr(guard, f.name) for f in attrs.fields(cls)}
    elif callable(params := getattr(guard, "params", None)):
        raw = dict(params())
    elif hasattr(guard, "__dict__"):
        raw = dict(vars(guard))
    else:
        slots = [s for c in cls.__mro__ for s in getattr(c, "__slots__", ()) if s != "__weakref__"]
        try:
            raw = {s: getattr(guard, s) for s in slots}
        except AttributeError:
            return None
    return {k: _plain(v) for k, v in raw.items()}


def _plain(value: object) -> object:
    """A guard setting as stable JSON data, for the content hash and ``to_dict``."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    return repr(value)


def _guard_data(guard: Guard) -> dict[str, Any]:
    return {"kind": guard.kind, **(_guard_params(guard) or {})}


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
        problems = self.problems()
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

    # -- validation ---------------------------------------------------------------------------

    def problems(self) -> list[str]:  # noqa: PLR0915  # one pass collecting every problem
        """Every problem with the definition, in words (empty when valid)."""
        out: list[str] = []
        if not isinstance(self.id, str) or not self.id.strip():
            out.append("id must be a non-empty string")
        if not isinstance(self.version, str) or not self.version.strip():
            out.append("version must be a non-empty string")
        levels = self._levels
        if not levels:
            out.append("a pathway needs at least one level")
        codes: dict[str, Level] = {}
        intensities: dict[int, str] = {}
        for i, lv in enumerate(levels):
            if not isinstance(lv, Level):
                out.append(f"levels[{i}] is a {type(lv).__name__}, not a Level")
                continue
            if lv.code in codes:
                out.append(f"level code {lv.code!r} is used twice")
            codes[lv.code] = lv
            if lv.intensity in intensities:
                out.append(
                    f"levels {intensities[lv.intensity]!r} and {lv.code!r} share intensity "
                    f"{lv.intensity}; intensities must be distinct"
                )
            intensities[lv.intensity] = lv.code
            out.extend(f"level {lv.code!r}: {p}" for p in lv.stay.problems())
            if lv.code not in self._criteria:
                out.append(f"level {lv.code!r} has no criteria")
        for code, c in self._criteria.items():
            if code not in codes:
                out.append(f"criteria given for unknown level {code!r}")
            if not isinstance(c, Criteria):
                out.append(f"criteria for {code!r} is a {type(c).__name__}, not a Criteria")
        top = max(codes.values(), key=lambda lv: lv.intensity) if codes else None
        top_criteria = self._criteria.get(top.code) if top is not None else None
        if top is not None and isinstance(top_criteria, Criteria) and not top_criteria.is_total:
            out.append(
                f"no level accepts every assessment at the top: the most intensive level "
                f"{top.code!r} must leave every dimension unlimited, so that placement is "
                "total and a relapse can always be re-placed"
            )
        states = {INTAKE, *codes, *_OUTCOME_VALUES}
        seen: set[tuple[str, str, str]] = set()
        edges: dict[str, set[str]] = {s: set() for s in states}
        for i, r in enumerate(self._rules):
            where = (
                f"rule {i} ({getattr(r, 'event', '?')} {getattr(r, 'source', '?')} -> "
                f"{getattr(r, 'target', '?')})"
            )
            if not isinstance(r, Rule):
                out.append(f"rules[{i}] is a {type(r).__name__}, not a Rule")
                continue
            bad = False
            if r.source not in states:
                out.append(f"{where}: unknown source level {r.source!r}")
                bad = True
            elif r.source in _OUTCOME_VALUES:
                out.append(f"{where}: {r.source!r} is an outcome; nothing leaves an outcome")
                bad = True
            if r.target not in states:
                out.append(f"{where}: unknown target level {r.target!r}")
                bad = True
            for g in r.guards:
                # The built-in classes first: a check against a runtime Protocol
                # inspects every member (about 25 us), and a pathway has ~150 guards.
                if type(g) not in _BUILTIN_GUARD_TYPES and not isinstance(g, Guard):
                    out.append(
                        f"{where}: guard {type(g).__name__} does not implement the Guard "
                        "protocol (kind, overridable, check)"
                    )
                elif _guard_params(g) is None:
                    out.append(
                        f"{where}: guard {type(g).__name__} keeps settings carepath cannot "
                        "read; make it an attrs class or give it a params() method, so that "
                        "the content hash covers them"
                    )
            key = (r.event.value, r.source, r.target)
            if key in seen:
                out.append(f"{where}: the same move is defined twice")
            seen.add(key)
            if bad:
                continue
            out.extend(f"{where}: {p}" for p in self._shape_problems(r, codes))
            edges[r.source].add(r.target)
        if codes:
            reachable = _closure({INTAKE}, edges)
            for code in codes:
                if code not in reachable:
                    out.append(f"level {code!r} is unreachable from intake")
            reverse: dict[str, set[str]] = {s: set() for s in states}
            for s, targets in edges.items():
                for t in targets:
                    reverse[t].add(s)
            can_end = _closure(set(_OUTCOME_VALUES), reverse)
            for code in codes:
                if code not in can_end:
                    out.append(f"level {code!r} has no way to an outcome")
        return out

    @staticmethod
    def _shape_problems(r: Rule, codes: Mapping[str, Level]) -> list[str]:
        src, dst = codes.get(r.source), codes.get(r.target)
        e = r.event
        if e in _OUTCOME_OF:
            want = _OUTCOME_OF[e].value
            return [] if r.target == want else [f"{e.value} must lead to {want!r}"]
        if r.target in _OUTCOME_VALUES:
            return [f"{e.value} cannot lead to an outcome"]
        if e is Event.REASSESS:
            return [] if r.target == r.source else ["reassess keeps the patient in place"]
        if e is Event.ADMIT:
            if r.source != INTAKE or dst is None:
                return ["admit goes from intake to a level"]
            return []
        if src is None or dst is None:
            return [f"{e.value} goes from a level to a level, not from intake"]
        if e is Event.STEP_DOWN and not dst.intensity < src.intensity:
            return ["step_down must go to a less intensive level"]
        if e is Event.STEP_UP and not dst.intensity > src.intensity:
            return ["step_up must go to a more intensive level"]
        if e is Event.RELAPSE and dst.intensity < src.intensity:
            return ["relapse stays in place or goes to a more intensive level"]
        return []

    def validate(self) -> None:
        """Raise :class:`~carepath.PathwayError` listing every problem, if there are any."""
        problems = self.problems()
        if problems:
            raise PathwayError(pathway_id=str(self.id), problems=problems)

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
            InvalidEvent: no such level in this pathway.
        """
        if isinstance(code, Level):
            found = self._by_code.get(code.code)
            if found is not None and found == code:
                return found
        elif isinstance(code, str):
            found = self._by_code.get(code)
            if found is not None:
                return found
        raise InvalidEvent(
            event="lookup",
            field="level",
            problem=f"{_describe(code)} is not a level of pathway {self.id!r}; "
            + did_you_mean(code, self._by_code)
            + "known: "
            + ", ".join(lv.code for lv in self._levels),
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
                        "guards": [_guard_data(g) for g in r.guards],
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


def _closure(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


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
