"""The fast engine: every patient of a block advances together as numpy arrays.

It follows the reference engine (:mod:`carepath.sim._engine`) cycle for cycle:
the same counter-based numbers, compared with the same :class:`Tables`, and the
pathway's guards compiled to array predicates (:mod:`carepath.sim._compile`).
A move the guards refuse is not made, exactly as in the reference engine, so
both engines give the same rows. Each pass of the loop advances every live
patient by one cycle (a patient's cycle is real work in the reference engine too,
so no pass is wasted); rows are collected per pass and put in patient order
(each patient's rows in time order) at the end.

What keeps it fast (docs/simulation-performance.md has the figures): draws are
compared as their 32 integer bits with integer thresholds (:func:`_th`, exact), so
no float conversion; six-dimension draws (three hashes, two draws each) are hashed
in cache-sized slices; a
profile is one index and rating moves are a byte-flag word and a table lookup
(:func:`_packed`); the several bisect tables are one ``searchsorted``; the cycle
works on whole (compacted) arrays rather than gathering the patients in care;
rows keep the result's dtypes and are placed by a counting sort.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Final, final

import numpy as np
import numpy.typing as npt

from carepath._guards import Event

from ._compile import RATINGS, Compiled
from ._engine import EVENTS, Tables
from ._kernel import call, kernel
from ._random import DRAW_BITS, STEP_BITS, STREAM_BITS, Stream, keys

__all__ = ["ArrayRows", "Columns", "run_fast"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]

_GAMMA: Final = np.uint64(0x9E3779B97F4A7C15)
_M1: Final = np.uint64(0xBF58476D1CE4E5B9)
_M2: Final = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32, _S56 = (np.uint64(s) for s in (30, 27, 31, 32, 56))
_LOW: Final = np.uint64(0xFFFFFFFF)
_PATIENT_SHIFT: Final = np.uint64(STEP_BITS + STREAM_BITS)
_STEP_SHIFT: Final = np.uint64(STREAM_BITS)
_ONE: Final = 2.0**DRAW_BITS
_TABLE_SHIFT: Final = np.uint64(54)
_DELTA: Final = np.array(
    [sum(5**d for d in range(6) if c >> d & 1) for c in range(64)], dtype=np.int64
)
"""``_DELTA[c]``: how much the profile index changes when the dimensions in the bit set
``c`` move by one rating."""
_GATHER_BITS: Final = np.uint64(0x0102040810204080)
_WORD: Final = np.dtype("<u8")  # eight bytes, byte d as the d-th least significant


def _bytes(mask: npt.NDArray[np.bool_]) -> U64:
    """Rows of six flags as one word each: flag ``d`` in byte ``d`` (bytes 6, 7 zero)."""
    out = np.zeros((mask.shape[0], 8), dtype=np.bool_)
    out[:, :6] = mask
    return out.view(_WORD).reshape(-1)


_RATED: Final = _bytes(RATINGS > 0)
"""Per profile: which ratings are above 0 (can improve), as :func:`_bytes`."""
_BELOW_TOP: Final = _bytes(RATINGS < 4)
"""Per profile: which ratings are below 4 (can worsen), as :func:`_bytes`."""
_MAX_RATING: Final = RATINGS.max(axis=1)
_RATED_BITS: Final = ((RATINGS > 0) << np.arange(6)).sum(axis=1).astype(np.int64)
"""Per profile: which ratings are above 0, as bits (bit ``d`` for dimension ``d``)."""
_BELOW_TOP_BITS: Final = ((RATINGS < 4) << np.arange(6)).sum(axis=1).astype(np.int64)
"""Per profile: which ratings are below 4, as bits."""
_SLICE: Final = 32_768

_ADMIT, _STEP_DOWN, _STEP_UP, _RELAPSE = (
    EVENTS.index(e) for e in ("admit", "step_down", "step_up", "relapse")
)
_COMPLETE, _DROP_OUT, _TRANSFER_OUT = (
    EVENTS.index(e) for e in ("complete", "drop_out", "transfer_out")
)
_X_STEP_DOWN, _X_STEP_UP, _X_RELAPSE, _X_COMPLETE, _X_DROP, _X_TRANSFER, _X_CENSORED = range(7)
_ADMITTING, _IN_CARE, _ENDED = 0, 1, 2


def _mix(z: U64) -> U64:
    """The SplitMix64 finaliser, in place (``z`` is overwritten and returned)."""
    t = z >> _S30
    z ^= t
    z *= _M1
    np.right_shift(z, _S27, out=t)
    z ^= t
    z *= _M2
    np.right_shift(z, _S31, out=t)
    z ^= t
    return z


def _th(values: Sequence[float]) -> U64:
    """Integer thresholds of probabilities (or table entries) ``v``.

    A draw is ``u = bits * 2**-32`` with ``bits`` a whole number below ``2**32``, so
    ``u < v`` exactly when ``bits < ceil(v * 2**32)`` (a scaling by a power of two is
    exact): the engine compares the 32 random bits with these, never converting to
    floats, and makes exactly the comparisons of the reference engine. Cached by
    value (a PSA's samples share most tables).
    """
    out: U64 = _thresholds(tuple(values)).copy()
    return out


@functools.lru_cache(maxsize=4096)
def _thresholds(values: tuple[float, ...]) -> U64:
    scaled = np.ceil(np.asarray(values, dtype=np.float64) * _ONE)  # exact, as math.ceil
    out: U64 = np.maximum(scaled, 0.0).astype(np.uint64)
    return out


def _stacked(tables: Sequence[Sequence[float]]) -> tuple[U64, I64]:
    """Several ``bisect_right`` tables as one sorted threshold array.

    Table ``i`` is offset by ``i << 54`` (thresholds are at most ``2**32``), so one
    ``searchsorted`` of ``i << 54 | bits`` finds the place in table ``i``; returns
    the array and where each table starts in it.
    """
    parts = [_th(t) + (np.uint64(i) << _TABLE_SHIFT) for i, t in enumerate(tables)]
    starts = np.cumsum([0] + [len(t) for t in tables[:-1]]).astype(np.int64)
    return np.concatenate(parts), starts


def _bisect(table: U64, starts: I64, which: I64, bits: U64) -> I64:
    """``bisect_right(tables[which[i]], u[i])`` for every ``i`` (see :func:`_stacked`)."""
    key = which.astype(np.uint64)
    key <<= _TABLE_SHIFT
    key |= bits
    out: I64 = np.searchsorted(table, key, side="right")
    out -= starts[which]
    return out


def _packed(flags: U64) -> I64:
    """The profile index change for dimensions moving by one, given as :func:`_bytes`
    words (a multiply gathers the six byte flags into the top byte as bits)."""
    flags *= _GATHER_BITS
    flags >>= _S56
    out: I64 = _DELTA[flags]
    return out


def _halves(z: U64) -> npt.NDArray[np.uint32]:
    """Hashes of shape (m, k) as their 32-bit halves, shape (m, 2 k): the low half of
    each word, then its high half (streams ``2 j`` and ``2 j + 1``)."""
    return z.astype("<u8", copy=False).view("<u4")


@final
class _Draws:
    """:func:`carepath.sim.uniforms` for one seed, as the 32 random bits of each number
    (``u = bits * 2**-32``)."""

    def __init__(self, seed: int) -> None:
        k1, k2 = keys(seed)
        self.k1, self.k2 = np.uint64(k1), np.uint64(k2)
        self._three = {
            s: np.arange(s >> 1, (s >> 1) + 3, dtype=np.uint64)[None, :]
            for s in (
                int(Stream.PROFILE),
                int(Stream.IMPROVE),
                int(Stream.WORSEN),
                int(Stream.WORSEN_OUT),
            )
        }

    def _group(self, stream: int) -> U64:
        """The pairs of the six streams from ``stream``, which must start a pair."""
        if stream % 2:
            raise ValueError(f"a group of six draws starts at an even stream, not {stream}")
        return self._three[stream]

    @staticmethod
    def base(patient: I64, step: I64) -> U64:
        out = patient.astype(np.uint64)
        out <<= _PATIENT_SHIFT
        s = step.astype(np.uint64)
        s <<= _STEP_SHIFT
        out |= s
        return out

    def _hash(self, z: U64) -> U64:
        z *= _GAMMA
        z += self.k1
        _mix(z)
        z ^= self.k2
        _mix(z)
        return z

    def __call__(self, base: U64, stream: int) -> U64:
        """The bits of stream ``stream`` for each base (``u = bits * 2**-32``)."""
        z = self.word(base, stream)
        if stream & 1:
            z >>= _S32
        else:
            z &= _LOW
        return z

    def word(self, base: U64, stream: int) -> U64:
        """The hashes of stream ``stream``'s pair for each base (both streams' bits)."""
        return self._hash(base | np.uint64(stream >> 1))

    def also(self, w: U64, first: int, base: U64, stream: int) -> U64:
        """The bits of ``stream``, given ``w = word(base, first)``: no second hash when
        the two streams share a pair."""
        if stream >> 1 != first >> 1:
            return self(base, stream)
        return w >> _S32 if stream & 1 else w & _LOW

    def six(self, base: U64, stream: int) -> npt.NDArray[np.uint32]:
        """Streams ``stream .. stream + 5`` (``stream`` even) for each base, shape (m, 6)."""
        z = base[:, None] | self._group(stream)
        flat = z.reshape(-1)
        # In slices that stay in the CPU cache: the hash is a dozen passes over the
        # array, about three times faster on 256 KB slices than on 12 MB at once.
        for i in range(0, flat.size, _SLICE):
            self._hash(flat[i : i + _SLICE])
        return _halves(z)

    def six_below(self, base: U64, stream: int, limit: U64) -> U64:
        """Whether each of streams ``stream .. stream + 5`` is below ``limit`` (broadcast
        to (m, 6)), as :func:`_bytes` words: :meth:`six` compared slice by slice."""
        m = base.size
        out = np.zeros((m, 8), dtype=np.bool_)
        rows = _SLICE // 3
        per_row = limit.shape[0] != 1
        for i in range(0, m, rows):
            z = base[i : i + rows, None] | self._group(stream)
            self._hash(z)
            np.less(
                _halves(z), limit[i : i + rows] if per_row else limit, out=out[i : i + rows, :6]
            )
        return out.view(_WORD).reshape(-1)


_Int = type[np.integer[Any]]
_EV_TYPES: Final[tuple[_Int, ...]] = (
    np.int64,
    np.int32,
    np.int32,
    np.int8,
    np.int8,
    np.int8,
    np.int16,
)
_ST_TYPES: Final[tuple[_Int, ...]] = (np.int64, np.int32, np.int8, np.int32, np.int32, np.int8)


def _column(values: I64 | int, m: int, dtype: _Int) -> npt.NDArray[Any]:
    if isinstance(values, int):
        return np.full(m, values, dtype=dtype)
    return values.astype(dtype)


@final
class ArrayRows:
    """The engine's rows as numpy columns (the attribute names of :class:`Rows`).

    Columns are kept in the dtypes of the result's tables (int32 days, int8 codes,
    int16 assessments), so building the tables copies nothing. Rows arrive pass by
    pass; each call names distinct patients (of ``first .. first + n - 1``), and each
    row notes how many rows its patient had before it, so :meth:`finish` puts every
    row at its place in patient order (a counting sort) instead of sorting.
    """

    def __init__(self, first: int = 0, n: int = 0) -> None:
        self._first = first
        self._ev: list[tuple[npt.NDArray[Any], ...]] = []
        self._st: list[tuple[npt.NDArray[Any], ...]] = []
        self._ev_seq: list[I64] = []
        self._st_seq: list[I64] = []
        self._ev_count = np.zeros(n, dtype=np.int64)
        self._st_count = np.zeros(n, dtype=np.int64)
        (
            self.ev_patient,
            self.ev_episode,
            self.ev_day,
            self.ev_event,
            self.ev_from,
            self.ev_to,
            self.ev_assessment,
        ) = (np.zeros(0, d) for d in _EV_TYPES)
        (
            self.st_patient,
            self.st_episode,
            self.st_level,
            self.st_start,
            self.st_end,
            self.st_exit,
        ) = (np.zeros(0, d) for d in _ST_TYPES)

    def _seq(self, count: I64, patient: I64) -> I64:
        rel = patient - self._first
        seq: I64 = count[rel]
        count[rel] += 1  # patients are distinct within one call
        return seq

    def event(
        self,
        patient: I64,
        episode: I64,
        day: I64,
        event: int,
        source: I64,
        target: I64 | int,
        assessment: I64 | int,
    ) -> None:
        m = patient.size
        if m:
            self._ev_seq.append(self._seq(self._ev_count, patient))
            self._ev.append(
                tuple(
                    _column(v, m, d)
                    for v, d in zip(
                        (patient, episode, day, event, source, target, assessment),
                        _EV_TYPES,
                        strict=True,
                    )
                )
            )

    def stay(
        self, patient: I64, episode: I64, level: I64, start: I64, end: I64 | int, exit_: int
    ) -> None:
        m = patient.size
        if m:
            self._st_seq.append(self._seq(self._st_count, patient))
            self._st.append(
                tuple(
                    _column(v, m, d)
                    for v, d in zip(
                        (patient, episode, level, start, end, exit_), _ST_TYPES, strict=True
                    )
                )
            )

    def _ordered(
        self,
        parts: list[tuple[npt.NDArray[Any], ...]],
        seqs: list[I64],
        count: I64,
        types: tuple[_Int, ...],
    ) -> list[npt.NDArray[Any]]:
        if not parts:
            return [np.zeros(0, d) for d in types]
        columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
        start = np.cumsum(count) - count
        where = start[columns[0] - self._first] + np.concatenate(seqs)
        out = []
        for c in columns:
            o = np.empty_like(c)
            o[where] = c
            out.append(o)
        return out

    def finish(self) -> None:
        """Put the rows in patient order (each patient's in the order they came)."""
        (
            self.ev_patient,
            self.ev_episode,
            self.ev_day,
            self.ev_event,
            self.ev_from,
            self.ev_to,
            self.ev_assessment,
        ) = self._ordered(self._ev, self._ev_seq, self._ev_count, _EV_TYPES)
        (
            self.st_patient,
            self.st_episode,
            self.st_level,
            self.st_start,
            self.st_end,
            self.st_exit,
        ) = self._ordered(self._st, self._st_seq, self._st_count, _ST_TYPES)
        self._ev, self._st, self._ev_seq, self._st_seq = [], [], [], []


_ROOM = (4, 3)
"""Event and stay rows first allocated per patient for the kernel (the standard pathway
has about 3.6 and 2.0; more room is made when needed)."""


def _grown(column: npt.NDArray[Any], used: int) -> npt.NDArray[Any]:
    """A column half as large again, with its first ``used`` entries (only those copied:
    the rest was never written, and untouched memory costs nothing until written)."""
    out = np.empty(column.size + column.size // 2 + 64, dtype=column.dtype)
    out[:used] = column[:used]
    return out


@final
class Columns:
    """The result's columns (in its dtypes) that the kernel writes rows into, block after
    block: allocated once from an estimate (:data:`_ROOM` rows per patient; memory is
    only committed where rows are written) and grown when a block needs more.

    The single-process run writes every block here and builds its tables once, from
    views of these columns, instead of building and concatenating tables per block.
    """

    def __init__(self, patients: int) -> None:
        per_ev, per_st = _ROOM
        self.ev = [np.empty(per_ev * patients + 64, dtype=d) for d in _EV_TYPES]
        self.st = [np.empty(per_st * patients + 64, dtype=d) for d in _ST_TYPES]
        self.counts = np.zeros(2, dtype=np.int64)
        """Event and stay rows written so far (where the next block's rows go)."""

    def grow(self) -> None:
        """Half as much room again, keeping the rows written."""
        ne, ns = int(self.counts[0]), int(self.counts[1])
        self.ev = [_grown(c, ne) for c in self.ev]
        self.st = [_grown(c, ns) for c in self.st]

    def append(self, rows: ArrayRows) -> None:
        """Copy rows made elsewhere (the numpy loop's) after those written."""
        ne, ns = int(self.counts[0]), int(self.counts[1])
        me, ms = rows.ev_patient.size, rows.st_patient.size
        while ne + me > self.ev[0].size or ns + ms > self.st[0].size:
            self.grow()
        for c, v in zip(
            self.ev,
            (
                rows.ev_patient,
                rows.ev_episode,
                rows.ev_day,
                rows.ev_event,
                rows.ev_from,
                rows.ev_to,
                rows.ev_assessment,
            ),
            strict=True,
        ):
            c[ne : ne + me] = v
        for c, v in zip(
            self.st,
            (
                rows.st_patient,
                rows.st_episode,
                rows.st_level,
                rows.st_start,
                rows.st_end,
                rows.st_exit,
            ),
            strict=True,
        ):
            c[ns : ns + ms] = v
        self.counts += (me, ms)

    def rows(self, first: int = 0, ev_from: int = 0, st_from: int = 0) -> ArrayRows:
        """Rows ``ev_from ..`` and ``st_from ..`` up to those written, as :class:`ArrayRows`
        of views (nothing copied)."""
        rows = ArrayRows(first, 0)
        ne, ns = int(self.counts[0]), int(self.counts[1])
        (
            rows.ev_patient,
            rows.ev_episode,
            rows.ev_day,
            rows.ev_event,
            rows.ev_from,
            rows.ev_to,
            rows.ev_assessment,
        ) = (c[ev_from:ne] for c in self.ev)
        (
            rows.st_patient,
            rows.st_episode,
            rows.st_level,
            rows.st_start,
            rows.st_end,
            rows.st_exit,
        ) = (c[st_from:ns] for c in self.st)
        return rows


def _compiled_run(
    fn: Callable[..., int],
    draw: _Draws,
    first: int,
    n: int,
    idx: I64,
    days: int,
    tab: Tables,
    comp: Compiled,
    out: Columns,
    *arrays: npt.NDArray[Any],
) -> ArrayRows:
    """The patients' courses by the compiled kernel (:mod:`._kernel`), written after the
    rows already in ``out``; returns them as :class:`ArrayRows` (views) in patient order
    (the kernel writes each patient's rows in time order)."""
    ints = np.array(
        [
            tab.n_levels,
            tab.remission,
            _ADMIT,
            _STEP_DOWN,
            _STEP_UP,
            _RELAPSE,
            _COMPLETE,
            _DROP_OUT,
            _TRANSFER_OUT,
            _X_STEP_DOWN,
            _X_STEP_UP,
            _X_RELAPSE,
            _X_COMPLETE,
            _X_DROP,
            _X_TRANSFER,
            _X_CENSORED,
            int(Stream.EVENT_TIME),
            int(Stream.EVENT_KIND),
            int(Stream.IMPROVE),
            int(Stream.WORSEN),
            int(Stream.CONTINUE),
            int(Stream.READMIT),
            int(Stream.READMIT_DELAY),
            int(Stream.RELAPSE_OUT),
            int(Stream.WORSEN_OUT),
            int(_PATIENT_SHIFT),
            int(_STEP_SHIFT),
            int(Stream.COHORT_CLASS),
            int(Stream.PROFILE),
            n,
        ],
        dtype=np.int64,
    )
    tables = (
        *arrays[:10],
        arrays[10].reshape(-1),
        *arrays[11:],
        comp.placement,
        comp.fits,
        comp.relapse_target,
        comp.admit,
        comp.step_up,
        comp.step_down,
        comp.relapse,
        comp.complete,
        comp.drop_out,
        comp.transfer_out,
        comp.profile_ok,
        comp.low,
        comp.high,
        _RATED_BITS,
        _BELOW_TOP_BITS,
        _MAX_RATING,
        _DELTA,
    )
    ev_from, st_from = int(out.counts[0]), int(out.counts[1])
    start = 0
    while True:
        start = call(
            fn,
            draw.k1,
            draw.k2,
            first,
            start,
            idx,
            days,
            ints,
            *tables,
            *out.ev,
            *out.st,
            out.counts,
        )
        if start >= n:
            break
        out.grow()  # out of room: the rows so far (whole patients) are kept
    return out.rows(first, ev_from, st_from)


def run_fast(  # noqa: PLR0915  # one cycle of the reference engine, as arrays
    tab: Tables,
    comp: Compiled,
    seed: int,
    first: int,
    n: int,
    out: Columns | None = None,
) -> ArrayRows:
    """Simulate patients ``first .. first + n - 1`` with the fast engine.

    With ``out``, the rows are written (or, by the numpy loop, copied) after those
    already there, and the result's columns are views of ``out``'s.
    """
    days = tab.days
    draw = _Draws(seed)
    rows = ArrayRows(first, n)
    review = np.array(tab.review, dtype=np.int64)
    max_days = np.array(tab.max_days, dtype=np.int64)
    stay_cap = np.where(max_days >= 0, max_days, 1 << 40)
    min_days = np.array(tab.min_days, dtype=np.int64)
    event_tab, event_start = _stacked(tab.event_cdf)
    width = int(review.max()) + 1
    improve = np.full((tab.n_levels, width), _th([1.0])[0], dtype=np.uint64)
    for i, row in enumerate(tab.improve):
        improve[i, : len(row)] = _th(row)
    relapse_edge = _th(tab.relapse_edge)
    drop_edge = _th(tab.drop_edge)
    continuation = _th(tab.continuation)
    step_down_to = np.array(tab.step_down_to, dtype=np.int64)
    worsen = _th(tab.worsen)[None, :]
    readmit = _th(tab.readmit)
    delay_tab, delay_start = _stacked(tab.delay_cdf)
    relapse_out = _th(tab.relapse_out)
    outcome_state = np.array(tab.outcome_state, dtype=np.int64)
    placement, fits, relapse_target = comp.placement, comp.fits, comp.relapse_target
    allowed = comp.allowed
    n_levels = tab.n_levels

    fn = None if comp.customs else kernel()
    pid = np.arange(first, first + n, dtype=np.int64)
    step = np.zeros(n, dtype=np.int64)
    classes = np.array(
        [sum(r * 5**d for d, r in enumerate(p)) for p in tab.class_profiles], dtype=np.int64
    )
    class_th = _th(tab.class_edges)
    jitter = _th([tab.jitter_low, tab.jitter_high])
    # Each patient's assessment as a profile index (ratings are RATINGS[idx]).
    if tab.profiles is not None:
        given = np.asarray(tab.profiles, dtype=np.int64)
        idx = given[pid % given.size]
    elif fn is not None:
        idx = np.zeros(0, dtype=np.int64)  # drawn by the kernel
    else:
        b0 = draw.base(pid, step)
        k = np.searchsorted(class_th, draw(b0, int(Stream.COHORT_CLASS)), side="right")
        idx = classes[k]
        jit = draw.six(b0, int(Stream.PROFILE))
        low = jit < jitter[0]
        high = ~low & (jit >= jitter[1])
        idx = idx - _packed(_bytes(low) & _RATED[idx]) + _packed(_bytes(high) & _BELOW_TOP[idx])
    if fn is not None:
        return _compiled_run(
            fn,
            draw,
            first,
            n,
            idx,
            days,
            tab,
            comp,
            Columns(n) if out is None else out,
            review,
            stay_cap,
            min_days,
            event_tab,
            event_start,
            improve,
            relapse_edge,
            drop_edge,
            continuation,
            step_down_to,
            worsen,
            readmit,
            delay_tab,
            delay_start,
            relapse_out,
            outcome_state,
            class_th,
            classes,
            jitter,
        )
    zeros = np.zeros(n, dtype=np.int64)
    t, epno, lv, entered, last, rec, outcome = (zeros.copy() for _ in range(7))
    phase = np.zeros(n, dtype=np.int8)

    done = np.zeros(n, dtype=np.bool_)
    while pid.size:
        # -- after an outcome: a readmission, from the outcome cycle's numbers ------------
        o = np.flatnonzero(phase == _ENDED)
        if o.size:
            b = draw.base(pid[o], step[o])
            oc = outcome[o]
            go = draw(b, int(Stream.READMIT)) < readmit[oc]
            done[o[~go]] = True
            o, b, oc = o[go], b[go], oc[go]
            w_delay = draw.word(b, int(Stream.READMIT_DELAY))
            k = _bisect(
                delay_tab,
                delay_start,
                oc,
                draw.also(w_delay, int(Stream.READMIT_DELAY), b, int(Stream.READMIT_DELAY)),
            )
            late = t[o] + k >= days
            done[o[late]] = True
            keep = ~late
            o, b, k, w_delay = o[keep], b[keep], k[keep], w_delay[keep]
            relapsed = (
                draw.also(w_delay, int(Stream.READMIT_DELAY), b, int(Stream.RELAPSE_OUT))
                < relapse_out[k]
            )
            r = np.flatnonzero(relapsed)
            if r.size:
                w = draw.six_below(b[r], int(Stream.WORSEN_OUT), worsen)
                gr = o[r]
                cur = idx[gr]
                idx[gr] = cur + _packed(_BELOW_TOP[cur] & w)
            t[o] += k
            step[o] += 1
            epno[o] += 1
            phase[o] = _ADMITTING

        # -- admission: the placement, else the next more intensive level allowed -----------
        a = np.flatnonzero(phase == _ADMITTING)
        if a.size:
            ia = idx[a]
            placed = placement[ia]
            target = np.full(a.size, -1, dtype=np.int64)
            todo = np.arange(a.size)
            for j in range(n_levels):
                cand = placed[todo] + j
                valid = cand < n_levels
                todo, cand = todo[valid], cand[valid]
                if todo.size == 0:
                    break
                ok = allowed(comp.admit[cand], ia[todo], np.zeros(todo.size, np.int64), Event.ADMIT)
                target[todo[ok]] = cand[ok]
                todo = todo[~ok]
            refused = target < 0
            done[a[refused]] = True
            a, ia, target = a[~refused], ia[~refused], target[~refused]
            rows.event(pid[a], epno[a], t[a], _ADMIT, np.zeros(a.size, np.int64), target + 1, ia)
            lv[a] = target
            entered[a] = t[a]
            last[a] = t[a]
            rec[a] = ia
            phase[a] = _IN_CARE

        # -- one cycle of care ----------------------------------------------------------------
        # Drop the patients whose course ended (here or at the last pass's cycle): every
        # patient left is in care, and the cycle works on whole arrays.
        if done.any():
            live = ~done
            pid, step, idx, t, epno, lv, entered, last, rec, outcome = (
                arr[live] for arr in (pid, step, idx, t, epno, lv, entered, last, rec, outcome)
            )
            phase = phase[live]
            done = np.zeros(pid.size, dtype=np.bool_)
        if pid.size:
            b = draw.base(pid, step)
            # Views, not copies: a patient's entries change only after its own last read.
            lc, tc, lr, en = lv, t, last, entered
            mx = stay_cap[lc]  # the maximum stay, else a bound never reached
            cap = en + mx
            nxt = np.where(cap > lr, np.minimum(lr + review[lc], cap), lr + 1)
            w_time = draw.word(b, int(Stream.EVENT_TIME))  # also the event kind's
            k = _bisect(
                event_tab,
                event_start,
                lc,
                draw.also(w_time, int(Stream.EVENT_TIME), b, int(Stream.EVENT_TIME)),
            )
            is_event = k <= nxt - tc

            # An unplanned event.
            e = np.flatnonzero(is_event)
            te = tc[e] + k[e]
            cens = te >= days
            ce = e[cens]
            rows.stay(pid[ce], epno[ce], lv[ce], entered[ce], days, _X_CENSORED)
            done[ce] = True
            e, te = e[~cens], te[~cens]
            x = draw.also(w_time[e], int(Stream.EVENT_TIME), b[e], int(Stream.EVENT_KIND))
            le = lc[e]
            is_relapse = x < relapse_edge[le]
            is_drop = ~is_relapse & (x < drop_edge[le])
            # Relapse: ratings may worsen; re-placed in place or up, if the guards allow.
            r = np.flatnonzero(is_relapse)
            if r.size:
                gi, ter = e[r], te[r]
                w = draw.six_below(b[e[r]], int(Stream.WORSEN), worsen)
                cur = idx[gi]
                widx = cur + _packed(_BELOW_TOP[cur] & w)
                src = lv[gi]
                dst = relapse_target[src, widx]
                ok = allowed(comp.relapse[src, dst], widx, ter - entered[gi], Event.RELAPSE)
                g, ter, src, dst, widx = gi[ok], ter[ok], src[ok], dst[ok], widx[ok]
                idx[g] = widx
                rec[g] = widx
                rows.event(pid[g], epno[g], ter, _RELAPSE, src + 1, dst + 1, widx)
                moved = dst != src
                gm = g[moved]
                rows.stay(pid[gm], epno[gm], src[moved], entered[gm], ter[moved], _X_RELAPSE)
                lv[gm] = dst[moved]
                entered[gm] = ter[moved]
                last[g] = ter
                t[gi] = te[r]  # refused or not, time moves to the relapse
                step[gi] += 1
            # Drop out or transfer out.
            for mask, check, event, exit_, which in (
                (is_drop, comp.drop_out, _DROP_OUT, _X_DROP, 1),
                (~is_relapse & ~is_drop, comp.transfer_out, _TRANSFER_OUT, _X_TRANSFER, 2),
            ):
                d = np.flatnonzero(mask)
                if d.size == 0:
                    continue
                gi, ted = e[d], te[d]
                src = lv[gi]
                ok = allowed(
                    check[src],
                    rec[gi],
                    ted - entered[gi],
                    Event.DROP_OUT if which == 1 else Event.TRANSFER_OUT,
                )
                g, ted, src = gi[ok], ted[ok], src[ok]
                rows.event(pid[g], epno[g], ted, event, src + 1, int(outcome_state[which]), -1)
                rows.stay(pid[g], epno[g], src, entered[g], ted, exit_)
                outcome[g] = which
                phase[g] = _ENDED
                t[gi] = te[d]
                step[gi[~ok]] += 1  # a refused outcome: the patient stays

            # A reassessment.
            s = np.flatnonzero(~is_event)
            ns = nxt[s]
            cens = ns >= days
            cs = s[cens]
            rows.stay(pid[cs], epno[cs], lv[cs], entered[cs], days, _X_CENSORED)
            done[cs] = True
            s, ns = s[~cens], ns[~cens]
            if s.size:
                gi = s
                src = lc[s]
                chance = improve[src, np.minimum(ns - lr[s], review[src])]
                u = draw.six_below(b[s], int(Stream.IMPROVE), chance[:, None])
                cur = idx[gi]
                new = cur - _packed(_RATED[cur] & u)
                idx[gi] = new
                placed = placement[new]
                t[gi] = ns
                last[gi] = ns
                step[gi] += 1  # every branch but completion moves to the next step
                up = placed > src
                length = ns - en[s]
                # Step up when the placement is more intensive.
                if up.any():
                    gu, su, pu, iu = gi[up], src[up], placed[up], new[up]
                    ok = allowed(comp.step_up[su, pu], iu, length[up], Event.STEP_UP)
                    g, su, pu, iu = gu[ok], su[ok], pu[ok], iu[ok]
                    rows.event(pid[g], epno[g], t[g], _STEP_UP, su + 1, pu + 1, iu)
                    rows.stay(pid[g], epno[g], su, entered[g], t[g], _X_STEP_UP)
                    lv[g] = pu
                    entered[g] = t[g]
                    rec[g] = iu
                # Ready to leave: step down, else complete.
                ready = (
                    (length >= min_days[src])
                    & ((placed < src) | (_MAX_RATING[new] <= tab.remission))
                ) | (length >= mx[s])
                ready &= ~up
                y = np.flatnonzero(ready)
                if y.size:
                    gy, sy, py, iy, ly = gi[y], src[y], placed[y], new[y], length[y]
                    policy = step_down_to[sy]
                    use_policy = (policy >= 0) & fits[np.maximum(policy, 0), iy]
                    target = np.where(use_policy, policy, np.where(py < sy, py, -1))
                    cont = draw(b[s[y]], int(Stream.CONTINUE)) < continuation[sy]
                    want = np.flatnonzero((target >= 0) & cont)
                    down = np.zeros(y.size, dtype=np.bool_)
                    if want.size:
                        down[want] = allowed(
                            comp.step_down[sy[want], target[want]],
                            iy[want],
                            ly[want],
                            Event.STEP_DOWN,
                        )
                    g, sd, td, idd = gy[down], sy[down], target[down], iy[down]
                    rows.event(pid[g], epno[g], t[g], _STEP_DOWN, sd + 1, td + 1, idd)
                    rows.stay(pid[g], epno[g], sd, entered[g], t[g], _X_STEP_DOWN)
                    lv[g] = td
                    entered[g] = t[g]
                    rec[g] = idd
                    rest = ~down
                    gr, sr, ir = gy[rest], sy[rest], iy[rest]
                    ok = allowed(comp.complete[sr], ir, ly[rest], Event.COMPLETE)
                    g, sr, ir = gr[ok], sr[ok], ir[ok]
                    rows.event(pid[g], epno[g], t[g], _COMPLETE, sr + 1, int(outcome_state[0]), ir)
                    rows.stay(pid[g], epno[g], sr, entered[g], t[g], _X_COMPLETE)
                    outcome[g] = 0
                    phase[g] = _ENDED
                    step[g] -= 1  # the readmission draws come from the completion's step
    rows.finish()
    if out is None:
        return rows
    ev_from, st_from = int(out.counts[0]), int(out.counts[1])
    out.append(rows)
    return out.rows(first, ev_from, st_from)
