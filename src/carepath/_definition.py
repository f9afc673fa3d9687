"""Pathway definitions as files: TOML and JSON in, TOML and JSON out, errors that point.

A definition file holds a whole pathway: its id and version, its levels (with
stay rules, hours, setting and ASAM labels), per-level criteria, and its rules
(``rules = "default"`` for :func:`~carepath.default_rules`, optionally with
rules added and removed, or every rule spelled out with its guards).

Reading goes text -> parsed data (``tomllib`` / ``json``) -> cattrs-structured
specs (:mod:`carepath._serialize`) -> levels, criteria, rules -> :class:`Pathway`
(whose own validation runs last). Every problem on the way is collected and
reported in one :class:`~carepath.PathwayDefinitionError`, each with its key
path and, where the text is at hand, its line.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from ._assessment import DIMENSIONS, Dimension
from ._criteria import Criteria
from ._errors import DefinitionProblem, PathwayDefinitionError, PathwayError
from ._guards import (
    Event,
    FitsCriteria,
    Guard,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    PlacementMatches,
    RelapsePlacement,
    RiskAtLeast,
    RiskAtMost,
)
from ._levels import _CODE, _RESERVED, INTAKE, Level, StayRule
from ._serialize import (
    DIMENSION_NAMES,
    Base,
    GuardSpec,
    LevelSpec,
    Path,
    PathSegment,
    PathwaySpec,
    RuleSetSpec,
    RuleSpec,
    format_path,
    structure_spec,
    to_toml,
)
from ._textio import TextInputError, as_text, load_json

if TYPE_CHECKING:
    from ._pathway import Pathway, Rule

__all__ = [
    "FORMAT_VERSION",
    "GuardFactory",
    "catalogs",
    "definition_schema",
    "load_catalog",
]

FORMAT_VERSION: Final = 1
"""The version of the file format this carepath reads and writes."""

GuardFactory: TypeAlias = Callable[..., Guard]
"""Builds a custom guard from the parameters a file gives it (as keyword arguments).

An attrs class implementing :class:`~carepath.Guard` is its own factory; its
fields are then written back out by :meth:`Pathway.to_dict`, so the pathway
round-trips.
"""

Format: TypeAlias = Literal["toml", "json"]


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


# -- reading ---------------------------------------------------------------------------------


class _Collector:
    """Collects problems with key paths and turns them into located ones."""

    def __init__(self, *, file: str, lines: Mapping[Path, int]) -> None:
        self.file = file
        self.lines = lines
        self.found: list[tuple[Path, str]] = []

    def add(self, path: Path, message: str) -> None:
        self.found.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.found)

    def locate(self, path: Path) -> int | None:
        for n in range(len(path), -1, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return line
        return None

    def error(self, pathway_id: str = "") -> PathwayDefinitionError:
        seen: set[tuple[Path, str]] = set()
        details: list[DefinitionProblem] = []
        for path, message in self.found:
            if (path, message) in seen:
                continue
            seen.add((path, message))
            details.append(
                DefinitionProblem(
                    message=message,
                    path=format_path(path),
                    file=self.file,
                    line=self.locate(path) if path or self.lines else None,
                )
            )
        details.sort(key=lambda d: (d.line is None, d.line or 0))  # stable: file order
        return PathwayDefinitionError(details=details, pathway_id=pathway_id, source=self.file)


def _fail(
    message: str,
    *,
    file: str = "",
    line: int | None = None,
    column: int | None = None,
    path: str = "",
) -> PathwayDefinitionError:
    return PathwayDefinitionError(
        details=[
            DefinitionProblem(message=message, path=path, file=file, line=line, column=column)
        ],
        source=file,
    )


_TOML_AT = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def _parse(text: object, fmt: Format, file: str) -> tuple[object, str]:
    # Decoding, the BOM, size and depth limits and strict JSON: carepath._textio.
    if not isinstance(text, str | bytes | bytearray):
        raise _fail(f"expected {fmt.upper()} text, got a {type(text).__name__}", file=file)
    try:
        text = as_text(text, source=file)
        if fmt == "json":
            return load_json(text, source=file), text
    except TextInputError as exc:
        line, path = exc.line, ""
        if exc.pointer is not None:  # a duplicate key: name the object it is in
            at = tuple(int(t) if t.isdigit() else t for t in exc.pointer.split("/")[1:])
            path = format_path(at)
            try:
                line = json_lines(text).get(at) if isinstance(text, str) else None
            except (RecursionError, ValueError, IndexError):  # pragma: no cover - best effort
                line = None
        raise _fail(
            _problem(exc, fmt), file=file, line=line, column=exc.column, path=path
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_AT.match(str(exc))
        if m:
            raise _fail(
                f"invalid TOML: {m['msg']}",
                file=file,
                line=int(m["line"]),
                column=int(m["col"]),
            ) from None
        raise _fail(f"invalid TOML: {exc}", file=file) from None
    except RecursionError:
        raise _fail("invalid TOML: nested too deeply", file=file) from None


def _problem(exc: TextInputError, fmt: Format) -> str:
    if exc.problem.startswith("not UTF-8"):
        return exc.problem
    return (
        exc.problem
        if exc.problem.startswith("invalid")
        else f"invalid {fmt.upper()}: {exc.problem}"
    )


def load_text(
    text: object, fmt: Format, *, file: str = "", guards: Mapping[str, GuardFactory] | None = None
) -> Pathway:
    """Read a definition from TOML or JSON text (see :meth:`Pathway.from_toml`)."""
    data, source = _parse(text, fmt, file)
    try:
        lines = toml_lines(source) if fmt == "toml" else json_lines(source)
    except (RecursionError, ValueError, IndexError):  # pragma: no cover - locating is best effort
        lines = {}
    return build(data, file=file, lines=lines, guards=guards)


def load_file(
    path: str | os.PathLike[str], *, guards: Mapping[str, GuardFactory] | None = None
) -> Pathway:
    """Read a ``.toml`` or ``.json`` definition file (see :meth:`Pathway.from_file`)."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise _fail(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    except ValueError:  # e.g. a NUL byte in the path
        raise _fail("cannot read the file: not a valid path", file=file) from None
    suffix = os.path.splitext(file)[1].lower()
    if suffix == ".json":
        fmt: Format = "json"
    elif suffix == ".toml":
        fmt = "toml"
    else:
        fmt = "json" if raw.lstrip().startswith(b"{") else "toml"
    return load_text(raw, fmt, file=file, guards=guards)


