"""The fast engine: every patient of a block advances together as numpy arrays.

It follows the reference engine (:mod:`carepath.sim._engine`) cycle for cycle:
the same counter-based numbers, compared with the same :class:`Tables`, and the
pathway's guards compiled to array predicates (:mod:`carepath.sim._compile`).
A move the guards refuse is not made, exactly as in the reference engine, so
both engines give the same rows. Each pass of the loop advances every live
patient by one cycle; rows are collected per pass and put in patient order
(stable, so each patient's rows stay in time order) at the end.
"""

from __future__ import annotations

from typing import Final, final

import numpy as np
import numpy.typing as npt

from carepath._guards import Event

from ._compile import RATINGS, Compiled
from ._engine import EVENTS, Tables
from ._random import STEP_BITS, STREAM_BITS, Stream, keys

__all__ = ["ArrayRows", "run_fast"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

_GAMMA: Final = np.uint64(0x9E3779B97F4A7C15)
_M1: Final = np.uint64(0xBF58476D1CE4E5B9)
_M2: Final = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_SCALE: Final = 2.0**-53
_POW5: Final = 5 ** np.arange(6, dtype=np.int64)

_ADMIT, _STEP_DOWN, _STEP_UP, _RELAPSE = (EVENTS.index(e) for e in (
    "admit", "step_down", "step_up", "relapse"))
_COMPLETE, _DROP_OUT, _TRANSFER_OUT = (EVENTS.index(e) for e in (
    "complete", "drop_out", "transfer_out"))
_X_STEP_DOWN, _X_STEP_UP, _X_RELAPSE, _X_COMPLETE, _X_DROP, _X_TRANSFER, _X_CENSORED = range(7)
_ADMITTING, _IN_CARE, _ENDED = 0, 1, 2


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    out: npt.NDArray[np.uint64] = z ^ (z >> _S31)
    return out


@final
class _Draws:
    """:func:`carepath.sim.uniforms` for one seed, on precomputed counter bases."""

    def __init__(self, seed: int) -> None:
        k1, k2 = keys(seed)
        self.k1, self.k2 = np.uint64(k1), np.uint64(k2)

    @staticmethod
    def base(patient: I64, step: I64) -> npt.NDArray[np.uint64]:
        out: npt.NDArray[np.uint64] = (
            (patient.astype(np.uint64) << np.uint64(STEP_BITS + STREAM_BITS))
            | (step.astype(np.uint64) << np.uint64(STREAM_BITS))
        )
        return out

    def __call__(self, base: npt.NDArray[np.uint64], stream: int) -> F64:
        z = _mix(_mix((base | np.uint64(stream)) * _GAMMA + self.k1) ^ self.k2)
        out: F64 = (z >> _S11).astype(np.float64) * _SCALE
        return out

    def six(self, base: npt.NDArray[np.uint64], stream: int) -> F64:
        """Streams ``stream .. stream + 5`` for each base, shape (m, 6)."""
        c = base[:, None] | np.arange(stream, stream + 6, dtype=np.uint64)[None, :]
        z = _mix(_mix(c * _GAMMA + self.k1) ^ self.k2)
        out: F64 = (z >> _S11).astype(np.float64) * _SCALE
        return out


def _bisect(tables: list[F64], which: I64, u: F64) -> I64:
    """``bisect_right(tables[which[i]], u[i])`` for every ``i``."""
    out = np.zeros(u.size, dtype=np.int64)
    if len(tables) == 1:
        return np.searchsorted(tables[0], u, side="right").astype(np.int64)
    for i, table in enumerate(tables):
        m = np.flatnonzero(which == i)
        if m.size:
            out[m] = np.searchsorted(table, u[m], side="right")
    return out


@final
class ArrayRows:
    """The engine's rows as numpy columns (the attribute names of :class:`Rows`)."""

    def __init__(self) -> None:
        self._ev: list[tuple[I64, ...]] = []
        self._st: list[tuple[I64, ...]] = []
        self.ev_patient = self.ev_episode = self.ev_day = self.ev_event = np.zeros(0, np.int64)
        self.ev_from = self.ev_to = self.ev_assessment = np.zeros(0, np.int64)
        self.st_patient = self.st_episode = self.st_level = np.zeros(0, np.int64)
        self.st_start = self.st_end = self.st_exit = np.zeros(0, np.int64)

    def event(self, patient: I64, episode: I64, day: I64, event: int, source: I64,
              target: I64 | int, assessment: I64 | int) -> None:
        m = patient.size
        if m:
            self._ev.append((patient, episode, day, np.full(m, event, np.int64), source,
                             np.broadcast_to(np.asarray(target, np.int64), (m,)),
                             np.broadcast_to(np.asarray(assessment, np.int64), (m,))))

    def stay(self, patient: I64, episode: I64, level: I64, start: I64, end: I64 | int,
             exit_: int) -> None:
        m = patient.size
        if m:
            self._st.append((patient, episode, level, start,
                             np.broadcast_to(np.asarray(end, np.int64), (m,)),
                             np.full(m, exit_, np.int64)))

    def finish(self) -> None:
        """Concatenate the passes and order rows by patient (stable: time order kept)."""
        empty = np.zeros(0, np.int64)
        ev = [np.concatenate(c) for c in zip(*self._ev, strict=True)] if self._ev else [empty] * 7
        st = [np.concatenate(c) for c in zip(*self._st, strict=True)] if self._st else [empty] * 6
        self._ev, self._st = [], []
        o = np.argsort(ev[0], kind="stable")
        (self.ev_patient, self.ev_episode, self.ev_day, self.ev_event, self.ev_from,
         self.ev_to, self.ev_assessment) = (c[o] for c in ev)
        o = np.argsort(st[0], kind="stable")
        (self.st_patient, self.st_episode, self.st_level, self.st_start, self.st_end,
         self.st_exit) = (c[o] for c in st)


def run_fast(tab: Tables, comp: Compiled, seed: int, first: int, n: int) -> ArrayRows:  # noqa: PLR0915  # one cycle of the reference engine, as arrays
    """Simulate patients ``first .. first + n - 1`` with the fast engine."""
    days = tab.days
    draw = _Draws(seed)
    rows = ArrayRows()
    review = np.array(tab.review, dtype=np.int64)
    max_days = np.array(tab.max_days, dtype=np.int64)
    min_days = np.array(tab.min_days, dtype=np.int64)
    event_cdf = [np.array(c, dtype=np.float64) for c in tab.event_cdf]
    width = int(review.max()) + 1
    improve = np.ones((tab.n_levels, width), dtype=np.float64)
    for i, row in enumerate(tab.improve):
        improve[i, : len(row)] = row
    relapse_edge = np.array(tab.relapse_edge, dtype=np.float64)
    drop_edge = np.array(tab.drop_edge, dtype=np.float64)
    continuation = np.array(tab.continuation, dtype=np.float64)
    step_down_to = np.array(tab.step_down_to, dtype=np.int64)
    worsen = np.array(tab.worsen, dtype=np.float64)
    readmit = np.array(tab.readmit, dtype=np.float64)
    delay_cdf = [np.array(c, dtype=np.float64) for c in tab.delay_cdf]
    relapse_out = np.array(tab.relapse_out, dtype=np.float64)
    outcome_state = np.array(tab.outcome_state, dtype=np.int64)
    placement, fits, relapse_target = comp.placement, comp.fits, comp.relapse_target
    allowed = comp.allowed
    n_levels = tab.n_levels

    pid = np.arange(first, first + n, dtype=np.int64)
    step = np.zeros(n, dtype=np.int64)
    b0 = draw.base(pid, step)
    if tab.profiles is not None:
        given = np.asarray(tab.profiles, dtype=np.int64)
        prof = RATINGS[given[pid % given.size]].astype(np.int64)
    else:
        k = np.searchsorted(np.asarray(tab.class_edges, dtype=np.float64),
                            draw(b0, int(Stream.COHORT_CLASS)), side="right")
        prof = np.asarray(tab.class_profiles, dtype=np.int64).reshape(-1, 6)[k]
        x = draw.six(b0, int(Stream.PROFILE))
        prof = np.where(x < tab.jitter_low, np.maximum(prof - 1, 0),
                        np.where(x >= tab.jitter_high, np.minimum(prof + 1, 4), prof))
    zeros = np.zeros(n, dtype=np.int64)
    t, epno, lv, entered, last, rec, outcome = (zeros.copy() for _ in range(7))
    phase = np.zeros(n, dtype=np.int8)

    while pid.size:
        done = np.zeros(pid.size, dtype=np.bool_)

        # -- after an outcome: a readmission, from the outcome cycle's numbers ------------
        o = np.flatnonzero(phase == _ENDED)
        if o.size:
            b = draw.base(pid[o], step[o])
            oc = outcome[o]
            go = draw(b, int(Stream.READMIT)) < readmit[oc]
            done[o[~go]] = True
            o, b, oc = o[go], b[go], oc[go]
            k = _bisect(delay_cdf, oc, draw(b, int(Stream.READMIT_DELAY)))
            late = t[o] + k >= days
            done[o[late]] = True
            keep = ~late
            o, b, k = o[keep], b[keep], k[keep]
            relapsed = draw(b, int(Stream.RELAPSE_OUT)) < relapse_out[k]
            r = np.flatnonzero(relapsed)
            if r.size:
                w = draw.six(b[r], int(Stream.WORSEN_OUT))
                pr = prof[o[r]]
                prof[o[r]] = pr + ((pr < 4) & (w < worsen[None, :]))
            t[o] += k
            step[o] += 1
            epno[o] += 1
            phase[o] = _ADMITTING

        # -- admission: the placement, else the next more intensive level allowed -----------
        a = np.flatnonzero(phase == _ADMITTING)
        if a.size:
            idx = prof[a] @ _POW5
            placed = placement[idx]
            target = np.full(a.size, -1, dtype=np.int64)
            todo = np.arange(a.size)
            for j in range(n_levels):
                cand = placed[todo] + j
                valid = cand < n_levels
                todo, cand = todo[valid], cand[valid]
                if todo.size == 0:
                    break
                ok = allowed(comp.admit[cand], idx[todo], np.zeros(todo.size, np.int64),
                             Event.ADMIT)
                target[todo[ok]] = cand[ok]
                todo = todo[~ok]
            refused = target < 0
            done[a[refused]] = True
            a, idx, target = a[~refused], idx[~refused], target[~refused]
            rows.event(pid[a], epno[a], t[a], _ADMIT, np.zeros(a.size, np.int64), target + 1,
                       idx)
            lv[a] = target
            entered[a] = t[a]
            last[a] = t[a]
            rec[a] = idx
            phase[a] = _IN_CARE

        # -- one cycle of care ----------------------------------------------------------------
        c = np.flatnonzero((phase == _IN_CARE) & ~done)
        if c.size:
            b = draw.base(pid[c], step[c])
            lc, tc, lr, en = lv[c], t[c], last[c], entered[c]
            mx = max_days[lc]
            cap = en + mx
            nxt = np.where(mx >= 0, np.where(cap > lr, np.minimum(lr + review[lc], cap), lr + 1),
                           lr + review[lc])
            k = _bisect(event_cdf, lc, draw(b, int(Stream.EVENT_TIME)))
            is_event = k <= nxt - tc

            # An unplanned event.
            e = np.flatnonzero(is_event)
            te = tc[e] + k[e]
            cens = te >= days
            ce = c[e[cens]]
            rows.stay(pid[ce], epno[ce], lv[ce], entered[ce], days, _X_CENSORED)
            done[ce] = True
            e, te = e[~cens], te[~cens]
            x = draw(b[e], int(Stream.EVENT_KIND))
            le = lc[e]
            is_relapse = x < relapse_edge[le]
            is_drop = ~is_relapse & (x < drop_edge[le])
            # Relapse: ratings may worsen; re-placed in place or up, if the guards allow.
            r = np.flatnonzero(is_relapse)
            if r.size:
                gi, ter = c[e[r]], te[r]
                w = draw.six(b[e[r]], int(Stream.WORSEN))
                pr = prof[gi]
                worse = pr + ((pr < 4) & (w < worsen[None, :]))
                widx = worse @ _POW5
                src = lv[gi]
                dst = relapse_target[src, widx]
                ok = allowed(comp.relapse[src, dst], widx, ter - entered[gi], Event.RELAPSE)
                g, ter, src, dst, widx = gi[ok], ter[ok], src[ok], dst[ok], widx[ok]
                prof[g] = worse[ok]
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
                gi, ted = c[e[d]], te[d]
                src = lv[gi]
                ok = allowed(check[src], rec[gi], ted - entered[gi],
                             Event.DROP_OUT if which == 1 else Event.TRANSFER_OUT)
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
            cs = c[s[cens]]
            rows.stay(pid[cs], epno[cs], lv[cs], entered[cs], days, _X_CENSORED)
            done[cs] = True
            s, ns = s[~cens], ns[~cens]
            if s.size:
                gi = c[s]
                src = lv[gi]
                chance = improve[src, np.minimum(ns - last[gi], review[src])]
                u = draw.six(b[s], int(Stream.IMPROVE))
                pr = prof[gi]
                pr = pr - ((pr > 0) & (u < chance[:, None]))
                prof[gi] = pr
                idx = pr @ _POW5
                placed = placement[idx]
                t[gi] = ns
                last[gi] = ns
                step[gi] += 1  # every branch but completion moves to the next step
                up = placed > src
                # Step up when the placement is more intensive.
                if up.any():
                    gu, su, pu, iu = gi[up], src[up], placed[up], idx[up]
                    ok = allowed(comp.step_up[su, pu], iu, ns[up] - entered[gu], Event.STEP_UP)
                    g, su, pu, iu = gu[ok], su[ok], pu[ok], iu[ok]
                    rows.event(pid[g], epno[g], t[g], _STEP_UP, su + 1, pu + 1, iu)
                    rows.stay(pid[g], epno[g], su, entered[g], t[g], _X_STEP_UP)
                    lv[g] = pu
                    entered[g] = t[g]
                    rec[g] = iu
                # Ready to leave: step down, else complete.
                h = np.flatnonzero(~up)
                gh, sh, ph, ih = gi[h], src[h], placed[h], idx[h]
                length = ns[h] - entered[gh]
                mxh = max_days[sh]
                ready = ((length >= min_days[sh])
                         & ((ph < sh) | (prof[gh].max(axis=1) <= tab.remission))) | (
                    (mxh >= 0) & (length >= mxh))
                y = np.flatnonzero(ready)
                if y.size:
                    gy, sy, py, iy, ly = gh[y], sh[y], ph[y], ih[y], length[y]
                    policy = step_down_to[sy]
                    use_policy = (policy >= 0) & fits[np.maximum(policy, 0), iy]
                    target = np.where(use_policy, policy, np.where(py < sy, py, -1))
                    cont = draw(b[s[h[y]]], int(Stream.CONTINUE)) < continuation[sy]
                    want = np.flatnonzero((target >= 0) & cont)
                    down = np.zeros(y.size, dtype=np.bool_)
                    if want.size:
                        down[want] = allowed(comp.step_down[sy[want], target[want]], iy[want],
                                             ly[want], Event.STEP_DOWN)
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
                    rows.event(pid[g], epno[g], t[g], _COMPLETE, sr + 1, int(outcome_state[0]),
                               ir)
                    rows.stay(pid[g], epno[g], sr, entered[g], t[g], _X_COMPLETE)
                    outcome[g] = 0
                    phase[g] = _ENDED
                    step[g] -= 1  # the readmission draws come from the completion's step

        if done.any():
            live = ~done
            pid, step, prof, t, epno, lv, entered, last, rec, outcome = (
                arr[live] for arr in (pid, step, prof, t, epno, lv, entered, last, rec,
                                      outcome))
            phase = phase[live]
    rows.finish()
    return rows
