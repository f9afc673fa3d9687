"""A pathway's guards compiled to array predicates over the 15,625 assessment profiles.

Every built-in guard is a function of the assessment, the source and target
levels and the whole days spent at the source level. In a simulation the
assessment is always one of the 15,625 profiles, so each rule compiles to a
boolean table over the profiles plus an interval of allowed days at the source
level (:class:`~carepath.MinimumStay` and :class:`~carepath.MaximumStay`).
A custom guard takes part when it declares an array form (:class:`ArrayGuard`).
"""

from __future__ import annotations

import threading
from typing import Final, Protocol, final, runtime_checkable

import numpy as np
import numpy.typing as npt

from carepath._assessment import DIMENSIONS, PROFILE_COUNT
from carepath._guards import (
    Event,
    FitsCriteria,
    Guard,
    GuardContext,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    PlacementMatches,
    RelapsePlacement,
    RiskAtLeast,
    RiskAtMost,
)
from carepath._levels import INTAKE, Level, Outcome, Setting
from carepath._pathway import Pathway, Rule

__all__ = ["RATINGS", "ArrayGuard", "Compiled", "GuardArrays", "NotCompilable", "compiled"]

_PROFILES: Final = np.arange(PROFILE_COUNT, dtype=np.int64)
RATINGS: Final[npt.NDArray[np.int8]] = (
    (_PROFILES[:, None] // (5 ** np.arange(len(DIMENSIONS), dtype=np.int64))[None, :]) % 5
).astype(np.int8)
"""The six ratings of every profile index, shape (15625, 6), standard dimension order."""
RATINGS.setflags(write=False)
_ENVIRONMENT: Final = 5
_NO_LIMIT: Final = np.iinfo(np.int64).max


@final
class GuardArrays:
    """What an array-form guard sees: one move judged for many patients at once.

    Attributes:
        event: The event asked about.
        source: The level the patients are at (``None`` at intake).
        target: The level the move leads to (``None`` for an outcome).
        pathway: The pathway.
        profiles: Each patient's assessment as a profile index (int64 array; see
            :meth:`carepath.Assessment.from_index`): the assessment the event brings,
            else the latest on record.
        ratings: The same assessments as ratings, shape ``(m, 6)`` (int8), in the
            standard dimension order (withdrawal ... environment).
        days_in_level: Whole days since each patient entered the source level (int64).
    """

    __slots__ = ("days_in_level", "event", "pathway", "profiles", "ratings", "source", "target")

    def __init__(
        self,
        *,
        event: Event,
        source: Level | None,
        target: Level | None,
        pathway: Pathway,
        profiles: npt.NDArray[np.int64],
        days_in_level: npt.NDArray[np.int64],
    ) -> None:
        self.event: Event = event
        self.source: Level | None = source
        self.target: Level | None = target
        self.pathway: Pathway = pathway
        self.profiles: npt.NDArray[np.int64] = profiles
        self.ratings: npt.NDArray[np.int8] = RATINGS[profiles]
        self.days_in_level: npt.NDArray[np.int64] = days_in_level


@runtime_checkable
class ArrayGuard(Protocol):
    """The optional array form of a custom guard, which lets the fast engine run it.

    ``check_array`` must answer exactly what ``check`` answers (pass when ``check``
    returns no reasons) for each patient: True where the guard passes. A custom
    guard without it makes :func:`~carepath.sim.simulate` fall back to the
    reference engine (with a :class:`~carepath.sim.SimulationWarning`).
    """

    @property
    def kind(self) -> str: ...

    @property
    def overridable(self) -> bool: ...

    def check(self, ctx: GuardContext) -> object: ...

    def check_array(self, ctx: GuardArrays) -> npt.NDArray[np.bool_]: ...


class NotCompilable(Exception):  # internal signal, never escapes the package
    """A guard has neither a built-in kind nor an array form."""

    def __init__(self, guard: Guard, rule: Rule) -> None:
        self.guard = guard
        self.rule = rule
        super().__init__(
            f"guard {type(guard).__name__} (kind {getattr(guard, 'kind', '?')!r}) on rule "
            f"{rule.event.value} {rule.source} -> {rule.target} is not a built-in kind and "
            "declares no check_array(ctx) array form"
        )


@final
class Compiled:
    """A pathway's placement, relapse targets and guards as numpy tables.

    Check ids index :attr:`profile_ok`, :attr:`low` and :attr:`high`; id 0 is the
    move the pathway does not have (always refused).
    """

    def __init__(self, pathway: Pathway) -> None:  # noqa: PLR0915  # one pass over the rules
        self.pathway = pathway
        levels = pathway.levels
        n = len(levels)
        self.n_levels = n
        index = {lv.code: i for i, lv in enumerate(levels)}
        maxima = np.array(
            [pathway.criteria_for(lv).maximum.as_tuple() for lv in levels], dtype=np.int8
        )
        fits: npt.NDArray[np.bool_] = np.all(RATINGS[None, :, :] <= maxima[:, None, :], axis=2)
        self.fits = fits
        placed = fits.argmax(axis=0).astype(np.int64)
        self.placement: npt.NDArray[np.int64] = placed
        order = np.arange(n)[:, None]
        relapse = np.empty((n, PROFILE_COUNT), dtype=np.int64)
        for i in range(n):
            higher = fits & (order > i)
            relapse[i] = np.where(fits[i], i, higher.argmax(axis=0))
        self.relapse_target: npt.NDArray[np.int64] = relapse
        self._alternatives = self._alternative_table(levels, maxima, fits, placed)
        # Checks: id 0 is "no such rule".
        ok: list[npt.NDArray[np.bool_]] = [np.zeros(PROFILE_COUNT, dtype=np.bool_)]
        low: list[int] = [0]
        high: list[int] = [-1]
        customs: dict[int, tuple[Rule, list[ArrayGuard]]] = {}
        by_key: dict[tuple[Event, str, str], int] = {}
        for rule in pathway.rules:
            src = pathway._by_code.get(rule.source)
            dst = pathway._by_code.get(rule.target)
            table = np.ones(PROFILE_COUNT, dtype=np.bool_)
            lo, hi = 0, _NO_LIMIT
            mine: list[ArrayGuard] = []
            for g in rule.guards:
                kind = type(g)
                if kind is FitsCriteria:
                    if dst is not None:
                        table &= fits[index[dst.code]]
                elif kind is PlacementMatches:
                    if dst is not None:
                        j = index[dst.code]
                        table &= ~fits[j] | (placed == j) | self._alternatives[j]
                elif kind is NeedsMoreCare:
                    if src is not None:
                        table &= ~fits[index[src.code]]
                elif kind is NoHigherNeed:
                    if src is not None:
                        table &= fits[index[src.code]]
                elif kind is RelapsePlacement:
                    pass  # the simulation re-places every relapse, so it always holds
                elif kind is MinimumStay:
                    if src is not None:
                        lo = max(lo, src.stay.minimum_days)
                elif kind is MaximumStay:
                    if src is not None and src.stay.maximum_days is not None:
                        hi = min(hi, src.stay.maximum_days)
                elif isinstance(g, RiskAtMost):
                    table &= RATINGS[:, DIMENSIONS.index(g.dimension)] <= int(g.risk)
                elif isinstance(g, RiskAtLeast):
                    table &= RATINGS[:, DIMENSIONS.index(g.dimension)] >= int(g.risk)
                elif callable(getattr(g, "check_array", None)):
                    mine.append(g)  # type: ignore[arg-type]  # checked by the line above
                else:
                    raise NotCompilable(g, rule)
            cid = len(ok)
            ok.append(table)
            low.append(lo)
            high.append(hi)
            if mine:
                customs[cid] = (rule, mine)
            by_key[(rule.event, rule.source, rule.target)] = cid
        self.profile_ok: npt.NDArray[np.bool_] = np.stack(ok)
        self.low: npt.NDArray[np.int64] = np.array(low, dtype=np.int64)
        self.high: npt.NDArray[np.int64] = np.array(high, dtype=np.int64)
        self.customs = customs
        codes = [lv.code for lv in levels]

        def one(event: Event, source: str, target: str) -> int:
            return by_key.get((event, source, target), 0)

        self.admit = np.array([one(Event.ADMIT, INTAKE, c) for c in codes], dtype=np.int64)
        self.step_up = np.array(
            [[one(Event.STEP_UP, a, b) for b in codes] for a in codes], dtype=np.int64
        ).reshape(n, n)
        self.step_down = np.array(
            [[one(Event.STEP_DOWN, a, b) for b in codes] for a in codes], dtype=np.int64
        ).reshape(n, n)
        self.relapse = np.array(
            [[one(Event.RELAPSE, a, b) for b in codes] for a in codes], dtype=np.int64
        ).reshape(n, n)
        self.complete = np.array(
            [one(Event.COMPLETE, c, Outcome.COMPLETED.value) for c in codes], dtype=np.int64
        )
        self.drop_out = np.array(
            [one(Event.DROP_OUT, c, Outcome.DROPPED_OUT.value) for c in codes], dtype=np.int64
        )
        self.transfer_out = np.array(
            [one(Event.TRANSFER_OUT, c, Outcome.TRANSFERRED_OUT.value) for c in codes],
            dtype=np.int64,
        )

    @staticmethod
    def _alternative_table(
        levels: tuple[Level, ...],
        maxima: npt.NDArray[np.int8],
        fits: npt.NDArray[np.bool_],
        placed: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.bool_]:
        """``alt[j, p]``: level ``j`` is among the placement alternatives of profile ``p``
        (the rules of :func:`carepath._criteria.place_among`, as arrays)."""
        n = len(levels)
        settings = [lv.setting for lv in levels]
        home_level = np.array([s is Setting.RECOVERY_RESIDENCE for s in settings])
        residential = np.array([s is Setting.RESIDENTIAL for s in settings])
        m = maxima[placed]
        r = RATINGS
        limit = (r == m) & (r > 0) & (r < 4)
        limit[:, _ENVIRONMENT] &= ~home_level[placed]
        at_limit = limit.any(axis=1)
        order = np.arange(n)[:, None]
        above = fits & ~home_level[:, None] & (order > placed[None, :])
        has = above.any(axis=0) & at_limit
        first = above.argmax(axis=0)
        alt = np.zeros((n, PROFILE_COUNT), dtype=np.bool_)
        cols = np.flatnonzero(has)
        alt[first[cols], cols] = True
        env = (r[:, _ENVIRONMENT] >= 2) & ~residential[placed]
        for j in np.flatnonzero(home_level):
            alt[j] |= env & (placed != j)
        return alt

    def allowed(
        self,
        cid: npt.NDArray[np.int64],
        profile: npt.NDArray[np.int64],
        days_in_level: npt.NDArray[np.int64],
        event: Event,
    ) -> npt.NDArray[np.bool_]:
        """Whether each move (by check id) passes its guards for these patients."""
        ok: npt.NDArray[np.bool_] = (
            self.profile_ok[cid, profile]
            & (days_in_level >= self.low[cid])
            & (days_in_level <= self.high[cid])
        )
        if self.customs:
            p = self.pathway
            for c, (rule, guards) in self.customs.items():
                where = np.flatnonzero((cid == c) & ok)
                if where.size == 0:
                    continue
                ctx = GuardArrays(
                    event=event,
                    source=p._by_code.get(rule.source),
                    target=p._by_code.get(rule.target),
                    pathway=p,
                    profiles=profile[where],
                    days_in_level=days_in_level[where],
                )
                passed = np.ones(where.size, dtype=np.bool_)
                for g in guards:
                    passed &= np.asarray(g.check_array(ctx), dtype=np.bool_)
                ok[where] = passed
        return ok


_CACHE: Final[dict[str, Compiled]] = {}
_CACHE_LOCK: Final = threading.Lock()  # blocks may run on threads (an executor's)


def compiled(pathway: Pathway) -> Compiled:
    """The compiled tables of ``pathway`` (kept across runs by content hash).

    Raises:
        NotCompilable: a guard has no built-in kind and no array form.
    """
    key = pathway.content_hash
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None or (found.customs and found.pathway is not pathway):
            found = Compiled(pathway)
            if len(_CACHE) >= 16:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = found
        return found
