"""The fast engine gives the reference engine's rows, row for row, on every pathway."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import carepath  # noqa: E402  # after the extras check
from carepath import (  # noqa: E402
    Assessment,
    Criteria,
    Dimension,
    Event,
    FitsCriteria,
    GuardContext,
    Level,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    Pathway,
    PathwayError,
    PlacementMatches,
    RiskAtLeast,
    RiskAtMost,
    Rule,
    Setting,
    StayRule,
    default_rules,
    standard_pathway,
)
from carepath.sim import (  # noqa: E402
    GuardArrays,
    SimulationModel,
    SimulationResult,
    SimulationWarning,
    _fast,
    _kernel,
    simulate,
)
from carepath.sim._compile import compiled  # noqa: E402
from carepath.sim._engine import Tables  # noqa: E402
from carepath.sim._summary import Aggregate  # noqa: E402


def assert_same_rows(a: SimulationResult, b: SimulationResult) -> None:
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.stays, b.stays)


@contextlib.contextmanager
def numpy_loop() -> Iterator[None]:
    """The fast engine without its compiled kernel (as where numba is not installed)."""
    saved = dict(_kernel._state)
    _kernel._state["module"] = None
    try:
        yield
    finally:
        _kernel._state.clear()
        _kernel._state.update(saved)


def both(model: SimulationModel, n: int, seed: int, days: int) -> SimulationResult:
    """Run both engines (the fast one with its compiled kernel, when numba is installed,
    and with its numpy loop); assert the same rows; return the fast result."""
    fast = simulate(model, n=n, seed=seed, days=days, engine="fast")
    with numpy_loop():
        loop = simulate(model, n=n, seed=seed, days=days, engine="fast")
    ref = simulate(model, n=n, seed=seed, days=days, engine="reference")
    assert fast.metadata["engine"] == loop.metadata["engine"] == "fast"
    assert ref.metadata["engine"] == "reference"
    assert_same_rows(fast, ref)
    assert_same_rows(loop, ref)
    return fast


@pytest.mark.parametrize("seed", [0, 1, 2026])
def test_fast_equals_reference_on_the_standard_pathway(seed: int) -> None:
    result = both(SimulationModel.default(), n=400, seed=seed, days=365)
    assert len(result.events) > 400
    assert set(result.events["event"].astype(str)) >= {
        "admit",
        "step_down",
        "complete",
        "relapse",
        "drop_out",
    }


def test_fast_equals_reference_with_a_policy_costs_and_remission() -> None:
    m = SimulationModel.default().with_levels(
        continuation={"inpatient": 1.0},
        step_down_to={"inpatient": "iop"},
        cost_per_day={"detox": 900.0},
    )
    both(m, n=300, seed=4, days=365)
    both(attrs.evolve(m, remission=1), n=300, seed=5, days=200)


@pytest.mark.parametrize("name", sorted(carepath.catalogs()))
def test_fast_equals_reference_on_every_catalog(name: str) -> None:
    for seed in (3, 4):
        both(SimulationModel.default(carepath.load_catalog(name)), n=200, seed=seed, days=365)


def test_fast_equals_reference_for_an_assessed_cohort() -> None:
    cohort = [Assessment.from_index(i) for i in range(0, 15625, 97)]
    m = attrs.evolve(SimulationModel.default(), cohort=cohort)
    both(m, n=len(cohort), seed=9, days=300)


def test_placement_alternatives_table_matches_place_exhaustively() -> None:
    """The compiled PlacementMatches table equals the guard itself on all 15,625 profiles."""
    p = standard_pathway()
    comp = compiled(p)
    for i, a in enumerate(Assessment.all_profiles()):
        placed = p.place(a)
        assert comp.placement[i] == p.levels.index(placed.level)
        for j, lv in enumerate(p.levels):
            assert comp._alternatives[j, i] == (lv in placed.alternatives)


# -- generated pathways -------------------------------------------------------------------

_DIMS = st.sampled_from(list(Dimension))
_EXTRA: st.SearchStrategy[Any] = st.one_of(
    st.builds(RiskAtMost, dimension=_DIMS, risk=st.integers(0, 4)),
    st.builds(RiskAtLeast, dimension=_DIMS, risk=st.integers(0, 4)),
    st.sampled_from(
        [
            FitsCriteria(),
            PlacementMatches(),
            NeedsMoreCare(),
            NoHigherNeed(),
            MinimumStay(),
            MaximumStay(),
        ]
    ),
)


@st.composite
def small_pathways(draw: st.DrawFn) -> Pathway:
    """1-4 made-up levels, random criteria and stays, a random subset of the default rules
    (admissions and outcomes may be missing too) and random extra built-in guards."""
    n = draw(st.integers(1, 4))
    levels = []
    for i in range(n):
        low = draw(st.integers(0, 6))
        levels.append(
            Level(
                code=f"l{i}",
                name=f"Level {i}",
                intensity=i,
                setting=draw(st.sampled_from(list(Setting))),
                stay=StayRule(
                    minimum_days=low,
                    typical_days=low + 1,
                    maximum_days=draw(st.none() | st.integers(low + 1, low + 20)),
                ),
            )
        )
    ratings = st.fixed_dictionaries({d.value: st.integers(0, 4) for d in Dimension})
    criteria = {lv.code: Criteria(**draw(ratings)) for lv in levels}
    criteria[levels[-1].code] = Criteria()
    rules: list[Rule] = []
    for r in default_rules(levels):
        if r.event is not Event.REASSESS and draw(st.integers(0, 9)) == 0:
            continue  # a missing move
        extra = draw(st.lists(_EXTRA, max_size=1)) if draw(st.integers(0, 3)) == 0 else []
        rules.append(
            Rule(event=r.event, source=r.source, target=r.target, guards=(*r.guards, *extra))
        )
    try:
        return Pathway(id="small", version="1", levels=levels, criteria=criteria, rules=rules)
    except PathwayError:
        assume(False)
        raise  # unreachable


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pathway=small_pathways(), seed=st.integers(0, 2**64 - 1))
def test_fast_equals_reference_on_generated_pathways(pathway: Pathway, seed: int) -> None:
    """For any valid pathway of built-in guards and any seed, both engines give the same rows
    (refused moves, missing admissions and missing outcomes included)."""
    m = SimulationModel.default(pathway).with_levels(
        relapse={lv.code: 0.02 for lv in pathway.levels},
        drop_out={lv.code: 0.02 for lv in pathway.levels},
    )
    both(m, n=60, seed=seed, days=150)


# -- custom guards --------------------------------------------------------------------------


class _Sober:
    """A custom guard: relapse risk at most 2 (no array form)."""

    kind = "sober"
    overridable = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        a = ctx.assessment
        return () if a is not None and a.relapse <= 2 else ("relapse risk above 2",)


class _SoberArrays(_Sober):
    """The same guard with its array form."""

    def check_array(self, ctx: GuardArrays) -> Any:
        return ctx.ratings[:, 4] <= 2


def _with(guard: Any) -> Pathway:
    p = standard_pathway()
    rules = [
        Rule(event=r.event, source=r.source, target=r.target, guards=(*r.guards, guard))
        if r.event is Event.STEP_DOWN
        else r
        for r in p.rules
    ]
    return Pathway(id="custom", version="1", levels=p.levels, criteria=p.criteria, rules=rules)


def test_a_custom_guard_without_an_array_form_falls_back_with_a_warning() -> None:
    m = SimulationModel.default(_with(_Sober()))
    with pytest.warns(SimulationWarning, match="check_array"):
        result = simulate(m, n=100, seed=1, days=200)
    assert result.metadata["engine"] == "reference"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = simulate(m, n=100, seed=1, days=200, engine="reference")
    assert_same_rows(result, ref)


def test_a_custom_guard_with_an_array_form_runs_fast_and_agrees() -> None:
    m = SimulationModel.default(_with(_SoberArrays()))
    result = both(m, n=300, seed=2, days=365)
    plain = simulate(SimulationModel.default(), n=300, seed=2, days=365)
    assert not result.events.equals(plain.events)  # the guard did refuse some step-downs


def test_an_unknown_engine_is_rejected() -> None:
    with pytest.raises(carepath.sim.InvalidParameter, match="engine"):
        simulate(SimulationModel.default(), n=5, engine="turbo")  # type: ignore[arg-type]


# -- the compiled kernel (numba, optional) -----------------------------------------------------

needs_numba = pytest.mark.skipif(
    _kernel.kernel() is None, reason="no numba kernel (numba not installed, or CAREPATH_NUMBA=0)"
)


@needs_numba
@pytest.mark.parametrize(("first", "n"), [(0, 1), (0, 500), (123_456, 300)])
def test_kernel_rows_equal_the_numpy_loop_when_its_buffers_must_grow(
    monkeypatch: pytest.MonkeyPatch, first: int, n: int
) -> None:
    """Starting with room for 64 rows only, the kernel grows its buffers and resumes at the
    patient it could not finish: the same columns, dtypes and order as the numpy loop."""
    monkeypatch.setattr(_fast, "_ROOM", (0, 0))
    model = SimulationModel.default()
    tab, comp = Tables(model, 365), compiled(model.pathway)
    fast = _fast.run_fast(tab, comp, 77, first, n)
    with numpy_loop():
        loop = _fast.run_fast(tab, comp, 77, first, n)
    names = [a for a in dir(loop) if a.startswith(("ev_", "st_"))]
    assert len(names) == 13
    for name in names:
        a, b = getattr(fast, name), getattr(loop, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@needs_numba
@pytest.mark.parametrize(("seed", "days"), [(1, 365), (2, 60), (3, 3)])
def test_compiled_summary_counts_equal_numpy(seed: int, days: int) -> None:
    """The compiled pass over the stays counts exactly what the numpy code counts; stays
    out of order go to the numpy code."""
    model = SimulationModel.default()
    result = simulate(model, n=3_000, seed=seed, days=days)
    shuffled = result.stays.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    for stays in (result.stays, shuffled):
        compiled_counts = Aggregate.of(result.events, stays, model.pathway, 3_000, days)
        with numpy_loop():
            counts = Aggregate.of(result.events, stays, model.pathway, 3_000, days)
        for name in Aggregate.__slots__:
            a, b = np.asarray(getattr(compiled_counts, name)), np.asarray(getattr(counts, name))
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(a, b, err_msg=name)


@needs_numba
def test_the_compiled_pass_refuses_stays_out_of_order_and_counts_nothing() -> None:
    """Called directly: True on the engine's rows; on rows out of (patient, episode)
    order, found only at the end of its backward pass, False with every output zero."""
    from carepath.sim._summary import _compiled_counts  # noqa: PLC0415

    model = SimulationModel.default()
    stays = simulate(model, n=500, seed=4, days=365).stays
    n_levels = len(model.pathway.levels)
    codes = (stays["level"].cat.codes.to_numpy(), stays["exit"].cat.codes.to_numpy())
    agg = Aggregate(n_levels, 365)
    assert _compiled_counts(agg, stays, codes, model.pathway, 365)
    assert agg.outcomes.sum() > 0
    assert agg.care_days.sum() > 0
    # Rows 0 and 1 belong to different patients' episodes once swapped.
    assert stays["patient"].iloc[0] != stays["patient"].iloc[2]
    swapped = stays.iloc[[2, 1, 0, *range(3, len(stays))]].reset_index(drop=True)
    codes = (swapped["level"].cat.codes.to_numpy(), swapped["exit"].cat.codes.to_numpy())
    agg = Aggregate(n_levels, 365)
    assert not _compiled_counts(agg, swapped, codes, model.pathway, 365)
    for name in ("los", "outcomes", "continuation", "readmissions", "care_days"):
        assert not np.asarray(getattr(agg, name)).any(), name


def test_the_kernel_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPATH_NUMBA", "0")
    monkeypatch.setattr(_kernel, "_state", {})
    assert _kernel.kernel() is None
    assert _kernel.aggregate() is None
    result = simulate(SimulationModel.default(), n=50, seed=1, days=100)
    assert result.metadata["engine"] == "fast"


@pytest.mark.parametrize("compiled_kernel", [True, False])
def test_in_memory_run_equals_the_blocks_concatenated(
    monkeypatch: pytest.MonkeyPatch, compiled_kernel: bool
) -> None:
    """A run in this process writes every block into one set of columns (grown from
    almost no room here) and builds its tables once: the same tables, dtypes and
    summary counts as each block's own tables (``run_block``) concatenated."""
    from carepath.sim._tasks import Block, Job, run_block  # noqa: PLC0415

    monkeypatch.setattr(_fast, "_ROOM", (0, 0))
    model = SimulationModel.default()
    context = contextlib.nullcontext() if compiled_kernel else numpy_loop()
    with context:
        result = simulate(model, n=700, seed=5, days=200, first_patient=30, chunk_size=160)
        job = Job(model=model, seed=5, days=200, engine="fast")
        parts = [
            run_block(job, Block(index=i, first=f, count=min(160, 730 - f)))
            for i, f in enumerate(range(30, 730, 160))
        ]
    for name in ("events", "stays"):
        got = getattr(result, name)
        want = pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(got, want)
    total = Aggregate(len(model.pathway.levels), 200)
    for p in parts:
        total.add(p.aggregate)
    got_counts = result._aggregates[None]  # type: ignore[index]  # the counts behind the summary
    for slot in Aggregate.__slots__:
        np.testing.assert_array_equal(getattr(got_counts, slot), getattr(total, slot), slot)
