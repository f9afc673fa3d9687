"""Cohort simulation: determinism, replay through Episode, hand-computed summaries, errors."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import attrs
import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import carepath  # noqa: E402  # after the extras check
from carepath import Assessment, standard_pathway  # noqa: E402
from carepath.sim import (  # noqa: E402
    AssessedCohort,
    InvalidParameter,
    SimulationModel,
    SimulationResult,
    SyntheticCohort,
    compare,
    simulate,
)

CODES = ["outpatient", "sober_living", "iop", "php", "inpatient", "detox"]


@pytest.fixture(scope="module")
def default() -> SimulationModel:
    return SimulationModel.default()


@pytest.fixture(scope="module")
def year(default: SimulationModel) -> SimulationResult:
    return simulate(default, n=300, seed=11, days=365)


# -- determinism and chunking -------------------------------------------------------------------


def test_same_seed_gives_identical_tables(default: SimulationModel, year: SimulationResult) -> None:
    again = simulate(default, n=300, seed=11, days=365)
    pd.testing.assert_frame_equal(year.events, again.events)
    pd.testing.assert_frame_equal(year.stays, again.stays)
    assert year.metadata == again.metadata


def test_different_seeds_give_different_tables(
    default: SimulationModel, year: SimulationResult
) -> None:
    other = simulate(default, n=300, seed=12, days=365)
    assert not year.events.equals(other.events)
    assert not year.stays.equals(other.stays)


def test_chunking_does_not_change_the_rows(
    default: SimulationModel, year: SimulationResult
) -> None:
    """Patients [0, 300) in one run equal [0, 137) and [137, 300) run separately."""
    first = simulate(default, n=137, seed=11, days=365)
    second = simulate(default, n=163, seed=11, days=365, first_patient=137)
    for name in ("events", "stays"):
        joined = pd.concat([getattr(first, name), getattr(second, name)], ignore_index=True)
        pd.testing.assert_frame_equal(joined, getattr(year, name))


def test_a_longer_horizon_extends_the_same_histories(
    default: SimulationModel, year: SimulationResult
) -> None:
    """Randomness is keyed by patient and step, not by the horizon."""
    short = simulate(default, n=300, seed=11, days=120)
    cut = year.events[year.events["day"] < 120].reset_index(drop=True)
    pd.testing.assert_frame_equal(short.events, cut)


# -- every row is legal ----------------------------------------------------------------------


def test_every_simulated_patient_replays_through_episode(year: SimulationResult) -> None:
    events = year.events
    for patient in range(300):
        episodes = year.replay(patient)
        rows = events[events["patient"] == patient]
        assert len(episodes) == rows["episode"].nunique()
        assert sum(ep.version for ep in episodes) == len(rows)
        for ep in episodes[:-1]:
            assert ep.outcome is not None
        for earlier, later in itertools.pairwise(episodes):
            assert later.previous_episode_id == earlier.id


def test_a_tampered_row_does_not_replay(year: SimulationResult) -> None:
    events = year.events.copy()
    i = int(events.index[events["event"] == "step_down"][0])
    patient = int(events.loc[i, "patient"])
    events.loc[i, "day"] = events.loc[i - 1, "day"]  # before the minimum stay
    bad = SimulationResult(
        events=events, stays=year.stays, metadata=year.metadata, model=SimulationModel.default()
    )
    with pytest.raises(carepath.EpisodeLoadError, match=f"events row {i}"):
        bad.replay(patient)


def test_tables_have_the_documented_columns_and_dtypes(year: SimulationResult) -> None:
    e, s = year.events, year.stays
    assert list(e.columns) == [
        "patient",
        "episode",
        "day",
        "event",
        "from_level",
        "to_level",
        "assessment",
    ]
    assert [str(t) for t in e.dtypes] == [
        "int64",
        "int32",
        "int32",
        "category",
        "category",
        "category",
        "int16",
    ]
    assert list(s.columns) == ["patient", "episode", "level", "start_day", "end_day", "exit"]
    assert list(s["level"].cat.categories) == CODES
    assert set(s["exit"].astype(str)) <= {
        "step_down",
        "step_up",
        "relapse",
        "complete",
        "drop_out",
        "transfer_out",
        "censored",
    }
    assert (s["end_day"] >= s["start_day"]).all()
    assert s["end_day"].max() <= 365
    assert e["day"].max() < 365
    # Every patient is admitted on day 0, and every stay starts with an event.
    assert set(e.loc[(e["episode"] == 0) & (e["event"] == "admit"), "patient"]) == set(range(300))


def test_parquet_round_trip(year: SimulationResult, tmp_path: Path) -> None:
    out = year.to_parquet(tmp_path / "run")
    events = pd.read_parquet(out / "events.parquet")
    stays = pd.read_parquet(out / "stays.parquet")
    pd.testing.assert_frame_equal(events, year.events)
    pd.testing.assert_frame_equal(stays, year.stays)
    meta = (out / "metadata.json").read_text(encoding="utf-8")
    assert '"seed": 11' in meta
    assert year.metadata["pathway"]["content_hash"] == standard_pathway().content_hash
    assert year.metadata["carepath_version"] == carepath.__version__


# -- hand-computed summaries --------------------------------------------------------------------


def deterministic_model(**changes: Any) -> SimulationModel:
    """No unplanned events; every rating improves at every reassessment; readmission at once."""
    m = SimulationModel.default().with_levels(
        improvement=dict.fromkeys(CODES, 1.0),
        relapse=dict.fromkeys(CODES, 0.0),
        drop_out=dict.fromkeys(CODES, 0.0),
        transfer_out=dict.fromkeys(CODES, 0.0),
        continuation={"detox": 1.0, "iop": 0.0},
        readmission={"completed": 1.0},
        readmission_delay={"completed": 1},
    )
    fields: dict[str, Any] = {
        "cohort": [Assessment(withdrawal=3), Assessment(relapse=2)],
        "relapse_after_discharge": 0.0,
        "cost_per_day": {"detox": 100.0, "iop": 10.0},
    }
    return attrs.evolve(m, **{**fields, **changes})


def test_a_tiny_deterministic_cohort_by_hand() -> None:
    """Patient 0: detox days 0-3 (withdrawal 3 -> 0), step down to outpatient, complete at
    day 31 (minimum 28 days), readmitted next day: outpatient 32-60, 61-80 (censored).
    Patient 1: IOP days 0-42 (minimum stay), completes, outpatient 43-71, 72-80 (censored)."""
    result = simulate(deterministic_model(), seed=5, days=80)
    assert result.metadata["n"] == 2
    got = [
        (r.patient, r.episode, r.day, r.event, r.from_level, r.to_level)
        for r in result.events.astype(
            {"event": str, "from_level": str, "to_level": str}
        ).itertuples()
    ]
    assert got == [
        (0, 0, 0, "admit", "intake", "detox"),
        (0, 0, 3, "step_down", "detox", "outpatient"),
        (0, 0, 31, "complete", "outpatient", "completed"),
        (0, 1, 32, "admit", "intake", "outpatient"),
        (0, 1, 60, "complete", "outpatient", "completed"),
        (0, 2, 61, "admit", "intake", "outpatient"),
        (1, 0, 0, "admit", "intake", "iop"),
        (1, 0, 42, "complete", "iop", "completed"),
        (1, 1, 43, "admit", "intake", "outpatient"),
        (1, 1, 71, "complete", "outpatient", "completed"),
        (1, 2, 72, "admit", "intake", "outpatient"),
    ]
    assert result.events["assessment"].tolist()[:3] == [Assessment(withdrawal=3).index, 0, 0]
    s = result.summary()
    los = s.length_of_stay
    assert los.loc["detox", "median"] == 3
    assert los.loc["iop", "median"] == 42
    assert los.loc["outpatient", "stays"] == 3
    assert los.loc["outpatient", "median"] == 28
    assert los.loc["php", "stays"] == 0
    assert math.isnan(los.loc["php", "median"])
    assert s.outcomes.loc["detox", "completed"] == 1.0
    assert s.outcomes.loc["outpatient", "ended"] == 3
    assert s.outcomes.loc["outpatient", "completed"] == 1.0
    assert s.outcomes.loc["iop", "dropped_out"] == 0.0
    assert s.continuation.loc[14].tolist() == [1, 1, 1.0]
    assert s.continuation.loc[30].tolist() == [1, 1, 1.0]
    # Outcomes at days 31, 42 have 30 days of follow-up before day 80; 60 and 71 do not.
    assert s.readmissions.loc[30].tolist() == [2, 2, 1.0]
    assert s.readmissions.loc[90, "episodes"] == 0
    assert math.isnan(s.readmissions.loc[90, "share"])
    assert s.relapses_per_patient == 0.0
    care = s.care
    assert care.loc["detox", "days"] == 3
    assert care.loc["iop", "days"] == 42
    assert care.loc["outpatient", "days"] == (28 + 28 + 19) + (28 + 8)
    assert care.loc["total", "days"] == 3 + 42 + 111
    assert care.loc["outpatient", "days_per_patient"] == 111 / 2
    assert care.loc["detox", "cost"] == 300.0
    assert care.loc["iop", "cost"] == 420.0
    assert math.isnan(care.loc["outpatient", "cost"])
    assert care.loc["total", "cost"] == 720.0
    metrics = s.metrics()
    assert metrics["follow_up_30d"] == 1.0
    assert metrics["cost_per_patient"] == 360.0
    for patient in (0, 1):
        result.replay(patient)


def test_outcome_shares_by_hand() -> None:
    """Only drop-outs at IOP: every IOP stay ends dropped out; a relapse moves nobody."""
    m = deterministic_model(cohort=[Assessment(relapse=2)] * 4).with_levels(
        drop_out={"iop": 50.0}, readmission={"completed": 0.0, "dropped_out": 0.0}
    )
    s = simulate(m, seed=1, days=60).summary()
    assert s.outcomes.loc["iop"].tolist() == [4, 0.0, 1.0, 0.0]
    # A drop-out hazard of 50 a day means leaving on day 1.
    assert s.length_of_stay.loc["iop", "median"] == 1
    assert s.readmissions.loc[30].tolist() == [4, 0, 0.0]


def test_relapses_are_counted_and_move_patients_up() -> None:
    m = deterministic_model(cohort=[Assessment(relapse=2)]).with_levels(
        relapse={"iop": 5.0}, improvement={"iop": 0.0}
    )
    m = attrs.evolve(m, relapse_worsens={"withdrawal": 1.0, "relapse": 1.0})
    r = simulate(m, n=3, seed=2, days=30)
    first = r.events[r.events["event"] == "relapse"].groupby("patient").head(1)
    # A relapse raises withdrawal to 1 and relapse potential to 3: inpatient care.
    assert set(first["to_level"].astype(str)) == {"inpatient"}
    assert r.summary().relapses_per_patient == (r.events["event"] == "relapse").sum() / 3
    assert "relapse" in set(r.stays["exit"].astype(str))
    for p in range(3):
        r.replay(p)


def test_a_step_down_policy_is_followed_when_the_target_fits() -> None:
    base = deterministic_model(cohort=[Assessment(relapse=3, environment=3)] * 3)
    policy = base.with_levels(continuation={"inpatient": 1.0}, step_down_to={"inpatient": "iop"})
    r = simulate(policy, seed=1, days=200)
    downs = r.events[(r.events["event"] == "step_down") & (r.events["from_level"] == "inpatient")]
    assert len(downs) == 3
    assert set(downs["to_level"].astype(str)) == {"iop"}


# -- defaults near the published figures --------------------------------------------------------


def test_default_model_lands_near_teds_d(default: SimulationModel) -> None:
    """Completion shares per level and 30-day follow-up (DESIGN.md) within a few points."""
    s = simulate(default, n=3000, seed=2026, days=365).summary()
    completed = s.outcomes["completed"]
    assert abs(completed["detox"] - 0.623) < 0.06
    assert 0.43 - 0.03 < completed["inpatient"] < 0.62 + 0.03
    assert abs(completed["iop"] - 0.377) < 0.06
    assert abs(completed["outpatient"] - 0.364) < 0.06
    assert abs(s.continuation.loc[30, "share"] - 0.49) < 0.06
    assert 4 <= s.length_of_stay.loc["detox", "median"] <= 5


def test_default_cohort_mix() -> None:
    """The synthetic cohort places patients at every level, outpatient the most common."""
    r = simulate(SimulationModel.default(), n=2000, seed=3, days=1)
    first = r.events[r.events["event"] == "admit"]["to_level"].astype(str)
    shares = first.value_counts(normalize=True)
    assert set(shares.index) == set(CODES)
    assert shares.idxmax() == "outpatient"
    assert 0.12 < shares["detox"] < 0.3


def test_a_cohort_from_a_dataframe() -> None:
    frame = pd.DataFrame(
        {
            "withdrawal": [3, 0],
            "biomedical": [0, 0],
            "emotional": [0, 0],
            "readiness": [0, 0],
            "relapse": [2, 0],
            "environment": [0, 1],
            "site": ["a", "b"],
        }
    )
    m = attrs.evolve(SimulationModel.default(), cohort=frame)
    assert isinstance(m.cohort, AssessedCohort)
    r = simulate(m, n=4, seed=0, days=1)
    admits = r.events["to_level"].astype(str).tolist()
    assert admits == ["detox", "outpatient", "detox", "outpatient"]


# -- compare --------------------------------------------------------------------------------


def test_compare_a_model_with_itself_gives_exact_zeros(default: SimulationModel) -> None:
    c = compare(default, default, n=60, seed=3, replications=2, days=90)
    assert (c.table["difference"].dropna() == 0.0).all()
    assert (c.table["ci_low"].dropna() == 0.0).all()
    assert c.replications["replication"].nunique() == 2


def test_compare_reports_intervals_over_replications(default: SimulationModel) -> None:
    policy = default.with_levels(continuation={"inpatient": 1.0}, step_down_to={"inpatient": "iop"})
    c = compare(default, policy, n=150, seed=1, replications=3, days=180)
    row = c.table.loc["completed[inpatient]"]
    assert row["difference"] == pytest.approx(row["b"] - row["a"])
    assert row["ci_low"] <= row["difference"] <= row["ci_high"]
    assert c.table.loc["follow_up_30d", "difference"] > 0
    reps = c.replications[c.replications["metric"] == "follow_up_30d"]
    # Replication r is simulate(..., seed=seed + r).
    one = simulate(policy, n=150, seed=2, days=180).summary().metrics()["follow_up_30d"]
    assert reps.loc[reps["replication"] == 1, "b"].item() == one
    assert "follow_up_30d" in str(c)


# -- bad parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "parameter", "words"),
    [
        ({"drop_out": {"iop": -0.1}}, "drop_out['iop']", "negative"),
        ({"relapse": {"detox": -1}}, "relapse['detox']", "negative"),
        ({"continuation": {"inpatient": 1.5}}, "continuation['inpatient']", "probability"),
        ({"improvement": {"iop": 2.0}}, "improvement['iop']", "probability"),
        ({"transfer_out": {"rehab": 0.1}}, "transfer_out['rehab']", "not a level"),
        ({"reassess_days": {"iop": 0}}, "reassess_days['iop']", "out of range"),
        (
            {"step_down_to": {"inpatient": "detox"}},
            "step_down_to['inpatient']",
            "not less intensive",
        ),
        ({"step_down_to": {"inpatient": "home"}}, "step_down_to['inpatient']", "not a level"),
        ({"readmission": {"completed": 1.01}}, "readmission['completed']", "probability"),
        ({"readmission": {"discharged": 0.1}}, "readmission['discharged']", "not an outcome"),
        ({"relapse_worsens": {"mood": 0.5}}, "relapse_worsens['mood']", "not a dimension"),
        ({"cost_per_day": {"iop": -5.0}}, "cost_per_day['iop']", "negative"),
    ],
)
def test_bad_per_level_parameters_are_rejected(
    default: SimulationModel, change: dict[str, dict[str, object]], parameter: str, words: str
) -> None:
    with pytest.raises(InvalidParameter, match=words) as info:
        default.with_levels(**change)
    assert info.value.parameter == parameter
    assert parameter in str(info.value)
    assert isinstance(info.value, carepath.CarepathError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"relapse_after_discharge": -0.01}, "relapse_after_discharge"),
        ({"relapse_after_discharge": math.nan}, "relapse_after_discharge"),
        ({"remission": 5}, "remission"),
        ({"days": 0}, "days"),
        ({"drop_out": {"iop": 0.1}}, "drop_out"),  # the other levels are missing
        ({"improvement": dict.fromkeys(CODES, "fast")}, "improvement['outpatient']"),
    ],
)
def test_bad_parameters_are_rejected(
    default: SimulationModel, change: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidParameter) as info:
        attrs.evolve(default, **change)
    assert info.value.parameter == parameter


@pytest.mark.parametrize(
    "make",
    [
        lambda m: attrs.evolve(m, drop_out=0.1),
        lambda m: attrs.evolve(m, cost_per_day=[1.0]),
        lambda m: m.with_levels(drop_out=0.1),
    ],
)
def test_a_per_level_parameter_that_is_no_mapping_is_named(
    default: SimulationModel, make: Any
) -> None:
    with pytest.raises(InvalidParameter, match="mapping") as info:
        make(default)
    assert info.value.parameter in {"drop_out", "cost_per_day"}
    assert isinstance(info.value, TypeError)  # what these raised before


def test_wrong_kinds_of_simulate_arguments_are_named(default: SimulationModel) -> None:
    with pytest.raises(InvalidParameter, match="SimulationModel") as info:
        simulate(None, n=10)  # type: ignore[arg-type]  # deliberately wrong
    assert info.value.parameter == "model"
    assert isinstance(info.value, TypeError)
    with pytest.raises(InvalidParameter, match="Executor") as info:
        simulate(default, n=10, executor=3)  # type: ignore[arg-type]  # deliberately wrong
    assert info.value.parameter == "executor"
    assert isinstance(info.value, TypeError)


def test_numpy_numbers_are_accepted_as_plain_numbers(default: SimulationModel) -> None:
    m = default.with_levels(
        reassess_days={"iop": np.int64(5)},
        drop_out={"iop": np.float32(0.01)},
        cost_per_day={"detox": np.float64(700.0)},
        readmission_delay={"completed": np.int32(30)},
    )
    m = attrs.evolve(
        m, relapse_after_discharge=np.float64(0.02), remission=np.int8(1), days=np.int64(90)
    )
    assert type(m.reassess_days["iop"]) is int
    assert m.reassess_days["iop"] == 5
    assert type(m.drop_out["iop"]) is float
    assert m.drop_out["iop"] == pytest.approx(0.01)
    assert type(m.readmission_delay["completed"]) is int
    assert type(m.relapse_after_discharge) is float
    assert type(m.remission) is int
    assert type(m.days) is int
    r = simulate(m, n=np.int64(10), days=np.int64(10), seed=np.uint64(3), chunk_size=np.int64(4))
    assert r.metadata["n"] == 10
    assert r.metadata["days"] == 10
    assert type(r.metadata["n"]) is int
    same = simulate(m, n=10, days=10, seed=3)
    pd.testing.assert_frame_equal(r.events, same.events)
    with pytest.raises(InvalidParameter, match="whole number"):
        default.with_levels(reassess_days={"iop": np.float64(7.0)})
    with pytest.raises(InvalidParameter, match="number"):
        default.with_levels(drop_out={"iop": np.bool_(True)})


def test_bad_cohorts_and_arguments_are_rejected(default: SimulationModel) -> None:
    with pytest.raises(InvalidParameter, match="jitter"):
        SyntheticCohort(jitter=1.5)
    with pytest.raises(InvalidParameter, match="at least one class") as info:
        SyntheticCohort(classes=())
    assert info.value.parameter == "cohort.classes"
    frame = pd.DataFrame(
        {d: [0] for d in ("withdrawal", "biomedical", "emotional", "readiness", "relapse")}
    )
    with pytest.raises(InvalidParameter, match="environment"):
        AssessedCohort.from_frame(frame)
    frame["environment"] = [7]
    with pytest.raises(InvalidParameter, match=r"cohort\[0\].environment"):
        AssessedCohort.from_frame(frame)
    with pytest.raises(InvalidParameter, match="'n'"):
        simulate(default, n=-1)
    with pytest.raises(InvalidParameter, match="'seed'"):
        simulate(default, n=1, seed=-3)
    with pytest.raises(InvalidParameter, match="'replications'"):
        compare(default, default, n=1, replications=0)
    with pytest.raises(TypeError):
        simulate("model", n=1)  # type: ignore[arg-type]  # deliberately wrong


def test_a_custom_pathway_borrows_defaults_by_setting() -> None:
    from carepath.levels import DETOX, INPATIENT, IOP, OUTPATIENT, STANDARD_CRITERIA  # noqa: PLC0415

    rehab = attrs.evolve(INPATIENT, code="rehab", name="Rehab")
    levels = [OUTPATIENT, IOP, rehab, DETOX]
    criteria = {lv.code: STANDARD_CRITERIA[lv.code] for lv in (OUTPATIENT, IOP, DETOX)}
    criteria["rehab"] = STANDARD_CRITERIA["inpatient"]
    p = carepath.Pathway(
        id="small",
        version="1",
        levels=levels,
        criteria=criteria,
        rules=carepath.default_rules(levels),
    )
    m = SimulationModel.default(p)
    assert m.reassess_days["rehab"] == 7
    r = simulate(m, n=80, seed=4, days=200)
    assert set(r.stays["level"].cat.categories) == {"outpatient", "iop", "rehab", "detox"}
    for patient in range(80):
        r.replay(patient)


def test_the_summary_prints(year: SimulationResult) -> None:
    text = str(year.summary())
    assert "How stays ended, per level" in text
    assert "inpatient" in text
    assert repr(year).startswith("<SimulationResult patients=300")
    assert np.isfinite(year.summary().relapses_per_patient)


def test_an_empty_cohort_is_a_clear_parameter_error() -> None:
    with pytest.raises(InvalidParameter, match="'n': 0 is out of range; allowed 1 to"):
        simulate(SimulationModel.default(), n=0, seed=1)
