"""The estimators behind :func:`~carepath.sim.fit`, each reading the tidy tables."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from carepath._assessment import PROFILE_COUNT, Assessment
from carepath._guards import Event
from carepath._pathway import Pathway

from ._care import CareTables
from ._compile import NotCompilable, compiled
from ._engine import EVENTS
from ._measures import Z95, wilson
from ._model import AssessedCohort, CohortClass, SimulationModel, SyntheticCohort

__all__ = ["TABLE_COLUMNS", "cohort", "continuation_counts", "hazards", "readmission", "row"]

TABLE_COLUMNS: Final = (
    "parameter",
    "key",
    "estimate",
    "low",
    "high",
    "events",
    "exposure",
    "informed",
    "default",
    "method",
)
_F = npt.NDArray[np.float64]


def _poisson_interval(events: _F, exposure: _F) -> tuple[_F, _F]:
    """Exact-style (Garwood) 95% interval of a rate, through the Wilson-Hilferty
    approximation of the chi-square quantiles (good to a few parts in a thousand)."""

    def chi2(p: float, df: _F) -> _F:
        z = NormalDist().inv_cdf(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = df * (1 - 2 / (9 * df) + z * np.sqrt(2 / (9 * df))) ** 3
        return np.where(df > 0, out, 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(events > 0, chi2(0.025, 2 * events) / 2 / exposure, 0.0)
        high = chi2(0.975, 2 * events + 2) / 2 / exposure
    return low, high


def hazards(
    counts: _F, exposure: float
) -> tuple[_F, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Hazards of competing daily events from their counts over ``exposure`` days.

    The engines draw a day with any event with chance ``1 - prod(1 - p_i)`` and then
    its kind with chance ``p_i / sum(p)`` (``p_i = 1 - exp(-h_i)``). The maximum
    likelihood estimate: ``p_i = s * counts_i`` with ``s`` solving
    ``1 - prod(1 - s * counts_i) = sum(counts) / exposure``; then ``h_i = -log(1 - p_i)``.
    Returns the hazards and their 95% intervals (each count's Poisson interval, mapped
    the same way).
    """
    total = float(counts.sum())
    if exposure <= 0 or total <= 0:
        zero = np.zeros_like(counts)
        return zero, zero, zero
    q = min(total / exposure, 1 - 1e-12)
    lo, hi = 0.0, 1.0 / float(counts.max())
    for _ in range(100):  # bisection: 1 - prod(1 - s c) rises with s
        mid = (lo + hi) / 2
        if 1 - float(np.prod(1 - mid * counts)) < q:
            lo = mid
        else:
            hi = mid
    p = np.clip(lo * counts, 0.0, 1 - 1e-12)
    h = -np.log1p(-p)
    ratio = np.where(counts > 0, h / np.where(counts > 0, counts, 1.0), 0.0)
    low, high = _poisson_interval(counts, np.full_like(counts, exposure))
    # The interval of each rate, scaled as its estimate was (events / exposure -> h).
    scale = np.where(counts > 0, ratio * exposure, 1.0)
    return h, low * scale, high * scale


def _placement_table(pathway: Pathway, profiles: npt.NDArray[np.int64]) -> dict[int, int]:
    """The placed level's index of each of ``profiles``."""
    try:
        table = compiled(pathway).placement
    except NotCompilable:
        index = {lv.code: i for i, lv in enumerate(pathway.levels)}
        return {
            int(p): index[pathway.place(Assessment.from_index(int(p))).level.code]
            for p in np.unique(profiles)
        }
    return {int(p): int(table[p]) for p in np.unique(profiles)}


