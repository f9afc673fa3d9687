"""Scale-out: identical tables whatever the chunk size, workers or executor; Parquet parts;
parameter samples (PSA); progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

pytestmark = pytest.mark.slow  # many simulations and process pools

from carepath.sim import (  # noqa: E402
    Beta,
    Fixed,
    Gamma,
    InvalidParameter,
    LogNormal,
    SimulationModel,
    SimulationResult,
    Uniform,
    simulate,
)

N, SEED, DAYS = 600, 21, 365


@pytest.fixture(scope="module")
def model() -> SimulationModel:
    return SimulationModel.default().with_levels(cost_per_day={"detox": 800.0, "iop": 60.0})


@pytest.fixture(scope="module")
def whole(model: SimulationModel) -> SimulationResult:
    return simulate(model, n=N, seed=SEED, days=DAYS, chunk_size=N)


def assert_same(a: SimulationResult, b: SimulationResult) -> None:
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.stays, b.stays)


def assert_same_summary(a: SimulationResult, b: SimulationResult) -> None:
    sa, sb = a.summary(), b.summary()
    for name in ("length_of_stay", "outcomes", "continuation", "readmissions", "care"):
        pd.testing.assert_frame_equal(getattr(sa, name), getattr(sb, name))
    assert sa.metrics() == pytest.approx(sb.metrics(), nan_ok=True)


@pytest.mark.parametrize("chunk_size", [1, 97, 250])
def test_any_chunk_size_gives_the_same_tables(
    model: SimulationModel, whole: SimulationResult, chunk_size: int
) -> None:
    n = 60 if chunk_size == 1 else N
    one = simulate(model, n=n, seed=SEED, days=DAYS, chunk_size=n)
    chunked = simulate(model, n=n, seed=SEED, days=DAYS, chunk_size=chunk_size)
    assert_same(one, chunked)
    assert_same_summary(one, chunked)
    assert one.metadata == chunked.metadata


def test_two_worker_processes_give_the_same_tables(
    model: SimulationModel, whole: SimulationResult
) -> None:
    two = simulate(model, n=N, seed=SEED, days=DAYS, workers=2, chunk_size=150)
    assert_same(whole, two)
    one = simulate(model, n=N, seed=SEED, days=DAYS, workers=1, chunk_size=150)
    assert_same(whole, one)


def test_the_reference_engine_chunks_the_same_way(
    model: SimulationModel, whole: SimulationResult
) -> None:
    ref = simulate(model, n=200, seed=SEED, days=DAYS, engine="reference", chunk_size=70)
    fast = simulate(model, n=200, seed=SEED, days=DAYS, chunk_size=200)
    assert_same(ref, fast)


def test_a_dask_local_cluster_gives_the_same_tables(
    model: SimulationModel, whole: SimulationResult
) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = simulate(
            model, n=N, seed=SEED, days=DAYS, chunk_size=200, executor=client.get_executor()
        )
    assert_same(whole, result)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_threads_give_the_same_tables(
    model: SimulationModel, whole: SimulationResult, tmp_path: Path, engine: str
) -> None:
    """Blocks run side by side on threads (an executor's; the compiled kernel releases
    the GIL) give the tables of one process, in memory and as Parquet parts."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    with ThreadPoolExecutor(2) as pool:
        in_memory = simulate(
            model,
            n=N,
            seed=SEED,
            days=DAYS,
            chunk_size=150,
            executor=pool,
            engine=engine,  # type: ignore[arg-type]
        )
        parts = simulate(
            model,
            n=N,
            seed=SEED,
            days=DAYS,
            chunk_size=150,
            executor=pool,
            engine=engine,  # type: ignore[arg-type]
            out=tmp_path / engine,
        )
    assert_same(whole, in_memory)
    assert_same(whole, parts)
    assert_same_summary(parts, whole)


