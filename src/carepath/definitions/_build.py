"""Building a pathway from parsed data: levels, criteria, rules, every problem located.

Reading goes text -> parsed data (``tomllib`` / ``json``, :mod:`._read`) ->
cattrs-structured specs (:mod:`._spec`) -> levels, criteria, rules ->
:class:`~carepath.Pathway` (whose own validation runs last). Every problem on
the way is collected and reported in one :class:`~carepath.PathwayDefinitionError`,
each with its key path and, where the text is at hand, its line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from carepath._assessment import Dimension
from carepath._criteria import Criteria
from carepath._errors import PathwayError
from carepath._guards import (
    FitsCriteria,
    Guard,
    GuardFactory,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    PlacementMatches,
    RelapsePlacement,
    RiskAtLeast,
    RiskAtMost,
)
from carepath._levels import _CODE, _RESERVED, Level, StayRule
from carepath._pathway import Pathway, Rule, default_rules
from carepath._problems import Problem

from ._collect import Collector
from ._spec import (
    DIMENSION_NAMES,
    Base,
    GuardSpec,
    LevelSpec,
    Path,
    PathwaySpec,
    RuleSetSpec,
    RuleSpec,
    _kind,
    structure_spec,
)

__all__ = ["BUILTIN_GUARDS", "FORMAT_VERSION", "GuardFactory", "build"]


FORMAT_VERSION: Final = 1
"""The version of the file format this carepath reads and writes."""


def _risk_guard(cls: type[RiskAtMost] | type[RiskAtLeast]) -> GuardFactory:
    def make(*, dimension: object, risk: object) -> Guard:
        if not isinstance(dimension, str) or dimension not in DIMENSION_NAMES:
            raise ValueError(f"dimension {dimension!r} is not one of " + ", ".join(DIMENSION_NAMES))
        if isinstance(risk, bool) or not isinstance(risk, int) or not 0 <= risk <= 4:
            raise ValueError(f"risk must be an integer 0-4, got {risk!r}")
        return cls(dimension=Dimension(dimension), risk=risk)

    return make


BUILTIN_GUARDS: Final[Mapping[str, tuple[GuardFactory, tuple[str, ...]]]] = {
    "fits_criteria": (FitsCriteria, ()),
    "placement": (PlacementMatches, ()),
    "needs_more_care": (NeedsMoreCare, ()),
    "no_higher_need": (NoHigherNeed, ()),
    "relapse_placement": (RelapsePlacement, ()),
    "minimum_stay": (MinimumStay, ()),
    "maximum_stay": (MaximumStay, ()),
    "risk_at_most": (_risk_guard(RiskAtMost), ("dimension", "risk")),
    "risk_at_least": (_risk_guard(RiskAtLeast), ("dimension", "risk")),
}
"""Built-in guard kinds: factory and the parameters each takes (all required)."""


def build(
    data: object,
    *,
    file: str = "",
    lines: Mapping[Path, int] | None = None,
    guards: Mapping[str, GuardFactory] | None = None,
) -> Pathway:
    """Build a pathway from parsed data, collecting every problem with its location."""
    out = Collector(file=file, lines=lines or {})
    if isinstance(data, Mapping):
        data = {k: v for k, v in data.items() if k != "$schema"}
    else:
        out.add(
            (),
            f"expected a table of keys (id, version, levels, ...), got {_kind(data)}",
            "wrong_type",
        )
        raise out.error()
    spec, found = structure_spec(data)
    for path, message, code in found:
        out.add(path, message, code)
    factories = _factories(guards, out)
    if spec.format_version != FORMAT_VERSION:
        out.add(
            ("format_version",),
            f"format_version {spec.format_version} is not supported; this carepath reads "
            f"{FORMAT_VERSION}",
            "unsupported_format_version",
        )
    levels = _levels(spec, out)
    criteria = _criteria(spec, levels, out)
    before = len(out.found)
    rules, origins = _rules(spec, levels, factories, out)
    # The pathway's own checks need every part; with a part missing they would report
    # problems that are not there (a rule naming a level that failed to load).
    complete = (
        not found
        and len(levels) == len(spec.levels)
        and len(criteria) == len(spec.criteria)
        and len(out.found) == before
    )
    if out and not complete:
        _stay_problems(levels, spec, out)  # what the pathway's checks would have said
        raise out.error(spec.id)
    try:
        pathway = Pathway(
            id=spec.id,
            version=spec.version,
            name=spec.name,
            levels=levels,
            criteria=criteria,
            rules=rules,
        )
    except PathwayError as exc:
        for problem in exc.problems:
            if problem.code != "stay_inconsistent":  # located from the levels, just below
                out.add(*_locate(problem, spec, origins), code=problem.code)
        _stay_problems(levels, spec, out)
        raise out.error(spec.id) from None
    if out:
        raise out.error(spec.id)
    return pathway


def _factories(
    guards: Mapping[str, GuardFactory] | None, out: Collector
) -> dict[str, tuple[GuardFactory, tuple[str, ...] | None]]:
    table: dict[str, tuple[GuardFactory, tuple[str, ...] | None]] = dict(BUILTIN_GUARDS)
    for kind, factory in (guards or {}).items():
        if kind in BUILTIN_GUARDS:
            out.add(
                (),
                f"custom guard kind {kind!r} is a built-in kind; choose another name",
                "guard_kind_taken",
            )
        elif not callable(factory):
            out.add((), f"custom guard {kind!r} is not callable", "guard_not_callable")
        else:
            table[kind] = (factory, None)
    return table


def _levels(spec: PathwaySpec, out: Collector) -> list[Level]:
    levels: list[Level] = []
    for i, ls in enumerate(spec.levels):
        if ls is None:
            continue
        at: Path = ("levels", i)
        ok = True
        stay = ls.stay
        for name, value, low in (
            ("minimum_days", stay.minimum_days, 0),
            ("typical_days", stay.typical_days, 0),
            ("maximum_days", stay.maximum_days, 1),
        ):
            if value is not None and value < low:
                out.add((*at, "stay", name), f"must be at least {low} days, got {value}")
                ok = False
        # Inconsistent figures (minimum above maximum, ...) are left to Pathway.problems().
        hours = _hours(ls, at, out) or (0.0, None)  # a stand-in keeps the level checkable
        if not _CODE.match(ls.code):
            out.add(
                (*at, "code"),
                f"{ls.code!r} is not a level code: use 1-40 lowercase "
                "letters, digits or underscores, starting with a letter",
                "bad_level_code",
            )
            ok = False
        elif ls.code in _RESERVED:
            out.add(
                (*at, "code"),
                f"{ls.code!r} is reserved for a state of the episode; choose another code",
                "bad_level_code",
            )
            ok = False
        if not ok:
            continue
        levels.append(
            Level(
                code=ls.code,
                name=ls.name,
                intensity=i if ls.intensity is None else ls.intensity,
                setting=ls.setting,
                medically_monitored=ls.medically_monitored,
                hours_per_week=hours,
                stay=StayRule(
                    minimum_days=stay.minimum_days,
                    typical_days=stay.typical_days,
                    maximum_days=stay.maximum_days,
                ),
                asam3=ls.asam3,
                asam4=ls.asam4,
                description=ls.description,
            )
        )
    return levels


def _hours(ls: LevelSpec, at: Path, out: Collector) -> tuple[float, float | None] | None:
    h = ls.hours_per_week
    where = (*at, "hours_per_week")
    if len(h) not in (1, 2) or h[0] is None:
        out.add(where, "expected [low] (open-ended) or [low, high] hours a week")
        return None
    low, high = h[0], (h[1] if len(h) == 2 else None)
    if low < 0:
        out.add(where, f"hours a week cannot be negative, got {low}")
        return None
    if high is not None and high < low:
        out.add(where, f"high {high} is below low {low}")
        return None
    return (low, high)


def _criteria(spec: PathwaySpec, levels: Sequence[Level], out: Collector) -> dict[str, Criteria]:
    result: dict[str, Criteria] = {}
    for code, table in spec.criteria.items():
        ok = True
        for dim, value in table.items():
            if dim not in DIMENSION_NAMES:
                out.add(
                    ("criteria", code, dim),
                    "unknown dimension; allowed: " + ", ".join(DIMENSION_NAMES),
                )
                ok = False
            elif not 0 <= value <= 4:
                out.add(("criteria", code, dim), f"a maximum rating must be 0-4, got {value}")
                ok = False
        if ok:
            result[code] = Criteria.from_mapping(table)
    return result


def _rules(
    spec: PathwaySpec,
    levels: Sequence[Level],
    factories: Mapping[str, tuple[GuardFactory, tuple[str, ...] | None]],
    out: Collector,
) -> tuple[list[Rule], list[Path]]:
    def make(rs: RuleSpec, at: Path) -> Rule | None:
        made: list[Guard] = []
        ok = True
        for j, gs in enumerate(rs.guards):
            g = _guard(gs, (*at, "guards", j), factories, out)
            if g is None:
                ok = False
            else:
                made.append(g)
        if not ok:
            return None
        return Rule(event=rs.event, source=rs.source, target=rs.target, guards=made)

    if isinstance(spec.rules, tuple):
        rules: list[Rule] = []
        origins: list[Path] = []
        for i, rs in enumerate(spec.rules):
            r = make(rs, ("rules", i))
            if r is not None:
                rules.append(r)
                origins.append(("rules", i))
        return rules, origins
    rule_set: RuleSetSpec = spec.rules
    base: list[Rule] = default_rules(levels) if rule_set.base is Base.DEFAULT else []
    keyed: dict[tuple[str, str, str], tuple[Rule, Path]] = {
        (r.event.value, r.source, r.target): (r, ("rules",)) for r in base
    }
    for i, rm in enumerate(rule_set.remove):
        hits = [
            k
            for k in keyed
            if k[0] == rm.event.value
            and (rm.source is None or k[1] == rm.source)
            and (rm.target is None or k[2] == rm.target)
        ]
        if not hits:
            what = " ".join(x for x in (rm.event.value, rm.source or "*", "->", rm.target or "*"))
            out.add(
                ("rules", "remove", i),
                f"removes no rule: the rule set has no {what}",
                "removes_no_rule",
            )
        for k in hits:
            del keyed[k]
    for i, rs in enumerate(rule_set.add):
        r = make(rs, ("rules", "add", i))
        if r is not None:
            keyed[(r.event.value, r.source, r.target)] = (r, ("rules", "add", i))
    return [r for r, _ in keyed.values()], [p for _, p in keyed.values()]


def _guard(
    gs: GuardSpec,
    at: Path,
    factories: Mapping[str, tuple[GuardFactory, tuple[str, ...] | None]],
    out: Collector,
) -> Guard | None:
    entry = factories.get(gs.kind)
    if entry is None:
        out.add(
            (*at, "kind") if gs.params else at,
            f"unknown guard kind {gs.kind!r}; known kinds: " + ", ".join(sorted(factories)),
            "unknown_guard_kind",
        )
        return None
    factory, expected = entry
    if expected is not None:
        missing = [p for p in expected if p not in gs.params]
        extra = [p for p in gs.params if p not in expected]
        takes = ("takes " + ", ".join(expected)) if expected else "takes no parameters"
        for p in extra:
            out.add(
                (*at, p), f"guard {gs.kind!r} has no parameter {p!r}; it {takes}", "unknown_key"
            )
        for p in missing:
            out.add(at, f"guard {gs.kind!r} needs the parameter {p!r}; it {takes}", "missing_key")
        if missing or extra:
            return None
    try:
        guard = factory(**gs.params)
    except Exception as exc:  # a custom factory's failure is a located problem
        out.add(at, f"guard {gs.kind!r}: {exc}")
        return None
    if not isinstance(guard, Guard):
        out.add(
            at,
            f"guard {gs.kind!r}: the factory returned a {type(guard).__name__}, "
            "which does not implement the Guard protocol (kind, overridable, check)",
        )
        return None
    if guard.kind != gs.kind:
        out.add(
            at,
            f"guard {gs.kind!r}: the factory made a guard of kind {guard.kind!r}; "
            "register it under its own kind so files round-trip",
        )
        return None
    return guard


def _stay_problems(levels: Sequence[Level], spec: PathwaySpec, out: Collector) -> None:
    """Each level's inconsistent stay figures, at the figure's key in the file."""
    codes = [ls.code if ls is not None else "" for ls in spec.levels]
    for lv in levels:
        index = codes.index(lv.code) if lv.code in codes else None
        for field, words in lv.stay.issues():
            where: Path = ("levels",) if index is None else ("levels", index, "stay", field)
            out.add(where, words, code="stay_inconsistent")


def _locate(problem: Problem, spec: PathwaySpec, origins: Sequence[Path]) -> tuple[Path, str]:
    """Where in the file one of the pathway's own problems is, from its record's fields."""
    where = problem.where
    if where[:1] == ("rules",) and len(where) >= 2 and isinstance(where[1], int):
        i = where[1]
        at = origins[i] if i < len(origins) else ("rules",)
        return ((*at, *where[2:]) if at[-1] != "rules" else at), problem.message
    if where[:1] == ("levels",) and len(where) >= 2 and problem.level is not None:
        codes = [ls.code if ls is not None else "" for ls in spec.levels]
        hits = [i for i, c in enumerate(codes) if c == problem.level]
        if not hits:
            return ("levels",), problem.message
        # A repeated code or intensity is reported on the later level, as a reader finds it.
        last = problem.code in ("duplicate_level_code", "shared_intensity")
        index = hits[-1] if last else hits[0]
        rest = where[2:]
        return ("levels", index, *rest), problem.message
    return where, problem.message