def build(
    data: object,
    *,
    file: str = "",
    lines: Mapping[Path, int] | None = None,
    guards: Mapping[str, GuardFactory] | None = None,
) -> Pathway:
    """Build a pathway from parsed data, collecting every problem with its location."""
    from ._pathway import Pathway, default_rules  # noqa: PLC0415  # _pathway imports this module

    out = _Collector(file=file, lines=lines or {})
    if isinstance(data, Mapping):
        data = {k: v for k, v in data.items() if k != "$schema"}
    else:
        out.add((), f"expected a table of keys (id, version, levels, ...), got {_kind_of(data)}")
        raise out.error()
    spec, found = structure_spec(data)
    for path, message in found:
        out.add(path, message)
    factories = _factories(guards, out)
    if spec.format_version != FORMAT_VERSION:
        out.add(
            ("format_version",),
            f"format_version {spec.format_version} is not supported; this carepath reads "
            f"{FORMAT_VERSION}",
        )
    levels = _levels(spec, out)
    criteria = _criteria(spec, levels, out)
    before = len(out.found)
    rules, origins = _rules(spec, levels, factories, out, default_rules)
    # The pathway's own checks need every part; with a part missing they would report
    # problems that are not there (a rule naming a level that failed to load).
    complete = (
        not found
        and len(levels) == len(spec.levels)
        and len(criteria) == len(spec.criteria)
        and len(out.found) == before
    )
    if out and not complete:
        for lv in levels:  # what the pathway's checks would have said about stay rules
            for problem in lv.stay.problems():
                out.add(*_locate_problem(f"level {lv.code!r}: {problem}", spec, origins))
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
            out.add(*_locate_problem(problem, spec, origins))
        raise out.error(spec.id) from None
    if out:
        raise out.error(spec.id)
    return pathway


def _kind_of(value: object) -> str:
    from ._serialize import _kind  # noqa: PLC0415  # one description of kinds

    return _kind(value)


def _factories(
    guards: Mapping[str, GuardFactory] | None, out: _Collector
) -> dict[str, tuple[GuardFactory, tuple[str, ...] | None]]:
    table: dict[str, tuple[GuardFactory, tuple[str, ...] | None]] = dict(BUILTIN_GUARDS)
    for kind, factory in (guards or {}).items():
        if kind in BUILTIN_GUARDS:
            out.add((), f"custom guard kind {kind!r} is a built-in kind; choose another name")
        elif not callable(factory):
            out.add((), f"custom guard {kind!r} is not callable")
        else:
            table[kind] = (factory, None)
    return table


