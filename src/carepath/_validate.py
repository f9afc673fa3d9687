"""A pathway's own checks, as :class:`~carepath.Problem` records (every problem at once)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from ._criteria import Criteria
from ._guards import BUILTIN_GUARDS, Event, Guard
from ._levels import INTAKE, Level, Outcome
from ._problems import Problem
from ._rules import OUTCOME_OF, Rule, guard_params

__all__ = ["pathway_problems"]

_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)
_BUILTIN_GUARD_TYPES: Final = frozenset(BUILTIN_GUARDS)


def pathway_problems(  # noqa: PLR0915  # one pass collecting every problem
    *,
    id: object,
    version: object,
    levels: Sequence[object],
    criteria: Mapping[str, object],
    rules: Sequence[object],
) -> list[Problem]:
    """Every problem with a pathway's parts (empty when they make a valid pathway).

    ``where`` points into the pathway's own parts: ``("levels", i)`` is the i-th level
    least intensive first (``level`` names its code), ``("rules", i)`` the i-th rule.
    """
    out: list[Problem] = []
    if not isinstance(id, str) or not id.strip():
        out.append(Problem(code="id_empty", where=("id",), message="id must be a non-empty string"))
    if not isinstance(version, str) or not version.strip():
        out.append(
            Problem(
                code="version_empty",
                where=("version",),
                message="version must be a non-empty string",
            )
        )
    if not levels:
        out.append(
            Problem(
                code="no_levels", where=("levels",), message="a pathway needs at least one level"
            )
        )
    codes: dict[str, Level] = {}
    intensities: dict[int, str] = {}
    for i, lv in enumerate(levels):
        if not isinstance(lv, Level):
            out.append(
                Problem(
                    code="not_a_level",
                    where=("levels", i),
                    message=f"levels[{i}] is a {type(lv).__name__}, not a Level",
                )
            )
            continue
        at = ("levels", i)
        if lv.code in codes:
            out.append(
                Problem(
                    code="duplicate_level_code",
                    where=(*at, "code"),
                    level=lv.code,
                    message=f"level code {lv.code!r} is used twice",
                )
            )
        codes[lv.code] = lv
        if lv.intensity in intensities:
            out.append(
                Problem(
                    code="shared_intensity",
                    where=(*at, "intensity"),
                    level=lv.code,
                    message=f"levels {intensities[lv.intensity]!r} and {lv.code!r} share "
                    f"intensity {lv.intensity}; intensities must be distinct",
                )
            )
        intensities[lv.intensity] = lv.code
        for field, words in lv.stay.issues():
            out.append(
                Problem(
                    code="stay_inconsistent",
                    where=(*at, "stay", field),
                    level=lv.code,
                    message=f"level {lv.code!r}: {words}",
                )
            )
        if lv.code not in criteria:
            out.append(
                Problem(
                    code="level_without_criteria",
                    where=at,
                    level=lv.code,
                    message=f"level {lv.code!r} has no criteria",
                )
            )
    for code, c in criteria.items():
        if code not in codes:
            out.append(
                Problem(
                    code="criteria_for_unknown_level",
                    where=("criteria", code),
                    level=code,
                    message=f"criteria given for unknown level {code!r}",
                )
            )
        if not isinstance(c, Criteria):
            out.append(
                Problem(
                    code="not_criteria",
                    where=("criteria", code),
                    level=code,
                    message=f"criteria for {code!r} is a {type(c).__name__}, not a Criteria",
                )
            )
    top = max(codes.values(), key=lambda lv: lv.intensity) if codes else None
    top_criteria = criteria.get(top.code) if top is not None else None
    if top is not None and isinstance(top_criteria, Criteria) and not top_criteria.is_total:
        out.append(
            Problem(
                code="placement_not_total",
                where=("criteria", top.code),
                level=top.code,
                message="no level accepts every assessment at the top: the most intensive level "
                f"{top.code!r} must leave every dimension unlimited, so that placement is "
                "total and a relapse can always be re-placed",
            )
        )
    states = {INTAKE, *codes, *_OUTCOME_VALUES}
    seen: set[tuple[str, str, str]] = set()
    edges: dict[str, set[str]] = {s: set() for s in states}
    for i, r in enumerate(rules):
        at = ("rules", i)
        if not isinstance(r, Rule):
            out.append(
                Problem(
                    code="not_a_rule",
                    where=at,
                    message=f"rules[{i}] is a {type(r).__name__}, not a Rule",
                )
            )
            continue
        move = f"{r.event.value} {r.source} -> {r.target}"
        bad = False
        if r.source not in states:
            out.append(
                Problem(
                    code="unknown_source",
                    where=(*at, "source"),
                    message=f"{move}: unknown source level {r.source!r}",
                )
            )
            bad = True
        elif r.source in _OUTCOME_VALUES:
            out.append(
                Problem(
                    code="source_is_outcome",
                    where=(*at, "source"),
                    message=f"{move}: {r.source!r} is an outcome; nothing leaves an outcome",
                )
            )
            bad = True
        if r.target not in states:
            out.append(
                Problem(
                    code="unknown_target",
                    where=(*at, "target"),
                    message=f"{move}: unknown target level {r.target!r}",
                )
            )
            bad = True
        for j, g in enumerate(r.guards):
            # The built-in classes first: a check against a runtime Protocol
            # inspects every member (about 25 us), and a pathway has ~150 guards.
            if type(g) not in _BUILTIN_GUARD_TYPES and not isinstance(g, Guard):
                out.append(
                    Problem(
                        code="not_a_guard",
                        where=(*at, "guards", j),
                        message=f"{move}: guard {type(g).__name__} does not implement the "
                        "Guard protocol (kind, overridable, check)",
                    )
                )
            elif guard_params(g) is None:
                out.append(
                    Problem(
                        code="guard_settings_unreadable",
                        where=(*at, "guards", j),
                        message=f"{move}: guard {type(g).__name__} keeps settings carepath "
                        "cannot read; make it an attrs class or give it a params() method, so "
                        "that the content hash covers them",
                    )
                )
        key = (r.event.value, r.source, r.target)
        if key in seen:
            out.append(
                Problem(
                    code="duplicate_rule",
                    where=at,
                    message=f"{move}: the same move is defined twice",
                )
            )
        seen.add(key)
        if bad:
            continue
        out.extend(
            Problem(code="rule_shape", where=at, message=f"{move}: {words}")
            for words in _shape_problems(r, codes)
        )
        edges[r.source].add(r.target)
    if codes:
        index = {lv.code: i for i, lv in enumerate(levels) if isinstance(lv, Level)}
        reachable = _closure({INTAKE}, edges)
        for code in codes:
            if code not in reachable:
                out.append(
                    Problem(
                        code="level_unreachable",
                        where=("levels", index[code]),
                        level=code,
                        message=f"level {code!r} is unreachable from intake",
                    )
                )
        reverse: dict[str, set[str]] = {s: set() for s in states}
        for s, targets in edges.items():
            for t in targets:
                reverse[t].add(s)
        can_end = _closure(set(_OUTCOME_VALUES), reverse)
        for code in codes:
            if code not in can_end:
                out.append(
                    Problem(
                        code="level_without_exit",
                        where=("levels", index[code]),
                        level=code,
                        message=f"level {code!r} has no way to an outcome",
                    )
                )
    return out


def _shape_problems(r: Rule, codes: Mapping[str, Level]) -> list[str]:
    src, dst = codes.get(r.source), codes.get(r.target)
    e = r.event
    if e in OUTCOME_OF:
        want = OUTCOME_OF[e].value
        return [] if r.target == want else [f"{e.value} must lead to {want!r}"]
    if r.target in _OUTCOME_VALUES:
        return [f"{e.value} cannot lead to an outcome"]
    if e is Event.REASSESS:
        return [] if r.target == r.source else ["reassess keeps the patient in place"]
    if e is Event.ADMIT:
        if r.source != INTAKE or dst is None:
            return ["admit goes from intake to a level"]
        return []
    if src is None or dst is None:
        return [f"{e.value} goes from a level to a level, not from intake"]
    if e is Event.STEP_DOWN and not dst.intensity < src.intensity:
        return ["step_down must go to a less intensive level"]
    if e is Event.STEP_UP and not dst.intensity > src.intensity:
        return ["step_up must go to a more intensive level"]
    if e is Event.RELAPSE and dst.intensity < src.intensity:
        return ["relapse stays in place or goes to a more intensive level"]
    return []


def _closure(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
