"""Paths through a pathway: the graph, level sequences, and concrete replayable scenarios.

Graph algorithms come from networkx, imported only when a graph is built.
Realising a level sequence as events uses a real :class:`~carepath.Episode`,
so every scenario is judged by the pathway's own guards.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from carepath import _deprecated
from carepath._assessment import Assessment
from carepath._guards import Decision, Event
from carepath._levels import INTAKE, Level, Outcome

from ._common import OUTCOME_EVENTS, ExploreError, resolve_state

if TYPE_CHECKING:
    from carepath._episode import Episode, EventRecord
    from carepath._pathway import Pathway

__all__ = [
    "DEFAULT_START",
    "Scenario",
    "Step",
    "paths",
    "scenario_for",
    "shortest_path",
    "test_paths",
    "to_networkx",
]

DEFAULT_START: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When generated scenarios start, unless told otherwise (a fixed time keeps them reproducible)."""

_MOVES: Final = frozenset({Event.ADMIT, Event.STEP_DOWN, Event.STEP_UP})
_EVENT_ORDER: Final[dict[Event, int]] = {
    e: i
    for i, e in enumerate(
        (
            Event.ADMIT,
            Event.STEP_DOWN,
            Event.STEP_UP,
            Event.RELAPSE,
            Event.COMPLETE,
            Event.DROP_OUT,
            Event.TRANSFER_OUT,
            Event.REASSESS,
        )
    )
}
_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)
_MAX_ROUTES: Final = 200  # structural routes tried before a state is declared unrealisable


@final
@attrs.frozen(kw_only=True)
class Step:
    """One event of a scenario: what happens, to where, when, and with which assessment."""

    event: Event
    target: str
    at: datetime
    assessment: Assessment | None = None

    def check(self, episode: Episode) -> Decision:
        """Would this step be allowed on ``episode`` now? Changes nothing."""
        level = self.target if self.event in _MOVES else None
        return episode.check(self.event, level, at=self.at, assessment=self.assessment)

    def apply(self, episode: Episode) -> EventRecord:
        """Apply this step to ``episode`` through its typed event method."""
        e, a, at = self.event, self.assessment, self.at
        if e is Event.ADMIT:
            return episode.admit(self.target, at=at, assessment=a)
        if e is Event.STEP_DOWN:
            return episode.step_down(self.target, at=at, assessment=a)
        if e is Event.STEP_UP:
            return episode.step_up(self.target, at=at, assessment=a)
        if e is Event.RELAPSE:
            return episode.relapse(at=at, assessment=a)
        if e is Event.COMPLETE:
            return episode.complete(at=at, assessment=a)
        if e is Event.DROP_OUT:
            return episode.drop_out(at=at)
        if e is Event.TRANSFER_OUT:
            return episode.transfer_out(at=at)
        if a is None:
            raise ExploreError(field="step", problem="a reassess step needs an assessment")
        return episode.reassess(a, at=at)


@final
@attrs.frozen(kw_only=True)
class Scenario:
    """A concrete, replayable event sequence from intake, accepted by the pathway's guards.

    Integrators can replay scenarios as test cases: :meth:`replay` applies every
    step to a fresh episode through the public event methods.
    """

    pathway: Pathway = attrs.field(repr=False)
    started_at: datetime = attrs.field(repr=False)
    steps: tuple[Step, ...]

    @property
    def states(self) -> tuple[str, ...]:
        """The states visited: ``"intake"``, then where each step leads."""
        return (INTAKE, *(s.target for s in self.steps))

    @property
    def events(self) -> tuple[Event, ...]:
        """The events, in order."""
        return tuple(s.event for s in self.steps)

    @property
    def outcome(self) -> Outcome | None:
        """The outcome the scenario ends in (``None`` when it ends at a level)."""
        last = self.states[-1]
        return Outcome(last) if last in _OUTCOME_VALUES else None

    @property
    def level(self) -> str:
        """The state the outcome is reached from (the last state when there is no outcome)."""
        states = self.states
        return states[-2] if self.outcome is not None else states[-1]

    def replay(self, patient_id: str = "scenario", *, episode_id: str | None = None) -> Episode:
        """A new episode with every step applied (raises if the pathway refuses one)."""
        ep = self.pathway.start(patient_id, at=self.started_at, episode_id=episode_id)
        for step in self.steps:
            step.apply(ep)
        return ep

    def describe(self) -> str:
        """The scenario in one line: ``intake -admit-> iop -complete-> completed``."""
        parts = [INTAKE]
        for s in self.steps:
            parts.append(f"-{s.event.value}-> {s.target}")
        return " ".join(parts)


# -- the graph --------------------------------------------------------------------------------


