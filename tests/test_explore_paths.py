"""Path enumeration, shortest paths, the networkx graph and replayable scenarios."""

from __future__ import annotations

import itertools
import sys
from datetime import timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from carepath import (
    INTAKE,
    Assessment,
    Criteria,
    Event,
    Level,
    Outcome,
    Pathway,
    PathwayError,
    Rule,
    Setting,
    StayRule,
    default_rules,
    explore,
    standard_pathway,
)
from carepath.explore import ExploreError, scenario_for
from carepath.levels import STANDARD_CRITERIA, STANDARD_LEVELS

_KEEP = frozenset({Event.COMPLETE, Event.DROP_OUT, Event.TRANSFER_OUT, Event.REASSESS})


def _subset(draw: st.DrawFn, rules: list[Rule]) -> list[Rule]:
    """Outcome and reassess rules always; every other rule kept or dropped at random."""
    return [r for r in rules if r.event in _KEEP or draw(st.booleans())]


@st.composite
def small_pathways(draw: st.DrawFn) -> Pathway:
    """Pathways of 1-4 made-up levels with a random subset of the default rules."""
    n = draw(st.integers(1, 4))
    levels = []
    for i in range(n):
        low = draw(st.integers(0, 5))
        levels.append(
            Level(
                code=f"l{i}",
                name=f"Level {i}",
                intensity=i,
                setting=draw(st.sampled_from(list(Setting))),
                stay=StayRule(minimum_days=low, typical_days=low + 1, maximum_days=low + 10),
            )
        )
    criteria = {lv.code: Criteria(withdrawal=min(4, lv.intensity + 1)) for lv in levels}
    criteria[levels[-1].code] = Criteria()
    try:
        return Pathway(
            id="small",
            version="1",
            levels=levels,
            criteria=criteria,
            rules=_subset(draw, default_rules(levels)),
        )
    except PathwayError:
        assume(False)
        raise  # unreachable: assume(False) stops the example


@st.composite
def standard_subsets(draw: st.DrawFn) -> Pathway:
    """The standard levels and criteria with a random subset of the default rules."""
    try:
        return Pathway(
            id="subset",
            version="1",
            levels=STANDARD_LEVELS,
            criteria=STANDARD_CRITERIA,
            rules=_subset(draw, default_rules(STANDARD_LEVELS)),
        )
    except PathwayError:
        assume(False)
        raise


def brute_force(
    pathway: Pathway, start: str, end: str, max_steps: int, loops: int
) -> set[tuple[str, ...]]:
    """Every walk from start to end by brute force over all state sequences."""
    edges = {(r.source, r.target) for r in pathway.rules if r.source != r.target}
    states = pathway.states
    found: set[tuple[str, ...]] = set()
    for m in range(1, max_steps + 1):
        for middle in itertools.product(states, repeat=m - 1):
            seq = (start, *middle, end)
            if (
                all(pair in edges for pair in itertools.pairwise(seq))
                and len(seq) - len(set(seq)) <= loops
            ):
                found.add(seq)
    return found


@given(pathway=small_pathways(), data=st.data())
def test_enumerated_paths_equal_a_brute_force_count(pathway: Pathway, data: st.DataObject) -> None:
    """paths() lists exactly the walks a brute-force search over state sequences finds."""
    starts = [s for s in pathway.states if s not in {o.value for o in Outcome}]
    start = data.draw(st.sampled_from(starts))
    end = data.draw(st.sampled_from([s for s in pathway.states if s not in {start, INTAKE}]))
    loops = data.draw(st.integers(0, 2))
    max_steps = data.draw(st.integers(1, 5))
    found = explore.paths(pathway, start, end, max_steps=max_steps, loops=loops)
    assert len(found) == len(set(found))
    assert set(found) == brute_force(pathway, start, end, max_steps, loops)
    assert [len(p) for p in found] == sorted(len(p) for p in found)