def test_out_streams_one_parquet_part_per_block(
    model: SimulationModel, whole: SimulationResult, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = simulate(model, n=N, seed=SEED, days=DAYS, chunk_size=200, out=out)
    assert result.parts == out
    assert sorted(p.name for p in (out / "events").iterdir()) == [
        "part-000000.parquet",
        "part-000001.parquet",
        "part-000002.parquet",
    ]
    assert len(list((out / "stays").iterdir())) == 3
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert (meta["n"], meta["seed"], meta["engine"]) == (N, SEED, "fast")
    # The summary comes from the blocks' counts, without reading the tables ...
    assert result._events is None
    assert_same_summary(result, whole)
    assert result._events is None
    # ... and the tables read back equal the in-memory ones.
    assert_same(result, whole)
    with pytest.raises(InvalidParameter, match="already holds parts"):
        simulate(model, n=10, seed=SEED, out=out)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_a_block_is_written_in_slices_with_the_same_rows(
    model: SimulationModel,
    whole: SimulationResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
) -> None:
    """A block larger than the write slice is made and written slice by slice, one row
    group each: the same tables and summary as in memory, in carepath's encodings."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    from carepath.sim import _tasks  # noqa: PLC0415

    monkeypatch.setattr(_tasks, "WRITE_SLICE", 130)
    out = tmp_path / engine
    result = simulate(model, n=N, seed=SEED, days=DAYS, chunk_size=400, out=out, engine=engine)  # type: ignore[arg-type]  # a Literal, from a parameter
    first = pq.ParquetFile(out / "events" / "part-000000.parquet")
    assert first.metadata.num_row_groups == 4  # 400 patients in slices of 130
    assert pq.ParquetFile(out / "stays" / "part-000001.parquet").metadata.num_row_groups == 2
    columns = {first.metadata.schema.column(i).name: i for i in range(first.metadata.num_columns)}
    patient = first.metadata.row_group(0).column(columns["patient"])
    assert "DELTA_BINARY_PACKED" in patient.encodings
    assert patient.statistics is not None
    assert patient.statistics.has_min_max
    assert_same_summary(result, whole)
    assert_same(result, whole)


def test_parquet_options_encode_each_kind_of_column(tmp_path: Path) -> None:
    """Integers are delta-encoded, categories dictionary-encoded, anything else (floats,
    text: e.g. columns a user adds before ``to_parquet``) left to pyarrow."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    from carepath.sim._tables import parquet_options  # noqa: PLC0415

    frame = pd.DataFrame(
        {
            "patient": np.arange(5, dtype=np.int64),
            "level": pd.Categorical(list("ababa")),
            "cost": np.linspace(0.0, 1.0, 5),
            "note": list("vwxyz"),
        }
    )
    frame.to_parquet(tmp_path / "t.parquet", index=False, **parquet_options(frame))
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0)
    encodings = {
        meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)
    }
    assert "DELTA_BINARY_PACKED" in encodings["patient"]
    assert "DELTA_BINARY_PACKED" not in encodings["cost"]
    assert any("DICTIONARY" in e for e in encodings["level"])
    assert pd.read_parquet(tmp_path / "t.parquet").equals(frame)


