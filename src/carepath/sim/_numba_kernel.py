"""The fast engine's compiled kernel: each patient's cycles walked in numba.

Imported only through :mod:`carepath.sim._kernel` (numba is optional). The kernel
makes exactly the numpy loop's moves of :func:`carepath.sim._fast.run_fast`, one
patient at a time: the same counter-based draws (SplitMix64 on ``uint64``, each hash
two draws, compared as their 32 integer bits with the same integer thresholds; a
group of six draws is three hashes), the same tables and
the same guard checks, so both give the same rows. Each patient's rows are
written in time order, patient after patient, so they come out in patient order.
"""

from __future__ import annotations

from typing import Any, Final

import numba
import numpy as np

__all__ = ["run"]

_U = np.uint64
_GAMMA: Final = _U(0x9E3779B97F4A7C15)
_M1: Final = _U(0xBF58476D1CE4E5B9)
_M2: Final = _U(0x94D049BB133111EB)
_S30: Final = _U(30)
_S27: Final = _U(27)
_S31: Final = _U(31)
_S32: Final = _U(32)
_LOW: Final = _U(0xFFFFFFFF)
_S54: Final = _U(54)
_ZERO: Final = np.zeros(1, dtype=np.int64)

_njit = numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)


@_njit
def mix(z: Any) -> Any:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_njit
def word(k1: Any, k2: Any, base: Any, pair: int) -> Any:
    """The 64-bit hash of streams ``2 pair`` (low half) and ``2 pair + 1`` (high half)."""
    return mix(mix((base | _U(pair)) * _GAMMA + k1) ^ k2)


@_njit
def pick(w: Any, stream: int) -> Any:
    """The 32 bits of ``stream`` in ``w``, the hash of its pair: high half if odd."""
    return w >> _S32 if stream & 1 else w & _LOW


@_njit
def bits(k1: Any, k2: Any, base: Any, stream: int) -> Any:
    """The 32 bits of one stream (``u = bits * 2**-32``)."""
    return pick(word(k1, k2, base, stream >> 1), stream)


@_njit
def also(k1: Any, k2: Any, base: Any, w: Any, first: int, stream: int) -> Any:
    """:func:`bits` of ``stream``, given ``w``, the hash of stream ``first``'s pair: no
    second hash when the two streams share it."""
    return pick(w, stream) if stream >> 1 == first >> 1 else bits(k1, k2, base, stream)


@_njit
def words3(k1: Any, k2: Any, base: Any, first: int) -> Any:
    """The three hashes of the six streams ``first .. first + 5`` (``first`` even)."""
    p = first >> 1
    return word(k1, k2, base, p), word(k1, k2, base, p + 1), word(k1, k2, base, p + 2)


@_njit
def mask6(w: Any, t0: Any, t1: Any, t2: Any, t3: Any, t4: Any, t5: Any) -> int:
    """Which of the six draws in the hashes ``w`` (:func:`words3`) are below their
    thresholds ``t0 .. t5``: bit ``d`` for draw ``d``."""
    return (
        int((w[0] & _LOW) < t0)
        | int((w[0] >> _S32) < t1) << 1
        | int((w[1] & _LOW) < t2) << 2
        | int((w[1] >> _S32) < t3) << 3
        | int((w[2] & _LOW) < t4) << 4
        | int((w[2] >> _S32) < t5) << 5
    )


@_njit
def below6(
    k1: Any, k2: Any, base: Any, first: int, t0: Any, t1: Any, t2: Any, t3: Any, t4: Any, t5: Any
) -> int:
    """:func:`mask6` of the six draws of streams ``first .. first + 5``."""
    return mask6(words3(k1, k2, base, first), t0, t1, t2, t3, t4, t5)


@_njit
def bisect(table: Any, starts: Any, which: int, b: Any) -> Any:
    """``searchsorted(table, which << 54 | b, side="right") - starts[which]`` (see
    :func:`carepath.sim._fast._stacked`), searching only table ``which``'s entries; the
    usual answer (past the last entry: no event within the cycle) is checked first."""
    key = (_U(which) << _S54) | b
    lo = starts[which]
    hi = starts[which + 1] if which + 1 < starts.shape[0] else table.shape[0]
    if hi > lo and table[hi - 1] <= key:
        return hi - lo
    start = lo
    while lo < hi:
        mid = (lo + hi) >> 1
        if table[mid] <= key:
            lo = mid + 1
        else:
            hi = mid
    return lo - start


@_njit
def ok(profile_ok: Any, low: Any, high: Any, cid: int, prof: int, days_in: int) -> bool:
    return bool(profile_ok[cid, prof]) and low[cid] <= days_in <= high[cid]