@given(pathway=small_pathways(), data=st.data())
def test_simple_paths_without_a_bound_equal_brute_force(
    pathway: Pathway, data: st.DataObject
) -> None:
    """Without max_steps, paths() gives every simple path (the longest visits every state)."""
    ends = [o.value for o in Outcome] + [lv.code for lv in pathway.levels]
    end = data.draw(st.sampled_from(ends))
    found = explore.paths(pathway, INTAKE, end)
    edges = {(r.source, r.target) for r in pathway.rules if r.source != r.target}
    # Only levels can sit in the middle: nothing enters intake and nothing leaves an outcome.
    middle = [lv.code for lv in pathway.levels if lv.code != end]
    candidates = [
        (INTAKE, *inner, end)
        for k in range(len(middle) + 1)
        for inner in itertools.permutations(middle, k)
    ]
    expected = {seq for seq in candidates if all(pair in edges for pair in itertools.pairwise(seq))}
    assert set(found) == expected


@given(pathway=standard_subsets(), data=st.data())
def test_every_enumerated_path_replays_through_an_episode(
    pathway: Pathway, data: st.DataObject
) -> None:
    """Each enumerated path, given suitable assessments, is accepted by the real guards."""
    end = data.draw(st.sampled_from([o.value for o in Outcome]))
    loops = data.draw(st.integers(0, 1))
    found = explore.paths(pathway, INTAKE, end, max_steps=4, loops=loops)
    for path in found[:40]:
        scenario = scenario_for(pathway, path)
        assert scenario is not None, path
        assert scenario.states == path
        episode = scenario.replay()
        assert (INTAKE, *(r.target for r in episode.history)) == path


def test_every_test_path_replays_and_covers_every_exit() -> None:
    """scenarios gives one replayable scenario per (state, outcome) rule of the pathway."""
    p = standard_pathway()
    cases = explore.scenarios(p)
    exits = {
        (r.source, r.target)
        for r in p.rules
        if r.event in {Event.COMPLETE, Event.DROP_OUT, Event.TRANSFER_OUT}
    }
    assert {(c.level, c.states[-1]) for c in cases} == exits
    for case in cases:
        episode = case.replay("patient-x")
        assert episode.outcome is case.outcome
        assert tuple(r.event for r in episode.history) == case.events


@given(pathway=standard_subsets())
def test_scenarios_replay_on_random_rule_subsets(pathway: Pathway) -> None:
    """On any valid subset of the standard rules, every exit is covered and replays."""
    cases = explore.scenarios(pathway)
    exits = {
        (r.source, r.target)
        for r in pathway.rules
        if r.event in {Event.COMPLETE, Event.DROP_OUT, Event.TRANSFER_OUT}
    }
    assert {(c.level, c.states[-1]) for c in cases} == exits
    for case in cases:
        assert case.replay().state == case.states[-1]


def test_scenarios_wait_for_the_minimum_stay() -> None:
    """A step down happens exactly when the level's minimum stay is met."""
    p = standard_pathway()
    s = scenario_for(p, ("intake", "inpatient", "iop", "completed"))
    assert s is not None
    admit, down, done = s.steps
    assert down.at - admit.at == timedelta(days=7)
    assert done.at - down.at == timedelta(days=42)


def test_step_down_sequences_from_inpatient() -> None:
    """16 step-down sequences (every subset of the four lower levels) end in completion."""
    p = standard_pathway()
    found = explore.paths(p, "inpatient", Outcome.COMPLETED, events={"step_down", "complete"})
    assert len(found) == 16
    for path in found:
        intensities = [p.level(s).intensity for s in path[:-1]]
        assert intensities == sorted(intensities, reverse=True)


