"""Running a model: :func:`simulate` and scenario comparison with :func:`compare`."""

from __future__ import annotations

import atexit
import json
import math
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, final, overload

import attrs
import numpy as np
import pandas as pd

from carepath import __version__
from carepath._errors import InvalidParameter
from carepath._pathway import Pathway

from ._compile import NotCompilable, compiled
from ._model import MAX_DAYS, AssessedCohort, SimulationModel, WrongType, _whole
from ._psa import UncertainModel
from ._random import MAX_PATIENTS
from ._result import SimulationResult
from ._summary import Aggregate
from ._tasks import (
    EVENTS_DIR,
    STAYS_DIR,
    Batch,
    BatchPart,
    Block,
    Job,
    Part,
    run_batch,
    run_block,
    run_in_memory,
)

if TYPE_CHECKING:
    from ._strategies import Strategies

__all__ = ["Comparison", "SimulationWarning", "compare", "engine_for", "simulate"]

_MASK: Final = (1 << 64) - 1
_FAST_CHUNK: Final = 250_000
"""Default block of the fast engine: large enough that numpy's per-call overhead over
the engine's passes is small (1,000,000 patients take about 20% less CPU time than in
blocks of 50,000), small enough that 1,000,000 patients on 2 workers peak near 850 MB."""