def readmission(
    delays: npt.NDArray[np.int64], windows: npt.NDArray[np.int64]
) -> tuple[float, float, float, float, float, float]:
    """Cure-model estimate of (chance, mean delay) from the observed delays (>= 1) and
    the windows (the longest observable delay) of episodes with no readmission seen.

    Returns chance, its low and high, mean delay, its low and high (95%, from the
    observed information on the logit / log scale).
    """
    n_obs = delays.size
    total = n_obs + windows.size
    if total == 0 or n_obs == 0:
        return 0.0, 0.0, math.nan, math.nan, math.nan, math.nan
    w_values, w_counts = np.unique(windows, return_counts=True)
    w = w_values.astype(np.float64)
    c = w_counts.astype(np.float64)
    sum_k = float(delays.sum())
    r = n_obs / total
    g = min(1.0 / max(float(delays.mean()), 1.0), 1 - 1e-9)
    for _ in range(500):
        stay = (1 - g) ** w
        pi = r * stay / (1 - r + r * stay)
        expected = n_obs + float((c * pi).sum())
        r_new = expected / total
        g_new = expected / (sum_k + float((c * pi * (w + 1 / g)).sum()))
        done = abs(r_new - r) < 1e-10 and abs(g_new - g) < 1e-12
        r, g = min(r_new, 1 - 1e-9), min(g_new, 1 - 1e-9)
        if done:
            break

    def loglik(a: float, b: float) -> float:  # a = logit r, b = log(1 / g - 1) (so g in (0, 1))
        rr = 1 / (1 + math.exp(-a))
        gg = 1 / (1 + math.exp(b))
        obs = n_obs * (math.log(rr) + math.log(gg)) + (sum_k - n_obs) * math.log1p(-gg)
        cens = float((c * np.log(1 - rr + rr * (1 - gg) ** w)).sum())
        return obs + cens

    a0 = math.log(r / (1 - r)) if 0 < r < 1 else 0.0
    b0 = math.log(1 / g - 1)
    e = 1e-4
    f0 = loglik(a0, b0)
    haa = (loglik(a0 + e, b0) - 2 * f0 + loglik(a0 - e, b0)) / e**2
    hbb = (loglik(a0, b0 + e) - 2 * f0 + loglik(a0, b0 - e)) / e**2
    hab = (
        loglik(a0 + e, b0 + e)
        - loglik(a0 + e, b0 - e)
        - loglik(a0 - e, b0 + e)
        + loglik(a0 - e, b0 - e)
    ) / (4 * e * e)
    det = haa * hbb - hab * hab
    if det <= 0 or haa >= 0:
        return r, r, r, 1 / g, 1 / g, 1 / g
    var_a, var_b = -hbb / det, -haa / det
    sa, sb = math.sqrt(var_a), math.sqrt(var_b)

    def expit(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    r_low, r_high = expit(a0 - Z95 * sa), expit(a0 + Z95 * sa)
    # mean delay 1/g = 1 + exp(b)
    d_low, d_high = 1 + math.exp(b0 - Z95 * sb), 1 + math.exp(b0 + Z95 * sb)
    return r, r_low, r_high, 1 / g, d_low, d_high


def cohort(
    care: CareTables, pathway: Pathway, rows: list[dict[str, Any]], base: SimulationModel
) -> SyntheticCohort | AssessedCohort:
    """The starting cohort: first admissions' assessments, else their levels."""
    ev = care.events
    first = ev[(ev["episode"] == 0) & (ev["event"] == "admit")]
    if "sample" in first.columns:
        first = first[first["sample"] == first["sample"].min()]
    profiles = first["assessment"].to_numpy().astype(np.int64)
    codes = [lv.code for lv in pathway.levels]
    level = first["to_level"].astype(str).map({c: i for i, c in enumerate(codes)}).to_numpy()
    counts = np.bincount(level.astype(np.int64), minlength=len(codes)) if len(level) else None
    if counts is not None:
        share, low, high = wilson(counts, np.full(len(codes), counts.sum()))
        for i, code in enumerate(codes):
            rows.append(
                row(
                    "cohort",
                    code,
                    float(share[i]),
                    float(low[i]),
                    float(high[i]),
                    int(counts[i]),
                    int(counts.sum()),
                    True,
                    math.nan,
                    "first admissions (Wilson)",
                )
            )
    if len(profiles) and bool((profiles >= 0).all()):
        return AssessedCohort(profiles=tuple(int(p) for p in profiles))
    if counts is None or counts.sum() == 0:
        return base.cohort
    # No assessments: one class per admission level, a profile that places there.
    wanted = {i for i in range(len(codes)) if counts[i] > 0}
    found: dict[int, int] = {}
    try:
        table = compiled(pathway).placement
        for i in wanted:
            hit = np.flatnonzero(table == i)
            if hit.size:
                found[i] = int(hit[0])
    except NotCompilable:
        for p in range(PROFILE_COUNT):
            lv = codes.index(pathway.place(Assessment.from_index(p)).level.code)
            if lv in wanted and lv not in found:
                found[lv] = p
            if len(found) == len(wanted):
                break
    classes = [
        CohortClass(name=codes[i], weight=float(counts[i]), profile=Assessment.from_index(p))
        for i, p in sorted(found.items())
    ]
    return SyntheticCohort(classes=tuple(classes), jitter=0.0) if classes else base.cohort


def row(
    parameter: str,
    key: str,
    estimate: float,
    low: float,
    high: float,
    events: float,
    exposure: float,
    informed: bool,
    default: float,
    method: str,
) -> dict[str, Any]:
    return dict(
        zip(
            TABLE_COLUMNS,
            (parameter, key, estimate, low, high, events, exposure, informed, default, method),
            strict=True,
        )
    )


def continuation_counts(
    care: CareTables, pathway: Pathway, model: SimulationModel
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per level: step-downs, and the discharges that drew the continuation chance.

    The engines draw the chance when a patient ready to leave has a less intensive
    level to go to; a failed draw completes the episode, unless the completion's guards
    refuse it, and then the patient stays and draws again later. So, where the records
    carry the discharge assessment: a completion counts only if the assessment placed
    lower (or a ``step_down_to`` policy applied), and a step-down only if completing
    would have been allowed at that moment (else it may follow refused completions).
    """
    codes = [lv.code for lv in pathway.levels]
    n_levels = len(codes)
    events, stays = care.events, care.stays
    ev_code = events["event"].cat.codes.to_numpy()
    is_d = (ev_code == EVENTS.index("step_down")) | (ev_code == EVENTS.index("complete"))
    d = events[is_d]
    index = {c: i for i, c in enumerate(codes)}
    d_level = d["from_level"].astype(str).map(index).to_numpy().astype(np.int64)
    stepped = (d["event"] == "step_down").to_numpy()
    profile = d["assessment"].to_numpy().astype(np.int64)
    counted_k = stepped.copy()
    counted_m = np.ones(len(d), dtype=np.bool_)
    known = profile >= 0
    if known.any():
        try:
            comp = compiled(pathway)
        except NotCompilable:
            comp = None
        if comp is not None:
            placed = comp.placement[profile[known]]
        else:
            lookup = {
                int(x): index[pathway.place(Assessment.from_index(int(x))).level.code]
                for x in np.unique(profile[known])
            }
            placed = np.array([lookup[int(x)] for x in profile[known]], dtype=np.int64)
        policy = np.array(
            [index[model.step_down_to[c]] if c in model.step_down_to else -1 for c in codes]
        )
        lv = d_level[known]
        had_target = (placed < lv) | (policy[lv] >= 0)
        sub_m = counted_m[known]
        sub_m[~stepped[known]] = had_target[~stepped[known]]
        # The matching stays (both tables list a patient's discharges in time order).
        st = stays[stays["exit"].isin(["step_down", "complete"])]
        same = len(st) == len(d) and bool(
            (st["level"].cat.codes.to_numpy().astype(np.int64) == d_level).all()
        )
        if comp is not None and same:
            days_in = (d["day"].to_numpy() - st["start_day"].to_numpy()).astype(np.int64)
            allowed = comp.allowed(
                comp.complete[lv], profile[known], days_in[known], Event.COMPLETE
            )
            sub_m[stepped[known]] = allowed[stepped[known]]
            sub_k = counted_k[known]
            sub_k &= sub_m
            counted_k[known] = sub_k
        counted_m[known] = sub_m
    k = np.bincount(d_level[counted_k], minlength=n_levels).astype(np.int64)
    m = np.bincount(d_level[counted_m], minlength=n_levels).astype(np.int64)
    return k, m


def improvement(
    care: CareTables, codes: list[str]
) -> dict[str, tuple[float, float, float, int, int]]:
    """Weekly improvement chance per level from serial assessments: for each pair of
    consecutive assessments at one level whose later one is a ``reassess`` row, each
    rating above 0 either fell by one (with chance ``1 - (1 - w)**(days / 7)``) or
    stayed. Maximum likelihood over a grid of ``w``, 95% interval where the log
    likelihood is within 1.92 of its maximum. Returns, per informed level: estimate,
    low, high, improvements, ratings at risk."""
    ev = care.events
    a = ev["assessment"].to_numpy().astype(np.int64)
    if not (ev["event"] == "reassess").any():
        return {}
    person = ev["patient"].to_numpy().astype(np.int64)
    if "sample" in ev.columns and len(person):
        person = ev["sample"].to_numpy().astype(np.int64) * (int(person.max()) + 1) + person
    episode = ev["episode"].to_numpy().astype(np.int64)
    day = ev["day"].to_numpy().astype(np.int64)
    index = {c: i for i, c in enumerate(codes)}
    frm = ev["from_level"].astype(str).map(index).fillna(-1).to_numpy().astype(np.int64)
    to = ev["to_level"].astype(str).map(index).fillna(-1).to_numpy().astype(np.int64)
    rows = np.flatnonzero(a >= 0)
    prev, nxt = rows[:-1], rows[1:]
    ok = (
        (person[prev] == person[nxt])
        & (episode[prev] == episode[nxt])
        & (to[prev] >= 0)
        & (to[prev] == frm[nxt])
        & (ev["event"].to_numpy()[nxt] == "reassess")
        & (day[nxt] > day[prev])
    )
    prev, nxt = prev[ok], nxt[ok]
    powers = 5 ** np.arange(6)
    r0 = (a[prev][:, None] // powers) % 5
    r1 = (a[nxt][:, None] // powers) % 5
    at_risk = r0 > 0
    fell = at_risk & (r1 == r0 - 1)
    stayed = at_risk & (r1 == r0)
    level = to[prev]
    weeks = (day[nxt] - day[prev]) / 7.0
    grid = np.linspace(0.0005, 0.9995, 2000)
    log_keep = np.log1p(-grid)
    out: dict[str, tuple[float, float, float, int, int]] = {}
    for i, code in enumerate(codes):
        mine = level == i
        s = fell[mine].sum(axis=1).astype(np.float64)
        f = stayed[mine].sum(axis=1).astype(np.float64)
        if s.sum() + f.sum() == 0:
            continue
        wk, inv = np.unique(weeks[mine], return_inverse=True)
        s_by = np.bincount(inv, weights=s, minlength=wk.size)
        f_by = np.bincount(inv, weights=f, minlength=wk.size)
        keep = np.exp(np.outer(wk, log_keep))  # (weeks, grid): chance of no improvement
        with np.errstate(divide="ignore"):
            ll = s_by @ np.log(1 - keep) + f_by @ (wk[:, None] * log_keep[None, :])
        best = int(np.argmax(ll))
        inside = grid[ll >= ll[best] - 1.92]
        out[code] = (
            float(grid[best]),
            float(inside.min()),
            float(inside.max()),
            int(s.sum()),
            int(s.sum() + f.sum()),
        )
    return out
