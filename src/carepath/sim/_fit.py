"""Fitting the simulation model to records: :func:`fit` and :class:`FittedModel`.

Every estimate reads the same ``events`` and ``stays`` tables a simulation writes, by
the rules the engines follow (``docs/simulation.md``, "Fitting the model"): a daily
chance of an unplanned event per level from events over days at risk, a continuation
chance from the moves at each discharge, a readmission chance and delay per outcome
from a cure model with right-censoring at each patient's horizon, and the starting
cohort from first admissions.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, final, overload

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._errors import InvalidParameter
from carepath._levels import Outcome
from carepath._pathway import Pathway

from ._care import CareTables
from ._engine import EVENTS
from ._estimate import TABLE_COLUMNS, continuation_counts, hazards, row
from ._estimate import cohort as starting_cohort
from ._estimate import improvement as improvement_fit
from ._estimate import readmission as readmission_fit
from ._measures import Z95, measures, wilson
from ._model import SimulationModel
from ._psa import Beta, Distribution, Gamma, UncertainModel
from ._tables import _EXIT

if TYPE_CHECKING:
    from ._records import CareRecords
    from ._result import SimulationResult

__all__ = ["FittedModel", "fit"]

_OUTCOME_EXIT: Final = {
    Outcome.COMPLETED.value: _EXIT["complete"],
    Outcome.DROPPED_OUT.value: _EXIT["drop_out"],
    Outcome.TRANSFERRED_OUT.value: _EXIT["transfer_out"],
}
_F = npt.NDArray[np.float64]


@final
@attrs.frozen(kw_only=True, eq=False)
class FittedModel:
    """What :func:`fit` returns: the estimated model, its uncertainty, and a check.

    Attributes:
        model: The point estimate (parameters the records do not inform keep the base
            model's values).
        uncertain: The same parameters as distributions (Gamma for hazards, Beta for
            chances) for ``simulate(fitted.uncertain, samples=K)``.
        records: The records fitted.
    """

    model: SimulationModel
    uncertain: UncertainModel
    records: SimulationResult | CareRecords = attrs.field(repr=False)
    _table: pd.DataFrame = attrs.field(alias="table", repr=False)

    def table(self) -> pd.DataFrame:
        """One row per parameter: ``parameter``, ``key`` (level, outcome or cohort
        level), ``estimate``, ``low`` and ``high`` (95% interval), ``events`` and
        ``exposure`` (what informed it: days at risk, or discharges, or episodes),
        ``informed`` (False: the records say nothing; the ``default`` is kept),
        ``default`` (the base model's value) and ``method``."""
        return self._table.copy()

    def check(
        self, *, n: int | None = None, seed: int = 0, samples: int | None = None
    ) -> pd.DataFrame:
        """A posterior predictive check: simulate from the fit and set the simulated
        measures beside the observed ones.

        The simulated patients are observed as the records were: simulated patient
        ``i`` is followed for the horizon of observed patient ``i % patients``, so
        censoring matches. Returns :func:`measures`' rows for both sides
        (``observed``, ``observed_low``, ``observed_high``, ``simulated``,
        ``simulated_low``, ``simulated_high``) and ``outside``: the simulated value
        lies outside the observed value's 95% interval.

        Args:
            n: Patients to simulate (default: as many as the records have, at least
                10,000).
            seed: The simulation's seed.
            samples: Draw this many parameter samples from :attr:`uncertain` (the
                patients are split among them) instead of the point estimate.
        """
        from ._records import observe  # noqa: PLC0415  # kept out of import time
        from ._simulate import simulate  # noqa: PLC0415

        care = self.records
        present = np.unique(care.stays["patient"].to_numpy())
        patients = int(present.size)
        every = care.horizons()
        horizons = np.full(patients, care.days, dtype=np.int64) if every is None else every[present]
        count = n if n is not None else max(patients, 10_000)
        days = int(horizons.max())
        if samples is None:
            result = simulate(self.model, n=count, seed=seed, days=days)
        else:
            result = simulate(
                self.uncertain, n=max(count // samples, 1), seed=seed, days=days, samples=samples
            )
        simulated = observe(result, horizons)
        observed = measures(care)
        sim = measures(simulated)
        keys = ["measure", "level", "window"]
        out = observed[keys].copy()
        for side, frame in (("observed", observed), ("simulated", sim)):
            out[side] = frame["value"].to_numpy()
            out[f"{side}_low"] = frame["low"].to_numpy()
            out[f"{side}_high"] = frame["high"].to_numpy()
        out["outside"] = (out["simulated"] < out["observed_low"]) | (
            out["simulated"] > out["observed_high"]
        )
        return out


@overload
def fit(
    records: SimulationResult | CareRecords,
    *,
    pathway: Pathway | None = None,
    by: None = None,
    base: SimulationModel | None = None,
) -> FittedModel: ...


@overload
def fit(
    records: SimulationResult | CareRecords,
    *,
    pathway: Pathway | None = None,
    by: str,
    base: SimulationModel | None = None,
) -> dict[Any, FittedModel]: ...


def fit(
    records: SimulationResult | CareRecords,
    *,
    pathway: Pathway | None = None,
    by: str | None = None,
    base: SimulationModel | None = None,
) -> FittedModel | dict[Any, FittedModel]:
    """Estimate the simulation model's parameters from observed (or simulated) care.

    Estimated, per level: the ``relapse``, ``drop_out`` and ``transfer_out`` hazards
    (events over days at risk, right-censored at each patient's horizon; competing
    daily chances as the engines draw them), the ``continuation`` chance (step-downs
    among discharges that had a less intensive level to go to, judged from the
    discharge assessment when there is one); per outcome: the ``readmission`` chance
    and ``readmission_delay`` (a cure model: some episodes are never followed by
    another, the others after a geometric delay, censored at the horizon); and the
    starting ``cohort`` (first admissions' assessments, else their levels).
    Everything else keeps ``base``'s value and is marked ``informed=False`` in
    :meth:`FittedModel.table`.

    Args:
        records: :class:`CareRecords` (or a :class:`SimulationResult`).
        pathway: The pathway to fit (default: the records'); must have the same
            levels.
        by: A column of ``stays`` constant for each patient (a site added to the
            records, or ``"sample"``): fit each group's patients on their own and
            return ``{group: FittedModel}``.
        base: The model whose other parameters the fit keeps (default:
            ``SimulationModel.default(pathway)``).

    >>> from carepath.sim import SimulationModel, simulate
    >>> fitted = fit(simulate(SimulationModel.default(), n=2000, seed=1, days=365))
    >>> t = fitted.table()
    >>> bool(t.loc[t["parameter"] == "drop_out", "informed"].all())
    True
    """
    if not isinstance(records, CareTables):
        raise InvalidParameter(
            parameter="records",
            problem=f"expected CareRecords or a SimulationResult, got {type(records).__name__}",
        )
    if by is not None:
        from ._records import groups  # noqa: PLC0415  # records import this module

        return {value: _fit_one(part, pathway, base) for value, part in groups(records, by).items()}
    return _fit_one(records, pathway, base)


def _fit_one(  # noqa: PLR0915  # one pass per group of parameters, each short
    records: SimulationResult | CareRecords,
    pathway: Pathway | None,
    base: SimulationModel | None,
) -> FittedModel:
    p = pathway if pathway is not None else records.pathway
    codes = [lv.code for lv in p.levels]
    if codes != [lv.code for lv in records.pathway.levels]:
        raise InvalidParameter(
            parameter="pathway",
            problem="its levels differ from the records' ("
            + ", ".join(lv.code for lv in records.pathway.levels)
            + ")",
        )
    model = base if base is not None else SimulationModel.default(p)
    n_levels = len(codes)
    stays, events = records.stays, records.events
    level = stays["level"].cat.codes.to_numpy().astype(np.int64)
    exit_ = stays["exit"].cat.codes.to_numpy().astype(np.int64)
    start = stays["start_day"].to_numpy().astype(np.int64)
    end = stays["end_day"].to_numpy().astype(np.int64)
    censored = exit_ == _EXIT["censored"]
    # Days at risk: the days after the stay's first, to its last (an event on the horizon
    # day itself cannot be seen, so a stay open there was at risk to the day before).
    at_risk = end - start - censored
    exposure = np.bincount(level, weights=at_risk, minlength=n_levels)
    ev_code = events["event"].cat.codes.to_numpy()
    relapse_rows = ev_code == EVENTS.index("relapse")
    from_level = events["from_level"].astype(str).to_numpy()[relapse_rows]
    relapse_level = pd.Series(from_level).map({c: i for i, c in enumerate(codes)}).to_numpy()
    relapses = np.bincount(relapse_level.astype(np.int64), minlength=n_levels).astype(np.float64)
    drops = np.bincount(level[exit_ == _EXIT["drop_out"]], minlength=n_levels).astype(np.float64)
    transfers = np.bincount(level[exit_ == _EXIT["transfer_out"]], minlength=n_levels).astype(
        np.float64
    )
    rows: list[dict[str, Any]] = []
    values: dict[str, dict[str, float]] = {"relapse": {}, "drop_out": {}, "transfer_out": {}}
    dists: dict[str, dict[str, Distribution]] = {
        "relapse": {},
        "drop_out": {},
        "transfer_out": {},
        "continuation": {},
        "readmission": {},
        "improvement": {},
    }
    for i, code in enumerate(codes):
        counts = np.array([relapses[i], drops[i], transfers[i]])
        h, low, high = hazards(counts, float(exposure[i]))
        for j, name in enumerate(("relapse", "drop_out", "transfer_out")):
            default = float(getattr(model, name)[code])
            informed = exposure[i] > 0
            estimate = float(h[j]) if informed else default
            values[name][code] = estimate
            if counts[j] > 0:
                dists[name][code] = Gamma(shape=float(counts[j]), scale=estimate / counts[j])
            rows.append(
                row(
                    name,
                    code,
                    estimate,
                    float(low[j]) if informed else math.nan,
                    float(high[j]) if informed else math.nan,
                    float(counts[j]),
                    float(exposure[i]),
                    bool(informed),
                    default,
                    "events / days at risk (Poisson)",
                )
            )

    # Continuation: step-downs among discharges that drew the chance.
    k, m = continuation_counts(records, p, model)
    d = events[(ev_code == EVENTS.index("step_down"))]
    share, low, high = wilson(k, m)
    continuation: dict[str, float] = {}
    for i, code in enumerate(codes):
        default = float(model.continuation[code])
        informed = m[i] > 0
        continuation[code] = float(share[i]) if informed else default
        if informed:
            a, b = float(k[i]), float(m[i] - k[i])
            if a == 0 or b == 0:
                a, b = a + 0.5, b + 0.5
            dists["continuation"][code] = Beta(a=a, b=b)
        rows.append(
            row(
                "continuation",
                code,
                continuation[code],
                float(low[i]) if informed else math.nan,
                float(high[i]) if informed else math.nan,
                float(k[i]),
                float(m[i]),
                bool(informed),
                default,
                "step-downs / discharges with a lower placement (Wilson)",
            )
        )
    # Where step-downs went (the model steps down to the placement unless a policy
    # says otherwise): shown, not fitted.
    sd = d
    if len(sd):
        pairs = (
            sd.groupby(["from_level", "to_level"], observed=True).size().rename("n").reset_index()
        )
        totals = pairs.groupby("from_level", observed=True)["n"].transform("sum")
        share2, low2, high2 = wilson(pairs["n"].to_numpy(), totals.to_numpy())
        for j, (src, dst, cnt) in enumerate(
            zip(
                pairs["from_level"].astype(str),
                pairs["to_level"].astype(str),
                pairs["n"],
                strict=True,
            )
        ):
            rows.append(
                row(
                    "step_down_destination",
                    f"{src}->{dst}",
                    float(share2[j]),
                    float(low2[j]),
                    float(high2[j]),
                    float(cnt),
                    float(totals.iloc[j]),
                    True,
                    math.nan,
                    "share of step-downs (not a model parameter: placement decides)",
                )
            )

    # Readmission per outcome: the next episode's first day after the episode's end.
    person = stays["patient"].to_numpy().astype(np.int64)
    if "sample" in stays.columns and len(person):
        person = stays["sample"].to_numpy().astype(np.int64) * (int(person.max()) + 1) + person
    episode = stays["episode"].to_numpy().astype(np.int64)
    horizons = records.horizons()
    horizon = (
        np.full(len(stays), records.days, dtype=np.int64)
        if horizons is None
        else horizons[stays["patient"].to_numpy()]
    )
    n_st = len(stays)
    head = np.ones(n_st, dtype=np.bool_)
    if n_st > 1:
        head[1:] = (person[1:] != person[:-1]) | (episode[1:] != episode[:-1])
    nxt_head = np.full(n_st, -1, dtype=np.int64)
    heads = np.flatnonzero(head)
    group = np.cumsum(head) - 1
    following = np.append(heads[1:], -1)[group]  # each stay's next episode's first stay
    ok = following >= 0
    ok[ok] = person[following[ok]] == person[ok]
    nxt_head[ok] = following[ok]
    readmission: dict[str, float] = {}
    delay: dict[str, int] = {}
    for outcome, code_x in _OUTCOME_EXIT.items():
        idx = np.flatnonzero(exit_ == code_x)
        nh = nxt_head[idx]
        seen = nh >= 0
        delays = np.maximum(start[nh[seen]] - end[idx[seen]], 1)
        windows = horizon[idx[~seen]] - 1 - end[idx[~seen]]
        windows = windows[windows >= 0]
        r, r_low, r_high, dl, dl_low, dl_high = readmission_fit(delays, windows)
        informed = idx.size > 0 and delays.size > 0
        default_r = float(model.readmission[outcome])
        default_d = float(model.readmission_delay[outcome])
        readmission[outcome] = r if informed else default_r
        delay[outcome] = max(round(dl), 1) if informed else int(default_d)
        if informed and r_high > r_low:
            sd_r = (r_high - r_low) / (2 * Z95)
            with contextlib.suppress(InvalidParameter):  # an interval too wide for a Beta
                dists["readmission"][outcome] = Beta.from_mean_sd(r, sd_r)
        rows.append(
            row(
                "readmission",
                outcome,
                readmission[outcome],
                r_low if informed else math.nan,
                r_high if informed else math.nan,
                float(delays.size),
                float(idx.size),
                bool(informed),
                default_r,
                "cure model, censored at the horizon",
            )
        )
        rows.append(
            row(
                "readmission_delay",
                outcome,
                dl if informed else default_d,
                dl_low if informed else math.nan,
                dl_high if informed else math.nan,
                float(delays.size),
                float(delays.sum()),
                bool(informed),
                default_d,
                "cure model (geometric delay); the model takes it rounded",
            )
        )

    cohort = starting_cohort(records, p, rows, model)
    weekly = improvement_fit(records, codes)
    improve = {c: weekly[c][0] if c in weekly else float(model.improvement[c]) for c in codes}
    for c in codes:
        default = float(model.improvement[c])
        if c in weekly:
            w, w_low, w_high, better, at_risk = weekly[c]
            rows.append(
                row(
                    "improvement",
                    c,
                    w,
                    w_low,
                    w_high,
                    float(better),
                    float(at_risk),
                    True,
                    default,
                    "serial assessments (reassess rows), profile likelihood",
                )
            )
            if 0 < better < at_risk:
                dists["improvement"][c] = Beta(a=float(better), b=float(at_risk - better))
        else:
            rows.append(
                row(
                    "improvement",
                    c,
                    default,
                    math.nan,
                    math.nan,
                    0.0,
                    0.0,
                    False,
                    default,
                    "default kept",
                )
            )
    fitted = attrs.evolve(
        model,
        cohort=cohort,
        improvement=improve,
        relapse=values["relapse"],
        drop_out=values["drop_out"],
        transfer_out=values["transfer_out"],
        continuation=continuation,
        readmission=readmission,
        readmission_delay=delay,
    )
    for name in ("reassess_days", "relapse_worsens", "cost_per_day"):
        current: Mapping[str, float] = getattr(model, name)
        rows.extend(
            row(name, key, float(v), math.nan, math.nan, 0.0, 0.0, False, float(v), "default kept")
            for key, v in sorted(current.items())
        )
    for name in ("relapse_after_discharge", "remission"):
        v = float(getattr(model, name))
        rows.append(row(name, "", v, math.nan, math.nan, 0.0, 0.0, False, v, "default kept"))
    uncertain = UncertainModel(model=fitted, distributions={k: v for k, v in dists.items() if v})
    table = pd.DataFrame.from_records(rows, columns=list(TABLE_COLUMNS))
    return FittedModel(model=fitted, uncertain=uncertain, records=records, table=table)
