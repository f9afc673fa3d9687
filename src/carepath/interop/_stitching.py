"""Stitching: from a patient's visits to courses of treatment, every decision explained.

Works on neutral input (:class:`Stay`: a visit or encounter as the source reported it:
its first and last level, start, end, outcome and the source records behind them), so
the HL7 v2 and FHIR readers share one policy. :func:`stitch` puts one patient's stays
in time order and, for each stay that follows another, decides by :class:`Stitching`:

- ``"session"``: the next stay is at the same level as the previous one ended, and the
  level is one whose visits are sessions (ambulatory by default), within
  ``session_gap_days`` (or the previous visit never ended): one stay;
- ``"step"``: the next stay is at another level within ``continuity_days`` of the
  previous discharge (or the previous visit never ended), after an outcome the policy
  counts as continuity: a step down or up inside the same treatment episode;
- ``"new_episode"``: otherwise; the new episode is linked to the previous one.

Each decision is a :class:`Link` that says which rule fired, the gap in days and the
source records involved (:meth:`Link.explain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final, Literal, final

import attrs

from carepath._errors import InvalidArgument
from carepath._levels import Outcome
from carepath._textio import show

__all__ = ["Course", "Link", "Stay", "Stitching", "stitch"]

Rule = Literal["session", "step", "new_episode"]

_SECONDS_PER_DAY: Final = 86_400.0


def _days(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InvalidArgument(
            owner="Stitching",
            field=attribute.name,
            problem="expected a number of days >= 0",
        )


def _levels(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(
            owner="Stitching",
            field="session_levels",
            problem="expected a collection of level codes",
        )
    return frozenset(value)


def _outcomes(value: Iterable[Outcome | str]) -> frozenset[Outcome]:
    try:
        return frozenset(Outcome(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidArgument(
            owner="Stitching",
            field="continuity_after",
            problem="expected outcomes: " + ", ".join(o.value for o in Outcome),
        ) from None


@final
@attrs.frozen(kw_only=True)
class Stitching:
    """When a discharge followed by another admission is one course of treatment.

    Attributes:
        continuity_days: A stay at another level that starts within this many days of
            the previous discharge continues the same treatment episode (a step down or
            up). Default 14, after CMS CBE #3453, which counts a residential admission
            3-14 days after a detox discharge as continuity of care; TEDS keeps
            transfers inside one episode.
        session_gap_days: Consecutive visits at the same session level within this many
            days are one stay (outpatient programmes often register every group session
            as its own visit). Default 7.
        session_levels: The level codes whose visits may be sessions; ``None`` (the
            default) means the pathway's ambulatory levels (HL7 patient class ``O``).
        continuity_after: The outcomes of the previous discharge after which a stay at
            another level can continue the episode. Default: every outcome.

    >>> Stitching(continuity_days=7).continuity_days
    7
    """

    continuity_days: float = attrs.field(default=14.0, validator=_days)
    session_gap_days: float = attrs.field(default=7.0, validator=_days)
    session_levels: frozenset[str] | None = attrs.field(default=None, converter=_levels)
    continuity_after: frozenset[Outcome] = attrs.field(
        default=frozenset(Outcome), converter=_outcomes
    )


@final
@attrs.frozen(kw_only=True)
class Stay:
    """One visit (or encounter) of one patient, as its source reported it.

    Attributes:
        ref: The visit's id (HL7 PV1-19, a FHIR Encounter id).
        level: The level at the start.
        start: When it started.
        end_level: The level at the end (or now, while it is open).
        end: When it ended (``None`` while open).
        outcome: The outcome of its discharge (``None`` while open).
        start_refs: The source records that started it (message control ids).
        end_refs: The source records that ended it.
    """

    ref: str
    level: str
    start: datetime
    end_level: str
    end: datetime | None = None
    outcome: Outcome | None = None
    start_refs: tuple[str, ...] = ()
    end_refs: tuple[str, ...] = ()


def _quote(refs: Sequence[str]) -> str:
    return ", ".join(_id(r) for r in refs) if refs else "none"


def _id(ref: str) -> str:
    return show(ref, kind="id", what="a well-formed id")


@final
@attrs.frozen(kw_only=True)
class Link:
    """One stitching decision: how a stay relates to the stay before it.

    Attributes:
        rule: ``"session"`` (one stay), ``"step"`` (same episode, another level) or
            ``"new_episode"`` (a new, linked episode).
        gap_days: Days from the previous discharge to the next start (0 when the
            previous stay never ended).
        previous: The earlier stay's ref.
        next: The later stay's ref.
        from_level: The level the earlier stay ended at.
        to_level: The level the later stay started at.
        outcome: The earlier stay's discharge outcome (``None``: it never ended).
        ended_by: Source records of the earlier stay's discharge (kept for audit).
        started_by: Source records of the later stay's start.
        limit_days: The window the rule compared the gap with (``None`` for an open
            previous stay).
    """

    rule: Rule
    gap_days: float
    previous: str
    next: str
    from_level: str
    to_level: str
    outcome: Outcome | None
    ended_by: tuple[str, ...] = ()
    started_by: tuple[str, ...] = ()
    limit_days: float | None = None

    def explain(self) -> str:
        """The decision in one sentence: the rule, the gap and the records involved."""
        if self.outcome is None:
            after = f"visit {_id(self.previous)} ({self.from_level}) was still open"
        else:
            after = (
                f"{self.gap_days:.1f} days after visit {_id(self.previous)} ({self.from_level}) "
                f"ended {self.outcome.value} (discharge {_quote(self.ended_by)}, kept for audit)"
            )
        start = f"visit {_id(self.next)} ({self.to_level}, started by {_quote(self.started_by)})"
        if self.rule == "session":
            window = (
                f"within session_gap_days={self.limit_days:g}"
                if self.limit_days is not None
                else "overlapping"
            )
            return f"session: {start} continues the same stay, {after}; {window}"
        if self.rule == "step":
            window = (
                f"within continuity_days={self.limit_days:g}"
                if self.limit_days is not None
                else "overlapping"
            )
            return f"step: {start} continues the same treatment episode, {after}; {window}"
        return (
            f"new_episode: {start} starts a new episode linked to the previous one, {after}; "
            f"beyond continuity_days={self.limit_days:g} or not a continuing move"
        )


@final
@attrs.frozen(kw_only=True)
class Course:
    """One treatment episode's stays, in time order, with the decisions between them.

    Attributes:
        stays: The stays, oldest first.
        links: ``links[i]`` joins ``stays[i]`` and ``stays[i + 1]`` (rule ``"session"``
            or ``"step"``).
        linked_from: The ``"new_episode"`` decision that links this course to the one
            before it (``None`` for a patient's first course).
    """

    stays: tuple[Stay, ...]
    links: tuple[Link, ...] = ()
    linked_from: Link | None = None


def _decide(prev: Stay, nxt: Stay, policy: Stitching, session_levels: frozenset[str]) -> Link:
    gap = 0.0
    if prev.end is not None:
        gap = max(0.0, (nxt.start - prev.end).total_seconds() / _SECONDS_PER_DAY)
    is_open = prev.end is None or prev.outcome is None

    def link(rule: Rule, limit: float | None) -> Link:
        return Link(
            rule=rule,
            gap_days=gap,
            previous=prev.ref,
            next=nxt.ref,
            from_level=prev.end_level,
            to_level=nxt.level,
            outcome=None if is_open else prev.outcome,
            ended_by=prev.end_refs,
            started_by=nxt.start_refs,
            limit_days=None if is_open else limit,
        )

    if nxt.level == prev.end_level:
        if is_open or (nxt.level in session_levels and gap <= policy.session_gap_days):
            return link("session", policy.session_gap_days)
        return link("new_episode", policy.continuity_days)
    if is_open or (prev.outcome in policy.continuity_after and gap <= policy.continuity_days):
        return link("step", policy.continuity_days)
    return link("new_episode", policy.continuity_days)


def stitch(
    stays: Iterable[Stay], policy: Stitching, *, session_levels: Iterable[str] = ()
) -> list[Course]:
    """One patient's stays as courses of treatment, oldest first.

    Args:
        stays: The patient's stays, in any order.
        policy: The rules.
        session_levels: The session levels to use when ``policy.session_levels`` is
            ``None`` (the caller's ambulatory levels).

    Returns:
        The courses; every course after the first carries the ``"new_episode"`` link
        that separates it from the one before.
    """
    levels = policy.session_levels
    if levels is None:
        levels = frozenset(session_levels)
    ordered = sorted(stays, key=lambda s: (s.start, s.ref))
    courses: list[Course] = []
    current: list[Stay] = []
    links: list[Link] = []
    linked_from: Link | None = None
    for stay in ordered:
        if current:
            decision = _decide(current[-1], stay, policy, levels)
            if decision.rule == "new_episode":
                courses.append(
                    Course(stays=tuple(current), links=tuple(links), linked_from=linked_from)
                )
                current, links, linked_from = [], [], decision
            else:
                links.append(decision)
        current.append(stay)
    if current:
        courses.append(Course(stays=tuple(current), links=tuple(links), linked_from=linked_from))
    return courses
