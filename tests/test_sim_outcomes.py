"""Utilities, costs per event and patient, discounting, and strategies on common numbers."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from carepath.econ import cea
from carepath.sim import (
    Beta,
    Gamma,
    InvalidParameter,
    SimulationModel,
    SimulationResult,
    Strategies,
    compare,
    discounted_days,
    patient_outcomes,
    simulate,
)

LEVELS = ("detox", "inpatient", "php", "iop", "sober_living", "outpatient")
UTILITY = dict(zip(LEVELS, (0.55, 0.62, 0.68, 0.72, 0.76, 0.76), strict=True))
OUT = {"completed": 0.80, "dropped_out": 0.57, "transferred_out": 0.70}


def economic(**changes: Any) -> SimulationModel:
    model = SimulationModel.default()
    return attrs.evolve(
        model,
        cost_per_day=dict(zip(LEVELS, (900, 600, 350, 150, 40, 60), strict=True)),
        utility=UTILITY,
        utility_out_of_care=OUT,
        **changes,
    )


def one_patient(
    stays: list[tuple[int, str, int, int, str]], model: SimulationModel, days: int = 365
) -> SimulationResult:
    """A result holding one patient's stays ``(episode, level, start, end, exit)`` and the
    admissions they imply (the simulator's column types and categories)."""
    real = simulate(model, n=1, seed=0, days=days)
    st = pd.DataFrame(
        {
            "patient": np.zeros(len(stays), np.int64),
            "episode": np.array([s[0] for s in stays], np.int32),
            "level": pd.Categorical(
                [s[1] for s in stays], categories=real.stays["level"].cat.categories
            ),
            "start_day": np.array([s[2] for s in stays], np.int32),
            "end_day": np.array([s[3] for s in stays], np.int32),
            "exit": pd.Categorical(
                [s[4] for s in stays], categories=real.stays["exit"].cat.categories
            ),
        }
    )
    firsts = st.drop_duplicates("episode")
    ev = pd.DataFrame(
        {
            "patient": np.zeros(len(firsts), np.int64),
            "episode": firsts["episode"].to_numpy(),
            "day": firsts["start_day"].to_numpy(),
            "event": pd.Categorical(
                ["admit"] * len(firsts), categories=real.events["event"].cat.categories
            ),
            "from_level": pd.Categorical(
                ["intake"] * len(firsts), categories=real.events["from_level"].cat.categories
            ),
            "to_level": pd.Categorical(
                firsts["level"].astype(str), categories=real.events["to_level"].cat.categories
            ),
            "assessment": np.zeros(len(firsts), np.int16),
        }
    )
    return SimulationResult(events=ev, stays=st, metadata=real.metadata, model=model)


def test_discounting_a_constant_daily_cost_over_a_year() -> None:
    """365 days at 1 a day, 3% a year continuously: (1 - 1/1.03) / ln(1.03) years' worth."""
    closed = 365 * (1 - 1 / 1.03) / math.log(1.03)
    assert float(discounted_days(0, 365, 0.03)) == pytest.approx(closed, rel=1e-12)
    assert float(discounted_days(0, 365, 0.0)) == 365.0
    # Additive over a split, and a day a year ahead is worth 1/1.03 of today's.
    assert float(discounted_days(0, 100, 0.03) + discounted_days(100, 365, 0.03)) == (
        pytest.approx(closed)
    )
    assert float(discounted_days(365, 366, 0.03) / discounted_days(0, 1, 0.03)) == (
        pytest.approx(1 / 1.03)
    )


def test_a_year_in_care_costs_and_qalys_by_closed_form() -> None:
    model = economic(discount_costs=0.03, discount_qalys=0.035)
    result = one_patient([(0, "iop", 0, 365, "censored")], model)
    row = patient_outcomes(result).iloc[0]
    assert row["cost_care"] == pytest.approx(150 * 365 * (1 - 1 / 1.03) / math.log(1.03))
    assert row["qalys"] == pytest.approx(0.72 * (1 - 1 / 1.035) / math.log(1.035))
    assert row["days_in_care"] == 365


def test_time_out_of_care_counts_at_the_outcomes_utility() -> None:
    model = economic(cost_per_event={"admit": 500.0, "readmission": 800.0}, cost_per_patient=75.0)
    result = one_patient(
        [
            (0, "inpatient", 0, 20, "step_down"),
            (0, "iop", 20, 100, "complete"),
            (1, "iop", 150, 200, "drop_out"),
        ],
        model,
    )
    row = patient_outcomes(result).iloc[0]
    want = (0.62 * 20 + 0.72 * 80 + 0.80 * 50 + 0.72 * 50 + 0.57 * 165) / 365
    assert row["qalys"] == pytest.approx(want)
    assert row["cost_care"] == pytest.approx(600 * 20 + 150 * 130)
    assert row["cost_events"] == pytest.approx(500 + 800)
    assert row["cost_patient"] == 75.0
    assert row["cost"] == pytest.approx(600 * 20 + 150 * 130 + 1300 + 75)


def test_simulated_outcomes_add_up_to_the_summary() -> None:
    model = economic()
    result = simulate(model, n=400, seed=3, days=200)
    per = patient_outcomes(result)
    assert len(per) == 400
    total = float(result.summary().care.loc["total", "cost"])
    assert per["cost_care"].sum() == pytest.approx(total)
    assert per["days_in_care"].sum() == result.summary().care.loc["total", "days"]
    # Every day of the horizon is counted once, in care or out of it, once admitted.
    assert ((per["qalys"] <= 200 / 365 + 1e-12) & (per["qalys"] > 0)).all()


def test_without_utilities_costs_only() -> None:
    model = SimulationModel.default().with_levels(cost_per_day={"iop": 100.0})
    per = patient_outcomes(simulate(model, n=50, seed=1, days=60))
    assert "qalys" not in per.columns
    both = compare({"a": model, "b": model}, n=50, days=60)
    assert "qalys" not in both.outcomes().columns
    with pytest.raises(Exception, match="utility"):
        cea(both, wtp=0)


def test_economic_parameters_are_checked() -> None:
    base = SimulationModel.default()
    with pytest.raises(InvalidParameter, match="utility_out_of_care"):
        attrs.evolve(base, utility=UTILITY)
    with pytest.raises(InvalidParameter, match=r"'utility'.*no value for level"):
        attrs.evolve(base, utility={"iop": 0.7}, utility_out_of_care=OUT)
    with pytest.raises(InvalidParameter, match=r"utility\['iop'\]"):
        attrs.evolve(base, utility={**UTILITY, "iop": 1.5}, utility_out_of_care=OUT)
    with pytest.raises(InvalidParameter, match=r"cost_per_event\['lunch'\]"):
        attrs.evolve(base, cost_per_event={"lunch": 5.0})
    with pytest.raises(InvalidParameter, match="discount_costs"):
        attrs.evolve(base, discount_costs=1.5)
    with pytest.raises(InvalidParameter, match="cost_per_patient"):
        attrs.evolve(base, cost_per_patient=-1.0)
    assert not base.has_utilities
    assert economic().has_utilities


def test_strategies_share_random_numbers_and_parameter_draws() -> None:
    model = economic()
    uncertain = model.with_distributions(
        drop_out={"iop": Gamma(shape=20, scale=0.015 / 20)},
        utility={"iop": Beta(a=72, b=28)},
    )
    other = attrs.evolve(uncertain, model=model.with_levels(continuation={"inpatient": 1.0}))
    s = compare(
        {"same": uncertain, "twin": uncertain, "other": other, "fixed": model},
        n=60,
        samples=4,
        days=90,
    )
    assert isinstance(s, Strategies)
    table = s.outcomes()
    assert list(table["strategy"].cat.categories) == ["same", "twin", "other", "fixed"]
    a = table[table["strategy"] == "same"].reset_index(drop=True)
    b = table[table["strategy"] == "twin"].reset_index(drop=True)
    pd.testing.assert_series_equal(a["cost"], b["cost"])
    fixed = table[table["strategy"] == "fixed"]
    assert fixed["cost"].nunique() == 1  # no distributions: the same in every sample
    assert s.parameters is not None
    assert list(s.parameters.columns) == ["drop_out[iop]", "utility[iop]"]
    assert s.parameters.loc[2, "drop_out[iop]"] == uncertain.draw(0, 2).drop_out["iop"]
    result = cea(s, wtp=[0, 50_000])
    assert set(result.frontier["strategy"]) == {"same", "twin", "other", "fixed"}
    assert result.outcomes.parameters is not None


def test_compare_of_two_models_is_unchanged() -> None:
    base = SimulationModel.default()
    c = compare(base, base.with_levels(drop_out={"iop": 0.0}), n=50, replications=2, days=60)
    assert c.replications["replication"].nunique() == 2
    with pytest.raises(InvalidParameter, match="replications"):
        compare({"a": base}, replications=3)  # type: ignore[call-overload]  # the mistake tested
    with pytest.raises(InvalidParameter, match="model_b"):
        compare(base)  # type: ignore[call-overload]  # the mistake tested


def test_cea_of_a_mapping_of_results() -> None:
    """Results simulated one by one (same seed) feed cea() as a mapping; a model without
    samples counts as the same in every sample; different sample counts are refused."""
    model = economic()
    uncertain = model.with_distributions(utility={"iop": Beta(a=72, b=28)})
    a = simulate(uncertain, n=50, seed=2, samples=3, days=60)
    b = simulate(model, n=50, seed=2, days=60)
    result = cea({"psa": a, "fixed": b}, wtp=[0, 10_000])
    assert result.outcomes.cost.shape == (2, 3)
    assert len(set(result.outcomes.cost[1])) == 1
    c = simulate(uncertain, n=50, seed=2, samples=2, days=60)
    with pytest.raises(InvalidParameter, match="same samples"):
        Strategies.of({"a": a, "c": c})
