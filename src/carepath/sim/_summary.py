"""Summaries of the ``events`` and ``stays`` tables: additive counts, and statistics of them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._levels import Setting
from carepath._pathway import Pathway

from ._engine import EXITS
from ._kernel import aggregate, call
from ._tables import _COMPLETED, _DISCHARGE, _EXIT, _OUTCOME_EXITS, _RELAPSE_CODE, _TRANSFERRED

__all__ = ["Aggregate", "Summary"]


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
        """Every table with a title, units and plain column names (see ``_present``)."""
        from ._present import summary_text  # noqa: PLC0415  # presentation kept apart

        return summary_text(self)


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
    def of(  # noqa: PLR0915  # one vectorised pass over the stays
        cls,
        events: pd.DataFrame,
        stays: pd.DataFrame,
        pathway: Pathway,
        patients: int,
        days: int,
        horizon: npt.NDArray[np.int64] | None = None,
    ) -> Aggregate:
        """The counts of one block of whole patients (every row of each patient).

        ``horizon``, when given, is each patient's own horizon (indexed by ``patient``;
        at most ``days``): observed records end at a different day for every patient.
        """
        n_levels = len(pathway.levels)
        agg = cls(n_levels, days)
        agg.patients = patients
        agg.relapses = int((events["event"].cat.codes.to_numpy() == _RELAPSE_CODE).sum())
        codes = stays["level"].cat.codes.to_numpy(), stays["exit"].cat.codes.to_numpy()
        if horizon is None and _compiled_counts(agg, stays, codes, pathway, days):
            return agg  # counted by the compiled pass (numba), exactly as below
        level, exit_ = (c.astype(np.int64) for c in codes)
        start, end = (stays[c].to_numpy().astype(np.int64) for c in ("start_day", "end_day"))
        until = (
            np.full(len(stays), days, dtype=np.int64)
            if horizon is None
            else horizon[stays["patient"].to_numpy()]
        )
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
            seen = end_d + window <= until[d]
            followed = stepped | (lower & (gap_d <= window))
            agg.continuation[i] = (
                int(np.count_nonzero(seen)),
                int(np.count_nonzero(followed & seen)),
            )

        r = np.flatnonzero(_exits(_OUTCOME_EXITS)[exit_])
        end_r, gap_r, has_r = end[r], gap[r], has[r]
        for i, window in enumerate((30, 90)):
            seen = end_r + window <= until[r]
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


def across_samples(
    aggregates: Sequence[Aggregate], pathway: Pathway, costs: Sequence[Mapping[str, float]]
) -> pd.DataFrame:
    """Every statistic of :meth:`Summary.metrics` per sample (sample ``k``'s counts
    ``aggregates[k]`` priced at ``costs[k]``), reduced to its ``mean``, ``low`` (2.5%)
    and ``high`` (97.5%) over the samples: the same numbers as each sample's
    :func:`_finish` ``.metrics()``, computed on arrays of all samples at once."""
    codes = [lv.code for lv in pathway.levels]
    los = np.stack([a.los for a in aggregates])  # (samples, levels, days + 1)
    outcomes = np.stack([a.outcomes for a in aggregates]).astype(np.float64)
    continuation = np.stack([a.continuation for a in aggregates]).astype(np.float64)
    readmissions = np.stack([a.readmissions for a in aggregates]).astype(np.float64)
    care = np.stack([a.care_days for a in aggregates]).astype(np.float64)
    patients = np.array([a.patients for a in aggregates], dtype=np.float64)
    relapses = np.array([a.relapses for a in aggregates], dtype=np.float64)
    per_patient = np.where(patients > 0, patients, np.nan)

    def ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> Any:
        return num / np.where(den > 0, den, np.nan)

    columns: dict[str, Any] = {}
    for i, code in enumerate(codes):
        for j, col in enumerate(("completed", "dropped_out", "transferred"), start=1):
            columns[f"{col}[{code}]"] = ratio(outcomes[:, i, j], outcomes[:, i, 0])
    # Medians of whole-day lengths from the histograms, as :func:`_quantile` (linear).
    cum = np.cumsum(los, axis=2)
    m = cum[:, :, -1]
    pos = (m - 1) * 0.5
    lo = np.floor(pos)
    x_lo = (cum <= lo[:, :, None]).sum(axis=2)
    x_hi = (cum <= np.minimum(lo + 1, m - 1)[:, :, None]).sum(axis=2)
    median = np.where(m > 0, x_lo + (pos - lo) * (x_hi - x_lo), np.nan)
    for i, code in enumerate(codes):
        columns[f"median_stay[{code}]"] = median[:, i]
    for w, window in enumerate((14, 30)):
        columns[f"follow_up_{window}d"] = ratio(continuation[:, w, 1], continuation[:, w, 0])
    for w, window in enumerate((30, 90)):
        columns[f"readmission_{window}d"] = ratio(readmissions[:, w, 1], readmissions[:, w, 0])
    columns["relapses_per_patient"] = relapses / per_patient
    for i, code in enumerate(codes):
        columns[f"days_per_patient[{code}]"] = care[:, i] / per_patient
    columns["days_per_patient[total]"] = care.sum(axis=1) / per_patient
    price = np.array(
        [[c.get(code, np.nan) for code in codes] for c in costs], dtype=np.float64
    )  # NaN: no cost given for the level
    priced = ~np.isnan(price)
    if priced.any():
        total = np.where(priced, care * np.nan_to_num(price), 0.0).sum(axis=1)
        columns["cost_per_patient"] = np.where(priced.any(axis=1), total, np.nan) / per_patient
    per = pd.DataFrame(columns)
    across = pd.DataFrame(
        {"mean": per.mean(), "low": per.quantile(0.025), "high": per.quantile(0.975)}
    )
    across.index.name = "metric"
    return across
