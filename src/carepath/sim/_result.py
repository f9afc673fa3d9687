"""Simulation results: tidy tables, Parquet output, summaries and replay through Episode."""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._assessment import Assessment
from carepath._episode import Episode
from carepath._errors import CarepathError, EpisodeLoadError, InvalidParameter
from carepath._levels import Setting
from carepath._pathway import Pathway

from ._engine import EPOCH, EVENTS, EXITS, Rows, Tables
from ._fast import ArrayRows
from ._kernel import aggregate, call

__all__ = ["SimulationResult", "Summary", "parquet_options"]

_COMPLETED: Final = ("step_down", "complete")
_TRANSFERRED: Final = ("transfer_out", "step_up", "relapse")
_DISCHARGE: Final = ("step_down", "complete", "drop_out", "transfer_out")
_OUTCOME_EXITS: Final = ("complete", "drop_out", "transfer_out")
_EXIT: Final = {x: i for i, x in enumerate(EXITS)}
_RELAPSE_CODE: Final = EVENTS.index("relapse")


def _codes(values: Any, categories: list[str]) -> pd.Categorical:
    # The engines write valid codes only: no check (a pass over the column) needed.
    return pd.Categorical.from_codes(
        np.asarray(values, dtype=np.int8), categories=categories, validate=False
    )


