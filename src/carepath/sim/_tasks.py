"""Work units: one block of patients, run by any executor, returned or written as Parquet.

:func:`run_block` is a plain importable function (executors' worker processes,
``ProcessPoolExecutor`` or Dask's, import it by module). A block returns its
tables, or writes them as one Parquet part each, and always its
:class:`~carepath.sim._summary.Aggregate`: the summary is reduced from those.
"""

from __future__ import annotations

import contextlib
import copyreg
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, final

import attrs
import numpy as np
import pandas as pd

from carepath._pathway import Pathway

from ._compile import compiled
from ._engine import Rows, Tables, run
from ._fast import _RELAPSE, Columns, run_fast
from ._model import SimulationModel
from ._summary import Aggregate
from ._tables import _frames, parquet_options

__all__ = [
    "Batch",
    "BatchPart",
    "Block",
    "Job",
    "Part",
    "part_name",
    "run_batch",
    "run_block",
    "run_in_memory",
]

EVENTS_DIR: Final = "events"
STAYS_DIR: Final = "stays"
WRITE_SLICE: Final = 250_000
"""Patients made and written at a time by a block streamed to Parquet: a row group of
about 900,000 event rows (the standard pathway) and a worker's memory that of 250,000
patients (the fast engine's default block), however large the block. The rows are the
same whatever the slice (each patient's numbers are keyed by its index)."""


def _rebuild_pathway(data: dict[str, Any]) -> Pathway:
    return Pathway(**data)


def _reduce_pathway(p: Pathway) -> tuple[Any, tuple[dict[str, Any]]]:
    # Pathways carry a lock and read-only mappings; workers rebuild them from their parts
    # (levels, criteria, rules, guards: frozen records), re-validated on arrival.
    return _rebuild_pathway, (
        {
            "id": p.id,
            "version": p.version,
            "name": p.name,
            "levels": p.levels,
            "criteria": dict(p.criteria),
            "rules": p.rules,
        },
    )


copyreg.pickle(Pathway, _reduce_pathway)


@final
@attrs.frozen(kw_only=True, eq=False)
class Job:
    """What every block of one (sample of a) run shares."""

    model: SimulationModel
    seed: int
    days: int
    engine: str
    sample: int | None = None
    out: str | None = None


@final
@attrs.frozen(kw_only=True)
class Block:
    """Patients ``first .. first + count - 1`` of a job; ``index`` orders the parts."""

    index: int
    first: int
    count: int


@final
class Part:
    """What a block sends back: its counts, and its tables unless they went to Parquet."""

    __slots__ = ("aggregate", "count", "events", "index", "sample", "stays")

    def __init__(
        self,
        *,
        index: int,
        sample: int | None,
        count: int,
        aggregate: Aggregate,
        events: pd.DataFrame | None,
        stays: pd.DataFrame | None,
    ) -> None:
        self.index = index
        self.sample = sample
        self.count = count
        self.aggregate = aggregate
        self.events = events
        self.stays = stays

    def __getstate__(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)


def part_name(index: int) -> str:
    """The file name of part ``index`` (zero-padded so names sort in row order)."""
    return f"part-{index:06d}.parquet"


def _slice(
    job: Job, tab: Tables, first: int, count: int
) -> tuple[pd.DataFrame, pd.DataFrame, Aggregate]:
    """The tables and counts of patients ``first .. first + count - 1`` of a job."""
    model = job.model
    rows: Any
    if job.engine == "fast":
        rows = run_fast(tab, compiled(model.pathway), job.seed, first, count)
    else:
        rows = Rows()
        run(tab, job.seed, first, count, rows)
    events, stays = _frames(rows, tab)
    if job.sample is not None:
        events.insert(0, "sample", np.full(len(events), job.sample, dtype=np.int32))
        stays.insert(0, "sample", np.full(len(stays), job.sample, dtype=np.int32))
    return events, stays, Aggregate.of(events, stays, model.pathway, count, job.days)


def run_block(job: Job, block: Block) -> Part:
    """Simulate one block of patients (in whatever process the executor chose).

    With ``job.out``, the block's rows are made and written :data:`WRITE_SLICE`
    patients at a time, one row group of each of its two parts per slice (renamed
    into place when the block is done): a worker's memory stays
    that of one slice whatever the block size (a block of 2,000,000 in one piece
    spent 15-20% of its time in the operating system, mapping fresh memory; in
    slices, 3-6%).
    """
    tab = Tables(job.model, job.days)
    if job.out is None:
        events, stays, aggregate = _slice(job, tab, block.first, block.count)
        return Part(
            index=block.index,
            sample=job.sample,
            count=block.count,
            aggregate=aggregate,
            events=events,
            stays=stays,
        )
    import pyarrow as pa  # noqa: PLC0415  # the extra is needed only here
    import pyarrow.parquet as pq  # noqa: PLC0415

    root = Path(job.out)
    total = Aggregate(len(job.model.pathway.levels), job.days)
    names = [root / sub / part_name(block.index) for sub in (EVENTS_DIR, STAYS_DIR)]
    # Written under another name and renamed when whole: a block that fails leaves no
    # part behind, never a shorter one that reads like a finished part.
    partial = [p.with_name(p.name + ".partial") for p in names]
    writers: list[pq.ParquetWriter] = []
    try:
        end = block.first + block.count
        for first in range(block.first, end, WRITE_SLICE) or [block.first]:
            events, stays, aggregate = _slice(job, tab, first, min(WRITE_SLICE, end - first))
            total.add(aggregate)
            frames = (events, stays)
            if not writers:
                for path, frame in zip(partial, frames, strict=True):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    schema = pa.Schema.from_pandas(frame, preserve_index=False)
                    writers.append(pq.ParquetWriter(path, schema, **parquet_options(frame)))
            for writer, frame in zip(writers, frames, strict=True):
                # One thread: the other cores run the other workers.
                table = pa.Table.from_pandas(
                    frame, schema=writer.schema, preserve_index=False, nthreads=1
                )
                writer.write_table(table, row_group_size=max(1, table.num_rows))
        for writer in writers:
            writer.close()
        for path, name in zip(partial, names, strict=True):
            os.replace(path, name)
    except BaseException:
        for writer in writers:
            with contextlib.suppress(Exception):
                writer.close()
        for path in partial:
            path.unlink(missing_ok=True)
        raise
    return Part(
        index=block.index,
        sample=job.sample,
        count=block.count,
        aggregate=total,
        events=None,
        stays=None,
    )