# Two-sided 95% quantiles of Student's t by degrees of freedom.
_T975: Final = (
    math.nan,
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def _t975(df: int) -> float:
    if df < len(_T975):
        return _T975[df]
    if df <= 40:
        return 2.021
    if df <= 60:
        return 2.000
    if df <= 120:
        return 1.980
    return 1.960


def _check_out(where: Path) -> None:
    """Refuse ``out`` before any work unless it is, or can be made, a directory."""
    existing = where
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent  # the nearest existing ancestor would hold it
    if existing == where and not where.is_dir():
        raise InvalidParameter(
            parameter="out",
            problem=f"{where} exists and is not a "
            "directory; choose a directory for the Parquet parts",
        )
    if existing != where and not existing.is_dir():
        raise InvalidParameter(
            parameter="out", problem=f"{where} cannot be created: {existing} is not a directory"
        )


class SimulationWarning(UserWarning):
    """The simulation could not do what was asked and did something equivalent instead
    (e.g. the reference engine for a pathway with custom guards that have no array form)."""


Engine = Literal["fast", "reference"]
Progress = Callable[[int, int], None]


def engine_for(pathway: Pathway, engine: Engine | None = None) -> Engine:
    """The engine that will run ``pathway``: ``"fast"`` unless asked for the reference
    engine or a guard cannot be compiled (then a :class:`SimulationWarning` says why)."""
    if engine not in (None, "fast", "reference"):
        raise InvalidParameter(
            parameter="engine", problem=f"{engine!r} is not an engine; allowed: fast, reference"
        )
    if engine == "reference":
        return "reference"
    try:
        compiled(pathway)
    except NotCompilable as exc:
        warnings.warn(
            SimulationWarning(
                f"the fast engine cannot run pathway {pathway.id!r}: {exc}; using the reference "
                "engine (same results, slower). Give the guard a check_array(ctx) method "
                "(carepath.sim.ArrayGuard) to use the fast engine."
            ),
            stacklevel=3,
        )
        return "reference"
    return "fast"


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    # Fork starts a worker in milliseconds (nothing to import), but forking a process
    # that runs other threads (a Dask client, a notebook kernel) can deadlock the child:
    # only when this process runs no other Python thread. Python 3.12+ warns about fork
    # with any other OS thread (numpy's BLAS pool is one), so not there.
    if "fork" in methods and sys.version_info < (3, 12) and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # The fork server imports the engine (numpy, pandas, pyarrow) once; every worker is
    # forked from it with them loaded instead of importing them itself. Modules that
    # are not installed are skipped by the server.
    ctx.set_forkserver_preload(["carepath.sim._tasks", "pyarrow.parquet"])
    return ctx


_POOLS: Final[dict[int, ProcessPoolExecutor]] = {}


@atexit.register
def _shutdown_pools() -> None:
    while _POOLS:
        _POOLS.popitem()[1].shutdown(cancel_futures=True)


def _pool(workers: int) -> tuple[ProcessPoolExecutor, bool]:
    """A pool of ``workers`` processes, and whether the caller shuts it down after use.

    Forked workers start in milliseconds and see this process as it is at the fork,
    so a forked pool serves one run. Workers from the fork server (or spawned) cost
    about a second to start (numpy, pandas and pyarrow are imported once, by the
    server); that pool is kept and reused by later runs (scenarios, replications),
    and shut down when the interpreter exits.
    """
    ctx = _context()
    if ctx.get_start_method() == "fork":
        return ProcessPoolExecutor(workers, mp_context=ctx), True
    pool = _POOLS.get(workers)
    if pool is None or getattr(pool, "_broken", False):
        pool = _POOLS[workers] = ProcessPoolExecutor(workers, mp_context=ctx)
    return pool, False


def simulate(  # noqa: PLR0915  # the one public entry point
    model: SimulationModel | UncertainModel,
    *,
    n: int | None = None,
    seed: int = 0,
    days: int | None = None,
    first_patient: int = 0,
    engine: Engine | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike[str] | None = None,
    samples: int | None = None,
    batch: int | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate ``n`` patients through the model's pathway.

    Every patient's random numbers are keyed by seed, patient index, step and
    purpose, so the tables are identical whatever the engine, the chunk size, the
    executor or the number of workers.

    Args:
        model: The pathway and parameters; an :class:`UncertainModel` (parameters
            given as distributions) needs ``samples``.
        n: Number of patients; defaults to the cohort's size for the caller's own
            assessments, else 1,000.
        seed: Any integer in 0 .. 2**64 - 1. The same seed gives identical tables.
        days: The horizon; defaults to ``model.days``.
        first_patient: Index of the first patient. Patients are numbered, and their
            random numbers keyed, by index, so simulating ``[0, n)`` in one run or as
            ``[0, k)`` and ``[k, n)`` (``first_patient=k``) gives the same rows.
        engine: ``"fast"`` (numpy arrays; the default whenever every guard is a
            built-in kind or has an array form) or ``"reference"`` (real
            :class:`~carepath.Episode` objects). Both give the same rows.
        workers: Run blocks of patients in this many processes
            (a ``ProcessPoolExecutor``); ``None`` or 1 runs in this process. The
            workers are forked for the run when this process runs no other thread,
            else started by a fork server and kept for later runs.
        executor: Any ``concurrent.futures.Executor`` to run the blocks on (e.g.
            ``dask.distributed.Client(...).get_executor()``); overrides ``workers``.
        chunk_size: Patients per block (one task each); by default 250,000 for
            the fast engine (at most ``n / workers`` with ``workers``), 2,000 for the
            reference engine.
        out: Stream the tables to Parquet parts in this directory
            (``events/part-*.parquet``, ``stays/part-*.parquet``, one per block, and
            ``metadata.json``) instead of holding them in memory; the result reads
            them back only when asked for ``events`` or ``stays``.
        samples: Run this many parameter draws of an :class:`UncertainModel`
            (probabilistic sensitivity analysis). Draw ``s`` is keyed by seed and
            ``s``; every sample simulates the same patients on the same random
            numbers (common random numbers), and every row is tagged with its
            ``sample`` (a first column, int32).
        batch: With ``samples`` (fast engine, tables in memory, ``n`` at most
            ``chunk_size``): parameter samples per task. A batch runs its samples
            through the engine one after another into one set of columns and builds
            its tables once; by default every sample in one batch in this process,
            and with ``workers`` or an ``executor`` as many samples as make
            ``chunk_size`` patients (split evenly over ``workers``). The rows are the
            same whatever the batch.
        progress: Called as ``progress(done, total)`` in patients (times samples)
            after every finished block.

    >>> from carepath.sim import SimulationModel, simulate
    >>> result = simulate(SimulationModel.default(), n=50, seed=7, days=90)
    >>> sorted(result.stays.columns)
    ['end_day', 'episode', 'exit', 'level', 'patient', 'start_day']
    """
    if isinstance(model, UncertainModel):
        if samples is None:
            raise InvalidParameter(
                parameter="samples",
                problem="a model with distributions "
                "needs samples=K (the number of parameter draws)",
            )
        base = model.model
    elif isinstance(model, SimulationModel):
        base = model
    else:
        raise WrongType(
            parameter="model",
            problem=f"expected a SimulationModel or an UncertainModel, got {type(model).__name__}",
        )
    if n is None:
        n = len(base.cohort.profiles) if isinstance(base.cohort, AssessedCohort) else 1000
    n = _whole("n", n, 1, MAX_PATIENTS)
    seed = _whole("seed", seed, 0, _MASK)
    days = _whole("days", base.days if days is None else days, 1, MAX_DAYS)
    first_patient = _whole("first_patient", first_patient, 0, MAX_PATIENTS - n)
    if samples is not None:
        samples = _whole("samples", samples, 1, 1_000_000)
    if batch is not None:
        batch = _whole("batch", batch, 1, 1_000_000)
    if workers is not None:
        workers = _whole("workers", workers, 1, 4096)
    chosen = engine_for(base.pathway, engine)
    if chunk_size is None:
        chunk_size = _FAST_CHUNK if chosen == "fast" else 2_000
        if executor is None and workers is not None and workers > 1:
            # One block per worker when that is smaller: every process gets work.
            chunk_size = max(1, min(chunk_size, -(-n // workers)))
    chunk_size = _whole("chunk_size", chunk_size, 1, MAX_PATIENTS)
    if executor is not None and not isinstance(executor, Executor):
        raise WrongType(
            parameter="executor",
            problem=f"expected a concurrent.futures.Executor, got {type(executor).__name__}",
        )
    where = Path(out) if out is not None else None
    if where is not None:
        _check_out(where)
        for sub in (EVENTS_DIR, STAYS_DIR):
            if (where / sub).exists() and any((where / sub).glob("part-*.parquet")):
                raise InvalidParameter(
                    parameter="out",
                    problem=f"{where / sub} already holds parts; choose an empty directory",
                )

    runs: list[tuple[int | None, SimulationModel]] = (
        [(None, base)]
        if samples is None
        else [
            (s, model.draw(seed, s) if isinstance(model, UncertainModel) else base)
            for s in range(samples)
        ]
    )
    if samples is not None and chosen == "fast" and where is None and n <= chunk_size:
        return _batched(
            model,
            runs,
            n=n,
            seed=seed,
            days=days,
            first_patient=first_patient,
            batch=batch,
            chunk_size=chunk_size,
            workers=workers,
            executor=executor,
            progress=progress,
        )
    work: list[tuple[Job, Block]] = []
    for sample, m in runs:
        job = Job(
            model=m,
            seed=seed,
            days=days,
            engine=chosen,
            sample=sample,
            out=str(where) if where is not None else None,
        )
        for b0 in range(first_patient, first_patient + n, chunk_size):
            work.append(
                (
                    job,
                    Block(index=len(work), first=b0, count=min(chunk_size, first_patient + n - b0)),
                )
            )
    total = n * len(runs)
    parts: dict[int, Part] = {}
    done = 0

    def finished(part: Part) -> None:
        nonlocal done
        parts[part.index] = part
        done += part.count
        if progress is not None:
            progress(done, total)

    own = False
    if executor is None and workers is not None and workers > 1 and len(work) > 1:
        executor, own = _pool(workers)
    tables: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    if executor is None and where is None and chosen == "fast":
        # In this process, in memory: each run's rows go into one set of columns and its
        # tables are built once (no tables per block to concatenate).
        for job in dict.fromkeys(j for j, _ in work):
            tables.append(run_in_memory(job, [b for j, b in work if j is job], finished))
    elif executor is None:
        for job, block in work:
            finished(run_block(job, block))
    else:
        futures = [executor.submit(run_block, job, block) for job, block in work]
        try:
            for future in as_completed(futures):
                finished(future.result())
        finally:
            for future in futures:  # after a failure, leave no work queued on the pool
                future.cancel()
            if own:
                executor.shutdown()

    aggregates: dict[int | None, Aggregate] = {}
    for part in parts.values():
        if part.sample not in aggregates:
            aggregates[part.sample] = Aggregate(len(base.pathway.levels), days)
        aggregates[part.sample].add(part.aggregate)
    summary_model, metadata = _metadata(
        model, base, runs, chosen=chosen, seed=seed, n=n, first_patient=first_patient, days=days
    )
    if where is not None:
        where.mkdir(parents=True, exist_ok=True)
        (where / "metadata.json").write_text(
            json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        return SimulationResult(
            events=None,
            stays=None,
            metadata=metadata,
            model=summary_model,
            aggregates=aggregates,
            parts=where,
        )
    if not tables:
        ordered = [parts[i] for i in sorted(parts)]
        tables = [(q.events, q.stays) for q in ordered]
    if len(tables) == 1:
        events, stays = tables[0]
    else:
        events = pd.concat([e for e, _ in tables], ignore_index=True)
        stays = pd.concat([s for _, s in tables], ignore_index=True)
    return SimulationResult(
        events=events, stays=stays, metadata=metadata, model=summary_model, aggregates=aggregates
    )


def _metadata(
    model: SimulationModel | UncertainModel,
    base: SimulationModel,
    runs: list[tuple[int | None, SimulationModel]],
    *,
    chosen: str,
    seed: int,
    n: int,
    first_patient: int,
    days: int,
) -> tuple[SimulationModel, dict[str, Any]]:
    """The model the summary reports (the mean model of a PSA) and the run's metadata."""
    samples = None if runs[0][0] is None else len(runs)
    p = base.pathway
    summary_model = model.mean_model() if isinstance(model, UncertainModel) else base
    metadata: dict[str, Any] = {
        "engine": chosen,
        "seed": seed,
        "n": n,
        "first_patient": first_patient,
        "days": days,
        "carepath_version": __version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "pathway": {"id": p.id, "version": p.version, "content_hash": p.content_hash},
        "model": summary_model.parameters(),
    }
    if samples is not None:
        metadata["samples"] = samples
        metadata["patients_per_sample"] = n
        metadata["sample_costs"] = {str(s): dict(m.cost_per_day) for s, m in runs}
        if isinstance(model, UncertainModel):
            # As parameters() gives them, for the uncertain parameters only.
            metadata["sample_parameters"] = [
                {
                    k: dict(sorted(v.items())) if isinstance(v, Mapping) else v
                    for k, v in ((k, getattr(m, k)) for k in sorted(model.distributions))
                }
                for _, m in runs
            ]
    return summary_model, metadata


def _batched(
    model: SimulationModel | UncertainModel,
    runs: list[tuple[int | None, SimulationModel]],
    *,
    n: int,
    seed: int,
    days: int,
    first_patient: int,
    batch: int | None,
    chunk_size: int,
    workers: int | None,
    executor: Executor | None,
    progress: Progress | None,
) -> SimulationResult:
    """A PSA on the fast engine, in memory: samples in batches (:func:`run_batch`)."""
    base = model.model if isinstance(model, UncertainModel) else model
    parallel = executor is not None or (workers is not None and workers > 1)
    if batch is not None:
        per = batch
    elif not parallel:
        # In this process every sample goes into one set of columns (memory as a single
        # run of samples x n patients): no tables per batch to concatenate.
        per = len(runs)
    else:
        per = max(1, chunk_size // n)
        if executor is None and workers is not None:
            per = max(1, min(per, -(-len(runs) // workers)))
    tasks = [
        Batch(
            index=i,
            jobs=tuple(
                Job(model=m, seed=seed, days=days, engine="fast", sample=s)
                for s, m in runs[j : j + per]
            ),
            first=first_patient,
            count=n,
        )
        for i, j in enumerate(range(0, len(runs), per))
    ]
    total, done = n * len(runs), 0
    parts: dict[int, BatchPart] = {}

    def finished(part: BatchPart) -> None:
        nonlocal done
        parts[part.index] = part
        done += part.count
        if progress is not None:
            progress(done, total)

    own = False
    if executor is None and workers is not None and workers > 1 and len(tasks) > 1:
        executor, own = _pool(workers)
    if executor is None:
        for task in tasks:
            finished(run_batch(task))
    else:
        futures = [executor.submit(run_batch, task) for task in tasks]
        try:
            for future in as_completed(futures):
                finished(future.result())
        finally:
            for future in futures:
                future.cancel()
            if own:
                executor.shutdown()
    ordered = [parts[i] for i in sorted(parts)]
    aggregates: dict[int | None, Aggregate] = {}
    for part in ordered:
        aggregates.update(part.aggregates)
    if len(ordered) == 1:
        events, stays = ordered[0].events, ordered[0].stays
    else:
        events = pd.concat([q.events for q in ordered], ignore_index=True)
        stays = pd.concat([q.stays for q in ordered], ignore_index=True)
    summary_model, metadata = _metadata(
        model, base, runs, chosen="fast", seed=seed, n=n, first_patient=first_patient, days=days
    )
    return SimulationResult(
        events=events, stays=stays, metadata=metadata, model=summary_model, aggregates=aggregates
    )


@final
@attrs.frozen(kw_only=True, eq=False)
class Comparison:
    """Two scenarios on common random numbers, with differences over replications.

    Attributes:
        table: One row per statistic (index ``metric``): ``a`` and ``b`` (means over
            replications), ``difference`` (mean of ``b - a``), ``ci_low`` and
            ``ci_high`` (95% t interval of the mean difference; NaN with one
            replication).
        replications: Per replication and statistic: ``a``, ``b``, ``difference``.
        n: Patients per replication.
        seed: Replication ``r`` ran both models with seed ``seed + r``.
    """

    table: pd.DataFrame
    replications: pd.DataFrame
    n: int
    seed: int

    def __str__(self) -> str:
        return str(self.table.to_string(float_format=lambda x: f"{x:.4f}"))


@overload
def compare(
    model_a: SimulationModel,
    model_b: SimulationModel,
    *,
    n: int = 1000,
    seed: int = 0,
    replications: int | None = None,
    days: int | None = None,
) -> Comparison: ...


@overload
def compare(
    model_a: Mapping[str, SimulationModel | UncertainModel],
    model_b: None = None,
    *,
    n: int = 1000,
    seed: int = 0,
    replications: None = None,
    days: int | None = None,
    samples: int | None = None,
    workers: int | None = None,
) -> Strategies: ...


def compare(
    model_a: SimulationModel | Mapping[str, SimulationModel | UncertainModel],
    model_b: SimulationModel | None = None,
    *,
    n: int = 1000,
    seed: int = 0,
    replications: int | None = None,
    days: int | None = None,
    samples: int | None = None,
    workers: int | None = None,
) -> Comparison | Strategies:
    """Run scenarios on common random numbers.

    Two models: report ``b - a`` for every statistic with 95% intervals over
    ``replications`` (default 10); replication ``r`` simulates both models with seed
    ``seed + r``: patient ``i`` draws the same numbers for the same purpose in both,
    so the difference reflects the scenarios, not the luck of the draw.

    A mapping of any number of named strategies: simulate each with ``seed`` (and,
    for models with distributions, the same ``samples`` parameter draws) and return
    :class:`Strategies`, the input of :func:`carepath.econ.cea`.

    >>> from carepath.sim import SimulationModel, compare
    >>> base = SimulationModel.default()
    >>> both = compare({"status quo": base, "more iop": base.with_levels(drop_out={"iop": 0.01})},
    ...                n=100, days=60)
    >>> list(both.results)
    ['status quo', 'more iop']
    """
    if isinstance(model_a, Mapping):
        from ._strategies import simulate_strategies  # noqa: PLC0415  # it imports this module

        if model_b is not None or replications is not None:
            raise InvalidParameter(
                parameter="model_b" if model_b is not None else "replications",
                problem="not used with a mapping of strategies (give samples=K for "
                "parameter uncertainty)",
            )
        return simulate_strategies(
            model_a, n=n, seed=seed, days=days, samples=samples, workers=workers
        )
    if model_b is None:
        raise InvalidParameter(
            parameter="model_b", problem="compare needs two models, or a mapping of strategies"
        )
    if samples is not None or workers is not None:
        raise InvalidParameter(
            parameter="samples" if samples is not None else "workers",
            problem="only used with a mapping of strategies",
        )
    replications = 10 if replications is None else replications
    replications = _whole("replications", replications, 1, 10_000)
    seed = _whole("seed", seed, 0, _MASK - replications)
    records: list[dict[str, object]] = []
    for r in range(replications):
        ma = simulate(model_a, n=n, seed=seed + r, days=days).summary().metrics()
        mb = simulate(model_b, n=n, seed=seed + r, days=days).summary().metrics()
        for metric in dict.fromkeys([*ma, *mb]):
            a, b = ma.get(metric, math.nan), mb.get(metric, math.nan)
            records.append(
                {"replication": r, "metric": metric, "a": a, "b": b, "difference": b - a}
            )
    reps = pd.DataFrame.from_records(records)
    order = list(dict.fromkeys(reps["metric"]))
    g = reps.groupby("metric", sort=False)
    mean = g[["a", "b", "difference"]].mean().reindex(order)
    sd = g["difference"].std(ddof=1).reindex(order)
    count = g["difference"].count().reindex(order)
    half = pd.Series(
        [
            _t975(int(k) - 1) * s / math.sqrt(k) if k > 1 else math.nan
            for k, s in zip(count, sd, strict=True)
        ],
        index=order,
    )
    table = mean.assign(ci_low=mean["difference"] - half, ci_high=mean["difference"] + half)
    table.index.name = "metric"
    return Comparison(table=table, replications=reps, n=n, seed=seed)