def test_an_assessment_trajectory_narrows_the_paths() -> None:
    """Severe withdrawal all along: admit to detox and never complete; improving, step down."""
    p = standard_pathway()
    severe = Assessment(withdrawal=3)
    assert explore.paths(p, "intake", "completed", max_steps=4, assessments=severe) == []
    assert explore.paths(p, "intake", "dropped_out", max_steps=2, assessments=severe) == [
        ("intake", "dropped_out"),
        ("intake", "detox", "dropped_out"),
    ]
    improving = [Assessment(withdrawal=3), Assessment(withdrawal=1, relapse=2)]
    found = explore.paths(p, "intake", "completed", max_steps=3, assessments=improving)
    assert ("intake", "detox", "iop", "completed") in found
    assert ("intake", "detox", "outpatient", "completed") not in found
    assert explore.shortest_path(p, "intake", "completed", assessments=improving) == (
        "intake",
        "detox",
        "completed",
    )


def test_shortest_path_and_missing_paths() -> None:
    p = standard_pathway()
    assert explore.shortest_path(p, "intake", "completed") == ("intake", "outpatient", "completed")
    assert explore.shortest_path(p, "iop", "iop") == ("iop",)
    assert explore.shortest_path(p, "iop", "detox", events={"step_down"}) is None
    assert explore.paths(p, "iop", "detox", events={"step_down"}) == []
    assert explore.paths(p, p.level("iop"), "iop") == [("iop",)]


def test_the_networkx_graph_carries_levels_and_rules() -> None:
    p = standard_pathway()
    g = explore.to_networkx(p)
    assert set(g.nodes) == set(p.states)
    assert g.number_of_edges() == len(p.rules)
    assert g.nodes["iop"]["level"] is p.level("iop")
    assert g.nodes["iop"]["criteria"]["withdrawal"] == 1
    data = g.get_edge_data("inpatient", "iop")["step_down"]
    assert data["guards"] == ("minimum_stay", "fits_criteria")
    assert data["rule"] in p.rules


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": "nowhere", "end": "completed"}, "start"),
        ({"start": "intake", "end": "nowhere"}, "end"),
        ({"start": "completed", "end": "iop"}, "start"),
        ({"start": "iop", "end": "intake"}, "end"),
        ({"start": "iop", "end": "completed", "loops": 1}, "max_steps"),
        ({"start": "iop", "end": "completed", "max_steps": 0}, "max_steps"),
        ({"start": "iop", "end": "completed", "events": ["teleport"]}, "events"),
        ({"start": "iop", "end": "completed", "assessments": []}, "assessments"),
    ],
)
def test_bad_arguments_are_explained(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ExploreError) as info:
        explore.paths(standard_pathway(), **kwargs)  # type: ignore[arg-type]  # deliberate mistakes
    assert info.value.field == field
    assert field in str(info.value)


def test_import_carepath_loads_no_graph_or_plot_library() -> None:
    """Exploring is lazy: carepath.explore itself imports neither networkx nor plotly."""
    import subprocess  # noqa: PLC0415  # only this test runs a child interpreter

    code = (
        "import sys, carepath, carepath.explore; carepath.standard_pathway()._repr_html_();"
        "print(sorted(m for m in ('networkx','plotly','matplotlib','graphviz') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out in {"[]", "['graphviz']"}  # graphviz only renders inline SVG when dot exists


def test_paths_from_a_state_to_itself_with_loops_are_walks_that_return() -> None:
    pathway = standard_pathway()
    found = explore.paths(pathway, "iop", "iop", max_steps=2, loops=1)
    assert found[0] == ("iop",)
    assert ("iop", "php", "iop") in found
    assert all(p[0] == p[-1] == "iop" and len(p) <= 3 for p in found)
    assert explore.paths(pathway, "iop", "iop") == [("iop",)]


@pytest.mark.parametrize("one", ["step_down", Event.STEP_DOWN])
def test_paths_take_a_single_event_as_a_one_element_set(one: str | Event) -> None:
    pathway = standard_pathway()
    expected = explore.paths(pathway, "inpatient", "outpatient", events={"step_down"})
    assert expected
    assert explore.paths(pathway, "inpatient", "outpatient", events=one) == expected


def test_test_paths_is_a_deprecated_alias_of_scenarios() -> None:
    with pytest.warns(DeprecationWarning, match=r"explore\.scenarios"):
        cases = explore.test_paths(standard_pathway())
    assert cases == explore.scenarios(standard_pathway())