@_njit
def put_event(
    evs: Any,
    ne: int,
    p: int,
    epno: int,
    day: int,
    event: int,
    source: int,
    target: int,
    profile: int,
) -> int:
    """Write event row ``ne`` (patient, episode, day, event, from, to, profile); the next row."""
    evs[0][ne] = p
    evs[1][ne] = epno
    evs[2][ne] = day
    evs[3][ne] = event
    evs[4][ne] = source
    evs[5][ne] = target
    evs[6][ne] = profile
    return ne + 1


@_njit
def put_stay(
    sts: Any, ns: int, p: int, epno: int, level: int, start: int, end: int, exit_: int
) -> int:
    """Write stay row ``ns`` (patient, episode, level, start, end, exit); the next row."""
    sts[0][ns] = p
    sts[1][ns] = epno
    sts[2][ns] = level
    sts[3][ns] = start
    sts[4][ns] = end
    sts[5][ns] = exit_
    return ns + 1


@_njit
def run(  # noqa: PLR0915  # one patient's course, cycle by cycle
    k1: Any,
    k2: Any,
    first: int,
    start: int,
    idx0: Any,
    days: int,
    ints: Any,
    review: Any,
    stay_cap: Any,
    min_days: Any,
    event_tab: Any,
    event_start: Any,
    improve: Any,
    relapse_edge: Any,
    drop_edge: Any,
    continuation: Any,
    step_down_to: Any,
    worsen: Any,
    readmit: Any,
    delay_tab: Any,
    delay_start: Any,
    relapse_out: Any,
    outcome_state: Any,
    class_th: Any,
    classes: Any,
    jitter: Any,
    placement: Any,
    fits: Any,
    relapse_target: Any,
    c_admit: Any,
    c_step_up: Any,
    c_step_down: Any,
    c_relapse: Any,
    c_complete: Any,
    c_drop_out: Any,
    c_transfer_out: Any,
    profile_ok: Any,
    low: Any,
    high: Any,
    rated: Any,
    below_top: Any,
    max_rating: Any,
    delta: Any,
    ev0: Any,
    ev1: Any,
    ev2: Any,
    ev3: Any,
    ev4: Any,
    ev5: Any,
    ev6: Any,
    st0: Any,
    st1: Any,
    st2: Any,
    st3: Any,
    st4: Any,
    st5: Any,
    counts: Any,
) -> Any:
    n_levels, remission = ints[0], ints[1]
    admit_e, down_e, up_e, relapse_e, complete_e, drop_e, transfer_e = (
        ints[2],
        ints[3],
        ints[4],
        ints[5],
        ints[6],
        ints[7],
        ints[8],
    )
    x_down, x_up, x_relapse, x_complete, x_drop, x_transfer, x_cens = (
        ints[9],
        ints[10],
        ints[11],
        ints[12],
        ints[13],
        ints[14],
        ints[15],
    )
    s_time, s_kind, s_improve, s_worsen, s_continue = (
        ints[16],
        ints[17],
        ints[18],
        ints[19],
        ints[20],
    )
    s_readmit, s_delay, s_relapse_out, s_worsen_out = ints[21], ints[22], ints[23], ints[24]
    pshift, sshift = _U(ints[25]), _U(ints[26])
    ev_cap, st_cap = ev0.shape[0], st0.shape[0]
    evs = (ev0, ev1, ev2, ev3, ev4, ev5, ev6)
    sts = (st0, st1, st2, st3, st4, st5)
    ne, ns_ = counts[0], counts[1]
    s_class, s_profile, n = ints[27], ints[28], ints[29]
    drawn = idx0.shape[0] == 0  # starting profiles drawn here, else given
    for i in range(start, n):
        # Room for the worst case is checked per row; on overflow the caller grows
        # the buffers and calls again from this patient.
        ne0, ns0 = ne, ns_
        full = False
        p = first + i
        pb = _U(p) << pshift
        if drawn:  # the synthetic cohort: a class, then each rating jittered by one
            b = pb  # step 0
            idx = classes[bisect(class_th, _ZERO, 0, bits(k1, k2, b, s_class))]
            j0, j1 = jitter[0], jitter[1]
            w = words3(k1, k2, b, s_profile)  # one set of draws, two thresholds
            down = mask6(w, j0, j0, j0, j0, j0, j0)
            up = ~mask6(w, j1, j1, j1, j1, j1, j1) & ~down & 63
            idx = idx - delta[down & rated[idx]] + delta[up & below_top[idx]]
        else:
            idx = idx0[i]
        step = 0
        t = 0
        epno = 0
        lv = 0
        entered = 0
        last = 0
        rec = 0
        outcome = 0
        phase = 0  # admitting
        while True:
            if phase == 2:  # ended: a readmission, from the outcome cycle's numbers
                b = pb | (_U(step) << sshift)
                if bits(k1, k2, b, s_readmit) >= readmit[outcome]:
                    break
                w_delay = word(k1, k2, b, s_delay >> 1)
                k = bisect(delay_tab, delay_start, outcome, pick(w_delay, s_delay))
                if t + k >= days:
                    break
                if also(k1, k2, b, w_delay, s_delay, s_relapse_out) < relapse_out[k]:
                    idx += delta[
                        below_top[idx]
                        & below6(
                            k1,
                            k2,
                            b,
                            s_worsen_out,
                            worsen[0],
                            worsen[1],
                            worsen[2],
                            worsen[3],
                            worsen[4],
                            worsen[5],
                        )
                    ]
                t += k
                step += 1
                epno += 1
                phase = 0
            if phase == 0:  # admission: the placement, else the next level allowed
                placed = placement[idx]
                target = -1
                for j in range(n_levels):
                    cand = placed + j
                    if cand >= n_levels:
                        break
                    if ok(profile_ok, low, high, c_admit[cand], idx, 0):
                        target = cand
                        break
                if target < 0:
                    break
                if ne >= ev_cap:
                    full = True
                    break
                ne = put_event(evs, ne, p, epno, t, admit_e, 0, target + 1, idx)
                lv = target
                entered = t
                last = t
                rec = idx
                phase = 1
            # One cycle of care.
            if ne + 1 >= ev_cap or ns_ + 1 >= st_cap:
                full = True
                break
            b = pb | (_U(step) << sshift)
            mx = stay_cap[lv]
            cap = entered + mx
            nxt = min(last + review[lv], cap) if cap > last else last + 1
            # The event day and the six improvement numbers, drawn up front: independent
            # hashes overlap in the CPU, where drawing after each decision waits for it.
            w_time = word(k1, k2, b, s_time >> 1)  # also the event kind's, in the layout
            u_time = pick(w_time, s_time)
            chance = improve[lv, min(nxt - last, review[lv])]
            better = delta[
                rated[idx]
                & below6(k1, k2, b, s_improve, chance, chance, chance, chance, chance, chance)
            ]
            k = bisect(event_tab, event_start, lv, u_time)
            if k <= nxt - t:
                te = t + k
                if te >= days:
                    ns_ = put_stay(sts, ns_, p, epno, lv, entered, days, x_cens)
                    break
                x = also(k1, k2, b, w_time, s_time, s_kind)
                if x < relapse_edge[lv]:
                    widx = (
                        idx
                        + delta[
                            below_top[idx]
                            & below6(
                                k1,
                                k2,
                                b,
                                s_worsen,
                                worsen[0],
                                worsen[1],
                                worsen[2],
                                worsen[3],
                                worsen[4],
                                worsen[5],
                            )
                        ]
                    )
                    src = lv
                    dst = relapse_target[src, widx]
                    if ok(profile_ok, low, high, c_relapse[src, dst], widx, te - entered):
                        idx = widx
                        rec = widx
                        ne = put_event(evs, ne, p, epno, te, relapse_e, src + 1, dst + 1, widx)
                        if dst != src:
                            ns_ = put_stay(sts, ns_, p, epno, src, entered, te, x_relapse)
                            lv = dst
                            entered = te
                        last = te
                    t = te
                    step += 1
                else:
                    if x < drop_edge[lv]:
                        which, cid, event, exit_ = 1, c_drop_out[lv], drop_e, x_drop
                    else:
                        which, cid, event, exit_ = (2, c_transfer_out[lv], transfer_e, x_transfer)
                    src = lv
                    if ok(profile_ok, low, high, cid, rec, te - entered):
                        ne = put_event(
                            evs, ne, p, epno, te, event, src + 1, outcome_state[which], -1
                        )
                        ns_ = put_stay(sts, ns_, p, epno, src, entered, te, exit_)
                        outcome = which
                        phase = 2
                    else:
                        step += 1  # a refused outcome: the patient stays
                    t = te
                continue
            # A reassessment.
            nd = nxt
            if nd >= days:
                ns_ = put_stay(sts, ns_, p, epno, lv, entered, days, x_cens)
                break
            src = lv
            new = idx - better
            idx = new
            placed = placement[new]
            length = nd - entered
            t = nd
            last = nd
            step += 1
            if placed > src:  # step up when the placement is more intensive
                if ok(profile_ok, low, high, c_step_up[src, placed], new, length):
                    ne = put_event(evs, ne, p, epno, t, up_e, src + 1, placed + 1, new)
                    ns_ = put_stay(sts, ns_, p, epno, src, entered, t, x_up)
                    lv = placed
                    entered = t
                    rec = new
                continue
            ready = (
                length >= min_days[src] and (placed < src or max_rating[new] <= remission)
            ) or length >= mx
            if not ready:
                continue
            policy = step_down_to[src]
            if policy >= 0 and fits[policy, new]:
                target = policy
            elif placed < src:
                target = placed
            else:
                target = -1
            cont = bits(k1, k2, b, s_continue) < continuation[src]
            down = False
            if target >= 0 and cont:
                down = ok(profile_ok, low, high, c_step_down[src, target], new, length)
            if down:
                ne = put_event(evs, ne, p, epno, t, down_e, src + 1, target + 1, new)
                ns_ = put_stay(sts, ns_, p, epno, src, entered, t, x_down)
                lv = target
                entered = t
                rec = new
            elif ok(profile_ok, low, high, c_complete[src], new, length):
                ne = put_event(evs, ne, p, epno, t, complete_e, src + 1, outcome_state[0], new)
                ns_ = put_stay(sts, ns_, p, epno, src, entered, t, x_complete)
                outcome = 0
                phase = 2
                step -= 1  # the readmission draws come from the completion's step
        if full:
            counts[0], counts[1] = ne0, ns0
            return i
    counts[0], counts[1] = ne, ns_
    return n


