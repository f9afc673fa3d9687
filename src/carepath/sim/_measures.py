"""Care-quality measures, one definition for observed and simulated care: :func:`measures`.

Every measure reads only the ``stays`` table (and each patient's horizon), so a
:class:`~carepath.sim.SimulationResult` and the :class:`~carepath.sim.CareRecords`
of its replayed episodes give identical figures. The definitions, their sources and
where carepath's differ are written out in the simulation guide.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._errors import InvalidParameter
from carepath._levels import Setting

from ._care import CareTables
from ._summary import _quantile
from ._tables import _COMPLETED, _EXIT, _TRANSFERRED, check_group_column

if TYPE_CHECKING:
    from ._records import CareRecords
    from ._result import SimulationResult

__all__ = ["COLUMNS", "Z95", "measures", "wilson"]

Z95: Final = NormalDist().inv_cdf(0.975)
COLUMNS: Final = (
    "measure",
    "level",
    "window",
    "count",
    "denominator",
    "value",
    "low",
    "high",
    "q1",
    "q3",
    "method",
)
"""The columns of :func:`measures` (after the ``by`` column, when given)."""

_LEAVES: Final = tuple(_EXIT[x] for x in ("step_down", "complete", "drop_out", "transfer_out"))
_OUTCOMES: Final = tuple(_EXIT[x] for x in ("complete", "drop_out", "transfer_out"))
_LEAVES_TABLE: Final = np.isin(np.arange(len(_EXIT)), _LEAVES)
_OUTCOMES_TABLE: Final = np.isin(np.arange(len(_EXIT)), _OUTCOMES)
_I64 = npt.NDArray[np.int64]
_B = npt.NDArray[np.bool_]


def wilson(
    count: npt.ArrayLike, n: npt.ArrayLike, z: float = Z95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Shares ``count / n`` with their Wilson score interval (NaN where ``n`` is 0)."""
    c = np.asarray(count, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = c / m
        denom = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
    empty = m <= 0
    # None seen (all seen): the bound is exactly 0 (1), not a rounding error away.
    low = np.where(c <= 0, 0.0, centre - half)
    high = np.where(c >= m, 1.0, centre + half)
    p, low, high = (np.where(empty, np.nan, x) for x in (p, low, high))
    return p, np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


class _Stays:
    """The stays table as arrays in (person, start) order; a person is a patient of one
    parameter sample. Days are searched as keys ``person * scale + day``, so one sorted
    array of keys answers "does this person have such a stay between these days"."""

    def __init__(self, care: CareTables, frame: pd.DataFrame) -> None:
        horizons = care.horizons()
        patient = frame["patient"].to_numpy()
        person = patient.astype(np.int64)
        if "sample" in frame.columns and len(patient):
            person = frame["sample"].to_numpy().astype(np.int64) * (int(patient.max()) + 1) + person
        scale = care.days + 2
        base = person * scale
        start = frame["start_day"].to_numpy()
        key = base + start
        order: _I64 | None = None
        if len(key) > 1 and not bool((key[1:] >= key[:-1]).all()):
            order = np.argsort(key, kind="stable")

        def col(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return x if order is None else x[order]

        self.person = col(person)
        self.base = col(base)
        self.episode = col(frame["episode"].to_numpy())
        self.level = col(frame["level"].cat.codes.to_numpy())
        self.exit = col(frame["exit"].cat.codes.to_numpy())
        self.start = col(start)
        self.end = col(frame["end_day"].to_numpy())
        self.key_start = col(key)
        self.key_end = self.base + self.end
        # The last observed day of each stay's patient, as a key.
        self.key_horizon = self.base + (care.days if horizons is None else horizons[col(patient)])
        self.ended = self.exit != _EXIT["censored"]
        self.leaves = _LEAVES_TABLE[self.exit]


def _first_at_or_after(keys: _I64, want: _I64) -> _I64:
    """Per wanted key, the index of the first of the sorted ``keys`` at or after it
    (``len(keys)`` for none)."""
    return np.searchsorted(keys, want, side="left").astype(np.int64)


def _found_within(keys: _I64, low: _I64, high: _I64) -> _B:
    """Whether any of the sorted ``keys`` lies in ``[low, high]``, per pair."""
    i = _first_at_or_after(keys, low)
    padded = np.append(keys, np.iinfo(np.int64).max)
    return padded[i] <= high


def _rows_for_shares(
    name: str, level: str, window: int | None, count: int, n: int
) -> dict[str, Any]:
    p, low, high = wilson(count, n)
    return {
        "measure": name,
        "level": level,
        "window": window,
        "count": int(count),
        "denominator": int(n),
        "value": float(p),
        "low": float(low),
        "high": float(high),
        "q1": math.nan,
        "q3": math.nan,
        "method": "wilson",
    }


def _measure_rows(s: _Stays, codes: list[str], high: _B, residential: _B) -> list[dict[str, Any]]:
    return [
        *_follow_up(s, high),
        *_continuity(s, residential),
        *_readmission(s, high),
        *_per_level(s, codes),
    ]


def _follow_up(s: _Stays, high: _B) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    is_high = high[s.level]
    n = len(s.person)
    # A step-down to another high-intensity level (detox to residential) does not leave
    # high-intensity care: the next stay is the same person's next row.
    to_high = np.zeros(n, dtype=np.bool_)
    if n > 1:
        to_high[:-1] = (s.person[1:] == s.person[:-1]) & is_high[1:]
    stepped_high = (s.exit == _EXIT["step_down"]) & to_high

    # Follow-up after high-intensity care (HEDIS FUI spirit): the discharge that leaves
    # high-intensity care, followed by a stay at a lower level on a later day.
    discharge = np.flatnonzero(is_high & s.leaves & ~stepped_high)
    lower_keys = s.key_start[~is_high]
    b = s.key_end[discharge]
    room = s.key_horizon[discharge]
    for w in (7, 30):
        seen = b + w < room
        hit = _found_within(lower_keys, b + 1, b + w) & seen
        rows.append(_rows_for_shares(f"follow_up_{w}d", "", w, int(hit.sum()), int(seen.sum())))
    return rows


def _continuity(s: _Stays, residential: _B) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # Continuity (CMS CBE #3453): any stay at a less intensive level from the day of
    # discharge from a residential level (detox or inpatient/residential) to w days on;
    # residential care after detox counts.
    index = np.flatnonzero(residential[s.level] & s.leaves)
    b = s.key_end[index]
    room = s.key_horizon[index]
    found = {w: np.zeros(index.size, dtype=np.bool_) for w in (7, 14)}
    for lv in np.flatnonzero(residential):
        mine = s.level[index] == lv
        keys = s.key_start[s.level < lv]
        for w, hit in found.items():
            hit[mine] = _found_within(keys, b[mine], b[mine] + w)
    for w, hit in found.items():
        seen = b + w < room
        rows.append(
            _rows_for_shares(f"continuity_{w}d", "", w, int((hit & seen).sum()), int(seen.sum()))
        )
    return rows


def _readmission(s: _Stays, high: _B) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    n = len(s.person)
    is_high = high[s.level]
    # Readmission to high-intensity care: an episode that held high-intensity care and
    # ended (an outcome), then a high-intensity stay in a later episode within w days.
    ep_head = np.ones(n, dtype=np.bool_)
    if n > 1:
        ep_head[1:] = (s.person[1:] != s.person[:-1]) | (s.episode[1:] != s.episode[:-1])
    heads = np.flatnonzero(ep_head)
    group = np.cumsum(ep_head) - 1
    ep_high = np.maximum.reduceat(is_high.view(np.int8), heads) > 0 if n else np.zeros(0, np.bool_)
    ends = np.flatnonzero(_OUTCOMES_TABLE[s.exit] & ep_high[group])
    hi = np.flatnonzero(is_high)
    never = np.iinfo(np.int64).max
    hi_keys = np.append(s.key_start[hi], [never, never])
    hi_episode = np.append(s.episode[hi], [-1, -1])
    b = s.key_end[ends]
    i = _first_at_or_after(hi_keys[:-2], b)
    # Skip a high-intensity stay of the same episode that starts on its last day.
    i += (hi_keys[i] == b) & (hi_episode[i] == s.episode[ends])
    room = s.key_horizon[ends]
    for w in (30, 90):
        seen = b + w < room
        hit = (hi_keys[i] <= b + w) & seen
        rows.append(
            _rows_for_shares(f"readmission_high_{w}d", "", w, int(hit.sum()), int(seen.sum()))
        )
    return rows


def _per_level(s: _Stays, codes: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # Per level: outcome shares (TEDS-D's categories), step-down rate, length of stay.
    n_levels, n_exits = len(codes), len(_EXIT)
    level = s.level.astype(np.int64)
    by_exit = np.bincount(level * n_exits + s.exit, minlength=n_levels * n_exits).reshape(
        n_levels, n_exits
    )
    ended_n = by_exit.sum(axis=1) - by_exit[:, _EXIT["censored"]]
    for name, exits in (
        ("completed", _COMPLETED),
        ("transferred", _TRANSFERRED),
        ("dropped_out", ("drop_out",)),
        ("step_down", ("step_down",)),
    ):
        counts = by_exit[:, [_EXIT[x] for x in exits]].sum(axis=1)
        rows.extend(
            _rows_for_shares(name, codes[i], None, int(counts[i]), int(ended_n[i]))
            for i in range(n_levels)
        )
    ended_level = level[s.ended]
    length = (s.end - s.start)[s.ended].astype(np.int64)
    top = int(length.max()) + 1 if length.size else 1
    hist = np.bincount(ended_level * top + length, minlength=n_levels * top).reshape(n_levels, top)
    for i in range(n_levels):
        h = hist[i]
        m = int(h.sum())
        low = high = math.nan
        if m:
            # Distribution-free interval for the median: order statistics at ranks
            # m/2 -+ z sqrt(m)/2 (the binomial(m, 1/2) normal approximation).
            half = Z95 * math.sqrt(m) / 2
            cum = np.cumsum(h)
            lo_rank = max(math.floor(m / 2 - half), 1)
            hi_rank = min(math.ceil(m / 2 + half) + 1, m)
            low = float(np.searchsorted(cum, lo_rank, side="left"))
            high = float(np.searchsorted(cum, hi_rank, side="left"))
        rows.append(
            {
                "measure": "length_of_stay",
                "level": codes[i],
                "window": None,
                "count": m,
                "denominator": m,
                "value": _quantile(h, 0.5),
                "low": low,
                "high": high,
                "q1": _quantile(h, 0.25),
                "q3": _quantile(h, 0.75),
                "method": "order statistics",
            }
        )
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame["window"] = frame["window"].astype("Int64")
    return frame


def measures(
    care: SimulationResult | CareRecords, *, by: str | None = None, php: bool = False
) -> pd.DataFrame:
    """Care-quality measures of observed or simulated care, with 95% intervals.

    One row per measure (and level, and group): ``measure``, ``level`` (empty for
    cohort-wide measures), ``window`` (days, where the measure has one), ``count``,
    ``denominator``, ``value``, ``low`` and ``high`` (95% interval: Wilson for shares,
    order statistics for a median), ``q1`` and ``q3`` (lengths of stay), ``method``.

    Measures: ``follow_up_7d`` / ``follow_up_30d`` (a discharge from high-intensity
    care followed by a less intensive level on a later day), ``continuity_7d`` /
    ``continuity_14d`` (a residential discharge followed by a less intensive level from
    that day on; residential after detox counts), ``readmission_high_30d`` /
    ``readmission_high_90d``, and per level ``completed``, ``transferred``,
    ``dropped_out`` (TEDS-D's categories), ``step_down`` and ``length_of_stay``.
    Windows count only discharges whose whole window lies before the patient's horizon.
    The simulation guide writes each definition out with its source.

    Args:
        care: A :class:`SimulationResult` or :class:`CareRecords`.
        by: A column of ``stays`` to group by (e.g. ``"sample"`` for a PSA run, or a
            site column added to the records); constant for each patient.
        php: Count partial hospitalisation (day programmes) as high-intensity care.

    >>> from carepath.sim import SimulationModel, simulate
    >>> m = measures(simulate(SimulationModel.default(), n=300, seed=2, days=200))
    >>> [int(w) for w in m.loc[m["measure"].str.startswith("follow_up"), "window"]]
    [7, 30]
    """
    if not isinstance(care, CareTables):
        raise InvalidParameter(
            parameter="care",
            problem=f"expected a SimulationResult or CareRecords, got {type(care).__name__}",
        )
    pathway = care.pathway
    codes = [lv.code for lv in pathway.levels]
    residential = np.array([lv.setting is Setting.RESIDENTIAL for lv in pathway.levels])
    high = residential | np.array(
        [php and lv.setting is Setting.DAY for lv in pathway.levels], dtype=np.bool_
    )
    stays = care.stays
    if by is None:
        return _frame(_measure_rows(_Stays(care, stays), codes, high, residential))
    check_group_column(stays, by)
    parts: list[pd.DataFrame] = []
    for value, part in stays.groupby(by, observed=True, sort=True):
        rows = _measure_rows(_Stays(care, part), codes, high, residential)
        frame = _frame(rows)
        frame.insert(0, by, value)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)