def _frames(rows: Rows | ArrayRows, tab: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events and stays tables of some rows. Columns already in the tables' dtypes
    (the fast engine's) are used as they are, not copied: the tables are views of them."""
    events = pd.DataFrame(
        {
            "patient": np.asarray(rows.ev_patient, dtype=np.int64),
            "episode": np.asarray(rows.ev_episode, dtype=np.int32),
            "day": np.asarray(rows.ev_day, dtype=np.int32),
            "event": _codes(rows.ev_event, list(EVENTS)),
            "from_level": _codes(rows.ev_from, list(tab.states)),
            "to_level": _codes(rows.ev_to, list(tab.states)),
            "assessment": np.asarray(rows.ev_assessment, dtype=np.int16),
        },
        copy=False,
    )
    stays = pd.DataFrame(
        {
            "patient": np.asarray(rows.st_patient, dtype=np.int64),
            "episode": np.asarray(rows.st_episode, dtype=np.int32),
            "level": _codes(rows.st_level, list(tab.codes)),
            "start_day": np.asarray(rows.st_start, dtype=np.int32),
            "end_day": np.asarray(rows.st_end, dtype=np.int32),
            "exit": _codes(rows.st_exit, list(EXITS)),
        },
        copy=False,
    )
    return events, stays


def parquet_options(frame: pd.DataFrame) -> dict[str, Any]:
    """How carepath writes a table to Parquet (parts and :meth:`SimulationResult.to_parquet`).

    Category columns are dictionary-encoded (a byte per row before compression) and
    integer columns delta-encoded (``DELTA_BINARY_PACKED``: rows are in patient order,
    so ``patient`` costs almost nothing); any other column keeps pyarrow's encoding.
    Pages are compressed with snappy, pyarrow's default. Min/max statistics are kept
    for every column but the categories (readers skip row groups by patient; every
    row group holds every category). These are standard Parquet encodings (read back
    by pandas and pyarrow in the tests, by DuckDB when checked by hand); writing them
    takes about a third less time than pyarrow's defaults, and the files are a third
    smaller.
    """
    categories = [str(c) for c, t in frame.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    integers = [str(c) for c, t in frame.dtypes.items() if pd.api.types.is_integer_dtype(t)]
    others = [str(c) for c in frame.columns if c not in categories and c not in integers]
    return {
        "compression": "snappy",
        "use_dictionary": categories,
        "column_encoding": dict.fromkeys(integers, "DELTA_BINARY_PACKED"),
        "write_statistics": integers + others,
    }


@final
@attrs.frozen(kw_only=True, eq=False)
class Summary:
    """The headline statistics of a simulation, as small DataFrames.

    Attributes:
        length_of_stay: Per level, stays that ended before the horizon: ``stays``,
            ``median``, ``q1``, ``q3`` (days).
        outcomes: Per level, shares of ended stays: ``completed`` (completion or a
            planned step-down), ``dropped_out``, ``transferred`` (transfer out, or a
            move to more intensive care by step-up or relapse), with ``ended``.
        continuation: Discharges from residential levels (detox, inpatient) that
            enter a less intensive level within 14 and 30 days: ``discharges``
            (whose window ends before the horizon), ``followed_up``, ``share``.
        readmissions: Ended episodes followed by a new episode within 30 and 90
            days: ``episodes`` (whose window ends before the horizon),
            ``readmitted``, ``share``.
        relapses_per_patient: Relapses in care per simulated patient.
        care: Per level: ``days`` (bed-days / days of care, censored stays up to the
            horizon), ``days_per_patient``, ``cost`` (``cost_per_day`` times days;
            NaN where no cost was given); a ``total`` row.
        across_samples: With ``simulate(..., samples=K)``: each statistic of
            :meth:`metrics` (index ``metric``) computed per parameter sample, with
            its ``mean``, ``low`` (2.5%) and ``high`` (97.5%) over the samples;
            ``None`` otherwise.
    """

    patients: int
    length_of_stay: pd.DataFrame
    outcomes: pd.DataFrame
    continuation: pd.DataFrame
    readmissions: pd.DataFrame
    relapses_per_patient: float
    care: pd.DataFrame
    across_samples: pd.DataFrame | None = None

    def metrics(self) -> dict[str, float]:
        """Every statistic as one flat ``{name: value}`` mapping (what :func:`compare` uses)."""
        out: dict[str, float] = {}
        for level, row in self.outcomes.iterrows():
            for col in ("completed", "dropped_out", "transferred"):
                out[f"{col}[{level}]"] = float(row[col])
        for level, row in self.length_of_stay.iterrows():
            out[f"median_stay[{level}]"] = float(row["median"])
        for window, row in self.continuation.iterrows():
            out[f"follow_up_{window}d"] = float(row["share"])
        for window, row in self.readmissions.iterrows():
            out[f"readmission_{window}d"] = float(row["share"])
        out["relapses_per_patient"] = self.relapses_per_patient
        for level, row in self.care.iterrows():
            out[f"days_per_patient[{level}]"] = float(row["days_per_patient"])
        total_cost = float(self.care.loc["total", "cost"])
        if not math.isnan(total_cost):
            out["cost_per_patient"] = total_cost / self.patients if self.patients else math.nan
        return out

    def __str__(self) -> str:
        def show(title: str, frame: pd.DataFrame) -> str:
            return f"{title}\n{frame.to_string(float_format=lambda x: f'{x:.3f}')}"

        return "\n\n".join(
            [
                show("Length of stay (days, ended stays)", self.length_of_stay),
                show("Outcome shares per level", self.outcomes),
                show("Step-down continuation after detox / inpatient (days)", self.continuation),
                show("Readmissions (days)", self.readmissions),
                f"Relapses per patient: {self.relapses_per_patient:.3f}",
                show("Days of care and cost", self.care),
                *(
                    [show("Across parameter samples (mean, 95% interval)", self.across_samples)]
                    if self.across_samples is not None
                    else []
                ),
            ]
        )


@final
class Aggregate:
    """Additive counts behind a :class:`Summary`: per chunk of patients, summed over chunks.

    Every statistic of the summary is a ratio of sums or a quantile of whole-day
    lengths of stay, so summing these counts over patient blocks (and Parquet
    parts) gives exactly the summary of all the rows at once.
    """

    __slots__ = (
        "care_days",
        "continuation",
        "los",
        "outcomes",
        "patients",
        "readmissions",
        "relapses",
    )

    def __init__(self, levels: int, days: int) -> None:
        self.patients = 0
        self.los = np.zeros((levels, days + 1), dtype=np.int64)
        """Ended stays per level and length in days."""
        self.outcomes = np.zeros((levels, 4), dtype=np.int64)
        """Per level: ended, completed, dropped out, transferred."""
        self.continuation = np.zeros((2, 2), dtype=np.int64)
        """Per window (14, 30): discharges seen, followed up."""
        self.readmissions = np.zeros((2, 2), dtype=np.int64)
        """Per window (30, 90): episodes seen, readmitted."""
        self.relapses = 0
        self.care_days = np.zeros(levels, dtype=np.int64)

    def add(self, other: Aggregate) -> None:
        """Add another block's counts to these."""
        self.patients += other.patients
        self.los += other.los
        self.outcomes += other.outcomes
        self.continuation += other.continuation
        self.readmissions += other.readmissions
        self.relapses += other.relapses
        self.care_days += other.care_days

    @classmethod
    def of_columns(
        cls,
        relapses: int,
        columns: tuple[npt.NDArray[Any], ...],
        pathway: Pathway,
        patients: int,
        days: int,
    ) -> Aggregate | None:
        """The counts of :meth:`of` from the stays' columns (patient, episode, level
        code, start day, end day, exit code) and the number of relapses, by the compiled
        pass; None when it cannot count them (no numba): then use :meth:`of`."""
        agg = cls(len(pathway.levels), days)
        agg.patients = patients
        agg.relapses = relapses
        return agg if _compiled_column_counts(agg, columns, pathway, days) else None

    @classmethod
    def of(
        cls, events: pd.DataFrame, stays: pd.DataFrame, pathway: Pathway, patients: int, days: int
    ) -> Aggregate:
        """The counts of one block of whole patients (every row of each patient)."""
        n_levels = len(pathway.levels)
        agg = cls(n_levels, days)
        agg.patients = patients
        agg.relapses = int((events["event"].cat.codes.to_numpy() == _RELAPSE_CODE).sum())
        codes = stays["level"].cat.codes.to_numpy(), stays["exit"].cat.codes.to_numpy()
        if _compiled_counts(agg, stays, codes, pathway, days):
            return agg  # counted by the compiled pass (numba), exactly as below
        level, exit_ = (c.astype(np.int64) for c in codes)
        start, end = (stays[c].to_numpy().astype(np.int64) for c in ("start_day", "end_day"))
        ended = exit_ != _EXIT["censored"]
        length = end - start
        # Censored stays counted at length days + 1, a column dropped after.
        los_key = level * (days + 2) + np.where(ended, length, days + 1)
        agg.los = (
            np.bincount(los_key, minlength=n_levels * (days + 2))
            .reshape(n_levels, days + 2)[:, : days + 1]
            .copy()
        )
        # Stays per (level, exit), then the outcome columns as sums over exits.
        by_exit = np.bincount(level * len(EXITS) + exit_, minlength=n_levels * len(EXITS)).reshape(
            n_levels, len(EXITS)
        )
        is_ended = np.arange(len(EXITS)) != _EXIT["censored"]
        for col, mask in enumerate(
            (
                is_ended,
                _exits(_COMPLETED) & is_ended,
                np.arange(len(EXITS)) == _EXIT["drop_out"],
                _exits(_TRANSFERRED),
            )
        ):
            agg.outcomes[:, col] = by_exit[:, mask].sum(axis=1)
        agg.care_days = np.bincount(level, weights=length, minlength=n_levels).astype(np.int64)

        # The first stay of every episode: where a readmission enters care. For each
        # stay, the first stay of the patient's next episode (if any): group the stays
        # by (patient, episode), first stays in row order (as drop_duplicates).
        m = len(stays)
        key = (stays["patient"].to_numpy().astype(np.int64) << 20) | stays[
            "episode"
        ].to_numpy().astype(np.int64)
        in_order = m < 2 or bool((key[1:] >= key[:-1]).all())  # as the engines write them
        order = None if in_order else np.argsort(key, kind="stable")
        sk = key if order is None else key[order]
        head = np.ones(m, dtype=np.bool_)
        np.not_equal(sk[1:], sk[:-1], out=head[1:])
        # The first stay of each (patient, episode), in key order; each stay's group.
        first_row = np.flatnonzero(head) if order is None else order[head]
        group = np.cumsum(head) - 1
        if order is not None:
            group[order] = group.copy()
        nxt_row = np.full(m + 1, -1, dtype=np.int64)  # per group: the next group's first stay
        nxt_row[: first_row.size - 1] = first_row[1:]
        cand = nxt_row[group] if m else np.zeros(0, dtype=np.int64)
        has = cand >= 0
        has[has] = key[cand[has]] == key[has] + 1
        next_start = np.where(has, start[np.maximum(cand, 0)], 0)
        next_level = np.where(has, level[np.maximum(cand, 0)], -1)
        gap = next_start - end

        residential = [
            i for i, lv in enumerate(pathway.levels) if lv.setting is Setting.RESIDENTIAL
        ]
        is_residential = np.zeros(n_levels, dtype=np.bool_)
        is_residential[residential] = True
        d = np.flatnonzero(_exits(_DISCHARGE)[exit_] & is_residential[level])
        stepped = exit_[d] == _EXIT["step_down"]
        lower = has[d] & (next_level[d] < level[d])
        end_d, gap_d = end[d], gap[d]
        for i, window in enumerate((14, 30)):
            seen = end_d + window <= days
            followed = stepped | (lower & (gap_d <= window))
            agg.continuation[i] = (
                int(np.count_nonzero(seen)),
                int(np.count_nonzero(followed & seen)),
            )

        r = np.flatnonzero(_exits(_OUTCOME_EXITS)[exit_])
        end_r, gap_r, has_r = end[r], gap[r], has[r]
        for i, window in enumerate((30, 90)):
            seen = end_r + window <= days
            agg.readmissions[i] = (
                int(np.count_nonzero(seen)),
                int(np.count_nonzero(has_r & (gap_r <= window) & seen)),
            )
        return agg


def _compiled_counts(
    agg: Aggregate,
    stays: pd.DataFrame,
    codes: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    pathway: Pathway,
    days: int,
) -> bool:
    """Count one block's stays into ``agg`` with the compiled pass of
    :mod:`._numba_kernel`, when numba is there; False (nothing counted) otherwise or when
    the stays are not in (patient, episode) order."""
    columns = (
        stays["patient"].to_numpy(),
        stays["episode"].to_numpy(),
        codes[0],
        stays["start_day"].to_numpy(),
        stays["end_day"].to_numpy(),
        codes[1],
    )
    return _compiled_column_counts(agg, columns, pathway, days)


def _compiled_column_counts(
    agg: Aggregate,
    columns: tuple[npt.NDArray[Any], ...],
    pathway: Pathway,
    days: int,
) -> bool:
    """:func:`_compiled_counts` of the stays' columns: patient, episode, level code,
    start day, end day, exit code."""
    fn = aggregate()
    if fn is None:
        return False
    return call(
        fn,
        *(
            np.asarray(c, dtype=d)
            for c, d in zip(
                columns, (np.int64, np.int32, np.int8, np.int32, np.int32, np.int8), strict=True
            )
        ),
        days,
        _EXIT["censored"],
        _EXIT["step_down"],
        _exits(_COMPLETED),
        _exits(_TRANSFERRED),
        _EXIT["drop_out"],
        _exits(_DISCHARGE),
        _exits(_OUTCOME_EXITS),
        np.array([lv.setting is Setting.RESIDENTIAL for lv in pathway.levels]),
        agg.los,
        agg.outcomes,
        agg.care_days,
        agg.continuation,
        agg.readmissions,
    )


def _exits(names: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    """A lookup table by exit code: whether the exit is one of ``names``."""
    out = np.zeros(len(EXITS), dtype=np.bool_)
    out[[_EXIT[x] for x in names]] = True
    return out


def _quantile(counts: npt.NDArray[np.int64], q: float) -> float:
    """``q`` quantile (linear, as pandas) of whole-day values given as counts per value."""
    m = int(counts.sum())
    if m == 0:
        return math.nan
    pos = (m - 1) * q
    lo = math.floor(pos)
    cum = np.cumsum(counts)
    x_lo = int(np.searchsorted(cum, lo, side="right"))
    x_hi = int(np.searchsorted(cum, min(lo + 1, m - 1), side="right"))
    return float(x_lo + (pos - lo) * (x_hi - x_lo))


def _finish(
    agg: Aggregate,
    pathway: Pathway,
    cost_per_day: Mapping[str, float],
    level_costs: Sequence[float] | None = None,
) -> Summary:
    """The summary of some counts; ``level_costs`` (cost per level, NaN for none) when
    the days were not all priced at one ``cost_per_day`` (pooled parameter samples)."""
    codes = pd.Index([lv.code for lv in pathway.levels], name="level")
    patients = agg.patients
    length = pd.DataFrame(
        {
            "stays": agg.los.sum(axis=1).astype(np.int64),
            "median": [_quantile(h, 0.5) for h in agg.los],
            "q1": [_quantile(h, 0.25) for h in agg.los],
            "q3": [_quantile(h, 0.75) for h in agg.los],
        },
        index=codes,
    )
    ended = agg.outcomes[:, 0]
    share = np.where(ended > 0, ended, np.nan)
    outcomes = pd.DataFrame({"ended": ended.astype(np.int64)}, index=codes)
    for i, col in enumerate(("completed", "dropped_out", "transferred"), start=1):
        outcomes[col] = agg.outcomes[:, i] / share

    def windows(
        data: npt.NDArray[np.int64], keys: tuple[int, int], names: list[str]
    ) -> pd.DataFrame:
        frame = pd.DataFrame(
            data.copy(), index=pd.Index(list(keys), name="within_days"), columns=names
        )
        frame["share"] = frame[names[1]] / frame[names[0]].where(frame[names[0]] > 0)
        return frame

    continuation = windows(agg.continuation, (14, 30), ["discharges", "followed_up"])
    readmissions = windows(agg.readmissions, (30, 90), ["episodes", "readmitted"])
    care_days = pd.Series(agg.care_days, index=list(codes))
    care = pd.DataFrame({"days": care_days})
    care.loc["total"] = int(care_days.sum())
    care["days_per_patient"] = care["days"] / patients if patients else math.nan
    costs = (
        list(level_costs)
        if level_costs is not None
        else [
            float(care_days[c] * cost_per_day[c]) if c in cost_per_day else math.nan for c in codes
        ]
    )
    known = [x for x in costs if not math.isnan(x)]
    care["cost"] = [*costs, float(sum(known)) if known else math.nan]
    care.index.name = "level"
    return Summary(
        patients=patients,
        length_of_stay=length,
        outcomes=outcomes,
        continuation=continuation,
        readmissions=readmissions,
        relapses_per_patient=agg.relapses / patients if patients else math.nan,
        care=care,
    )


def _summary(
    events: pd.DataFrame,
    stays: pd.DataFrame,
    pathway: Pathway,
    patients: int,
    days: int,
    cost_per_day: Mapping[str, float],
) -> Summary:
    return _finish(Aggregate.of(events, stays, pathway, patients, days), pathway, cost_per_day)


@final
class SimulationResult:
    """What :func:`~carepath.sim.simulate` returns: two tidy tables and their metadata.

    ``events`` has one row per applied event, in each patient's time order:

    ============  ========  ==========================================================
    column        dtype     meaning
    ============  ========  ==========================================================
    patient       int64     patient index in the cohort (0 to n - 1, plus the offset)
    episode       int32     the patient's episode, from 0 (a readmission adds one)
    day           int32     day of the event, from 0
    event         category  admit, step_down, step_up, relapse, complete, drop_out,
                            transfer_out (the core's event names)
    from_level    category  state before: ``intake`` or a level code
    to_level      category  state after: a level code or an outcome (``completed``,
                            ``dropped_out``, ``transferred_out``)
    assessment    int16     profile index of the assessment the event carried
                            (:meth:`Assessment.from_index`), -1 for none
    ============  ========  ==========================================================

    ``stays`` has one row per stay at a level: ``patient`` (int64), ``episode``
    (int32), ``level`` (category of level codes), ``start_day`` and ``end_day``
    (int32; a stay open at the horizon ends there), ``exit`` (category:
    ``step_down``, ``step_up``, ``relapse`` (a relapse moved the patient up),
    ``complete``, ``drop_out``, ``transfer_out`` or ``censored``).
    """

    __slots__ = ("_aggregates", "_events", "_model", "_parts", "_stays", "_summary", "metadata")

    def __init__(
        self,
        *,
        events: pd.DataFrame | None,
        stays: pd.DataFrame | None,
        metadata: dict[str, Any],
        model: Any,
        aggregates: Mapping[int | None, Aggregate] | None = None,
        parts: Path | None = None,
    ) -> None:
        if (events is None or stays is None) and parts is None:
            raise ValueError("a result needs its tables or the directory of their parts")
        self._events = events
        self._stays = stays
        self.metadata = metadata
        self._model = model
        self._aggregates = dict(aggregates) if aggregates is not None else None
        self._parts = parts
        self._summary: Summary | None = None

    @property
    def events(self) -> pd.DataFrame:
        """One row per applied event (read from the Parquet parts on first use after
        ``simulate(..., out=DIR)``)."""
        if self._events is None:
            self._events = self._read("events")
        return self._events

    @property
    def stays(self) -> pd.DataFrame:
        """One row per stay at a level (read from the Parquet parts likewise)."""
        if self._stays is None:
            self._stays = self._read("stays")
        return self._stays

    @property
    def parts(self) -> Path | None:
        """The directory of the Parquet parts (``events/`` and ``stays/``), if any."""
        return self._parts

    def _read(self, name: str) -> pd.DataFrame:
        assert self._parts is not None
        files = sorted((self._parts / name).glob("part-*.parquet"))
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    @property
    def pathway(self) -> Pathway:
        """The pathway simulated."""
        p: Pathway = self._model.pathway
        return p

    def summary(self) -> Summary:
        """The headline statistics (computed once, then cached).

        Reduced from per-block counts, so a run streamed to Parquet never loads its
        tables for it. With ``samples=K``, the statistics pool every sample and
        :attr:`Summary.across_samples` gives each one's mean and 95% interval over
        the samples.
        """
        if self._summary is None:
            pathway = self.pathway
            costs: Mapping[str, float] = self._model.cost_per_day
            aggs = self._aggregates
            if aggs is None:
                aggs = {
                    None: Aggregate.of(
                        self.events,
                        self.stays,
                        pathway,
                        int(self.metadata["n"]),
                        int(self.metadata["days"]),
                    )
                }
                self._aggregates = aggs
            total = Aggregate(len(pathway.levels), int(self.metadata["days"]))
            for a in aggs.values():
                total.add(a)
            if None in aggs:
                summary = _finish(total, pathway, costs)
            else:
                # Each sample's days at that sample's own costs: the pooled cost per
                # patient is then the mean of the samples' (they are equal-sized).
                draws = self.metadata.get("sample_costs") or {}
                own = {k: draws.get(str(k), costs) for k in aggs}
                level_costs: list[float] = []
                for i, lv in enumerate(pathway.levels):
                    priced = [
                        float(a.care_days[i] * own[k][lv.code])
                        for k, a in aggs.items()
                        if lv.code in own[k]
                    ]
                    level_costs.append(float(sum(priced)) if priced else math.nan)
                summary = _finish(total, pathway, costs, level_costs)
                per = pd.DataFrame.from_records(
                    [
                        _finish(a, pathway, own[k]).metrics()
                        for k, a in sorted(aggs.items(), key=lambda kv: kv[0] or 0)
                    ]
                )
                across = pd.DataFrame(
                    {
                        "mean": per.mean(),
                        "low": per.quantile(0.025),
                        "high": per.quantile(0.975),
                    }
                )
                across.index.name = "metric"
                summary = attrs.evolve(summary, across_samples=across)
            self._summary = summary
        return self._summary

    def to_parquet(self, directory: str | Path) -> Path:
        """Write ``events.parquet``, ``stays.parquet`` and ``metadata.json`` into ``directory``.

        The metadata is also stored in each Parquet file's schema (key ``carepath``).
        Returns the directory.
        """
        import pyarrow as pa  # noqa: PLC0415  # the extra is needed only here
        import pyarrow.parquet as pq  # noqa: PLC0415

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.metadata, indent=2, sort_keys=True)
        for name, frame in (("events", self.events), ("stays", self.stays)):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[b"carepath"] = text.encode("utf-8")
            pq.write_table(
                table.replace_schema_metadata(meta),
                out / f"{name}.parquet",
                **parquet_options(frame),
            )
        (out / "metadata.json").write_text(text + "\n", encoding="utf-8")
        return out

    def replay(self, patient: int, *, sample: int | None = None) -> list[Episode]:
        """Rebuild one patient's episodes by applying its ``events`` rows through Episode.

        Args:
            patient: The patient's index (``first_patient`` to ``first_patient + n - 1``).
            sample: With ``simulate(..., samples=K)``, which parameter sample's rows
                (0 to K - 1; required there, since every sample simulates the same
                patients).

        Raises:
            InvalidParameter: ``patient`` or ``sample`` is not one of this result's.
            EpisodeLoadError: A row the pathway's guards refuse, or that leads
                elsewhere than recorded (the error names the row).
        """
        m = self.metadata
        first, n = int(m.get("first_patient", 0)), int(m["n"])
        if isinstance(patient, bool) or not isinstance(patient, numbers.Integral):
            raise InvalidParameter(
                parameter="patient",
                problem=f"expected a patient index (a whole number), got {type(patient).__name__}",
            )
        patient = int(patient)
        if not first <= patient < first + n:
            raise InvalidParameter(
                parameter="patient",
                problem=f"{patient} is not a patient "
                f"of this result; allowed {first} to {first + n - 1}",
            )
        samples = m.get("samples")
        events = self.events
        if samples is None:
            if sample is not None:
                raise InvalidParameter(
                    parameter="sample",
                    problem="this result has no parameter samples; leave sample out",
                )
            rows = events[events["patient"] == patient]
        else:
            if (
                sample is None
                or isinstance(sample, bool)
                or not isinstance(sample, numbers.Integral)
                or not 0 <= int(sample) < int(samples)
            ):
                got = "missing" if sample is None else repr(sample)
                raise InvalidParameter(
                    parameter="sample",
                    problem=f"{got}; a result of samples={samples} needs sample=0 to {samples - 1}",
                )
            sample = int(sample)
            rows = events[(events["patient"] == patient) & (events["sample"] == sample)]
        pathway = self.pathway
        episodes: list[Episode] = []
        ep: Episode | None = None
        number = -1
        for i, episode, day, event, source, target, profile in zip(
            rows.index.tolist(),
            rows["episode"].tolist(),
            rows["day"].tolist(),
            rows["event"].astype(str).tolist(),
            rows["from_level"].astype(str).tolist(),
            rows["to_level"].astype(str).tolist(),
            rows["assessment"].tolist(),
            strict=True,
        ):
            at = EPOCH + pd.Timedelta(days=day).to_pytimedelta()
            a = Assessment.from_index(profile) if profile >= 0 else None
            of = f"sample {sample}, " if sample is not None else ""
            where = f"events row {i} ({of}patient {patient}, episode {episode}, day {day}, {event})"
            try:
                if episode != number:
                    ep = pathway.start(
                        str(patient), at=at, episode_id=f"{patient}.{episode}", previous=ep
                    )
                    episodes.append(ep)
                    number = episode
                assert ep is not None
                if ep.state != source:
                    raise EpisodeLoadError(
                        problem=f"the episode is at {ep.state!r}, the row says {source!r}",
                        location=where,
                    )
                if event in ("admit", "step_down", "step_up"):
                    rec = getattr(ep, event)(target, at=at, assessment=a)
                elif event in ("relapse", "complete"):
                    rec = getattr(ep, event)(at=at, assessment=a)
                else:
                    rec = getattr(ep, event)(at=at)
            except EpisodeLoadError:
                raise
            except CarepathError as exc:
                raise EpisodeLoadError(problem=str(exc), location=where) from None
            if rec.target != target:
                raise EpisodeLoadError(
                    problem=f"the pathway leads to {rec.target!r}, the row says {target!r}",
                    location=where,
                )
        return episodes

    def __repr__(self) -> str:
        m = self.metadata
        # With samples=K, n patients each simulated under K parameter samples.
        samples = f" samples={m['samples']}" if m.get("samples") is not None else ""
        head = f"<SimulationResult patients={m['n']}{samples} days={m['days']} seed={m['seed']}"
        if self._events is None or self._stays is None:
            return f"{head} parts={str(self._parts)!r}>"
        return f"{head} events={len(self._events)} stays={len(self._stays)}>"

    def _repr_html_(self) -> str:
        """The summary as a table, for notebooks."""
        from carepath.explore import result_html  # noqa: PLC0415  # imported on demand

        return result_html(self)
