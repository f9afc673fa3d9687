"""Simulation results: tidy tables, Parquet output, summaries and replay through Episode."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, final

import attrs
import numpy as np
import pandas as pd

from carepath._assessment import Assessment
from carepath._episode import Episode
from carepath._errors import CarepathError, EpisodeLoadError
from carepath._levels import Setting
from carepath._pathway import Pathway

from ._engine import EPOCH, EVENTS, EXITS, Rows, Tables

__all__ = ["SimulationResult", "Summary"]

_COMPLETED: Final = ("step_down", "complete")
_TRANSFERRED: Final = ("transfer_out", "step_up", "relapse")
_DISCHARGE: Final = ("step_down", "complete", "drop_out", "transfer_out")
_OUTCOME_EXITS: Final = ("complete", "drop_out", "transfer_out")


def _frames(rows: Rows, tab: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    events = pd.DataFrame({
        "patient": np.asarray(rows.ev_patient, dtype=np.int64),
        "episode": np.asarray(rows.ev_episode, dtype=np.int32),
        "day": np.asarray(rows.ev_day, dtype=np.int32),
        "event": pd.Categorical.from_codes(np.asarray(rows.ev_event, dtype=np.int8),
                                           categories=list(EVENTS)),
        "from_level": pd.Categorical.from_codes(np.asarray(rows.ev_from, dtype=np.int8),
                                                categories=list(tab.states)),
        "to_level": pd.Categorical.from_codes(np.asarray(rows.ev_to, dtype=np.int8),
                                              categories=list(tab.states)),
        "assessment": np.asarray(rows.ev_assessment, dtype=np.int16),
    })
    stays = pd.DataFrame({
        "patient": np.asarray(rows.st_patient, dtype=np.int64),
        "episode": np.asarray(rows.st_episode, dtype=np.int32),
        "level": pd.Categorical.from_codes(np.asarray(rows.st_level, dtype=np.int8),
                                           categories=list(tab.codes)),
        "start_day": np.asarray(rows.st_start, dtype=np.int32),
        "end_day": np.asarray(rows.st_end, dtype=np.int32),
        "exit": pd.Categorical.from_codes(np.asarray(rows.st_exit, dtype=np.int8),
                                          categories=list(EXITS)),
    })
    return events, stays


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
    """

    patients: int
    length_of_stay: pd.DataFrame
    outcomes: pd.DataFrame
    continuation: pd.DataFrame
    readmissions: pd.DataFrame
    relapses_per_patient: float
    care: pd.DataFrame

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

        return "\n\n".join([
            show("Length of stay (days, ended stays)", self.length_of_stay),
            show("Outcome shares per level", self.outcomes),
            show("Step-down continuation after detox / inpatient (days)", self.continuation),
            show("Readmissions (days)", self.readmissions),
            f"Relapses per patient: {self.relapses_per_patient:.3f}",
            show("Days of care and cost", self.care),
        ])


