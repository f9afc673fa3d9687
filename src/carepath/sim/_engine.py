"""The reference engine: every synthetic patient runs through real Episode objects.

The engine proposes moves from the pathway's placement and stay rules; the
episode's guards decide. A move the guards refuse is simply not made (the
patient stays and is reassessed again later), so the simulated history is
always one an EHR would accept.

One patient's course, in cycles (each cycle is one *step* of its random key):

1. Intake (step 0): a starting profile (drawn, or the caller's), admitted to its
   placement.
2. A cycle runs from the current day to the next reassessment: every
   ``reassess_days[level]`` days after the last one, and never later than the
   level's maximum stay. One draw (``EVENT_TIME``) against the level's table of
   ``1 - (1 - q)**k`` gives the day of the first unplanned event in the cycle,
   where ``q`` is the daily chance of any of relapse, drop out or transfer out; a
   second (``EVENT_KIND``) picks which, in proportion to their daily chances.
3. A relapse raises each rating by one with chance ``relapse_worsens`` and goes
   through :meth:`Episode.relapse` (care intensifies in place, or a step up); the
   next reassessment is ``reassess_days`` after it. A drop out or transfer out
   ends the episode.
4. At a reassessment each rating above 0 improves by one with the level's chance
   (from the weekly chance, for the days since the last reassessment). Then: a
   placement more intensive than the level is a step up; a patient who has met
   the minimum stay and places lower (or is in remission), or who has reached
   the maximum stay, is ready to leave: with chance ``continuation`` a step
   down (to ``step_down_to`` when it fits, else the placement), otherwise
   completion.
5. After an outcome, ``readmission[outcome]`` decides whether a new, linked
   episode follows, after a geometric delay with mean ``readmission_delay``; a
   relapse out of care may have raised the ratings in the meantime.

Days are whole numbers from 0; events on or after the horizon are not
simulated and a stay still open there ends ``censored``.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, final

import numpy as np
import numpy.typing as npt

from carepath._assessment import DIMENSIONS, Assessment
from carepath._episode import Episode
from carepath._errors import TransitionRejected
from carepath._guards import Event
from carepath._levels import Outcome
from carepath._pathway import Pathway

from ._model import AssessedCohort, SimulationModel, SyntheticCohort
from ._random import Stream, grid

__all__ = ["EPOCH", "EVENTS", "EXITS", "Rows", "Tables", "run"]

EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Day 0 of every simulation, as the time given to episodes."""

EVENTS: Final[tuple[str, ...]] = tuple(e.value for e in Event)
"""Categories of ``events.event``."""
EXITS: Final[tuple[str, ...]] = (
    "step_down",
    "step_up",
    "relapse",
    "complete",
    "drop_out",
    "transfer_out",
    "censored",
)
"""Categories of ``stays.exit``."""

_STREAMS: Final = 32
_BLOCK_STEPS: Final = 16
_PATIENT_BLOCK: Final = 256

_ADMIT, _STEP_DOWN, _STEP_UP, _RELAPSE = (
    EVENTS.index(e) for e in ("admit", "step_down", "step_up", "relapse")
)
_COMPLETE, _DROP_OUT, _TRANSFER_OUT = (
    EVENTS.index(e) for e in ("complete", "drop_out", "transfer_out")
)
_X_STEP_DOWN, _X_STEP_UP, _X_RELAPSE, _X_COMPLETE, _X_DROP, _X_TRANSFER, _X_CENSORED = range(7)
_OUTCOME_ORDER: Final = (
    Outcome.COMPLETED.value,
    Outcome.DROPPED_OUT.value,
    Outcome.TRANSFERRED_OUT.value,
)
_POW5: Final = tuple(5**d for d in range(len(DIMENSIONS)))

_CLASS = int(Stream.COHORT_CLASS)
_PROFILE = int(Stream.PROFILE)
_EVENT_TIME = int(Stream.EVENT_TIME)
_EVENT_KIND = int(Stream.EVENT_KIND)
_IMPROVE = int(Stream.IMPROVE)
_WORSEN = int(Stream.WORSEN)
_CONTINUE = int(Stream.CONTINUE)
_READMIT = int(Stream.READMIT)
_READMIT_DELAY = int(Stream.READMIT_DELAY)
_RELAPSE_OUT = int(Stream.RELAPSE_OUT)
_WORSEN_OUT = int(Stream.WORSEN_OUT)


_ASSESSMENTS: Final[dict[int, Assessment]] = {}
_PLACEMENTS: Final[dict[str, dict[int, int]]] = {}


def _placements(pathway: Pathway) -> dict[int, int]:
    """The placement cache (profile index -> level index) of a pathway, kept across runs."""
    key = pathway.content_hash
    found = _PLACEMENTS.get(key)
    if found is None:
        if len(_PLACEMENTS) >= 16:
            _PLACEMENTS.pop(next(iter(_PLACEMENTS)))
        found = _PLACEMENTS[key] = {}
    return found


