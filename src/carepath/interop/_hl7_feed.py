"""HL7 v2 ADT feeds of many visits and patients read into courses of treatment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, final

import attrs

from carepath._episode import Episode
from carepath._errors import CarepathError, InteropError
from carepath._guards import Event

from ._codes import codes_for
from ._hl7 import (
    _apply,
    _check_args,
    _effective,
    _limits,
    _Message,
    _Move,
    _note,
    _plan,
    _read,
)
from ._hl7_map import LevelMap
from ._hl7_reader import STANDARD as _STANDARD
from ._hl7_reader import HL7Limits
from ._stitching import Course, Stay, Stitching, stitch

if TYPE_CHECKING:
    from carepath._pathway import Pathway

__all__ = ["episodes_from_hl7v2"]


@final
@attrs.frozen(kw_only=True)
class _Visit:
    key: str
    moves: tuple[_Move, ...]
    stay: Stay


def _visit(key: str, moves: list[_Move]) -> _Visit | None:
    starts = [(mv, mv.level) for mv in moves if mv.level is not None]
    if not starts:
        return None
    (start, level), end_level, last = starts[0], starts[-1][1], moves[-1]
    ended = last.outcome is not None
    stay = Stay(
        ref=key or start.message.control_id,
        level=level,
        start=start.message.at,
        end_level=end_level,
        end=last.message.at if ended else None,
        outcome=last.outcome if ended else None,
        start_refs=(start.message.control_id,),
        end_refs=(last.message.control_id,) if ended else (),
    )
    return _Visit(key=key, moves=tuple(moves), stay=stay)


def _session_levels(pathway: Pathway) -> frozenset[str]:
    return frozenset(lv.code for lv in pathway.levels if codes_for(lv).patient_class == "O")


def _build(
    course: Course,
    visits: Mapping[str, _Visit],
    pathway: Pathway,
    patient_id: str,
    previous: Episode | None,
) -> Episode:
    """One course's episode: every stay's moves, a step's admission recorded as the step,
    a session's registration and a continued stay's discharge left out, and every
    decision's explanation in the note of the event that opens the stay it shaped."""
    stays = course.stays
    notes: list[list[str]] = [[] for _ in stays]
    if course.linked_from is not None:
        notes[0].append(course.linked_from.explain())
    opening = 0  # the stay whose first event opens the current run of sessions
    for i, link in enumerate(course.links):
        if link.rule == "step":
            opening = i + 1
        notes[opening].append(link.explain())
    first = visits[stays[0].ref].moves[0].message
    try:
        episode = pathway.start(
            patient_id, at=stays[0].start, episode_id=stays[0].ref, previous=previous
        )
    except CarepathError as exc:
        raise InteropError(standard=_STANDARD, resource=first.name, problem=str(exc)) from None
    for i, stay in enumerate(stays):
        moves = list(visits[stay.ref].moves)
        if i + 1 < len(stays) and moves[-1].outcome is not None:
            moves.pop()  # the discharge became a step or a session: named in the link
        incoming = course.links[i - 1] if i > 0 else None
        opens = next(j for j, mv in enumerate(moves) if mv.level is not None)
        if incoming is not None and incoming.rule == "session":
            del moves[opens]  # the session's registration: the stay goes on
            opens = -1
        for j, mv in enumerate(moves):
            event, extra = mv.event, tuple[str, ...]()
            if j == opens:
                extra = tuple(notes[i])
                if incoming is not None and mv.level is not None:  # a step
                    current = episode.level
                    up = current is not None and (
                        pathway.level(mv.level).intensity > current.intensity
                    )
                    event = Event.STEP_UP if up else Event.STEP_DOWN
            _apply(episode, mv, event, mv.level, _note(mv, extra))
    return episode


def episodes_from_hl7v2(
    messages: str | bytes | Iterable[str | bytes],
    pathway: Pathway,
    *,
    level_map: LevelMap | None = None,
    tz: tzinfo = UTC,
    stitching: Stitching | None = None,
    limits: HL7Limits | None = None,
) -> list[Episode]:
    """Read any number of ADT messages of any number of patients into courses of treatment.

    Messages are grouped by patient (the PID-3 identifier :class:`LevelMap` chooses) and
    by visit (PV1-19); retries are dropped and cancels applied across the patient's
    visits; each visit's messages become the moves of a stay, and :class:`Stitching`
    decides, for each visit that follows another, whether it continues the same stay
    (per-session visits), steps to another level in the same treatment episode, or
    starts a new episode linked to the previous one by ``previous``.

    Every decision is kept in the history: the event a decision shaped carries in its
    note the decision's explanation (:meth:`Link.explain`: the rule, the gap in days,
    and the messages involved, including the discharge that became a step, which is
    kept for audit rather than recorded as an outcome).

    Args:
        messages: As for :func:`from_hl7v2`.
        pathway: The pathway to record the episodes on.
        level_map: The site's map; :class:`LevelMap` () by default.
        tz: The time zone of timestamps without an offset.
        stitching: The stitching policy; :class:`Stitching` () by default.
        limits: Size limits of the reader; :class:`HL7Limits` () by default.

    Returns:
        Every patient's episodes, patients in order of first appearance, each patient's
        in time order; an episode's id is its first visit number (else the control id of
        its first message).

    Raises:
        InteropError: as :func:`from_hl7v2`, and a message without a usable patient id
            (naming PID-3, never its value).
    """
    level_map = _check_args(level_map, tz)
    if stitching is None:
        stitching = Stitching()
    elif not isinstance(stitching, Stitching):
        raise InteropError(
            standard=_STANDARD,
            resource="messages",
            field="stitching",
            problem=f"expected a Stitching, got {type(stitching).__name__}",
        )
    parsed = _read(messages, tz, _limits(limits), level_map)
    patients: dict[str, list[_Message]] = {}
    for m in parsed:
        if not m.patient_id:
            raise InteropError(
                standard=_STANDARD,
                resource=m.name,
                field="PID-3",
                problem="no patient identifier; every message of a feed needs one",
            )
        patients.setdefault(m.patient_id, []).append(m)
    session_levels = _session_levels(pathway)
    out: list[Episode] = []
    for patient_id, group in patients.items():
        by_visit: dict[str, list[_Message]] = {}
        for m in _effective(group):
            by_visit.setdefault(m.visit, []).append(m)
        visits: dict[str, _Visit] = {}
        for key, msgs in by_visit.items():
            visit = _visit(key, _plan(msgs, level_map, pathway))
            if visit is not None:
                visits[visit.stay.ref] = visit
        previous: Episode | None = None
        for course in stitch(
            [v.stay for v in visits.values()], stitching, session_levels=session_levels
        ):
            previous = _build(course, visits, pathway, patient_id, previous)
            out.append(previous)
    return out
