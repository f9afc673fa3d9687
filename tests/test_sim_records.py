"""Observed records in the simulation's shape: records(), CareRecords, and their errors."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("pandas")
import pandas as pd

from carepath import Assessment, Episode, standard_pathway
from carepath.sim import (
    CareRecords,
    InvalidRecords,
    SimulationModel,
    SimulationResult,
    measures,
    records,
    simulate,
)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def replayed(result: SimulationResult) -> list[Episode]:
    """Every patient's episodes, rebuilt through Episode from the result's rows."""
    first, n = int(result.metadata.get("first_patient", 0)), int(result.metadata["n"])
    return [ep for p in range(first, first + n) for ep in result.replay(p)]


@pytest.fixture(scope="module")
def cohort() -> tuple[SimulationResult, CareRecords]:
    result = simulate(SimulationModel.default(), n=400, seed=11, days=240)
    care = records(replayed(result), until=EPOCH + timedelta(days=240))
    return result, care


def test_replayed_cohort_gives_identical_tables(
    cohort: tuple[SimulationResult, CareRecords],
) -> None:
    """A simulated cohort replayed into episodes and read back has the same tables."""
    result, care = cohort
    pd.testing.assert_frame_equal(care.events[list(result.events.columns)], result.events)
    pd.testing.assert_frame_equal(care.stays[list(result.stays.columns)], result.stays)
    assert care.metadata["n"] == 400
    assert care.days == 240


def test_replayed_cohort_gives_the_same_summary(
    cohort: tuple[SimulationResult, CareRecords],
) -> None:
    result, care = cohort
    a, b = result.summary(), care.summary()
    pd.testing.assert_frame_equal(a.length_of_stay, b.length_of_stay)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.continuation, b.continuation)
    pd.testing.assert_frame_equal(a.readmissions, b.readmissions)
    assert a.relapses_per_patient == b.relapses_per_patient
    assert "Length of stay" in care._repr_html_()


def test_records_keep_ids_and_dates(cohort: tuple[SimulationResult, CareRecords]) -> None:
    _, care = cohort
    assert care.events["patient_id"].astype(str).iloc[0] == "0"
    first = care.stays.iloc[0]
    assert first["start_date"] == pd.Timestamp("2000-01-01")
    assert (first["end_date"] - first["start_date"]).days == first["end_day"] - first["start_day"]
    assert set(care.events["date"].dt.year) >= {2000}


def test_records_to_parquet_round_trip(
    cohort: tuple[SimulationResult, CareRecords], tmp_path: Path
) -> None:
    _, care = cohort
    out = care.to_parquet(tmp_path / "care")
    back = pd.read_parquet(out / "stays.parquet")
    assert len(back) == len(care.stays)
    assert list(back["level"].astype(str)) == list(care.stays["level"].astype(str))


def test_records_work_with_the_cohort_plots(cohort: tuple[SimulationResult, CareRecords]) -> None:
    pytest.importorskip("plotly")
    from carepath.explore import length_of_stay, sankey  # noqa: PLC0415

    _, care = cohort
    assert sankey(care).data
    assert length_of_stay(care).data


def _course(patient: str, start: datetime, *, readmit_after: int | None = None) -> list[Episode]:
    """detox 4 days, inpatient 20, IOP to the end of observation (or completed, readmitted)."""
    p = standard_pathway()
    ep = p.start(patient, at=start, episode_id=f"{patient}-a")
    ep.record("admit", "detox", at=start, assessment=Assessment(withdrawal=3, relapse=3))
    ep.record("step_down", "inpatient", at=start + timedelta(days=4))
    ep.record("step_down", "iop", at=start + timedelta(days=24))
    if readmit_after is None:
        return [ep]
    ep.record("complete", at=start + timedelta(days=60))
    again = p.start(
        patient,
        at=start + timedelta(days=60 + readmit_after),
        episode_id=f"{patient}-b",
        previous=ep,
    )
    again.record("admit", "outpatient", at=start + timedelta(days=60 + readmit_after))
    return [ep, again]


def test_days_count_from_each_patients_first_admission() -> None:
    eps = [*_course("b", T0 + timedelta(days=10), readmit_after=5), *_course("a", T0)]
    care = records(eps, until=T0 + timedelta(days=100))
    stays = care.stays
    assert list(stays["patient_id"].astype(str)) == ["b"] * 4 + ["a"] * 3
    b = stays[stays["patient_id"] == "b"]
    assert b[["episode", "start_day", "end_day"]].values.tolist() == [
        [0, 0, 4],
        [0, 4, 24],
        [0, 24, 60],
        [1, 65, 90],
    ]
    assert list(b["exit"].astype(str)) == ["step_down", "step_down", "complete", "censored"]
    a = stays[stays["patient_id"] == "a"]
    assert a["end_day"].tolist() == [4, 24, 100]  # censored at its own horizon
    assert list(care.horizons()) == [90, 100]


def test_origin_counts_every_patient_from_one_date() -> None:
    eps = [*_course("a", T0), *_course("b", T0 + timedelta(days=10))]
    care = records(eps, origin=date(2026, 3, 1), until=date(2026, 6, 1))
    assert care.stays.groupby("patient_id", observed=True)["start_day"].min().to_dict() == {
        "a": 1,
        "b": 11,
    }
    assert care.metadata["origin"] == "2026-03-01"


def _frame(*rows: tuple[object, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["patient", "episode", "day", "event", "from_level", "to_level"]
    )


def test_a_table_of_events_becomes_records() -> None:
    frame = _frame(
        ("x", "e1", 0, "admit", "intake", "detox"),
        ("x", "e1", 3, "step_down", "detox", "iop"),
        ("x", "e1", 40, "drop_out", "iop", "dropped_out"),
        ("y", "e9", 2, "admit", "intake", "iop"),
    )
    care = records(frame, pathway=standard_pathway(), until=50)
    assert care.stays[["patient", "level", "start_day", "end_day"]].values.tolist() == [
        [0, "detox", 0, 3],
        [0, "iop", 3, 40],
        [1, "iop", 2, 50],  # a table's days are kept as given
    ]
    assert list(care.stays["exit"].astype(str)) == ["step_down", "drop_out", "censored"]


@pytest.mark.parametrize(
    ("rows", "row", "words"),
    [
        (
            [("x", 1, 0, "admit", "intake", "detox_plus")],
            0,
            "unknown 'detox_plus'",
        ),
        (
            [
                ("x", 1, 0, "admit", "intake", "detox"),
                ("x", 1, 5, "step_down", "detox", "iop"),
                ("x", 1, 3, "complete", "iop", "completed"),
            ],
            2,
            "negative duration",
        ),
        (
            [
                ("x", 1, 0, "admit", "intake", "detox"),
                ("x", 1, 5, "complete", "detox", "completed"),
                ("x", 2, 3, "admit", "intake", "iop"),
            ],
            2,
            "overlapping stays",
        ),
        (
            [
                ("x", 1, 0, "admit", "intake", "detox"),
                ("x", 2, 3, "admit", "intake", "iop"),
            ],
            1,
            "overlapping stays",
        ),
        (
            [
                ("x", 1, 0, "admit", "intake", "detox"),
                ("x", 1, 2, "step_down", "inpatient", "iop"),
            ],
            1,
            "previous row left the patient at 'detox'",
        ),
        (
            [("x", 1, 0, "step_down", "intake", "iop")],
            0,
            "must start with an admission",
        ),
        (
            [
                ("x", 1, 0, "admit", "intake", "iop"),
                ("x", 1, 4, "step_down", "iop", "detox"),
            ],
            1,
            "no less intensive",
        ),
    ],
)
def test_bad_records_name_the_patient_and_row(
    rows: list[tuple[object, ...]], row: int, words: str
) -> None:
    frame = _frame(("ok", 0, 0, "admit", "intake", "iop"), *rows)
    with pytest.raises(InvalidRecords, match=words) as caught:
        records(frame, pathway=standard_pathway(), until=100)
    assert caught.value.patient == "x"
    assert caught.value.row == row + 1
    assert f"events row {row + 1} (patient 'x'" in str(caught.value)


def test_episodes_on_two_pathways_are_refused() -> None:
    from carepath import Pathway  # noqa: PLC0415

    std = standard_pathway()
    other = Pathway(
        id="other", version="1", levels=std.levels, criteria=std.criteria, rules=std.rules
    )
    eps = [std.start("a", at=T0), other.start("b", at=T0)]
    with pytest.raises(InvalidRecords, match="one pathway"):
        records(eps)


def test_an_event_before_the_origin_is_refused() -> None:
    with pytest.raises(InvalidRecords, match="before the origin") as caught:
        records(_course("a", T0), origin=T0 + timedelta(days=2))
    assert caught.value.patient == "a"


def test_records_from_a_store(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from carepath.store import EpisodeStore  # noqa: PLC0415

    store = EpisodeStore.open(f"sqlite:///{tmp_path / 'care.db'}")
    try:
        for ep in [*_course("a", T0, readmit_after=3), *_course("b", T0)]:
            store.save(ep)
        p = standard_pathway()
        loaded = [store.load(s.id, p) for s in store.episodes()]
    finally:
        store.close()
    care = records(loaded, until=T0 + timedelta(days=120))
    direct = records(
        [*_course("a", T0, readmit_after=3), *_course("b", T0)], until=T0 + timedelta(days=120)
    )
    cols = ["patient_id", "episode", "level", "start_day", "end_day", "exit"]
    by = ["patient_id", "episode", "start_day"]
    got = care.stays[cols].astype({"patient_id": str}).sort_values(by, ignore_index=True)
    want = direct.stays[cols].astype({"patient_id": str}).sort_values(by, ignore_index=True)
    pd.testing.assert_frame_equal(got, want)


# -- measures ------------------------------------------------------------------------------------


def test_measures_are_equal_on_a_result_and_its_replayed_episodes(
    cohort: tuple[SimulationResult, CareRecords],
) -> None:
    result, care = cohort
    pd.testing.assert_frame_equal(measures(result), measures(care))
    pd.testing.assert_frame_equal(measures(result, php=True), measures(care, php=True))


@pytest.fixture(scope="module")
def small() -> CareRecords:
    """Four patients whose measures are worked out by hand below (horizon day 200)."""
    frame = _frame(
        # A: detox 0-4, inpatient 4-20, IOP from day 20 (same day), completed day 60.
        ("A", 1, 0, "admit", "intake", "detox"),
        ("A", 1, 4, "step_down", "detox", "inpatient"),
        ("A", 1, 20, "step_down", "inpatient", "iop"),
        ("A", 1, 60, "complete", "iop", "completed"),
        # B: inpatient 0-10 completed; IOP 15-30 dropped out; detox 100-105 completed.
        ("B", 1, 0, "admit", "intake", "inpatient"),
        ("B", 1, 10, "complete", "inpatient", "completed"),
        ("B", 2, 15, "admit", "intake", "iop"),
        ("B", 2, 30, "drop_out", "iop", "dropped_out"),
        ("B", 3, 100, "admit", "intake", "detox"),
        ("B", 3, 105, "complete", "detox", "completed"),
        # C: detox from day 190, still there at the horizon (censored).
        ("C", 1, 190, "admit", "intake", "detox"),
        # D: inpatient 0-180, dropped out.
        ("D", 1, 0, "admit", "intake", "inpatient"),
        ("D", 1, 180, "drop_out", "inpatient", "dropped_out"),
    )
    return records(frame, pathway=standard_pathway(), until=200)


def _get(frame: pd.DataFrame, measure: str, level: str = "") -> tuple[int, int, float]:
    row = frame[(frame["measure"] == measure) & (frame["level"] == level)].iloc[0]
    return int(row["count"]), int(row["denominator"]), float(row["value"])


def test_measures_by_hand(small: CareRecords) -> None:
    """Follow-up needs a later day (A's same-day step-down to IOP is not one, B's IOP
    five days after discharge is); continuity counts the same day and residential
    after detox; windows that run past the horizon (D) leave the denominator; C's
    open stay counts nowhere."""
    m = measures(small)
    assert _get(m, "follow_up_7d") == (1, 4, 0.25)
    assert _get(m, "follow_up_30d")[:2] == (1, 3)
    assert _get(m, "continuity_7d") == (3, 5, 0.6)
    assert _get(m, "continuity_14d") == (3, 5, 0.6)
    assert _get(m, "readmission_high_30d") == (0, 3, 0.0)
    assert _get(m, "readmission_high_90d")[:2] == (1, 3)
    assert _get(m, "completed", "detox") == (2, 2, 1.0)
    assert _get(m, "completed", "inpatient")[:2] == (2, 3)
    assert _get(m, "dropped_out", "inpatient")[:2] == (1, 3)
    assert _get(m, "dropped_out", "iop") == (1, 2, 0.5)
    assert _get(m, "step_down", "detox") == (1, 2, 0.5)
    los = m[(m["measure"] == "length_of_stay") & (m["level"] == "inpatient")].iloc[0]
    assert (los["value"], los["q1"], los["q3"]) == (16.0, 13.0, 98.0)
    assert _get(m, "length_of_stay", "detox") == (2, 2, 4.5)


def test_wilson_interval_matches_the_formula(small: CareRecords) -> None:
    m = measures(small)
    row = m[m["measure"] == "follow_up_7d"].iloc[0]
    # Wilson 95% for 1 of 4, computed by hand: centre 0.3994, half-width 0.3538.
    assert row["low"] == pytest.approx(0.04559, abs=1e-4)
    assert row["high"] == pytest.approx(0.69936, abs=1e-4)


def test_php_counts_as_high_intensity_when_asked() -> None:
    frame = _frame(
        ("A", 1, 0, "admit", "intake", "php"),
        ("A", 1, 10, "step_down", "php", "iop"),
        ("A", 1, 15, "complete", "iop", "completed"),
        ("A", 2, 20, "admit", "intake", "iop"),
    )
    care = records(frame, pathway=standard_pathway(), until=100)
    assert _get(measures(care), "follow_up_7d")[:2] == (0, 0)
    assert _get(measures(care, php=True), "follow_up_7d")[:2] == (0, 1)


def test_measures_by_a_patient_column(small: CareRecords) -> None:
    stays = small.stays
    stays["site"] = stays["patient_id"].map(
        {"A": "north", "B": "north", "C": "south", "D": "south"}
    )
    m = measures(small, by="site")
    assert list(m.columns[:2]) == ["site", "measure"]
    north = m[m["site"] == "north"]
    assert _get(north, "follow_up_7d")[:2] == (1, 3)
    south = m[m["site"] == "south"]
    assert _get(south, "follow_up_7d")[:2] == (0, 1)
    del stays["site"]


def test_measures_by_sample_of_a_psa_run() -> None:
    from carepath.sim import Beta  # noqa: PLC0415

    model = SimulationModel.default().with_distributions(continuation={"inpatient": Beta(a=5, b=5)})
    result = simulate(model, n=200, samples=3, seed=4, days=150)
    m = measures(result, by="sample")
    assert sorted(set(m["sample"])) == [0, 1, 2]
    one = result.stays[result.stays["sample"] == 1]
    count = int(((one["level"] == "detox") & (one["exit"] == "step_down")).sum())
    assert _get(m[m["sample"] == 1], "step_down", "detox")[0] == count


def test_measures_refuse_a_column_that_changes_within_a_patient(small: CareRecords) -> None:
    from carepath.sim import InvalidParameter  # noqa: PLC0415

    with pytest.raises(InvalidParameter, match="changes within a patient"):
        measures(small, by="level")
    with pytest.raises(InvalidParameter, match="not a column"):
        measures(small, by="site")


# -- distributions from a mean and a standard deviation -------------------------------------------


@pytest.mark.parametrize(("mean", "sd"), [(0.3, 0.1), (0.9, 0.05), (0.01, 0.002)])
def test_beta_from_mean_sd_has_that_mean_and_sd(mean: float, sd: float) -> None:
    from carepath.sim import Beta  # noqa: PLC0415

    d = Beta.from_mean_sd(mean, sd)
    var = d.a * d.b / ((d.a + d.b) ** 2 * (d.a + d.b + 1))
    assert d.mean == pytest.approx(mean)
    assert math.sqrt(var) == pytest.approx(sd)


@pytest.mark.parametrize(("mean", "sd"), [(0.02, 0.01), (1500.0, 300.0), (3e-5, 1e-4)])
def test_gamma_and_lognormal_from_mean_sd_have_that_mean_and_sd(mean: float, sd: float) -> None:
    from carepath.sim import Gamma, LogNormal  # noqa: PLC0415

    g = Gamma.from_mean_sd(mean, sd)
    assert g.mean == pytest.approx(mean)
    assert math.sqrt(g.shape) * g.scale == pytest.approx(sd)
    ln = LogNormal.from_mean_sd(mean, sd)
    assert ln.mean == pytest.approx(mean)
    assert math.sqrt(math.expm1(ln.sigma**2)) * ln.mean == pytest.approx(sd)


@pytest.mark.parametrize(
    ("kind", "mean", "sd", "words"),
    [
        ("Beta", 0.5, 0.5, "sd below sqrt"),
        ("Beta", 1.2, 0.1, "0 < mean < 1"),
        ("Beta", 0.5, 0.0, "sd above 0"),
        ("Gamma", -1.0, 0.1, "mean must be above 0"),
        ("Gamma", 1.0, float("nan"), "finite"),
        ("LogNormal", 0.0, 1.0, "mean must be above 0"),
        ("LogNormal", 1.0, -0.1, "at least 0"),
    ],
)
def test_impossible_mean_sd_pairs_are_refused(
    kind: str, mean: float, sd: float, words: str
) -> None:
    from carepath import sim  # noqa: PLC0415

    with pytest.raises(sim.InvalidParameter, match=words) as caught:
        getattr(sim, kind).from_mean_sd(mean, sd)
    assert kind in caught.value.parameter
