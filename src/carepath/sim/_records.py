"""Observed care in the simulation's shape: :func:`records` and :class:`CareRecords`.

Episodes (from a store, HL7 v2, FHIR or code) become the same tidy ``events`` and
``stays`` tables :func:`~carepath.sim.simulate` writes, so the summary, the plots,
:func:`~carepath.sim.measures` and :func:`~carepath.sim.fit` read both alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final, final

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath import __version__, _display
from carepath._episode import Episode
from carepath._errors import CarepathError
from carepath._levels import Outcome
from carepath._pathway import Pathway

from ._care import CareTables
from ._engine import EVENTS, EXITS
from ._tables import _codes, check_group_column

__all__ = ["CareRecords", "InvalidRecords", "groups", "observe", "records"]

_EV: Final = {e: i for i, e in enumerate(EVENTS)}
_ENTERS: Final = (_EV["admit"], _EV["step_down"], _EV["step_up"])
_OUTCOME_OF: Final = {
    _EV["complete"]: Outcome.COMPLETED.value,
    _EV["drop_out"]: Outcome.DROPPED_OUT.value,
    _EV["transfer_out"]: Outcome.TRANSFERRED_OUT.value,
}
_EXIT_OF: Final = np.array([EXITS.index(e) if e in EXITS else -1 for e in EVENTS], dtype=np.int8)
_NO_ASSESSMENT: Final = -1


class InvalidRecords(CarepathError, ValueError):
    """Records that do not make a consistent history: an unknown level or event, a
    move from somewhere the patient was not, time running backwards, stays that
    overlap. Names the patient id the caller gave and the row (of the events table
    that was given or built), never anything else about the patient.

    Attributes:
        patient: The patient id.
        row: The row of the events table (for episodes: the row they became).
        where: More about the place (``"episode 'e-17', event 3"``), or empty.
        problem: What is wrong and what is allowed.
    """

    def __init__(self, *, patient: str, row: int, problem: str, where: str = "") -> None:
        self.patient = patient
        self.row = row
        self.where = where
        self.problem = problem
        at = f", {where}" if where else ""
        super().__init__(f"events row {row} (patient {patient!r}{at}): {problem}")


@final
class CareRecords(CareTables):
    """Observed care as the simulation's tables: what :func:`records` returns.

    ``events`` and ``stays`` have the columns of :class:`SimulationResult`'s, with the
    same meanings (days are whole calendar days from each patient's first admission,
    or from ``origin``; a stay still open at the end of observation ends there,
    ``censored``), plus ``patient_id`` (the caller's id) and ``episode_id`` in both,
    ``date`` in ``events`` and ``start_date`` / ``end_date`` in ``stays`` when the
    records had dates. ``events`` also keeps ``reassess`` rows (serial assessments),
    which a simulation never writes.

    ``metadata`` holds ``n`` (patients), ``days`` (the longest observation, in days),
    ``origin`` and ``until``.
    """

    __slots__ = ("_horizon", "_pathway")

    def __init__(
        self,
        *,
        events: pd.DataFrame,
        stays: pd.DataFrame,
        pathway: Pathway,
        horizon: npt.NDArray[np.int64],
        metadata: dict[str, Any],
    ) -> None:
        super().__init__(events=events, stays=stays, metadata=metadata)
        self._pathway = pathway
        self._horizon = horizon

    @property
    def pathway(self) -> Pathway:
        """The pathway the episodes ran on."""
        return self._pathway

    def horizons(self) -> npt.NDArray[np.int64]:
        """Each patient's end of observation, in days from its origin (indexed by ``patient``)."""
        return self._horizon

    def __repr__(self) -> str:
        return (
            f"<CareRecords patients={self.metadata['n']} days={self.metadata['days']} "
            f"events={len(self.events)} stays={len(self.stays)}>"
        )

    def _repr_html_(self) -> str:
        """The summary as a table, for notebooks (registered by :mod:`carepath.explore`)."""
        return _display.html("result", self)


def _ordinal(value: date | datetime) -> int:
    # A datetime's own calendar date (in its own UTC offset), as a day number.
    return (value.date() if isinstance(value, datetime) else value).toordinal()


def _episode_rows(
    episodes: Iterable[Episode], pathway: Pathway | None
) -> tuple[dict[str, list[Any]], Pathway]:
    """The episodes' events as row lists, patients in order of first appearance and each
    patient's episodes in order of their start."""
    by_patient: dict[str, list[Episode]] = {}
    found = pathway
    for ep in episodes:
        if not isinstance(ep, Episode):
            raise InvalidRecords(
                patient="",
                row=-1,
                problem=f"expected Episodes, got a {type(ep).__name__}",
            )
        if found is None:
            found = ep.pathway
        elif ep.pathway.content_hash != found.content_hash:
            raise InvalidRecords(
                patient=ep.patient_id,
                row=-1,
                where=f"episode {ep.id!r}",
                problem=f"runs on pathway {ep.pathway.id!r} version {ep.pathway.version!r}, "
                f"the others on {found.id!r} version {found.version!r}; records need one pathway",
            )
        by_patient.setdefault(ep.patient_id, []).append(ep)
    if found is None:
        raise InvalidRecords(patient="", row=-1, problem="no episodes; records need at least one")
    rows: dict[str, list[Any]] = {
        k: [] for k in ("patient", "episode", "episode_id", "ord", "event", "from", "to", "a")
    }
    patient, episode, episode_id = rows["patient"], rows["episode"], rows["episode_id"]
    ords, event, source = rows["ord"], rows["event"], rows["from"]
    target, assess = rows["to"], rows["a"]
    for pid, eps in by_patient.items():
        eps.sort(key=lambda e: e.started_at)
        number = 0
        for ep in eps:
            history = ep.history
            if not history:
                continue  # never admitted: no care to count
            for r in history:
                patient.append(pid)
                episode.append(number)
                episode_id.append(ep.id)
                ords.append(_ordinal(r.at))
                event.append(r.event.value)
                source.append(r.source)
                target.append(r.target)
                assess.append(r.assessment.index if r.assessment is not None else _NO_ASSESSMENT)
            number += 1
    return rows, found


def records(
    episodes: Iterable[Episode] | pd.DataFrame,
    *,
    origin: date | datetime | None = None,
    until: date | datetime | int | None = None,
    pathway: Pathway | None = None,
) -> CareRecords:
    """Observed episodes as the simulation's ``events`` and ``stays`` tables.

    Args:
        episodes: Episodes from any source (a store, the HL7 v2 or FHIR importers, or
            built in code), any order; a patient's episodes are numbered in order of
            their start. Or a DataFrame in the shape of ``events`` (columns
            ``patient``, ``episode``, ``day``, ``event``, ``from_level``, ``to_level``,
            optionally ``assessment``), e.g. read back from Parquet or a warehouse;
            its rows keep their order within each episode.
        origin: Count days from this date for every patient; by default each
            patient's days count from its first admission (day 0).
        until: The end of observation (a date, or a day number for a DataFrame): a
            stay still open then ends there, ``censored``. By default the day after
            the last recorded event.
        pathway: The pathway of the records; by default the episodes' own (a
            DataFrame needs it).

    Raises:
        InvalidRecords: A row that is not a consistent history: an unknown level or
            event, a move from a state the patient was not in, a day before the
            previous one or before the origin, an episode that starts before the
            previous one ended (overlapping stays). Names the patient id and row.

    >>> from datetime import datetime, timezone
    >>> from carepath import Assessment, standard_pathway
    >>> t = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> ep = standard_pathway().start("p-1", at=t)
    >>> _ = ep.admit("detox", at=t, assessment=Assessment(withdrawal=3, relapse=2))
    >>> care = records([ep], until=datetime(2026, 1, 9, tzinfo=timezone.utc))
    >>> care.stays[["patient", "level", "start_day", "end_day", "exit"]].to_dict("records")
    [{'patient': 0, 'level': 'detox', 'start_day': 0, 'end_day': 4, 'exit': 'censored'}]
    """
    if isinstance(episodes, pd.DataFrame):
        if pathway is None:
            raise InvalidRecords(
                patient="", row=-1, problem="a DataFrame of events needs pathway=..."
            )
        return _from_frame(episodes, pathway, until)
    rows, found = _episode_rows(episodes, pathway)
    ords = np.asarray(rows["ord"], dtype=np.int64)
    if isinstance(until, int):
        raise InvalidRecords(
            patient="", row=-1, problem="until for episodes is a date or a datetime, not a day"
        )
    end = _ordinal(until) if until is not None else int(ords.max()) + 1 if ords.size else 0
    return _build(
        patient_ids=rows["patient"],
        episode=np.asarray(rows["episode"], dtype=np.int64),
        episode_id=rows["episode_id"],
        ords=ords,
        events=rows["event"],
        source=rows["from"],
        target=rows["to"],
        assessment=np.asarray(rows["a"], dtype=np.int64),
        pathway=found,
        origin=_ordinal(origin) if origin is not None else None,
        until=end,
        dated=True,
        extra={
            "origin": None if origin is None else origin.isoformat(),
            "until": date.fromordinal(end).isoformat(),
        },
    )


def _from_frame(frame: pd.DataFrame, pathway: Pathway, until: object) -> CareRecords:
    need = ("patient", "episode", "day", "event", "from_level", "to_level")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InvalidRecords(
            patient="", row=-1, problem="the events table lacks column(s) " + ", ".join(missing)
        )
    day = np.asarray(frame["day"].to_numpy(), dtype=np.int64)
    if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
        raise InvalidRecords(
            patient="", row=-1, problem="until for a table of days is a day number"
        )
    end = int(until) if until is not None else int(day.max()) + 1 if day.size else 0
    pids = frame["patient"].astype(str).tolist()
    # Episodes keep their ids; numbered per patient in order of first appearance.
    eid = frame["episode"].astype(str).tolist()
    first: dict[tuple[str, str], int] = {}
    count: dict[str, int] = {}
    number: list[int] = []
    for p, e in zip(pids, eid, strict=True):
        k = first.get((p, e))
        if k is None:
            k = first[p, e] = count.get(p, 0)
            count[p] = k + 1
        number.append(k)
    assessment = (
        np.asarray(frame["assessment"].to_numpy(), dtype=np.int64)
        if "assessment" in frame.columns
        else np.full(len(frame), _NO_ASSESSMENT, dtype=np.int64)
    )
    return _build(
        patient_ids=pids,
        episode=np.asarray(number, dtype=np.int64),
        episode_id=eid,
        ords=day,
        events=frame["event"].astype(str).tolist(),
        source=frame["from_level"].astype(str).tolist(),
        target=frame["to_level"].astype(str).tolist(),
        assessment=assessment,
        pathway=pathway,
        origin=0,
        until=end,
        dated=False,
        extra={"origin": None, "until": end},
    )


def _lookup(values: list[str], table: dict[str, int]) -> npt.NDArray[np.int64]:
    """Codes of ``values`` in ``table`` (-1 for unknown), one dictionary look-up per
    distinct value."""
    cats = pd.Categorical(values)
    known = np.array([table.get(str(c), -1) for c in cats.categories], dtype=np.int64)
    codes = np.asarray(cats.codes, dtype=np.int64)
    return np.where(codes >= 0, known[np.maximum(codes, 0)], -1)


def _build(  # noqa: PLR0915  # one pass of checks, then the two tables
    *,
    patient_ids: list[str],
    episode: npt.NDArray[np.int64],
    episode_id: list[str],
    ords: npt.NDArray[np.int64],
    events: list[str],
    source: list[str],
    target: list[str],
    assessment: npt.NDArray[np.int64],
    pathway: Pathway,
    origin: int | None,
    until: int,
    dated: bool,
    extra: dict[str, Any],
) -> CareRecords:
    states = list(pathway.states)
    n_levels = len(pathway.levels)
    state_code = {s: i for i, s in enumerate(states)}
    codes_p, uniques = pd.factorize(pd.Series(patient_ids, dtype=object), sort=False)
    pat = np.asarray(codes_p, dtype=np.int64)
    ev = _lookup(events, _EV)
    frm = _lookup(source, state_code)
    to = _lookup(target, state_code)
    m = len(pat)
    given_row = np.arange(m)
    # Rows in (patient, episode) order, each episode's rows in the order given.
    order = np.lexsort((given_row, episode, pat))
    if not np.array_equal(order, given_row):
        pat, episode, ev, frm, to = (x[order] for x in (pat, episode, ev, frm, to))
        ords, assessment = ords[order], assessment[order]
        given_row = order
    ids = [str(x) for x in uniques]

    def fail(i: int, problem: str) -> InvalidRecords:
        r = int(given_row[i])
        return InvalidRecords(
            patient=ids[int(pat[i])], row=r, where=f"episode {episode_id[r]!r}", problem=problem
        )

    def first(mask: npt.NDArray[np.bool_]) -> int | None:
        hit = np.flatnonzero(mask)
        return int(hit[0]) if hit.size else None

    for codes, column, allowed in (
        (ev, events, ", ".join(EVENTS)),
        (frm, source, ", ".join(states)),
        (to, target, ", ".join(states)),
    ):
        i = first(codes < 0)
        if i is not None:
            raise fail(i, f"unknown {column[int(given_row[i])]!r}; known: {allowed}")
    intake, outcome0 = 0, n_levels + 1
    is_level_to = (to >= 1) & (to <= n_levels)
    is_level_from = (frm >= 1) & (frm <= n_levels)
    i = first((assessment < -1) | (assessment >= 5**6))
    if i is not None:
        raise fail(i, f"assessment {int(assessment[i])} is not a profile index 0-15624 or -1")

    # Where each patient's days count from: its first admission, or the origin.
    head = np.ones(m, dtype=np.bool_)
    if m:
        head[1:] = (pat[1:] != pat[:-1]) | (episode[1:] != episode[:-1])
    new_patient = np.ones(m, dtype=np.bool_)
    if m:
        new_patient[1:] = pat[1:] != pat[:-1]
    n = len(ids)
    start_of = ords[new_patient]
    if origin is None:  # each patient's first event (its first admission)
        day = ords - start_of[pat]
        horizon = until - start_of
    else:
        day = ords - origin
        horizon = np.full(n, until - origin, dtype=np.int64)
    i = first(day < 0)
    if i is not None:
        raise fail(i, f"day {int(day[i])} is before the origin; records start at day 0")
    i = first(day >= horizon[pat])
    if i is not None:
        raise fail(i, f"day {int(day[i])} is not before the end of observation (until)")

    # Each episode's rows: first an admission from intake, then each row from where the
    # previous one led, never back in time, nothing after an outcome.
    i = first(head & ((ev != _EV["admit"]) | (frm != intake)))
    if i is not None:
        raise fail(
            i,
            f"an episode starts with {states[int(frm[i])]} -> {states[int(to[i])]} "
            f"({EVENTS[int(ev[i])]}); it must start with an admission from intake",
        )
    prev_to = np.empty(m, dtype=np.int64)
    prev_day = np.empty(m, dtype=np.int64)
    if m:
        prev_to[1:], prev_to[0] = to[:-1], intake
        prev_day[1:], prev_day[0] = day[:-1], 0
    inner = ~head
    i = first(inner & (prev_to >= outcome0))
    if i is not None:
        raise fail(i, f"an event after the episode ended ({states[int(prev_to[i])]})")
    i = first(inner & (frm != prev_to))
    if i is not None:
        raise fail(
            i,
            f"moves from {states[int(frm[i])]!r} but the previous row left the patient at "
            f"{states[int(prev_to[i])]!r}",
        )
    i = first(inner & (day < prev_day))
    if i is not None:
        raise fail(
            i,
            f"day {int(day[i])} is before the previous event's day {int(prev_day[i])} "
            "(a negative duration)",
        )
    # The target each event kind allows.
    wants_level = np.isin(ev, [*_ENTERS, _EV["relapse"], _EV["reassess"]])
    i = first(wants_level & ~is_level_to)
    if i is not None:
        raise fail(i, f"{EVENTS[int(ev[i])]} must lead to a level, not {states[int(to[i])]!r}")
    for code, state in _OUTCOME_OF.items():
        i = first((ev == code) & (to != state_code[state]))
        if i is not None:
            raise fail(i, f"{EVENTS[code]} must lead to {state!r}, not {states[int(to[i])]!r}")
    i = first((ev == _EV["reassess"]) & (to != frm))
    if i is not None:
        raise fail(i, "a reassessment stays at its level")
    intensity = np.array([0, *range(1, n_levels + 1), 0, 0, 0], dtype=np.int64)
    i = first((ev == _EV["step_down"]) & is_level_from & (intensity[to] >= intensity[frm]))
    if i is not None:
        raise fail(
            i,
            f"a step down from {states[int(frm[i])]!r} to the no less intensive "
            f"{states[int(to[i])]!r}",
        )
    i = first((ev == _EV["step_up"]) & is_level_from & (intensity[to] <= intensity[frm]))
    if i is not None:
        raise fail(
            i,
            f"a step up from {states[int(frm[i])]!r} to the no more intensive "
            f"{states[int(to[i])]!r}",
        )

    # Stays: a stay starts at each move into a level and ends at the next move out of it.
    enters = np.isin(ev, _ENTERS) | ((ev == _EV["relapse"]) & (to != frm))
    leaves = (enters & (ev != _EV["admit"])) | (to >= outcome0)
    starts = np.flatnonzero(enters)
    bounds = np.flatnonzero(leaves)
    nxt = np.searchsorted(bounds, starts, side="right")
    has = nxt < bounds.size
    padded = np.append(bounds, -1)  # -1 where a stay has no later bound at all
    end_row = np.where(has, padded[nxt], -1)
    same = has.copy()
    same[has] = (pat[end_row[has]] == pat[starts[has]]) & (
        episode[end_row[has]] == episode[starts[has]]
    )
    censored_code = EXITS.index("censored")
    st_end = np.where(same, day[np.maximum(end_row, 0)], horizon[pat[starts]])
    st_exit = np.where(same, _EXIT_OF[ev[np.maximum(end_row, 0)]], censored_code)
    # A patient's next episode must not start while an episode is open, nor before the
    # day it ended (a readmission the same day is allowed): overlapping stays.
    last = np.flatnonzero(np.append(head[1:], True)) if m else np.zeros(0, dtype=np.int64)
    nx = last + 1
    ok = nx < m
    last, nx = last[ok], nx[ok]
    same_patient = pat[nx] == pat[last]
    still_open = same_patient & (to[last] < outcome0)
    i = first(still_open)
    if i is not None:
        raise fail(
            int(nx[i]),
            "an episode starts while the patient's previous episode is still open "
            "(overlapping stays)",
        )
    i = first(same_patient & (day[nx] < day[last]))
    if i is not None:
        raise fail(
            int(nx[i]),
            f"this episode starts on day {int(day[nx[i]])}, before the previous one ended "
            f"on day {int(day[last[i]])} (overlapping stays)",
        )

    ev_frame = pd.DataFrame(
        {
            "patient": pat,
            "episode": episode.astype(np.int32),
            "day": day.astype(np.int32),
            "event": _codes(ev, list(EVENTS)),
            "from_level": _codes(frm, states),
            "to_level": _codes(to, states),
            "assessment": assessment.astype(np.int16),
        }
    )
    ev_frame["patient_id"] = pd.Categorical.from_codes(pat, categories=ids)
    ev_frame["episode_id"] = np.asarray(episode_id, dtype=object)[given_row]
    stays = pd.DataFrame(
        {
            "patient": pat[starts],
            "episode": episode[starts].astype(np.int32),
            "level": _codes(to[starts] - 1, [lv.code for lv in pathway.levels]),
            "start_day": day[starts].astype(np.int32),
            "end_day": st_end.astype(np.int32),
            "exit": _codes(st_exit, list(EXITS)),
        }
    )
    stays["patient_id"] = pd.Categorical.from_codes(pat[starts], categories=ids)
    stays["episode_id"] = ev_frame["episode_id"].to_numpy()[starts]
    if dated:
        org = start_of if origin is None else np.full(n, origin, dtype=np.int64)
        zero = np.datetime64("0001-01-01", "D")
        ev_frame["date"] = zero + (ords - 1).astype("timedelta64[D]")
        st_org = org[pat[starts]] - 1
        stays["start_date"] = zero + (st_org + day[starts]).astype("timedelta64[D]")
        stays["end_date"] = zero + (st_org + st_end).astype("timedelta64[D]")
    metadata: dict[str, Any] = {
        "source": "records",
        "n": n,
        "days": int(horizon.max()) if n else 0,
        "carepath_version": __version__,
        "pathway": {
            "id": pathway.id,
            "version": pathway.version,
            "content_hash": pathway.content_hash,
        },
        **extra,
    }
    return CareRecords(
        events=ev_frame, stays=stays, pathway=pathway, horizon=horizon, metadata=metadata
    )


def observe(care: CareTables, horizons: npt.NDArray[np.int64]) -> CareRecords:
    """Simulated care as records observed for given horizons: patient ``i`` is seen up
    to day ``horizons[i % len(horizons)]`` (exclusive). Events on or after it are
    dropped and a stay still open then ends there, ``censored`` (what :func:`records`
    makes of episodes followed that long)."""
    events, stays = care.events, care.stays
    per = np.asarray(horizons, dtype=np.int64)
    n = int(care.metadata["n"])
    first = int(care.metadata.get("first_patient", 0))
    own = per[(np.arange(first, first + n) - first) % per.size]
    h_ev = own[events["patient"].to_numpy() - first]
    ev = events[events["day"].to_numpy() < h_ev].reset_index(drop=True)
    h_st = own[stays["patient"].to_numpy() - first]
    keep = stays["start_day"].to_numpy() < h_st
    st = stays[keep].reset_index(drop=True)
    h_st = h_st[keep]
    cut = st["end_day"].to_numpy() >= h_st
    if cut.any():
        st["end_day"] = np.where(cut, h_st, st["end_day"].to_numpy()).astype(np.int32)
        exit_codes = st["exit"].cat.codes.to_numpy().copy()
        exit_codes[cut] = EXITS.index("censored")
        st["exit"] = _codes(exit_codes, list(EXITS))
    full = np.zeros(first + n, dtype=np.int64)
    full[first:] = own
    metadata = {
        **{k: v for k, v in care.metadata.items() if k in ("seed", "samples", "engine")},
        "source": "simulation observed for given horizons",
        "n": n,
        "days": int(own.max()) if n else 0,
    }
    return CareRecords(events=ev, stays=st, pathway=care.pathway, horizon=full, metadata=metadata)


def groups(care: CareTables, by: str) -> dict[Any, CareRecords]:
    """The records of each value of a ``stays`` column that is constant for each patient
    (a site, or ``"sample"``): every row of that group's patients, their horizons kept."""
    stays, events = care.stays, care.events
    check_group_column(stays, by)
    sampled = "sample" in stays.columns
    span = int(stays["patient"].max()) + 1 if len(stays) else 1

    def person(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
        p: npt.NDArray[np.int64] = frame["patient"].to_numpy().astype(np.int64)
        if sampled:
            p = frame["sample"].to_numpy().astype(np.int64) * span + p
        return p

    ev_person = person(events)
    horizons = care.horizons()
    n = int(care.metadata.get("first_patient", 0)) + int(care.metadata["n"])
    full = np.full(n, care.days, dtype=np.int64) if horizons is None else horizons
    out: dict[Any, CareRecords] = {}
    for value, part in stays.groupby(by, observed=True, sort=True):
        who = np.unique(person(part))
        mine = np.isin(ev_person, who)
        out[value] = CareRecords(
            events=events[mine].reset_index(drop=True),
            stays=part.reset_index(drop=True),
            pathway=care.pathway,
            horizon=full,
            # Patients keep their numbers (and horizons); n counts this group's.
            metadata={**care.metadata, "n": int(who.size), "group": {by: str(value)}},
        )
    return out