def run_in_memory(
    job: Job, blocks: Sequence[Block], finished: Callable[[Part], None]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every block of a fast-engine job without ``out``, in this process, in order: the
    same rows and counts as :func:`run_block` block by block, but every block's rows go
    into one set of result columns (:class:`~carepath.sim._fast.Columns`), and the
    tables are built once at the end, as views of those columns (nothing concatenated
    or copied). ``finished`` gets each block's :class:`Part` (its counts, no tables).
    """
    model = job.model
    tab = Tables(model, job.days)
    comp = compiled(model.pathway)
    out = Columns(sum(b.count for b in blocks))
    for block in blocks:
        rows = run_fast(tab, comp, job.seed, block.first, block.count, out=out)
        events, stays = _frames(rows, tab)  # views of this block's rows, for its counts
        aggregate = Aggregate.of(events, stays, model.pathway, block.count, job.days)
        finished(
            Part(
                index=block.index,
                sample=job.sample,
                count=block.count,
                aggregate=aggregate,
                events=None,
                stays=None,
            )
        )
    events, stays = _frames(out.rows(), tab)
    if job.sample is not None:
        events.insert(0, "sample", np.full(len(events), job.sample, dtype=np.int32))
        stays.insert(0, "sample", np.full(len(stays), job.sample, dtype=np.int32))
    return events, stays


@final
@attrs.frozen(kw_only=True, eq=False)
class Batch:
    """Several parameter samples of a PSA over the same patients: one task."""

    index: int
    jobs: tuple[Job, ...]
    first: int
    count: int


@final
class BatchPart:
    """What a batch sends back: its tables (sample after sample) and each sample's counts."""

    __slots__ = ("aggregates", "count", "events", "index", "stays")

    def __init__(
        self,
        *,
        index: int,
        count: int,
        events: pd.DataFrame,
        stays: pd.DataFrame,
        aggregates: dict[int | None, Aggregate],
    ) -> None:
        self.index = index
        self.count = count
        self.events = events
        self.stays = stays
        self.aggregates = aggregates

    def __getstate__(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)


def run_batch(batch: Batch) -> BatchPart:
    """Every sample of a batch through the fast engine into one set of result columns,
    and the tables built once (a ``sample`` column first): the same rows, sample after
    sample, as simulating each sample's model on its own. Each sample's counts come
    from its slice of the tables."""
    jobs = batch.jobs
    pathway = jobs[0].model.pathway
    comp = compiled(pathway)
    out = Columns(batch.count * len(jobs))
    ends = np.zeros((len(jobs), 2), dtype=np.int64)
    tab: Tables | None = None
    for i, job in enumerate(jobs):
        tab = Tables(job.model, job.days)
        run_fast(tab, comp, job.seed, batch.first, batch.count, out=out)
        ends[i] = out.counts
    assert tab is not None
    events, stays = _frames(out.rows(), tab)
    starts = np.vstack([np.zeros((1, 2), dtype=np.int64), ends[:-1]])
    sizes = ends - starts
    sample = np.array([job.sample for job in jobs], dtype=np.int32)
    events.insert(0, "sample", np.repeat(sample, sizes[:, 0]))
    stays.insert(0, "sample", np.repeat(sample, sizes[:, 1]))
    aggregates: dict[int | None, Aggregate] = {}
    rows = out.rows()
    stay_columns = (
        rows.st_patient,
        rows.st_episode,
        rows.st_level,
        rows.st_start,
        rows.st_end,
        rows.st_exit,
    )
    seen = np.concatenate([[0], np.cumsum(rows.ev_event == _RELAPSE)])
    relapses = seen[ends[:, 0]] - seen[starts[:, 0]]
    for i, (job, (e0, s0), (e1, s1)) in enumerate(
        zip(jobs, starts.tolist(), ends.tolist(), strict=True)
    ):
        # Each sample's counts from its slice of the columns (no tables per sample).
        agg = Aggregate.of_columns(
            int(relapses[i]), tuple(c[s0:s1] for c in stay_columns), pathway, batch.count, job.days
        )
        if agg is None:
            agg = Aggregate.of(
                events.iloc[e0:e1], stays.iloc[s0:s1], pathway, batch.count, job.days
            )
        aggregates[job.sample] = agg
    return BatchPart(
        index=batch.index,
        count=batch.count * len(jobs),
        events=events,
        stays=stays,
        aggregates=aggregates,
    )