def _levels(spec: PathwaySpec, out: _Collector) -> list[Level]:
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
            )
            ok = False
        elif ls.code in _RESERVED:
            out.add(
                (*at, "code"),
                f"{ls.code!r} is reserved for a state of the episode; choose another code",
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


def _hours(ls: LevelSpec, at: Path, out: _Collector) -> tuple[float, float | None] | None:
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


def _criteria(spec: PathwaySpec, levels: Sequence[Level], out: _Collector) -> dict[str, Criteria]:
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
    out: _Collector,
    default_rules: Callable[[Sequence[Level]], list[Rule]],
) -> tuple[list[Rule], list[Path]]:
    from ._pathway import Rule  # noqa: PLC0415  # _pathway imports this module

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
            out.add(("rules", "remove", i), f"removes no rule: the rule set has no {what}")
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
    out: _Collector,
) -> Guard | None:
    entry = factories.get(gs.kind)
    if entry is None:
        out.add(
            (*at, "kind") if gs.params else at,
            f"unknown guard kind {gs.kind!r}; known kinds: " + ", ".join(sorted(factories)),
        )
        return None
    factory, expected = entry
    if expected is not None:
        missing = [p for p in expected if p not in gs.params]
        extra = [p for p in gs.params if p not in expected]
        takes = ("takes " + ", ".join(expected)) if expected else "takes no parameters"
        for p in extra:
            out.add((*at, p), f"guard {gs.kind!r} has no parameter {p!r}; it {takes}")
        for p in missing:
            out.add(at, f"guard {gs.kind!r} needs the parameter {p!r}; it {takes}")
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


_RULE = re.compile(r"^rule (\d+) \((.*?)\): (.*)$")
_LEVEL = re.compile(r"^level '([^']*)'(?::| )\s*(.*)$")
_STAY = re.compile(r"^level '([^']*)': ((typical|maximum) stay .*)$")
_TWICE = re.compile(r"^level code '([^']*)' is used twice")
_SHARE = re.compile(r"^levels '([^']*)' and '([^']*)' share intensity")
_UNKNOWN_CRITERIA = re.compile(r"^criteria given for unknown level '([^']*)'")
_NOT_TOTAL: Final = re.compile(
    r"no level accepts every assessment at the top: the most "
    r"intensive level '([^']+)'"
)


def _locate_problem(problem: str, spec: PathwaySpec, origins: Sequence[Path]) -> tuple[Path, str]:
    """Map one of :meth:`Pathway.problems`'s sentences to the key path it is about."""
    codes = [ls.code if ls is not None else "" for ls in spec.levels]

    def level_at(code: str, last: bool = False) -> Path:
        hits = [i for i, c in enumerate(codes) if c == code]
        if not hits:
            return ("levels",)
        return ("levels", hits[-1] if last else hits[0])

    m = _RULE.match(problem)
    if m:
        i, what, rest = int(m[1]), m[2], m[3]
        at = origins[i] if i < len(origins) else ("rules",)
        if rest.startswith("unknown source"):
            at = (*at, "source") if at[-1] != "rules" else at
        elif rest.startswith("unknown target"):
            at = (*at, "target") if at[-1] != "rules" else at
        return at, f"{what}: {rest}"
    m = _TWICE.match(problem)
    if m:
        return (*level_at(m[1], last=True), "code"), problem
    m = _SHARE.match(problem)
    if m:
        return (*level_at(m[2], last=True), "intensity"), problem
    m = _UNKNOWN_CRITERIA.match(problem)
    if m:
        return ("criteria", m[1]), problem
    m = _NOT_TOTAL.match(problem)
    if m:
        return ("criteria", m[1]), problem
    if problem.startswith("id "):
        return ("id",), problem
    if problem.startswith("version "):
        return ("version",), problem
    if problem.startswith("a pathway needs at least one level"):
        return ("levels",), problem
    m = _STAY.match(problem)
    if m:
        key = "typical_days" if m[3] == "typical" else "maximum_days"
        return (*level_at(m[1]), "stay", key), m[2]
    m = _LEVEL.match(problem)
    if m:
        return level_at(m[1]), problem
    return (), problem


# -- locating keys in text ---------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]#]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
    r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=(.*)$"
)
_INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_-]+)\s*=")


