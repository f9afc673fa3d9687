"""carepath.econ: the frontier against hand-worked cases, NMB, CEAC, EVPI, EVPPI, DSA."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepath import CarepathError
from carepath.econ import InvalidAnalysis, cea, evppi, icers, one_way, smooth, two_way


def status(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["strategy"], frame["status"], strict=True))


def icer(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["strategy"], frame["icer"], strict=True))


# -- the frontier: hand-worked cases ---------------------------------------------------


def test_extended_dominance_only() -> None:
    """C is dominated by no single strategy, but a mix of B and D beats it: its ICER
    against B (400) exceeds D's against C (50). Without C, D's ICER against B is
    250 / 1.5 = 166.7, above B's 100: the frontier is A, B, D."""
    f = icers([0, 100, 300, 350], [0.0, 1.0, 1.5, 2.5], ["A", "B", "C", "D"])
    assert status(f) == {"A": "ND", "B": "ND", "D": "ND", "C": "ED"}
    assert list(f["strategy"]) == ["A", "B", "D", "C"]
    got = icer(f)
    assert math.isnan(got["A"])
    assert got["B"] == pytest.approx(100.0)
    assert got["D"] == pytest.approx(250 / 1.5)
    assert math.isnan(got["C"])
    d = f.set_index("strategy")
    assert d.loc["D", "inc_cost"] == pytest.approx(250.0)
    assert d.loc["D", "inc_qalys"] == pytest.approx(1.5)


def test_strict_dominance() -> None:
    """E costs more than B and gives fewer QALYs: dominated."""
    f = icers([0, 100, 200], [0.0, 1.0, 0.8], ["A", "B", "E"])
    assert status(f) == {"A": "ND", "B": "ND", "E": "D"}
    assert math.isnan(icer(f)["E"])


def test_all_dominated_by_one() -> None:
    f = icers([10, 20, 30, 40], [5.0, 4.0, 5.0, 1.0], ["best", "b", "c", "d"])
    assert status(f) == {"best": "ND", "b": "D", "c": "D", "d": "D"}
    assert math.isnan(icer(f)["best"])


def test_ties() -> None:
    """Two identical strategies: the later one is dominated (as dampack); the same cost
    with fewer QALYs, or the same QALYs at a higher cost, is dominated."""
    f = icers(
        [0, 100, 100, 100, 150], [0.0, 1.0, 1.0, 0.9, 1.0], ["A", "X", "Y", "lessQ", "dearer"]
    )
    assert status(f) == {"A": "ND", "X": "ND", "Y": "D", "lessQ": "D", "dearer": "D"}
    assert icer(f)["X"] == pytest.approx(100.0)


def test_equal_icers_stay_on_the_frontier() -> None:
    f = icers([0, 100, 200], [0.0, 1.0, 2.0], ["A", "B", "C"])
    assert status(f) == {"A": "ND", "B": "ND", "C": "ND"}
    assert icer(f)["C"] == pytest.approx(100.0)


def test_extended_dominance_over_two_rounds() -> None:
    """ICERs 10, 5, 3 along A-B-C-D: B and C are both extendedly dominated."""
    f = icers([0, 10, 15, 18], [0.0, 1.0, 2.0, 3.0], ["A", "B", "C", "D"])
    assert status(f) == {"A": "ND", "B": "ED", "C": "ED", "D": "ND"}
    assert icer(f)["D"] == pytest.approx(6.0)


def test_one_strategy() -> None:
    f = icers([5.0], [1.0], ["only"])
    assert status(f) == {"only": "ND"}


@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=7, unique=True)
)
def test_frontier_is_the_lower_convex_hull(points: list[tuple[int, int]]) -> None:
    """Frontier ICERs increase; no frontier strategy is beaten by a mix of two others."""
    cost = [float(c) for c, _ in points]
    eff = [float(e) for _, e in points]
    names = [f"s{i}" for i in range(len(points))]
    f = icers(cost, eff, names)
    nd = f[f["status"] == "ND"]
    assert list(nd["cost"]) == sorted(nd["cost"])
    assert (np.diff(nd["qalys"]) > 0).all()
    ratios = nd["icer"].to_numpy()[1:]
    assert (np.diff(ratios) >= -1e-9).all()
    # Every strategy off the frontier is matched or beaten by the frontier line.
    xs, ys = nd["qalys"].to_numpy(), nd["cost"].to_numpy()
    for c, e, s in zip(f["cost"], f["qalys"], f["status"], strict=True):
        if s == "ND":
            continue
        if e <= xs[0]:
            assert c >= ys[0] or e < xs[0]
        elif e <= xs[-1]:
            assert c >= np.interp(e, xs, ys) - 1e-9