def test_a_block_that_fails_leaves_no_part(
    model: SimulationModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block that fails after writing some slices removes what it wrote: a part on
    disk is always a whole block."""
    from carepath.sim import _tasks  # noqa: PLC0415

    monkeypatch.setattr(_tasks, "WRITE_SLICE", 100)
    made = _tasks._slice
    calls = []

    def failing(*args: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return made(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_tasks, "_slice", failing)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="disk full"):
        simulate(model, n=300, seed=SEED, days=DAYS, chunk_size=300, out=out)
    assert len(calls) == 2
    assert [p.name for p in out.rglob("*") if p.is_file()] == []


def test_distributions_that_are_no_mapping_are_named(model: SimulationModel) -> None:
    from carepath.sim import UncertainModel  # noqa: PLC0415

    with pytest.raises(InvalidParameter, match="distributions") as info:
        UncertainModel(model=model, distributions=[Beta(a=1, b=1)])
    assert isinstance(info.value, TypeError)


def test_progress_reports_done_and_total(model: SimulationModel) -> None:
    calls: list[tuple[int, int]] = []
    simulate(
        model,
        n=250,
        seed=1,
        days=60,
        chunk_size=100,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(100, 250), (200, 250), (250, 250)]


def test_bad_scale_arguments_are_rejected(model: SimulationModel) -> None:
    with pytest.raises(InvalidParameter, match="chunk_size"):
        simulate(model, n=10, chunk_size=0)
    with pytest.raises(InvalidParameter, match="workers"):
        simulate(model, n=10, workers=0)
    with pytest.raises(TypeError, match="Executor"):
        simulate(model, n=10, executor=object())  # type: ignore[arg-type]


# -- PSA -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uncertain(model: SimulationModel):  # type: ignore[no-untyped-def]  # UncertainModel
    return model.with_distributions(
        continuation={"inpatient": Beta(a=60, b=40)},
        drop_out={"iop": Gamma(shape=9, scale=0.0017)},
        cost_per_day={"detox": LogNormal(mu=6.7, sigma=0.1)},
        readmission={"completed": Uniform(low=0.2, high=0.4)},
        relapse_after_discharge=Fixed(value=0.01),
    )


def test_samples_tag_every_row_and_use_keyed_draws(uncertain, model) -> None:  # type: ignore[no-untyped-def]  # fixtures
    result = simulate(uncertain, n=150, seed=3, days=200, samples=3, chunk_size=70)
    assert list(result.events.columns[:2]) == ["sample", "patient"]
    assert result.events["sample"].dtype == np.int32
    assert sorted(result.stays["sample"].unique()) == [0, 1, 2]
    for s in range(3):
        drawn = uncertain.draw(3, s)
        assert drawn.relapse_after_discharge == 0.01
        alone = simulate(drawn, n=150, seed=3, days=200)
        rows = result.events[result.events["sample"] == s].drop(columns="sample")
        pd.testing.assert_frame_equal(rows.reset_index(drop=True), alone.events)
    draws = [uncertain.draw(3, s).continuation["inpatient"] for s in range(3)]
    assert len(set(draws)) == 3
    assert draws == [uncertain.draw(3, s).continuation["inpatient"] for s in range(3)]
    assert uncertain.draw(4, 0).continuation["inpatient"] != draws[0]
    again = simulate(uncertain, n=150, seed=3, days=200, samples=3, workers=2, chunk_size=150)
    pd.testing.assert_frame_equal(result.events, again.events)
    pd.testing.assert_frame_equal(result.stays, again.stays)


def test_the_summary_reports_mean_and_interval_across_samples(uncertain) -> None:  # type: ignore[no-untyped-def]  # fixture
    result = simulate(uncertain, n=200, seed=5, days=365, samples=4)
    across = result.summary().across_samples
    assert across is not None
    assert list(across.columns) == ["mean", "low", "high"]
    row = across.loc["completed[inpatient]"]
    assert row["low"] <= row["mean"] <= row["high"]
    per = [
        simulate(uncertain.draw(5, s), n=200, seed=5, days=365).summary().metrics()["follow_up_30d"]
        for s in range(4)
    ]
    assert across.loc["follow_up_30d", "mean"] == pytest.approx(float(np.mean(per)))
    assert across.loc["follow_up_30d", "low"] == pytest.approx(float(np.quantile(per, 0.025)))
    assert "Across parameter samples" in str(result.summary())


def test_bad_distributions_are_rejected(model: SimulationModel) -> None:
    with pytest.raises(InvalidParameter, match="exceed 1"):
        model.with_distributions(continuation={"iop": Gamma(shape=2, scale=1)})
    with pytest.raises(InvalidParameter, match="negative"):
        model.with_distributions(relapse={"iop": Uniform(low=-0.1, high=0.1)})
    with pytest.raises(InvalidParameter, match="not a level"):
        model.with_distributions(relapse={"nowhere": Gamma(shape=2, scale=0.01)})
    with pytest.raises(InvalidParameter, match="may be uncertain"):
        model.with_distributions(reassess_days={"iop": Fixed(value=7)})
    with pytest.raises(InvalidParameter, match=r"Beta\.a"):
        Beta(a=0, b=1)
    with pytest.raises(InvalidParameter, match="below low"):
        Uniform(low=1, high=0)
    with pytest.raises(InvalidParameter, match="samples"):
        simulate(model.with_distributions(relapse_after_discharge=Fixed(value=0.0)), n=5)


def test_psa_replay_takes_the_sample_and_refuses_unknown_patients(uncertain) -> None:  # type: ignore[no-untyped-def]  # fixture
    result = simulate(uncertain, n=60, seed=3, days=200, samples=3)
    for s in range(3):
        alone = simulate(uncertain.draw(3, s), n=60, seed=3, days=200)
        for patient in (0, 17, 59):
            got = result.replay(patient, sample=s)
            want = alone.replay(patient)
            assert [e.to_json() for e in got] == [e.to_json() for e in want]
    assert result.replay(np.int64(5), sample=np.int64(1))  # numpy integers are indices too
    with pytest.raises(InvalidParameter, match=r"'sample'.*missing") as info:
        result.replay(0)
    assert info.value.parameter == "sample"
    bad: Any
    for bad in (3, -1, True, 1.0):
        with pytest.raises(InvalidParameter, match="'sample'"):
            result.replay(0, sample=bad)
    for bad in (60, -1, "0", 1.0):
        with pytest.raises(InvalidParameter, match="'patient'"):
            result.replay(bad, sample=0)
    assert "samples=3" in repr(result)


def test_a_run_without_samples_refuses_a_sample_and_unknown_patients(
    whole: SimulationResult,
) -> None:
    with pytest.raises(InvalidParameter, match="'sample'"):
        whole.replay(0, sample=0)
    with pytest.raises(InvalidParameter, match="'patient'"):
        whole.replay(N)
    with pytest.raises(InvalidParameter, match="'patient'"):
        whole.replay("3")  # type: ignore[arg-type]  # deliberately wrong
    offset = simulate(SimulationModel.default(), n=5, seed=1, days=30, first_patient=10)
    assert offset.replay(10)
    with pytest.raises(InvalidParameter, match="10 to 14"):
        offset.replay(0)


def test_pooled_psa_cost_per_patient_is_the_mean_over_samples(uncertain) -> None:  # type: ignore[no-untyped-def]  # fixture
    """Pooled cost prices each sample's days at that sample's own cost_per_day."""
    result = simulate(uncertain, n=200, seed=5, days=365, samples=4)
    summary = result.summary()
    assert summary.across_samples is not None
    mean = summary.across_samples.loc["cost_per_patient", "mean"]
    assert summary.metrics()["cost_per_patient"] == pytest.approx(mean, rel=1e-12)
    per = [
        simulate(uncertain.draw(5, s), n=200, seed=5, days=365)
        .summary()
        .metrics()["cost_per_patient"]
        for s in range(4)
    ]
    assert summary.metrics()["cost_per_patient"] == pytest.approx(float(np.mean(per)))
    assert summary.care.loc["total", "cost"] == pytest.approx(200 * float(np.sum(per)))


def test_out_must_be_a_directory_before_any_work(model: SimulationModel, tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    calls: list[tuple[int, int]] = []
    for out in (a_file, a_file / "below"):
        with pytest.raises(InvalidParameter, match="'out'") as info:
            simulate(
                model,
                n=10,
                days=5,
                out=out,
                progress=lambda done, total: calls.append((done, total)),
            )
        assert info.value.parameter == "out"
    assert calls == []  # refused before any block ran
    assert a_file.read_text(encoding="utf-8") == "x"
    made = simulate(model, n=10, days=5, out=tmp_path / "new" / "dir")
    assert made.parts == tmp_path / "new" / "dir"