@_njit
def aggregate(
    patient: Any,
    episode: Any,
    level: Any,
    start: Any,
    end: Any,
    exit_: Any,
    days: int,
    censored: int,
    step_down: int,
    completed: Any,
    transferred: Any,
    drop_out: int,
    discharge: Any,
    outcome: Any,
    residential: Any,
    los: Any,
    outcomes: Any,
    care_days: Any,
    continuation: Any,
    readmissions: Any,
) -> bool:
    """The counts of :meth:`carepath.sim._summary.Aggregate.of` from one block's stays, in
    one pass from the last stay back (each stay meets the first stay of the patient's
    next episode on the way); the counts are added as 0 or 1 rather than under ``if``s
    (a stay's kind is not predictable, so those branches would mostly be mispredicted).
    The outputs must be zero on entry. False, with every output zeroed again, when the
    stays are not in (patient, episode) order or not rows of this run; the caller then
    counts with numpy."""
    m = patient.shape[0]
    n_levels, n_exits = los.shape[0], completed.shape[0]
    nf = -1  # the first stay of the (patient, episode) after the current one
    for i in range(m - 1, -1, -1):
        lv = level[i]
        x = exit_[i]
        s = start[i]
        e = end[i]
        if i + 1 < m and (patient[i + 1] != patient[i] or episode[i + 1] != episode[i]):
            if patient[i + 1] < patient[i] or (
                patient[i + 1] == patient[i] and episode[i + 1] < episode[i]
            ):
                break  # not in (patient, episode) order
            nf = i + 1
        if not (0 <= lv < n_levels and 0 <= x < n_exits and 0 <= e - s <= days):
            break  # not rows of this run: numpy's checks say what is wrong
        care_days[lv] += e - s
        ended = x != censored
        los[lv, e - s] += ended
        outcomes[lv, 0] += ended
        outcomes[lv, 1] += ended & completed[x]
        outcomes[lv, 2] += x == drop_out
        outcomes[lv, 3] += transferred[x]
        nx = max(nf, 0)  # read only where has says there is a next episode
        has = nf >= 0 and patient[nx] == patient[i] and episode[nx] == episode[i] + 1
        gap = start[nx] - e if has else -e
        disc = discharge[x] & residential[lv]
        lower = has & (level[nx] < lv)
        followed14 = (x == step_down) | (lower & (gap <= 14))
        followed30 = (x == step_down) | (lower & (gap <= 30))
        seen = disc & (e + 14 <= days)
        continuation[0, 0] += seen
        continuation[0, 1] += seen & followed14
        seen = disc & (e + 30 <= days)
        continuation[1, 0] += seen
        continuation[1, 1] += seen & followed30
        seen = outcome[x] & (e + 30 <= days)
        readmissions[0, 0] += seen
        readmissions[0, 1] += seen & has & (gap <= 30)
        seen = outcome[x] & (e + 90 <= days)
        readmissions[1, 0] += seen
        readmissions[1, 1] += seen & has & (gap <= 90)
    else:
        return True
    for a in (los, outcomes, continuation, readmissions):
        a[...] = 0
    care_days[:] = 0
    return False