# -- the table and its reductions -----------------------------------------------------


def table(cost: dict[str, list[float]], qalys: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"strategy": s, "sample": k, "cost": cost[s][k], "qalys": qalys[s][k]}
        for s in cost
        for k in range(len(cost[s]))
    ]
    return pd.DataFrame(rows)


SMALL = table(
    {"a": [100.0, 120.0, 90.0], "b": [300.0, 260.0, 400.0], "c": [200.0, 210.0, 190.0]},
    {"a": [0.50, 0.52, 0.49], "b": [0.55, 0.60, 0.51], "c": [0.51, 0.50, 0.56]},
)


def test_evpi_equals_its_definition() -> None:
    wtp = [0.0, 1_000.0, 5_000.0, 20_000.0, 100_000.0]
    result = cea(SMALL, wtp=wtp)
    for w in wtp:
        per_sample = []
        expected = dict.fromkeys("abc", 0.0)
        for k in range(3):
            rows = {r.strategy: r for r in SMALL[SMALL["sample"] == k].itertuples(index=False)}
            nb = {s: w * float(rows[s].qalys) - float(rows[s].cost) for s in "abc"}
            per_sample.append(max(nb.values()))
            for s in "abc":
                expected[s] += nb[s] / 3
        want = sum(per_sample) / 3 - max(expected.values())
        assert result.evpi.loc[w] == pytest.approx(want, abs=1e-9)
        assert result.nmb.loc[w].to_dict() == pytest.approx(expected)


def test_summary_frontier_and_pairwise() -> None:
    result = cea(SMALL, wtp=[0, 50_000], comparator="a")
    assert list(result.summary.index) == ["a", "b", "c"]
    assert result.summary.loc["b", "cost"] == pytest.approx(320.0)
    assert result.summary.loc["a", "cost_low"] <= 100.0 <= result.summary.loc["a", "cost_high"]
    assert result.pairwise is not None
    assert result.pairwise.loc["b", "inc_cost"] == pytest.approx(320.0 - 310.0 / 3)
    pd.testing.assert_frame_equal(
        result.frontier, icers(result.summary["cost"], result.summary["qalys"], ["a", "b", "c"])
    )
    assert result.table.shape == (9, 4)


def test_ceaf_is_the_best_expected_strategy() -> None:
    result = cea(SMALL, wtp=np.linspace(0, 100_000, 51))
    best = result.nmb.idxmax(axis=1)
    assert (result.ceaf["strategy"] == best).all()
    for w, row in result.ceaf.iterrows():
        assert row["probability"] == result.ceac.loc[w, row["strategy"]]


@given(
    st.integers(1, 5),
    st.integers(1, 30),
    st.integers(0, 2**32 - 1),
)
def test_ceac_rows_sum_to_one(strategies: int, samples: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "strategy": np.repeat([f"s{i}" for i in range(strategies)], samples),
            "sample": np.tile(np.arange(samples), strategies),
            "cost": rng.integers(0, 5, strategies * samples) * 100.0,  # ties happen
            "qalys": rng.integers(0, 3, strategies * samples) * 0.01,
        }
    )
    result = cea(frame, wtp=np.linspace(0, 50_000, 11))
    np.testing.assert_allclose(result.ceac.sum(axis=1), 1.0)
    assert (result.evpi >= 0).all()


def test_table_problems_are_named() -> None:
    with pytest.raises(InvalidAnalysis, match=r"qalys.*utilit") as err:
        cea(SMALL.drop(columns="qalys"), wtp=0)
    assert isinstance(err.value, CarepathError)
    assert err.value.field == "table.qalys"
    with pytest.raises(InvalidAnalysis, match="one row per sample"):
        cea(SMALL.iloc[:-1], wtp=0)
    with pytest.raises(InvalidAnalysis, match="more than once"):
        cea(pd.concat([SMALL.iloc[:-1], SMALL.iloc[:1]]), wtp=0)
    with pytest.raises(InvalidAnalysis, match="wtp"):
        cea(SMALL, wtp=-1)
    with pytest.raises(InvalidAnalysis, match="comparator"):
        cea(SMALL, wtp=0, comparator="z")
    with pytest.raises(InvalidAnalysis, match="finite"):
        cea(SMALL.assign(cost=np.nan), wtp=0)


# -- EVPPI -------------------------------------------------------------------------------


