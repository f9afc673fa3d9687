"""Batched PSA: the same rows and summaries whatever the batch, the workers, the path."""

from __future__ import annotations

import tempfile

import pandas as pd
import pytest

from carepath.sim import Beta, Gamma, SimulationModel, UncertainModel, simulate


@pytest.fixture(scope="module")
def uncertain() -> UncertainModel:
    model = SimulationModel.default().with_levels(cost_per_day={"iop": 150.0, "detox": 900.0})
    return model.with_distributions(
        continuation={"inpatient": Beta(a=75, b=25)},
        relapse_after_discharge=Gamma(shape=4, scale=0.0025),
        drop_out={"iop": Gamma(shape=20, scale=0.015 / 20)},
        cost_per_day={"iop": Gamma(shape=100, scale=1.5)},
    )


def test_psa_rows_are_the_same_whatever_the_batch_and_workers(uncertain: UncertainModel) -> None:
    """One batch of all samples, batches of 3 and of 1, two workers, blocks of patients
    per sample (the unbatched path) and Parquet parts all give the same rows, in the same
    order, and the same summaries across samples."""
    kw = {"n": 240, "seed": 11, "samples": 7, "days": 200}
    one = simulate(uncertain, **kw)  # type: ignore[arg-type]  # the keywords above
    others = [
        simulate(uncertain, batch=3, **kw),  # type: ignore[arg-type]
        simulate(uncertain, batch=1, **kw),  # type: ignore[arg-type]
        simulate(uncertain, batch=2, workers=2, **kw),  # type: ignore[arg-type]
        simulate(uncertain, workers=2, **kw),  # type: ignore[arg-type]
        simulate(uncertain, chunk_size=100, **kw),  # type: ignore[arg-type]
    ]
    with tempfile.TemporaryDirectory() as where:
        parts = simulate(uncertain, out=where, **kw)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(one.events, parts.events)
        pd.testing.assert_frame_equal(one.stays, parts.stays)
        pd.testing.assert_frame_equal(one.summary().across_samples, parts.summary().across_samples)
    for other in others:
        pd.testing.assert_frame_equal(one.events, other.events)
        pd.testing.assert_frame_equal(one.stays, other.stays)
        assert one.metadata == other.metadata
        pd.testing.assert_frame_equal(one.summary().across_samples, other.summary().across_samples)
    assert list(one.stays["sample"].unique()) == list(range(7))


def test_a_sample_of_a_psa_is_its_drawn_model_simulated_alone(uncertain: UncertainModel) -> None:
    result = simulate(uncertain, n=150, seed=4, samples=3, days=150)
    alone = simulate(uncertain.draw(4, 2), n=150, seed=4, days=150)
    mine = result.stays[result.stays["sample"] == 2].drop(columns="sample")
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone.stays)


def test_draws_table_matches_draw(uncertain: UncertainModel) -> None:
    table = uncertain.draws(9, 3)
    assert list(table.columns) == list(uncertain.names())
    assert table.loc[1, "cost_per_day[iop]"] == uncertain.draw(9, 1).cost_per_day["iop"]
    low, high = uncertain.distribution("drop_out[iop]").interval(0.95)
    assert low < 0.015 < high
    assert uncertain.with_values({"drop_out[iop]": 0.02}).drop_out["iop"] == 0.02


def test_across_samples_on_arrays_equals_each_samples_summary(
    uncertain: UncertainModel,
) -> None:
    """The statistics across samples, computed on arrays of every sample's counts, are
    each sample's own summary metrics reduced one sample at a time."""
    from carepath.sim._summary import _finish  # noqa: PLC0415  # the per-sample reference

    result = simulate(uncertain, n=200, seed=5, samples=6, days=365)
    aggs = result._aggregates
    assert aggs is not None
    draws = result.metadata["sample_costs"]
    per = pd.DataFrame.from_records(
        [
            _finish(aggs[k], result.pathway, draws[str(k)]).metrics()
            for k in sorted(k for k in aggs if k is not None)
        ]
    )
    want = pd.DataFrame(
        {"mean": per.mean(), "low": per.quantile(0.025), "high": per.quantile(0.975)}
    )
    want.index.name = "metric"
    got = result.summary().across_samples
    assert got is not None
    pd.testing.assert_frame_equal(got, want, rtol=1e-12)