def _daily(hazard: float) -> float:
    return -math.expm1(-hazard)


@functools.lru_cache(maxsize=256)
def _geometric_cdf(mean: int, days: int) -> tuple[float, ...]:
    """Chance that a geometric delay of mean ``mean`` is at most ``k`` days, ``k = 0 ..
    days`` (cached: a PSA's samples share it)."""
    keep = 1.0 - 1.0 / mean
    return tuple([1.0 - keep**k for k in range(days + 1)])  # a list first: faster


@functools.lru_cache(maxsize=256)
def _relapse_out(hazard: float, days: int) -> tuple[float, ...]:
    """Chance of a relapse within ``k`` days out of care, ``k = 0 .. days``."""
    return tuple([-math.expm1(-hazard * k) for k in range(days + 1)])  # a list first: faster


@final
class Tables:
    """A model compiled to the plain tables both engines read.

    Every threshold a uniform number is compared with is computed here once, in
    Python floats, so an engine that compares the same uniforms with the same
    tables makes the same choices.
    """

    def __init__(self, model: SimulationModel, days: int) -> None:  # tables
        p = model.pathway
        self.model = model
        self.pathway = p
        self.days = days
        self.levels = p.levels
        self.codes: tuple[str, ...] = tuple(lv.code for lv in p.levels)
        self.index = {c: i for i, c in enumerate(self.codes)}
        self.states: tuple[str, ...] = p.states
        n = len(self.codes)
        self.outcome_state = tuple(self.states.index(o) for o in _OUTCOME_ORDER)
        self.min_days = [lv.stay.minimum_days for lv in p.levels]
        self.max_days = [
            lv.stay.maximum_days if lv.stay.maximum_days is not None else -1 for lv in p.levels
        ]
        self.review = [model.reassess_days[c] for c in self.codes]
        self.event_cdf: list[list[float]] = []
        self.relapse_edge: list[float] = []
        self.drop_edge: list[float] = []
        self.improve: list[list[float]] = []
        for i, c in enumerate(self.codes):
            pr, pd_, pt = (
                _daily(model.relapse[c]),
                _daily(model.drop_out[c]),
                _daily(model.transfer_out[c]),
            )
            stay = (1.0 - pr) * (1.0 - pd_) * (1.0 - pt)
            self.event_cdf.append([1.0 - stay**k for k in range(self.review[i] + 1)])
            total = pr + pd_ + pt
            self.relapse_edge.append(pr / total if total > 0 else 0.0)
            self.drop_edge.append((pr + pd_) / total if total > 0 else 0.0)
            keep = 1.0 - model.improvement[c]
            self.improve.append([1.0 - keep ** (e / 7.0) for e in range(self.review[i] + 1)])
        self.continuation = [model.continuation[c] for c in self.codes]
        self.step_down_to = [
            self.index[model.step_down_to[c]] if c in model.step_down_to else -1 for c in self.codes
        ]
        self.maxima: list[tuple[int, ...]] = [
            p.criteria_for(lv).maximum.as_tuple() for lv in p.levels
        ]
        self.worsen = [model.relapse_worsens.get(d.value, 0.0) for d in DIMENSIONS]
        self.readmit = [model.readmission[o] for o in _OUTCOME_ORDER]
        self.delay_cdf: list[tuple[float, ...]] = [
            _geometric_cdf(model.readmission_delay[o], days) for o in _OUTCOME_ORDER
        ]
        self.relapse_out = _relapse_out(model.relapse_after_discharge, days)
        self.remission = model.remission
        cohort = model.cohort
        self.profiles: tuple[int, ...] | None = None
        self.class_edges: list[float] = []
        self.class_profiles: list[tuple[int, ...]] = []
        self.jitter_low = self.jitter_high = 0.0
        if isinstance(cohort, AssessedCohort):
            self.profiles = cohort.profiles
        else:
            assert isinstance(cohort, SyntheticCohort)
            self.class_edges = cohort.cumulative_weights()
            self.class_profiles = [k.profile.as_tuple() for k in cohort.classes]
            self.jitter_low = cohort.jitter / 2.0
            self.jitter_high = 1.0 - cohort.jitter / 2.0
        self._placement = _placements(p)
        self._assessments = _ASSESSMENTS
        self.n_levels = n

    @functools.cached_property
    def times(self) -> list[datetime]:
        """The timestamp of every day (the reference engine's; built when first asked,
        so the fast engine's many PSA samples do not pay for it)."""
        return [EPOCH + timedelta(days=d) for d in range(self.days + 1)]

    def place(self, profile: int) -> int:
        """The index of the level a profile places in."""
        found = self._placement.get(profile)
        if found is None:
            found = self.index[self.pathway.place(self.assessment(profile)).level.code]
            self._placement[profile] = found
        return found

    def assessment(self, profile: int) -> Assessment:
        """The (shared, frozen) assessment of a profile index."""
        found = self._assessments.get(profile)
        if found is None:
            found = Assessment.from_index(profile)
            self._assessments[profile] = found
        return found

    def start_profile(self, patient: int, u: list[float]) -> list[int]:
        """The starting ratings of ``patient`` from its step-0 numbers."""
        if self.profiles is not None:
            index = self.profiles[patient % len(self.profiles)]
            return [(index // q) % 5 for q in _POW5]
        k = bisect_right(self.class_edges, u[_CLASS])
        base = self.class_profiles[k]
        out: list[int] = []
        for d in range(len(_POW5)):
            r, x = base[d], u[_PROFILE + d]
            if x < self.jitter_low:
                r = max(0, r - 1)
            elif x >= self.jitter_high:
                r = min(4, r + 1)
            out.append(r)
        return out


@final
class Rows:
    """Column lists the engine appends to; turned into DataFrames by the result."""

    def __init__(self) -> None:
        self.ev_patient: list[int] = []
        self.ev_episode: list[int] = []
        self.ev_day: list[int] = []
        self.ev_event: list[int] = []
        self.ev_from: list[int] = []
        self.ev_to: list[int] = []
        self.ev_assessment: list[int] = []
        self.st_patient: list[int] = []
        self.st_episode: list[int] = []
        self.st_level: list[int] = []
        self.st_start: list[int] = []
        self.st_end: list[int] = []
        self.st_exit: list[int] = []


def _index(prof: list[int]) -> int:
    return prof[0] + 5 * prof[1] + 25 * prof[2] + 125 * prof[3] + 625 * prof[4] + 3125 * prof[5]


def run(
    tab: Tables,
    seed: int,
    first: int,
    n: int,
    rows: Rows,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Simulate patients ``first .. first + n - 1`` into ``rows``."""
    steps = np.arange(_BLOCK_STEPS)[None, :]
    for b0 in range(first, first + n, _PATIENT_BLOCK):
        b1 = min(b0 + _PATIENT_BLOCK, first + n)
        block = grid(seed, np.arange(b0, b1)[:, None], steps, _STREAMS)
        for p in range(b0, b1):
            _patient(tab, seed, p, block[p - b0], rows)
        if progress is not None:
            progress(b1 - b0)


def _more(seed: int, patient: int, u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    start = u.shape[0]
    more = grid(seed, patient, np.arange(start, start + 4 * _BLOCK_STEPS), _STREAMS)
    return np.concatenate([u, more])


def _patient(  # noqa: PLR0915  # one patient's whole course, kept in one frame for speed
    tab: Tables, seed: int, p: int, u: npt.NDArray[np.float64], rows: Rows
) -> None:
    days = tab.days
    times = tab.times
    codes = tab.codes
    pathway = tab.pathway
    place = tab.place
    assessment = tab.assessment
    min_days, max_days, review = tab.min_days, tab.max_days, tab.review
    event_cdf, improve = tab.event_cdf, tab.improve
    ev_patient, ev_episode, ev_day = rows.ev_patient, rows.ev_episode, rows.ev_day
    ev_event, ev_from, ev_to, ev_a = rows.ev_event, rows.ev_from, rows.ev_to, rows.ev_assessment
    st_patient, st_episode, st_level = rows.st_patient, rows.st_episode, rows.st_level
    st_start, st_end, st_exit = rows.st_start, rows.st_end, rows.st_exit
    remission = tab.remission

    def emit(epno: int, day: int, event: int, source: int, target: int, profile: int) -> None:
        ev_patient.append(p)
        ev_episode.append(epno)
        ev_day.append(day)
        ev_event.append(event)
        ev_from.append(source)
        ev_to.append(target)
        ev_a.append(profile)

    def stay(epno: int, level: int, start: int, end: int, exit_: int) -> None:
        st_patient.append(p)
        st_episode.append(epno)
        st_level.append(level)
        st_start.append(start)
        st_end.append(end)
        st_exit.append(exit_)

    step = 0
    prof = tab.start_profile(p, u[0].tolist())
    pid = str(p)
    t = 0
    epno = 0
    previous: Episode | None = None
    while True:
        ep = pathway.start(pid, at=times[t], episode_id=f"{p}.{epno}", previous=previous)
        idx = _index(prof)
        # The placement, else the next more intensive level the admission guards allow;
        # when none does, the episode never starts and the patient's course ends.
        for lv in range(place(idx), tab.n_levels):
            try:
                ep.admit(codes[lv], at=times[t], assessment=assessment(idx))
            except TransitionRejected:
                continue
            break
        else:
            return
        emit(epno, t, _ADMIT, 0, lv + 1, idx)
        entered = last_review = t
        outcome = -1
        while outcome < 0:
            if step >= u.shape[0]:
                u = _more(seed, p, u)
            us = u[step].tolist()
            mx = max_days[lv]
            if mx >= 0:
                cap = entered + mx
                nxt = min(last_review + review[lv], cap) if cap > last_review else last_review + 1
            else:
                nxt = last_review + review[lv]
            k = bisect_right(event_cdf[lv], us[_EVENT_TIME])
            if k <= nxt - t:
                te = t + k
                if te >= days:
                    break
                x = us[_EVENT_KIND]
                if x < tab.relapse_edge[lv]:
                    worse = list(prof)
                    for d in range(6):
                        if worse[d] < 4 and us[_WORSEN + d] < tab.worsen[d]:
                            worse[d] += 1
                    widx = _index(worse)
                    try:
                        rec = ep.relapse(at=times[te], assessment=assessment(widx))
                    except TransitionRejected:
                        t = te
                        step += 1
                        continue
                    prof, idx = worse, widx
                    target = tab.index[rec.target]
                    emit(epno, te, _RELAPSE, lv + 1, target + 1, idx)
                    if target != lv:
                        stay(epno, lv, entered, te, _X_RELAPSE)
                        lv = target
                        entered = te
                    last_review = t = te
                    step += 1
                    continue
                # A drop out or transfer out the pathway refuses (no such rule, or a
                # guard) is not made: the patient stays, like a refused relapse.
                try:
                    if x < tab.drop_edge[lv]:
                        ep.drop_out(at=times[te])
                        emit(epno, te, _DROP_OUT, lv + 1, tab.outcome_state[1], -1)
                        stay(epno, lv, entered, te, _X_DROP)
                        outcome = 1
                    else:
                        ep.transfer_out(at=times[te])
                        emit(epno, te, _TRANSFER_OUT, lv + 1, tab.outcome_state[2], -1)
                        stay(epno, lv, entered, te, _X_TRANSFER)
                        outcome = 2
                except TransitionRejected:
                    t = te
                    step += 1
                    continue
                t = te
                break
            # A reassessment.
            if nxt >= days:
                break
            chance = improve[lv][min(nxt - last_review, review[lv])]
            for d in range(6):
                if prof[d] > 0 and us[_IMPROVE + d] < chance:
                    prof[d] -= 1
            idx = _index(prof)
            placed = place(idx)
            t = last_review = nxt
            if placed > lv:
                try:
                    ep.step_up(codes[placed], at=times[t], assessment=assessment(idx))
                except TransitionRejected:
                    pass
                else:
                    emit(epno, t, _STEP_UP, lv + 1, placed + 1, idx)
                    stay(epno, lv, entered, t, _X_STEP_UP)
                    lv = placed
                    entered = t
                step += 1
                continue
            length = t - entered
            if (length >= min_days[lv] and (placed < lv or max(prof) <= remission)) or (
                mx >= 0 and length >= mx
            ):
                target = -1
                policy = tab.step_down_to[lv]
                if policy >= 0 and all(
                    r <= m for r, m in zip(prof, tab.maxima[policy], strict=True)
                ):
                    target = policy
                elif placed < lv:
                    target = placed
                if target >= 0 and us[_CONTINUE] < tab.continuation[lv]:
                    try:
                        ep.step_down(codes[target], at=times[t], assessment=assessment(idx))
                    except TransitionRejected:
                        pass
                    else:
                        emit(epno, t, _STEP_DOWN, lv + 1, target + 1, idx)
                        stay(epno, lv, entered, t, _X_STEP_DOWN)
                        lv = target
                        entered = t
                        step += 1
                        continue
                try:
                    ep.complete(at=times[t], assessment=assessment(idx))
                except TransitionRejected:
                    pass
                else:
                    emit(epno, t, _COMPLETE, lv + 1, tab.outcome_state[0], idx)
                    stay(epno, lv, entered, t, _X_COMPLETE)
                    outcome = 0
                    break
            step += 1
        if outcome < 0:  # still in care at the horizon
            stay(epno, lv, entered, days, _X_CENSORED)
            return
        # After an outcome: a readmission, drawn from this step's numbers.
        if step >= u.shape[0]:
            u = _more(seed, p, u)
        us = u[step].tolist()
        if us[_READMIT] >= tab.readmit[outcome]:
            return
        k = bisect_right(tab.delay_cdf[outcome], us[_READMIT_DELAY])
        if t + k >= days:
            return
        if us[_RELAPSE_OUT] < tab.relapse_out[k]:
            for d in range(6):
                if prof[d] < 4 and us[_WORSEN_OUT + d] < tab.worsen[d]:
                    prof[d] += 1
        t += k
        step += 1
        epno += 1
        previous = ep