def _summary(
    events: pd.DataFrame, stays: pd.DataFrame, pathway: Pathway, patients: int, days: int,
    cost_per_day: Mapping[str, float],
) -> Summary:
    codes = [lv.code for lv in pathway.levels]
    ended = stays[stays["exit"] != "censored"]
    los = ended["end_day"] - ended["start_day"]
    grouped = los.groupby(ended["level"], observed=False)
    length = pd.DataFrame({
        "stays": grouped.size(),
        "median": grouped.median(),
        "q1": grouped.quantile(0.25),
        "q3": grouped.quantile(0.75),
    }).reindex(codes)
    length["stays"] = length["stays"].fillna(0).astype(np.int64)
    length.index.name = "level"

    exits = ended["exit"].astype(str)
    counts = pd.DataFrame({
        "ended": ended.groupby("level", observed=False).size(),
        "completed": exits.isin(_COMPLETED).groupby(ended["level"], observed=False).sum(),
        "dropped_out": (exits == "drop_out").groupby(ended["level"], observed=False).sum(),
        "transferred": exits.isin(_TRANSFERRED).groupby(ended["level"], observed=False).sum(),
    }).reindex(codes).fillna(0)
    outcomes = pd.DataFrame({"ended": counts["ended"].astype(np.int64)})
    for col in ("completed", "dropped_out", "transferred"):
        outcomes[col] = counts[col] / counts["ended"].where(counts["ended"] > 0)
    outcomes.index.name = "level"

    # The first stay of every episode: where a readmission enters care.
    firsts = stays.drop_duplicates(["patient", "episode"], keep="first")
    nxt = pd.DataFrame({
        "patient": firsts["patient"].to_numpy(),
        "episode": firsts["episode"].to_numpy() - 1,
        "next_start": firsts["start_day"].to_numpy(),
        "next_level": firsts["level"].cat.codes.to_numpy(),
    })
    residential = [i for i, lv in enumerate(pathway.levels) if lv.setting is Setting.RESIDENTIAL]
    discharges = stays[stays["exit"].isin(_DISCHARGE)
                       & stays["level"].cat.codes.isin(residential)]
    d = discharges.merge(nxt, on=["patient", "episode"], how="left")
    stepped = (d["exit"] == "step_down").to_numpy()
    lower = (d["next_level"].to_numpy(dtype=np.float64, na_value=np.nan)
             < d["level"].cat.codes.to_numpy())
    gap = (d["next_start"] - d["end_day"]).to_numpy(dtype=np.float64, na_value=np.nan)
    rows_c = {}
    for window in (14, 30):
        seen = (d["end_day"] + window <= days).to_numpy()
        followed = stepped | (lower & (gap <= window))
        rows_c[window] = (int(seen.sum()), int((followed & seen).sum()))
    continuation = pd.DataFrame.from_dict(
        rows_c, orient="index", columns=["discharges", "followed_up"])
    continuation["share"] = continuation["followed_up"] / continuation["discharges"].where(
        continuation["discharges"] > 0)
    continuation.index.name = "within_days"

    last = stays[stays["exit"].isin(_OUTCOME_EXITS)]
    r = last.merge(nxt, on=["patient", "episode"], how="left")
    rgap = (r["next_start"] - r["end_day"]).to_numpy(dtype=np.float64, na_value=np.nan)
    rows_r = {}
    for window in (30, 90):
        seen = (r["end_day"] + window <= days).to_numpy()
        rows_r[window] = (int(seen.sum()), int(((rgap <= window) & seen).sum()))
    readmissions = pd.DataFrame.from_dict(
        rows_r, orient="index", columns=["episodes", "readmitted"])
    readmissions["share"] = readmissions["readmitted"] / readmissions["episodes"].where(
        readmissions["episodes"] > 0)
    readmissions.index.name = "within_days"

    relapses = int((events["event"] == "relapse").sum())
    care_days = (stays["end_day"] - stays["start_day"]).groupby(
        stays["level"], observed=False).sum().reindex(codes).fillna(0).astype(np.int64)
    care = pd.DataFrame({"days": care_days})
    care.loc["total"] = int(care_days.sum())
    care["days_per_patient"] = care["days"] / patients if patients else math.nan
    costs = [care_days[c] * cost_per_day[c] if c in cost_per_day else math.nan for c in codes]
    known = [x for x in costs if not math.isnan(x)]
    care["cost"] = [*costs, float(sum(known)) if known else math.nan]
    care.index.name = "level"
    return Summary(
        patients=patients,
        length_of_stay=length,
        outcomes=outcomes,
        continuation=continuation,
        readmissions=readmissions,
        relapses_per_patient=relapses / patients if patients else math.nan,
        care=care,
    )


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

    __slots__ = ("_model", "_summary", "events", "metadata", "stays")

    def __init__(
        self,
        *,
        events: pd.DataFrame,
        stays: pd.DataFrame,
        metadata: dict[str, Any],
        model: Any,
    ) -> None:
        self.events = events
        self.stays = stays
        self.metadata = metadata
        self._model = model
        self._summary: Summary | None = None

    @property
    def pathway(self) -> Pathway:
        """The pathway simulated."""
        p: Pathway = self._model.pathway
        return p

    def summary(self) -> Summary:
        """The headline statistics (computed once, then cached)."""
        if self._summary is None:
            self._summary = _summary(
                self.events, self.stays, self.pathway, int(self.metadata["n"]),
                int(self.metadata["days"]), self._model.cost_per_day,
            )
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
            pq.write_table(table.replace_schema_metadata(meta), out / f"{name}.parquet")
        (out / "metadata.json").write_text(text + "\n", encoding="utf-8")
        return out

    def replay(self, patient: int) -> list[Episode]:
        """Rebuild one patient's episodes by applying its ``events`` rows through Episode.

        Every row must be a legal transition: a row the pathway's guards refuse, or
        that leads elsewhere than recorded, raises :class:`~carepath.EpisodeLoadError`
        naming the row.
        """
        rows = self.events[self.events["patient"] == patient]
        pathway = self.pathway
        episodes: list[Episode] = []
        ep: Episode | None = None
        number = -1
        for i, episode, day, event, source, target, profile in zip(
            rows.index.tolist(), rows["episode"].tolist(), rows["day"].tolist(),
            rows["event"].astype(str).tolist(), rows["from_level"].astype(str).tolist(),
            rows["to_level"].astype(str).tolist(), rows["assessment"].tolist(), strict=True,
        ):
            at = EPOCH + pd.Timedelta(days=day).to_pytimedelta()
            a = Assessment.from_index(profile) if profile >= 0 else None
            where = f"events row {i} (patient {patient}, episode {episode}, day {day}, {event})"
            try:
                if episode != number:
                    ep = pathway.start(str(patient), at=at, episode_id=f"{patient}.{episode}",
                                       previous=ep)
                    episodes.append(ep)
                    number = episode
                assert ep is not None
                if ep.state != source:
                    raise EpisodeLoadError(problem=f"the episode is at {ep.state!r}, the row "
                                           f"says {source!r}", location=where)
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
                raise EpisodeLoadError(problem=f"the pathway leads to {rec.target!r}, the row "
                                       f"says {target!r}", location=where)
        return episodes

    def __repr__(self) -> str:
        m = self.metadata
        return (f"<SimulationResult patients={m['n']} days={m['days']} seed={m['seed']} "
                f"events={len(self.events)} stays={len(self.stays)}>")

    def _repr_html_(self) -> str:
        """The summary as a table, for notebooks."""
        from ..explore import result_html  # noqa: PLC0415  # explore is imported on demand

        return result_html(self)
