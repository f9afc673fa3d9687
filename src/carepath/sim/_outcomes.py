"""Costs and QALYs per patient, reduced from a result's ``stays`` and ``events`` tables.

Care accrues daily: a stay from ``start_day`` to ``end_day`` is ``end_day -
start_day`` days at its level's cost and utility, and time out of care (from an
episode's outcome to the next admission or the horizon) at the utility of that
outcome. Discounting is continuous from the day of each cost, at the model's
annual rates: a flow over days ``[a, b)`` is worth ``integral of (1 + r) **
(-t / 365) dt`` over it, an event on day ``d`` ``(1 + r) ** (-d / 365)`` of its
cost. With daily accrual there is no half-cycle correction to make.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._engine import EVENTS
from ._model import _OUTCOMES, COSTED_EVENTS

__all__ = ["discounted_days", "patient_outcomes"]

F64 = npt.NDArray[np.float64]
YEAR: Final = 365.0
"""Days in the year of the discount rates and of QALYs."""
_NAMES: Final = (
    "cost_per_day",
    "cost_per_event",
    "cost_per_patient",
    "utility",
    "utility_out_of_care",
    "discount_costs",
    "discount_qalys",
)
_EXIT_OUTCOME: Final = {"complete": 0, "drop_out": 1, "transfer_out": 2}
_ADMIT: Final = EVENTS.index("admit")


def discounted_days(start: Any, end: Any, rate: float) -> F64:
    """The worth today of one unit a day over days ``[start, end)``, discounted
    continuously at annual ``rate`` (``end - start`` when the rate is 0).

    >>> float(discounted_days(0, 365, 0.03)[()])  # doctest: +ELLIPSIS
    359.6...
    """
    a = np.asarray(start, dtype=np.float64)
    b = np.asarray(end, dtype=np.float64)
    if rate == 0:
        return b - a
    delta = np.log1p(rate) / YEAR  # per day
    out: F64 = (np.exp(-delta * a) - np.exp(-delta * b)) / delta
    return out


def _discount_at(day: Any, rate: float) -> F64:
    d = np.asarray(day, dtype=np.float64)
    if rate == 0:
        return np.ones_like(d)
    out: F64 = np.exp(-np.log1p(rate) / YEAR * d)
    return out


def _per_sample(metadata: Mapping[str, Any], samples: int) -> list[dict[str, Any]]:
    """The economic parameters of every sample (the model's own without samples)."""
    base = metadata["model"]
    drawn: Sequence[Mapping[str, Any]] = metadata.get("sample_parameters") or [{}] * samples
    return [{k: d.get(k, base.get(k)) for k in _NAMES} for d in drawn]


def patient_outcomes(result: Any) -> pd.DataFrame:
    """Costs and QALYs of every simulated patient (and parameter sample).

    Args:
        result: A :class:`~carepath.sim.SimulationResult`.

    Returns:
        One row per patient (per sample, with ``samples=K``; a first column
        ``sample``): ``patient``, ``cost_care`` (days at each level's
        ``cost_per_day``), ``cost_events`` (``cost_per_event``), ``cost_patient``
        (``cost_per_patient``), ``cost`` (their sum), ``days_in_care``, and with a
        model that gives utilities, ``qalys``. Costs and QALYs are discounted at the
        model's rates. Patients are every patient simulated, including any that
        were never admitted (zero costs and QALYs).
    """
    meta = result.metadata
    n, first, days = int(meta["n"]), int(meta.get("first_patient", 0)), int(meta["days"])
    k = int(meta.get("samples") or 1)
    sampled = meta.get("samples") is not None
    params = _per_sample(meta, k)
    stays, events = result.stays, result.events
    levels = [str(c) for c in stays["level"].cat.categories]

    def table(name: str, keys: Sequence[str]) -> F64:
        return np.array(
            [[float((p[name] or {}).get(key, 0.0)) for key in keys] for p in params],
            dtype=np.float64,
        )

    cost_day = table("cost_per_day", levels)
    has_utilities = bool(params[0]["utility"])
    rate_c = float(params[0]["discount_costs"] or 0.0)
    rate_q = float(params[0]["discount_qalys"] or 0.0)

    def owner(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
        key: npt.NDArray[np.int64] = frame["patient"].to_numpy().astype(np.int64) - first
        if sampled:
            key += frame["sample"].to_numpy().astype(np.int64) * n
        return key

    size = k * n
    st_key = owner(stays)
    sample_of = st_key // n
    level = stays["level"].cat.codes.to_numpy().astype(np.int64)
    start = stays["start_day"].to_numpy()
    end = stays["end_day"].to_numpy()
    length = (end - start).astype(np.float64)
    care = np.bincount(
        st_key,
        weights=cost_day[sample_of, level] * discounted_days(start, end, rate_c),
        minlength=size,
    )
    in_care = np.bincount(st_key, weights=length, minlength=size)

    event_costs = _event_costs(events, owner(events), size, n, params, rate_c)
    per_patient = np.array([float(p["cost_per_patient"] or 0.0) for p in params])
    patient_cost = np.repeat(per_patient, n)

    frame: dict[str, Any] = {}
    if sampled:
        frame["sample"] = np.repeat(np.arange(k, dtype=np.int32), n)
    frame["patient"] = np.tile(np.arange(first, first + n, dtype=np.int64), k)
    frame["cost_care"] = care
    frame["cost_events"] = event_costs
    frame["cost_patient"] = patient_cost
    frame["cost"] = care + event_costs + patient_cost
    frame["days_in_care"] = in_care
    if has_utilities:
        frame["qalys"] = _qalys(
            stays,
            st_key,
            size,
            days,
            table("utility", levels)[sample_of, level],
            table("utility_out_of_care", _OUTCOMES),
            sample_of,
            rate_q,
        )
    return pd.DataFrame(frame)


def _qalys(
    stays: pd.DataFrame,
    st_key: npt.NDArray[np.int64],
    size: int,
    days: int,
    utility: F64,
    utility_out: F64,
    sample_of: npt.NDArray[np.int64],
    rate: float,
) -> F64:
    """QALYs per owner: every stay at its level's utility (``utility``, per stay), and
    the time out of care after each outcome at that outcome's utility."""
    start = stays["start_day"].to_numpy()
    end = stays["end_day"].to_numpy()
    q = utility * discounted_days(start, end, rate)
    # Out of care after an outcome: to the next stay of the same patient (its next
    # episode's first; rows are in time order per patient), else to the horizon.
    exits = [str(c) for c in stays["exit"].cat.categories]
    outcome_of = np.array([_EXIT_OUTCOME.get(x, -1) for x in exits], dtype=np.int64)
    oc = outcome_of[stays["exit"].cat.codes.to_numpy().astype(np.int64)]
    ends = np.flatnonzero(oc >= 0)
    nxt = ends + 1
    same = nxt < len(stays)
    same[same] = st_key[nxt[same]] == st_key[ends[same]]
    back = np.full(ends.size, float(days))
    back[same] = start[nxt[same]]
    q_out = utility_out[sample_of[ends], oc[ends]] * discounted_days(end[ends], back, rate)
    total = np.bincount(st_key, weights=q, minlength=size).astype(np.float64)
    total += np.bincount(st_key[ends], weights=q_out, minlength=size)
    return total / YEAR


def _event_costs(
    events: pd.DataFrame,
    ev_key: npt.NDArray[np.int64],
    size: int,
    n: int,
    params: list[dict[str, Any]],
    rate: float,
) -> F64:
    """Each owner's ``cost_per_event`` (a readmission at its own price when given)."""
    prices = np.array(
        [[float((p["cost_per_event"] or {}).get(e, 0.0)) for e in COSTED_EVENTS] for p in params],
        dtype=np.float64,
    )
    codes = events["event"].cat.codes.to_numpy().astype(np.int64)
    column = np.array([COSTED_EVENTS.index(e) if e in COSTED_EVENTS else -1 for e in EVENTS])
    which = column[codes]
    if any("readmission" in (p["cost_per_event"] or {}) for p in params):
        readmit = (codes == _ADMIT) & (events["episode"].to_numpy() > 0)
        which = np.where(readmit, COSTED_EVENTS.index("readmission"), which)
    priced = which >= 0
    cost = np.zeros(len(events), dtype=np.float64)
    cost[priced] = prices[(ev_key // n)[priced], which[priced]] * _discount_at(
        events["day"].to_numpy()[priced], rate
    )
    return np.bincount(ev_key, weights=cost, minlength=size).astype(np.float64)
