"""Simulation results: tidy tables, Parquet output, summaries and replay through Episode."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any, final

import pandas as pd

from carepath import _display
from carepath._assessment import Assessment
from carepath._episode import Episode
from carepath._errors import CarepathError, EpisodeLoadError, InvalidParameter
from carepath._pathway import Pathway

from ._care import CareTables
from ._engine import EPOCH
from ._model import SimulationModel
from ._summary import Aggregate, Summary

__all__ = ["SimulationResult"]


@final
class SimulationResult(CareTables):
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

    __slots__ = ("_model", "_parts")

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
        super().__init__(events=events, stays=stays, metadata=metadata, aggregates=aggregates)
        self._model = model
        self._parts = parts

    @property
    def events(self) -> pd.DataFrame:
        """One row per applied event (read from the Parquet parts on first use after
        ``simulate(..., out=DIR)``)."""
        return super().events

    @property
    def stays(self) -> pd.DataFrame:
        """One row per stay at a level (read from the Parquet parts likewise)."""
        return super().stays

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

    @property
    def model(self) -> SimulationModel:
        """The model simulated (for a PSA run, the model at the distributions' means)."""
        m: SimulationModel = self._model
        return m

    def _cost_per_day(self) -> Mapping[str, float]:
        costs: Mapping[str, float] = self._model.cost_per_day
        return costs

    def summary(self) -> Summary:
        """The headline statistics (computed once, then cached).

        Reduced from per-block counts, so a run streamed to Parquet never loads its
        tables for it. With ``samples=K``, the statistics pool every sample and
        :attr:`Summary.across_samples` gives each one's mean and 95% interval over
        the samples.
        """
        return super().summary()

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
        """The summary as a table, for notebooks (registered by :mod:`carepath.explore`)."""
        return _display.html("result", self)