def psa(samples: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incremental NMB of b over a at wtp 0 is 1000 (x - 0.5), whatever y is."""
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 1, samples), rng.uniform(0, 1, samples)
    frame = pd.DataFrame(
        {
            "strategy": ["a"] * samples + ["b"] * samples,
            "sample": np.tile(np.arange(samples), 2),
            "cost": np.concatenate([np.full(samples, 1000.0), 1500.0 - 1000.0 * x]),
            "qalys": np.concatenate([np.full(samples, 1.0) + 0 * y, np.full(samples, 1.0)]),
        }
    )
    return frame, pd.DataFrame({"x": x, "y": y})


def test_evppi_of_the_only_uncertain_parameter_is_the_evpi() -> None:
    frame, params = psa()
    result = cea(frame, wtp=[0.0], parameters=params)
    assert result.evpi.iloc[0] == pytest.approx(125.0, rel=0.05)  # 1000 E[(x - 0.5)+]
    got = result.evppi(["x"])
    assert got.evppi.iloc[0] == pytest.approx(result.evpi.iloc[0], rel=0.03)
    assert evppi(result, ["y"], wtp=[0.0]).evppi.iloc[0] < 0.05 * result.evpi.iloc[0]
    both = evppi(result, ["x", "y"], wtp=[0.0]).evppi.iloc[0]
    assert both == pytest.approx(result.evpi.iloc[0], rel=0.05)


def test_smooth_recovers_a_curve() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 3, 3000)
    truth = np.sin(2 * x)
    fitted = smooth(x, truth + rng.normal(0, 0.3, x.size))
    assert np.abs(fitted - truth).mean() < 0.05
    # A straight line is kept straight (the penalty does not bend it).
    np.testing.assert_allclose(smooth(x, 3 * x + 1), 3 * x + 1, atol=1e-4)


def test_evppi_needs_parameters() -> None:
    with pytest.raises(InvalidAnalysis, match="parameters"):
        cea(SMALL, wtp=0).evppi(["x"])
    frame, params = psa(50)
    with pytest.raises(InvalidAnalysis, match="unknown"):
        cea(frame, wtp=0, parameters=params).evppi(["z"])


# -- deterministic sensitivity analysis -----------------------------------------------


def linear(values: Mapping[str, float]) -> pd.DataFrame:
    p, c = values.get("p", 0.5), values.get("c", 100.0)
    return pd.DataFrame(
        {"strategy": ["old", "new"], "cost": [100.0, c + 50.0], "qalys": [1.0, 1.0 + 0.1 * p]}
    )


def test_one_way_and_tornado() -> None:
    result = one_way(
        linear,
        {"p": (0.0, 0.5, 1.0), "c": (50.0, 100.0, 300.0)},
        wtp=1000.0,
        strategy="new",
        comparator="old",
    )
    # Incremental NMB = 1000 * 0.1 p - (c + 50 - 100).
    assert result.base == pytest.approx(50 - 50)
    t = result.tornado
    assert list(t.index) == ["c", "p"]  # the widest swing first
    assert t.loc["p", "at_low"] == pytest.approx(-50.0)
    assert t.loc["p", "at_high"] == pytest.approx(50.0)
    assert t.loc["c", "at_high"] == pytest.approx(50 - 250)
    assert set(result.runs["bound"]) == {"base", "low", "high"}
    fig = result.plot()
    assert len(fig.data) == 2
    icer_run = one_way(
        linear, {"p": (0.2, 0.5, 1.0)}, wtp=0, strategy="new", comparator="old", measure="icer"
    )
    assert icer_run.tornado.loc["p", "at_high"] == pytest.approx(50 / 0.1)


def test_two_way_grid() -> None:
    result = two_way(linear, ("p", [0.0, 1.0]), ("c", [0.0, 200.0]), wtp=1000.0)
    assert result.best.loc[1.0, 0.0] == "new"
    assert result.best.loc[0.0, 200.0] == "old"
    assert len(result.runs) == 8


def test_plots() -> None:
    pytest.importorskip("plotly")
    frame, params = psa(200)
    result = cea(frame, wtp=np.linspace(0, 1000, 5), parameters=params)
    plane = result.plot_ce_plane(wtp=500)
    assert {t.name for t in plane.data} >= {"a", "b", "efficient frontier"}
    assert len(result.plot_ceac().data) == 3
    assert len(result.plot_evpi().data) == 1


def test_strategy_order_is_kept() -> None:
    frame = SMALL.iloc[::-1]
    result = cea(frame, wtp=0)
    assert list(result.summary.index) == ["c", "b", "a"]
    assert list(itertools.chain(result.ceac.columns)) == ["c", "b", "a"]