def _dotted(key: str) -> list[str]:
    parts = re.findall(r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'", key)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def toml_lines(text: str) -> dict[Path, int]:
    """Best-effort map from key paths to the 1-based line that sets them, for TOML text."""
    lines: dict[Path, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    current: Path = ()
    in_string = False
    depth = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
            in_string = not in_string
            if not in_string:
                continue
        if in_string and not _KEYLINE.match(raw):
            continue
        if depth > 0:
            depth += raw.count("[") - raw.count("]")
            continue
        h = _HEADER.match(raw)
        if h and not _KEYLINE.match(raw):
            names = _dotted(h[2])
            resolved: list[PathSegment] = []
            for k in range(len(names)):
                resolved.append(names[k])
                plain = tuple(names[: k + 1])
                is_last = k == len(names) - 1
                if h[1] == "[[" and is_last:
                    counts[plain] = counts.get(plain, -1) + 1
                    resolved.append(counts[plain])
                elif plain in counts:
                    resolved.append(counts[plain])
            current = tuple(resolved)
            lines.setdefault(current, n)
            if h[1] == "[[":
                lines.setdefault(current[:-1], n)
            continue
        m = _KEYLINE.match(raw)
        if m:
            path = (*current, *_dotted(m[1]))
            lines.setdefault(path, n)
            rest = m[2]
            if rest.strip().startswith("{"):
                for sub in _INLINE_KEY.findall(rest):
                    lines.setdefault((*path, sub), n)
            depth = max(0, rest.count("[") - rest.count("]"))
    return lines


def json_lines(text: str) -> dict[Path, int]:
    """Map from key paths to the 1-based line where their value starts, for valid JSON text."""
    out: dict[Path, int] = {}
    stack: list[list[Any]] = []  # [kind, path, index, key]
    after_colon = False
    for kind, value, line in _json_tokens(text):
        top = stack[-1] if stack else None
        if top is not None and top[0] == "obj" and not after_colon:
            if kind == "str":
                top[3] = value
            elif kind == ":":
                after_colon = True
            elif kind == "}":
                stack.pop()
            continue
        if top is not None and top[0] == "arr":
            if kind == ",":
                top[2] += 1
                continue
            if kind == "]":
                stack.pop()
                continue
        if top is None:
            path: Path = ()
        elif top[0] == "arr":
            path = (*top[1], top[2])
        else:
            path = (*top[1], top[3])
        out.setdefault(path, line)
        after_colon = False
        if kind == "{":
            stack.append(["obj", path, 0, None])
        elif kind == "[":
            stack.append(["arr", path, 0, None])
    return out


def _json_tokens(text: str) -> Iterator[tuple[str, object, int]]:
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif ch in "{}[]:,":
            yield ch, None, line
            i += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            yield "str", json.loads(text[i : j + 1]), line
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in '{}[]:," \t\r\n':
                j += 1
            yield "lit", None, line
            i = max(j, i + 1)


# -- writing -----------------------------------------------------------------------------------


_NO_LIMIT: Final = 4


def _compact_guard(g: Mapping[str, Any]) -> object:
    return g["kind"] if len(g) == 1 else dict(g)


def to_data(pathway: Pathway, *, compact: bool = False) -> dict[str, Any]:
    """The definition as plain data (see :meth:`Pathway.to_dict`)."""
    data = pathway.to_canonical()
    probe = _default_rules_data(pathway) if compact else None
    if probe is None:
        return data
    data["criteria"] = {
        code: {d: v for d, v in c.items() if v != _NO_LIMIT} for code, c in data["criteria"].items()
    }
    mine = {(r["event"], r["source"], r["target"]): r for r in data["rules"]}
    default = {(r["event"], r["source"], r["target"]): r for r in probe}
    remove = [{"event": k[0], "source": k[1], "target": k[2]} for k in default if k not in mine]
    add = [
        {**r, "guards": [_compact_guard(g) for g in r["guards"]]}
        for k, r in mine.items()
        if default.get(k) != r
    ]
    if not remove and not add:
        data["rules"] = "default"
    elif len(remove) + len(add) < len(mine):
        rule_set: dict[str, Any] = {"base": "default"}
        if add:
            rule_set["add"] = add
        if remove:
            rule_set["remove"] = remove
        data["rules"] = rule_set
    else:
        data["rules"] = [
            {**r, "guards": [_compact_guard(g) for g in r["guards"]]} for r in data["rules"]
        ]
    return data


def _default_rules_data(pathway: Pathway) -> list[dict[str, Any]] | None:
    """The canonical form of the default rules over ``pathway``'s levels."""
    from ._pathway import Pathway, default_rules  # noqa: PLC0415  # _pathway imports this

    try:
        twin = Pathway(
            id=pathway.id,
            version=pathway.version,
            levels=pathway.levels,
            criteria=pathway.criteria,
            rules=default_rules(pathway.levels),
        )
    except PathwayError:  # pragma: no cover - default rules over valid levels are valid
        return None
    rules_data: list[dict[str, Any]] = twin.to_canonical()["rules"]
    return rules_data


def to_toml_text(pathway: Pathway, *, compact: bool = False) -> str:
    """The definition as TOML text (see :meth:`Pathway.to_toml`)."""
    data = to_data(pathway, compact=compact)
    for level in data["levels"]:
        hours = level["hours_per_week"]
        if len(hours) == 2 and hours[1] is None:
            level["hours_per_week"] = hours[:1]
    if isinstance(data["rules"], list):
        for rule in data["rules"]:
            rule["guards"] = [
                _compact_guard(g) if isinstance(g, Mapping) else g for g in rule["guards"]
            ]
    return to_toml(data, inline_tables=frozenset({"criteria"}))


def to_json_text(pathway: Pathway, *, compact: bool = False, indent: int | None = 2) -> str:
    """The definition as JSON text (see :meth:`Pathway.to_json`)."""
    return json.dumps(to_data(pathway, compact=compact), indent=indent, ensure_ascii=False)


# -- the JSON Schema ---------------------------------------------------------------------------


def definition_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of pathway definition files, TOML or JSON.

    Editors use it to validate and complete files; ``carepath schema`` prints it.

    >>> schema = definition_schema()
    >>> schema["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    >>> sorted(schema["required"])
    ['criteria', 'id', 'levels', 'version']
    """
    schema: dict[str, Any] = json.loads(json.dumps(_SCHEMA))  # a fresh copy every call
    return schema


_RISK: Final = {"type": "integer", "minimum": 0, "maximum": 4}
_EVENTS: Final = [e.value for e in Event]

_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://carepath.invalid/schema/pathway-1.json",
    "title": "carepath pathway definition",
    "description": "A care pathway: levels of care, per-level criteria and transition rules.",
    "type": "object",
    "required": ["id", "version", "levels", "criteria"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "description": "The schema this file follows (ignored)."},
        "format_version": {
            "const": FORMAT_VERSION,
            "description": "Version of the file format; 1.",
        },
        "id": {
            "type": "string",
            "minLength": 1,
            "pattern": r"\S",
            "description": "Stable identifier of the pathway, recorded on every episode.",
        },
        "version": {
            "type": "string",
            "minLength": 1,
            "pattern": r"\S",
            "description": "Version of the rules, recorded on every episode.",
        },
        "name": {"type": "string", "description": "Human name; defaults to the id."},
        "description": {
            "type": "string",
            "description": "What the pathway is for (not part of the pathway's content hash).",
        },
        "levels": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/level"},
            "description": "The levels of care.",
        },
        "criteria": {
            "type": "object",
            "description": "Per-level criteria keyed by level code: the most risk the level "
            "can safely manage on each dimension.",
            "additionalProperties": {"$ref": "#/$defs/criteria"},
        },
        "rules": {
            "description": "'default' for the standard rules, a table with base, add and "
            "remove, or every rule as an array.",
            "oneOf": [
                {"const": "default"},
                {"$ref": "#/$defs/rule_set"},
                {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            ],
        },
    },
    "$defs": {
        "level": {
            "type": "object",
            "required": ["code", "name", "setting", "stay"],
            "additionalProperties": False,
            "properties": {
                "code": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9_]{0,39}$",
                    "not": {"enum": [INTAKE, "completed", "dropped_out", "transferred_out"]},
                    "description": "Stable identifier used in criteria and rules.",
                },
                "name": {"type": "string", "description": "Human name."},
                "intensity": {
                    "type": "integer",
                    "description": "Order from least to most intensive; defaults to "
                    "the level's position in the list.",
                },
                "setting": {
                    "enum": ["residential", "day", "ambulatory", "recovery_residence"],
                    "description": "Where care happens.",
                },
                "medically_monitored": {
                    "type": "boolean",
                    "description": "Medical staff monitor the patient around the clock or on site.",
                },
                "hours_per_week": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "prefixItems": [
                        {"type": "number", "minimum": 0},
                        {"type": ["number", "null"], "minimum": 0},
                    ],
                    "description": "[low] (open-ended) or [low, high] clinical hours a week.",
                },
                "stay": {"$ref": "#/$defs/stay"},
                "asam3": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "ASAM Criteria 3rd edition level numbers.",
                },
                "asam4": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "ASAM Criteria 4th edition level numbers.",
                },
                "description": {
                    "type": "string",
                    "description": "What the level means for patients and clinicians.",
                },
            },
        },
        "stay": {
            "type": "object",
            "required": ["minimum_days", "typical_days"],
            "additionalProperties": False,
            "description": "Length of stay in days.",
            "properties": {
                "minimum_days": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "What a step down or completion waits for.",
                },
                "typical_days": {"type": "integer", "minimum": 0, "description": "The usual stay."},
                "maximum_days": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "What a continued stay must justify; leave out for no limit.",
                },
            },
        },
        "criteria": {
            "type": "object",
            "additionalProperties": False,
            "description": "Maximum rating (0-4) per dimension; a dimension left out has no limit.",
            "properties": {d.value: {**_RISK, "description": d.label} for d in DIMENSIONS},
        },
        "guard": {
            "oneOf": [
                {"type": "string", "description": "A guard kind without parameters."},
                {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {
                        "kind": {
                            "type": "string",
                            "anyOf": [{"enum": sorted(BUILTIN_GUARDS)}, {"type": "string"}],
                            "description": "A built-in guard kind or a registered custom one.",
                        },
                        "dimension": {"enum": list(DIMENSION_NAMES)},
                        "risk": _RISK,
                    },
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
            ],
        },
        "rule": {
            "type": "object",
            "required": ["event", "source", "target"],
            "additionalProperties": False,
            "properties": {
                "event": {"enum": _EVENTS, "description": "The event that makes the move."},
                "source": {"type": "string", "description": "'intake' or a level code."},
                "target": {
                    "type": "string",
                    "description": "A level code or an outcome (completed, "
                    "dropped_out, transferred_out).",
                },
                "guards": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/guard"},
                    "description": "Checks the move must pass.",
                },
            },
        },
        "removal": {
            "type": "object",
            "required": ["event"],
            "additionalProperties": False,
            "properties": {
                "event": {"enum": _EVENTS},
                "source": {"type": "string", "description": "Leave out to match any source."},
                "target": {"type": "string", "description": "Leave out to match any target."},
            },
        },
        "rule_set": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "base": {
                    "enum": ["default", "none"],
                    "description": "Start from the standard rules or from none.",
                },
                "add": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/rule"},
                    "description": "Rules added; one with the same event, source and "
                    "target as a base rule replaces it.",
                },
                "remove": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/removal"},
                    "description": "Base rules taken away.",
                },
            },
        },
    },
}


# -- catalogs ----------------------------------------------------------------------------------

_CATALOGS: Final[tuple[str, ...]] = ("standard", "asam3", "asam4", "adolescent")


def catalogs() -> dict[str, str]:
    """The catalogs shipped with carepath: name -> description.

    >>> list(catalogs())
    ['standard', 'asam3', 'asam4', 'adolescent']
    """
    out: dict[str, str] = {}
    for name in _CATALOGS:
        data = tomllib.loads(_catalog_text(name))
        out[name] = str(data.get("description", ""))
    return out


def _catalog_text(name: str) -> str:
    return resources.files("carepath").joinpath("catalogs", f"{name}.toml").read_text("utf-8")


def load_catalog(name: str) -> Pathway:
    """A pathway shipped with carepath, by name (see :func:`catalogs`).

    The same object is returned on every call.

    >>> load_catalog("asam4").levels[0].asam4
    ('1.0',)

    Raises:
        PathwayDefinitionError: there is no catalog of that name.
    """
    if not isinstance(name, str) or name not in _CATALOGS:
        shown = repr(name) if isinstance(name, str) else f"a {type(name).__name__}"
        raise PathwayDefinitionError(
            details=[
                DefinitionProblem(
                    message=f"no catalog named {shown}; known: " + ", ".join(_CATALOGS),
                )
            ]
        )
    return _load_catalog(name)


@functools.cache
def _load_catalog(name: str) -> Pathway:
    return load_text(_catalog_text(name), "toml", file=f"carepath/catalogs/{name}.toml")