def to_networkx(pathway: Pathway) -> Any:
    """The pathway as a ``networkx.MultiDiGraph``.

    Nodes are the states (``"intake"``, level codes, outcome names) with ``kind``
    (``"intake"``, ``"level"``, ``"outcome"``) and ``label``; level nodes also carry
    ``level``, ``setting``, ``intensity``, ``criteria`` and ``stay``. There is one
    edge per rule, keyed by the event's name, with ``event``, ``rule`` and
    ``guards`` (the guard kinds).
    """
    import networkx as nx  # noqa: PLC0415  # networkx only where a graph is needed

    g = nx.MultiDiGraph(pathway_id=pathway.id, version=pathway.version, name=pathway.name)
    g.add_node(INTAKE, kind="intake", label="Intake")
    for lv in pathway.levels:
        g.add_node(
            lv.code,
            kind="level",
            label=lv.name,
            level=lv,
            setting=lv.setting.value,
            intensity=lv.intensity,
            criteria=pathway.criteria[lv.code].as_dict(),
            stay=lv.stay,
        )
    for o in Outcome:
        g.add_node(o.value, kind="outcome", label=o.value.replace("_", " ").capitalize(), outcome=o)
    for r in pathway.rules:
        g.add_edge(
            r.source,
            r.target,
            key=r.event.value,
            event=r.event,
            rule=r,
            guards=tuple(guard.kind for guard in r.guards),
        )
    return g


def _events(events: Iterable[Event | str] | None) -> frozenset[Event] | None:
    if events is None:
        return None
    if isinstance(events, str | Event):  # one event, not a string to iterate
        events = (events,)
    out: set[Event] = set()
    for e in events:
        try:
            out.add(Event(e))
        except ValueError:
            raise ExploreError(
                field="events",
                problem=f"{e!r} is not an event; allowed: " + ", ".join(x.value for x in Event),
            ) from None
    return frozenset(out)


def _move_graph(pathway: Pathway, events: frozenset[Event] | None) -> Any:
    """A ``networkx.DiGraph`` of the moves between different states (no self-loops)."""
    import networkx as nx  # noqa: PLC0415  # networkx only where a graph is needed

    g = nx.DiGraph()
    g.add_nodes_from(pathway.states)
    for r in pathway.rules:
        if r.source != r.target and (events is None or r.event in events):
            g.add_edge(r.source, r.target)
    return g


