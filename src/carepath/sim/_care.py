"""What simulated and observed care share: reading the ``events`` and ``stays`` tables.

:class:`~carepath.sim.SimulationResult` (what :func:`~carepath.sim.simulate` writes) and
:class:`~carepath.sim.CareRecords` (what :func:`~carepath.sim.records` reads from
episodes) hold the same two tables; everything that reads them (the summary, Parquet
output, the notebook display (:func:`carepath.explore.result_html`), the plots,
:func:`~carepath.sim.measures`, :func:`~carepath.sim.fit`) is written once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._pathway import Pathway

from ._summary import Aggregate, Summary, _finish, across_samples
from ._tables import parquet_options

__all__ = ["CareTables"]


class CareTables:
    """A cohort's tidy ``events`` and ``stays`` tables and what reads them.

    The base of :class:`~carepath.sim.SimulationResult` and
    :class:`~carepath.sim.CareRecords`; not built directly.
    """

    __slots__ = ("_aggregates", "_events", "_stays", "_summary", "metadata")

    _events: pd.DataFrame | None
    _stays: pd.DataFrame | None
    _aggregates: dict[int | None, Aggregate] | None
    _summary: Summary | None
    metadata: dict[str, Any]

    def __init__(
        self,
        *,
        events: pd.DataFrame | None,
        stays: pd.DataFrame | None,
        metadata: dict[str, Any],
        aggregates: Mapping[int | None, Aggregate] | None = None,
    ) -> None:
        self._events = events
        self._stays = stays
        self.metadata = metadata
        self._aggregates = dict(aggregates) if aggregates is not None else None
        self._summary = None

    # -- the tables ------------------------------------------------------------------------------

    @property
    def events(self) -> pd.DataFrame:
        """One row per applied event, in each patient's time order."""
        if self._events is None:
            self._events = self._read("events")
        return self._events

    @property
    def stays(self) -> pd.DataFrame:
        """One row per stay at a level."""
        if self._stays is None:
            self._stays = self._read("stays")
        return self._stays

    def _read(self, name: str) -> pd.DataFrame:
        raise NotImplementedError(name)  # pragma: no cover  # only results stream to parts

    @property
    def parts(self) -> Path | None:
        """The directory of the Parquet parts (``events/`` and ``stays/``), if any."""
        return None

    @property
    def pathway(self) -> Pathway:
        """The pathway whose levels the tables name."""
        raise NotImplementedError  # pragma: no cover  # both subclasses say

    @property
    def days(self) -> int:
        """The horizon: the last day any patient is observed (exclusive)."""
        return int(self.metadata["days"])

    def horizons(self) -> npt.NDArray[np.int64] | None:
        """Each patient's own horizon (indexed by ``patient``), or ``None`` when every
        patient is followed for :attr:`days` (a simulation)."""
        return None

    def _cost_per_day(self) -> Mapping[str, float]:
        return {}

    # -- what reads them -------------------------------------------------------------------------

    def summary(self) -> Summary:
        """The headline statistics (computed once, then cached).

        With ``simulate(..., samples=K)``, the statistics pool every sample and
        :attr:`Summary.across_samples` gives each one's mean and 95% interval over
        the samples.
        """
        if self._summary is None:
            self._summary = self._summarise()
        return self._summary

    def _summarise(self) -> Summary:
        pathway = self.pathway
        costs = self._cost_per_day()
        aggs = self._aggregates
        if aggs is None:
            aggs = {
                None: Aggregate.of(
                    self.events,
                    self.stays,
                    pathway,
                    int(self.metadata["n"]),
                    self.days,
                    self.horizons(),
                )
            }
            self._aggregates = aggs
        total = Aggregate(len(pathway.levels), self.days)
        for a in aggs.values():
            total.add(a)
        if None in aggs:
            return _finish(total, pathway, costs)
        # Each sample's days at that sample's own costs: the pooled cost per patient is
        # then the mean of the samples' (they are equal-sized).
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
        ordered = sorted(aggs.items(), key=lambda kv: kv[0] or 0)
        across = across_samples([a for _, a in ordered], pathway, [own[k] for k, _ in ordered])
        return attrs.evolve(summary, across_samples=across)

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