def _check_count(value: object, field: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ExploreError(field=field, problem=f"expected an integer >= {minimum}, got {value!r}")


def _endpoints(pathway: Pathway, start: object, end: object) -> tuple[str, str]:
    s = resolve_state(pathway, start, field="start")
    e = resolve_state(pathway, end, field="end")
    if s in _OUTCOME_VALUES:
        raise ExploreError(field="start", problem=f"{s!r} is an outcome; nothing leaves it")
    if e == INTAKE and s != INTAKE:
        raise ExploreError(field="end", problem="no move leads back to intake")
    return s, e


def _trajectory(
    assessments: Assessment | Sequence[Assessment] | None,
) -> tuple[Assessment, ...] | None:
    if assessments is None:
        return None
    if isinstance(assessments, Assessment):
        return (assessments,)
    out = tuple(assessments)
    if not out or not all(isinstance(a, Assessment) for a in out):
        raise ExploreError(
            field="assessments", problem="expected an Assessment or a non-empty sequence of them"
        )
    return out


def paths(
    pathway: Pathway,
    start: str | Level,
    end: str | Level | Outcome,
    *,
    max_steps: int | None = None,
    loops: int = 0,
    events: Iterable[Event | str] | None = None,
    assessments: Assessment | Sequence[Assessment] | None = None,
) -> list[tuple[str, ...]]:
    """Every sequence of states from ``start`` to ``end``, shortest first.

    See :meth:`carepath.Pathway.paths`.
    """
    import networkx as nx  # noqa: PLC0415  # networkx only where a graph is needed

    s, e = _endpoints(pathway, start, end)
    if max_steps is not None:
        _check_count(max_steps, "max_steps", minimum=1)
    _check_count(loops, "loops", minimum=0)
    if loops and max_steps is None:
        raise ExploreError(
            field="max_steps", problem="loops > 0 needs a max_steps bound (walks are unbounded)"
        )
    chosen = _events(events)
    trajectory = _trajectory(assessments)
    g = _move_graph(pathway, chosen)
    found: list[tuple[str, ...]]
    if s == e:
        found = [(s,)]
        if loops:  # and the walks that come back to start
            found += _walks(pathway, g, s, e, max_steps=max_steps, loops=loops)
    elif loops == 0:
        found = [tuple(p) for p in nx.all_simple_paths(g, s, e, cutoff=max_steps)]
    else:
        found = list(_walks(pathway, g, s, e, max_steps=max_steps, loops=loops))
    found.sort(key=len)
    if trajectory is not None:
        found = [
            p
            for p in found
            if scenario_for(pathway, p, assessments=trajectory, events=chosen) is not None
        ]
    return found


def _walks(
    pathway: Pathway, g: Any, s: str, e: str, *, max_steps: int | None, loops: int
) -> Iterator[tuple[str, ...]]:
    """Walks that revisit levels at most ``loops`` times, as simple paths of a layered DAG.

    Layer ``k`` holds the states after ``k`` moves to a more intensive level; moves
    within a layer only go down, so the layered graph is acyclic and each walk is
    exactly one of its paths.
    """
    import networkx as nx  # noqa: PLC0415  # networkx only where a graph is needed

    intensity = {lv.code: lv.intensity for lv in pathway.levels}
    top = len(intensity) - 1 + loops
    layered = nx.DiGraph()
    for u, v in g.edges:
        up = u in intensity and v in intensity and intensity[v] > intensity[u]
        for k in range(top + 1):
            k2 = k + 1 if up else k
            if k2 <= top:
                layered.add_edge((u, k), (v, k2))
    source = (s, 0)
    targets = [(e, k) for k in range(top + 1) if (e, k) in layered and (e, k) != source]
    if source not in layered or not targets:
        return
    for p in nx.all_simple_paths(layered, source, targets, cutoff=max_steps):
        states = tuple(x[0] for x in p)
        if len(states) - len(set(states)) <= loops:
            yield states


def shortest_path(
    pathway: Pathway,
    start: str | Level,
    end: str | Level | Outcome,
    *,
    events: Iterable[Event | str] | None = None,
    assessments: Assessment | Sequence[Assessment] | None = None,
) -> tuple[str, ...] | None:
    """The shortest sequence of states from ``start`` to ``end``, or ``None``.

    See :meth:`carepath.Pathway.shortest_path`.
    """
    import networkx as nx  # noqa: PLC0415  # networkx only where a graph is needed

    s, e = _endpoints(pathway, start, end)
    chosen = _events(events)
    trajectory = _trajectory(assessments)
    if s == e:
        return (s,)
    g = _move_graph(pathway, chosen)
    try:
        if trajectory is None:
            return tuple(nx.shortest_path(g, s, e))
        for p in nx.shortest_simple_paths(g, s, e):
            if scenario_for(pathway, p, assessments=trajectory, events=chosen) is not None:
                return tuple(p)
    except nx.NetworkXNoPath:
        return None
    return None


# -- realising a sequence of states as events ----------------------------------------------------


@functools.cache
def _profiles_by_total() -> tuple[Assessment, ...]:
    """Every profile, lowest total risk first (ties in index order)."""
    return tuple(sorted(Assessment.all_profiles(), key=lambda a: sum(a.as_tuple())))


@functools.lru_cache(maxsize=64)
def _representatives(pathway: Pathway) -> dict[str, Assessment]:
    """For each level, the lowest-risk profile that the pathway places there."""
    levels = pathway.levels
    criteria = [pathway.criteria[lv.code] for lv in levels]
    found: dict[str, Assessment] = {}
    for a in _profiles_by_total():
        for lv, c in zip(levels, criteria, strict=True):
            if c.fits(a):
                found.setdefault(lv.code, a)
                break
        if len(found) == len(levels):
            break
    return found


def _candidates(pathway: Pathway, target: str) -> Iterator[Assessment | None]:
    """Assessments to try for a move to ``target``: cheap guesses first, then every profile."""
    reps = _representatives(pathway)
    seen: set[int] = set()
    guesses: list[Assessment | None] = [None]
    if target in reps:
        guesses.append(reps[target])
    guesses.extend(reps[lv.code] for lv in pathway.levels if lv.code in reps)
    guesses.append(Assessment())
    for a in guesses:
        if a is None:
            yield None
        elif a.index not in seen:
            seen.add(a.index)
            yield a
    for a in _profiles_by_total():
        if a.index not in seen:
            yield a


def _next_step(
    episode: Episode,
    target: str,
    fixed: Assessment | None,
    events: frozenset[Event] | None,
    search: bool,
) -> Step | None:
    pathway = episode.pathway
    source = episode.state
    level = episode.level
    at = episode.last_at
    entered = episode.entered_at
    if level is not None and entered is not None:
        at = max(at, entered + timedelta(days=level.stay.minimum_days))
    moves = sorted(
        {
            r.event
            for r in pathway.rules_from(source)
            if r.target == target and (events is None or r.event in events)
        },
        key=_EVENT_ORDER.__getitem__,
    )
    for ev in moves:
        takes_assessment = ev not in {Event.DROP_OUT, Event.TRANSFER_OUT}
        options: Iterable[Assessment | None]
        if not takes_assessment:
            options = (None,)
        elif search:
            options = _candidates(pathway, target)
        else:
            options = (fixed,)
        for a in options:
            step = Step(event=ev, target=target, at=at, assessment=a)
            d = step.check(episode)
            if d.allowed and d.target == target:
                return step
    return None


def scenario_for(
    pathway: Pathway,
    states: Sequence[str | Level | Outcome],
    *,
    assessments: Assessment | Sequence[Assessment] | None = None,
    events: Iterable[Event | str] | None = None,
    at: datetime = DEFAULT_START,
) -> Scenario | None:
    """A concrete event sequence that takes a patient through ``states``, or ``None``.

    Each move happens when the minimum stay at the current level is met. With
    ``assessments``, the k-th move after ``states[0]`` brings ``assessments[k]``
    (the last one repeats) and the sequence is accepted only if the guards allow
    every move on those ratings; without, assessments the guards accept are
    searched for. When ``states[0]`` is a level, the scenario first reaches it from
    intake by the shortest route the guards allow. The search is greedy (one
    choice per move), so an exotic custom guard may need a hand-written scenario.
    """
    seq = [resolve_state(pathway, s, field="states") for s in states]
    if not seq:
        raise ExploreError(field="states", problem="expected at least one state")
    trajectory = _trajectory(assessments)
    chosen = _events(events)
    if seq[0] == INTAKE:
        steps: list[Step] = []
    else:
        prefix = _route_to(pathway, seq[0], at)
        if prefix is None:
            return None
        steps = list(prefix.steps)
    ep = pathway.start("scenario", at=at)
    for step in steps:
        step.apply(ep)
    for k, target in enumerate(seq[1:]):
        fixed = trajectory[min(k, len(trajectory) - 1)] if trajectory is not None else None
        found = _next_step(ep, target, fixed, chosen, search=trajectory is None)
        if found is None:
            return None
        found.apply(ep)
        steps.append(found)
    return Scenario(pathway=pathway, started_at=at, steps=tuple(steps))


def _route_to(pathway: Pathway, state: str, at: datetime) -> Scenario | None:
    """The shortest scenario from intake to ``state`` that the guards allow."""
    import networkx as nx  # noqa: PLC0415  # networkx only where a graph is needed

    g = _move_graph(pathway, None)
    try:
        routes = nx.shortest_simple_paths(g, INTAKE, state)
        for route in itertools.islice(routes, _MAX_ROUTES):
            found = scenario_for(pathway, route, at=at)
            if found is not None:
                return found
    except nx.NetworkXNoPath:
        return None
    return None


def scenarios(pathway: Pathway, *, at: datetime = DEFAULT_START) -> list[Scenario]:
    """One concrete scenario per reachable (level, outcome) pair, shortest first.

    In the spirit of XState's ``getShortestPaths``: for every state an outcome can
    be reached from (intake and each level) and every outcome rule leaving it, the
    shortest event sequence from intake that the pathway's real guards accept,
    with the times and assessments it needs. Replay them as test cases of an
    integration (:meth:`Scenario.replay`).

    >>> from carepath import standard_pathway
    >>> cases = scenarios(standard_pathway())
    >>> cases[0].describe()
    'intake -drop_out-> dropped_out'
    >>> sorted({c.level for c in cases}) == sorted(standard_pathway().states[:7])
    True
    """
    out: list[Scenario] = []
    for state in (INTAKE, *(lv.code for lv in pathway.levels)):
        for rule in pathway.rules_from(state):
            if rule.event not in OUTCOME_EVENTS:
                continue
            if state == INTAKE:
                found = scenario_for(pathway, (INTAKE, rule.target), at=at)
            else:
                prefix = _route_to(pathway, state, at)
                found = None
                if prefix is not None:
                    found = scenario_for(pathway, (*prefix.states, rule.target), at=at)
            if found is not None:
                out.append(found)
    return out


def test_paths(  # a deprecated alias; its name made pytest collect it from test modules
    pathway: Pathway,
    *,
    at: datetime = DEFAULT_START,  # noqa: PT028  # a library function, not a pytest test
) -> list[Scenario]:
    """Deprecated: use :func:`scenarios` (the same function; pytest collected this name)."""
    _deprecated.warn("carepath.explore.test_paths(pathway)", "carepath.explore.scenarios(pathway)")
    return scenarios(pathway, at=at)


test_paths.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
