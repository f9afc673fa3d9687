"""The cattrs converter for pathway definitions: parsed data -> ``*Spec`` records.

Pathway files are structured in two steps: cattrs turns the parsed TOML / JSON
into the plain ``*Spec`` records below (checking types, required and unknown
keys), then :mod:`carepath.definitions._build` builds the levels, criteria and rules
from them. The converter is strict: a string is never read as a number, a
number never as a string, and a string is never taken for a list. Every
problem cattrs finds is collected with its key path; none escapes as a cattrs
exception.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeAlias, final, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory, mapping_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from carepath._assessment import DIMENSIONS
from carepath._guards import Event
from carepath._levels import Setting
from carepath._problems import Path, PathSegment, format_path

__all__ = [
    "TOP_KEYS",
    "GuardSpec",
    "LevelSpec",
    "Path",
    "PathSegment",
    "PathwaySpec",
    "RemoveSpec",
    "RuleSetSpec",
    "RuleSpec",
    "StaySpec",
    "format_path",
    "structure_spec",
]


Scalar: TypeAlias = str | int | float | bool


@final
@attrs.frozen(kw_only=True)
class StaySpec:
    minimum_days: int
    typical_days: int
    maximum_days: int | None = None


@final
@attrs.frozen(kw_only=True)
class LevelSpec:
    code: str
    name: str
    setting: Setting
    stay: StaySpec
    intensity: int | None = None
    medically_monitored: bool = False
    hours_per_week: tuple[float | None, ...] = (0.0, None)
    asam3: tuple[str, ...] = ()
    asam4: tuple[str, ...] = ()
    description: str = ""


@final
@attrs.frozen(kw_only=True)
class GuardSpec:
    kind: str
    params: Mapping[str, Scalar] = attrs.field(factory=dict)


@final
@attrs.frozen(kw_only=True)
class RuleSpec:
    event: Event
    source: str
    target: str
    guards: tuple[GuardSpec, ...] = ()


@final
@attrs.frozen(kw_only=True)
class RemoveSpec:
    event: Event
    source: str | None = None
    target: str | None = None


class Base(enum.StrEnum):
    DEFAULT = "default"
    NONE = "none"


@final
@attrs.frozen(kw_only=True)
class RuleSetSpec:
    base: Base = Base.DEFAULT
    add: tuple[RuleSpec, ...] = ()
    remove: tuple[RemoveSpec, ...] = ()


@final
@attrs.frozen(kw_only=True)
class PathwaySpec:
    """A definition's parts; a part that could not be structured is left at its default
    (a level that could not be structured is ``None``, keeping the others' indices)."""

    id: str = ""
    version: str = ""
    levels: tuple[LevelSpec | None, ...] = ()
    criteria: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    rules: RuleSetSpec | tuple[RuleSpec, ...] = RuleSetSpec()
    name: str = ""
    description: str = ""
    format_version: int = 1


TOP_KEYS: Final[tuple[str, ...]] = (
    "$schema",
    "format_version",
    "id",
    "version",
    "name",
    "description",
    "levels",
    "criteria",
    "rules",
)


def _kind(value: object) -> str:
    """The kind of a parsed value, in the words of a file's author."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


class Mismatch(TypeError):
    """A value of the wrong kind; the message says what was expected."""


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise Mismatch(f"expected a string, got {_kind(value)}")
    return value


def _strict_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Mismatch(f"expected an integer, got {_kind(value)}")
    return value


def _strict_float(value: object, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Mismatch(f"expected a number, got {_kind(value)}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"expected a finite number, got {value!r}")
    return out


def _strict_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise Mismatch(f"expected true or false, got {_kind(value)}")
    return value


def _enum_hook(cls: type[enum.Enum]) -> Callable[[object, type], enum.Enum]:
    allowed = ", ".join(repr(m.value) for m in cls)

    def hook(value: object, _: type) -> enum.Enum:
        if not isinstance(value, str):
            raise Mismatch(f"expected one of {allowed}, got {_kind(value)}")
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{value!r} is not one of {allowed}") from None

    return hook


def _optional_int(value: object, _: type) -> int | None:
    return None if value is None else _strict_int(value, int)


def _hours_item(value: object, _: type) -> float | None:
    return None if value is None else _strict_float(value, float)


def _scalar(value: object, _: type) -> Scalar:
    if isinstance(value, str | int | float | bool):
        return value
    raise Mismatch(f"expected a string, number or boolean, got {_kind(value)}")


def _make_converter() -> cattrs.Converter:
    c = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    # Direct hooks (cattrs' own would convert: int("3"), str(3)); enums get their own below.
    c.register_structure_hook(str, _strict_str)
    c.register_structure_hook(int, _strict_int)
    c.register_structure_hook(float, _strict_float)
    c.register_structure_hook(bool, _strict_bool)
    c.register_structure_hook_func(lambda t: t == (int | None), _optional_int)
    c.register_structure_hook_func(lambda t: t == (float | None), _hours_item)
    c.register_structure_hook_func(lambda t: t == Scalar, _scalar)
    c.register_structure_hook_func(lambda t: t == (str | None), _optional_str)
    for cls in (Setting, Event, Base):
        c.register_structure_hook(cls, _enum_hook(cls))

    def tuple_factory(t: Any, conv: cattrs.BaseConverter) -> Callable[[object, Any], Any]:
        inner = homogenous_tuple_structure_factory(t, conv)

        def hook(value: object, tt: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise Mismatch(f"expected an array, got {_kind(value)}")
            return inner(value, tt)

        return hook

    def mapping_factory(t: Any, conv: cattrs.BaseConverter) -> Callable[[object, Any], Any]:
        inner = mapping_structure_factory(t, conv)

        def hook(value: object, tt: Any) -> Any:
            if not isinstance(value, Mapping):
                raise Mismatch(f"expected a table, got {_kind(value)}")
            return inner(value, tt)

        return hook

    def class_factory(t: Any, conv: cattrs.BaseConverter) -> Callable[[object, Any], Any]:
        inner = make_dict_structure_fn(
            t, conv, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
        )

        def hook(value: object, tt: Any) -> Any:
            if not isinstance(value, Mapping):
                raise Mismatch(f"expected a table, got {_kind(value)}")
            return inner(value, tt)

        return hook

    c.register_structure_hook_factory(_is_homogeneous_tuple, tuple_factory)
    c.register_structure_hook_factory(_is_mapping, mapping_factory)
    c.register_structure_hook_factory(_is_spec_class, class_factory)
    c.register_structure_hook(GuardSpec, _guard_spec)
    c.register_structure_hook_func(
        lambda t: t == (RuleSetSpec | tuple[RuleSpec, ...]), _rules_union(c)
    )
    return c


def _is_homogeneous_tuple(t: Any) -> bool:
    origin: object = get_origin(t)
    args = get_args(t)
    return origin is tuple and len(args) == 2 and args[1] is ...


def _is_mapping(t: Any) -> bool:
    origin: object = get_origin(t)
    return origin is Mapping


def _is_spec_class(t: Any) -> bool:
    return isinstance(t, type) and attrs.has(t) and t is not GuardSpec


def _optional_str(value: object, _: type) -> str | None:
    return None if value is None else _strict_str(value, str)


def _guard_spec(value: object, _: type) -> GuardSpec:
    if isinstance(value, str):
        return GuardSpec(kind=value)
    if not isinstance(value, Mapping):
        raise Mismatch(
            f"expected a guard kind (a string) or a table with 'kind', got {_kind(value)}"
        )
    errors: list[Exception] = []
    kind = value.get("kind")
    e: Exception
    if not isinstance(kind, str):
        e = KeyError("kind") if kind is None else Mismatch(f"expected a string, got {_kind(kind)}")
        e.__notes__ = [AttributeValidationNote("kind", "kind", str)]
        errors.append(e)
    params: dict[str, Scalar] = {}
    for k, v in value.items():
        if k == "kind":
            continue
        if not isinstance(v, str | int | float | bool):
            e = Mismatch(f"a guard parameter must be a string, number or boolean, got {_kind(v)}")
            e.__notes__ = [AttributeValidationNote(str(k), str(k), object)]
            errors.append(e)
            continue
        params[str(k)] = v
    if errors:
        raise ClassValidationError("invalid guard", errors, GuardSpec)
    assert isinstance(kind, str)
    return GuardSpec(kind=kind, params=params)


def _rules_union(c: cattrs.Converter) -> Callable[[object, Any], Any]:
    def hook(value: object, _: Any) -> RuleSetSpec | tuple[RuleSpec, ...]:
        if isinstance(value, str):
            if value != Base.DEFAULT.value:
                raise ValueError(
                    f"{value!r} is not a rule set; use 'default', an array of rules, "
                    "or a table with base, add and remove"
                )
            return RuleSetSpec()
        if isinstance(value, list | tuple):
            out: tuple[RuleSpec, ...] = c.structure(value, tuple[RuleSpec, ...])
            return out
        if isinstance(value, Mapping):
            return c.structure(value, RuleSetSpec)
        raise Mismatch(
            "expected 'default', an array of rules, or a table with base, add and remove; "
            f"got {_kind(value)}"
        )

    return hook


CONVERTER: Final = _make_converter()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return "required key is missing"
    if isinstance(exc, Mismatch | ValueError):
        return str(exc)
    if isinstance(exc, TypeError):
        return f"wrong kind of value ({exc})"
    return f"invalid value ({exc})"


def _code(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return "missing_key"
    if isinstance(exc, Mismatch) or (
        isinstance(exc, TypeError) and not isinstance(exc, ValueError)
    ):
        return "wrong_type"
    return "invalid_value"


def _walk(exc: BaseException, path: Path) -> Iterator[tuple[Path, str, str]]:
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = ", ".join(f.name for f in attrs.fields(exc.cl)) if attrs.has(exc.cl) else ""
        for key in sorted(exc.extra_fields):
            yield (*path, key), f"unknown key; allowed here: {allowed}", "unknown_key"
        return
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, inote in with_notes:
            yield from _walk(sub, (*path, _segment(inote)))
        for sub in without:
            yield from _walk(sub, path)
        return
    if isinstance(exc, ClassValidationError):
        with_anotes, others = exc.group_exceptions()
        for sub, anote in with_anotes:
            yield from _walk(sub, (*path, anote.name))
        for sub in others:
            yield from _walk(sub, path)
        return
    if isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            yield from _walk(member, path)
        return
    yield path, _describe(exc), _code(exc)


def _segment(note: IterableValidationNote) -> PathSegment:
    index = note.index
    return index if isinstance(index, int) else str(index)


def structure_spec(
    data: Mapping[str, object],
) -> tuple[PathwaySpec, list[tuple[Path, str, str]]]:
    """Structure parsed data part by part; every problem comes back as ``(path, message)``.

    Each top-level part, and each level, is structured on its own, so one bad
    level does not hide the problems of the others. Nothing cattrs raises escapes.
    """
    problems: list[tuple[Path, str, str]] = []

    def part(key: str, tp: Any, default: Any, *, required: bool = False) -> Any:
        if key not in data:
            if required:
                problems.append(((key,), "required key is missing", "missing_key"))
            return default
        return one(data[key], tp, (key,), default)

    def one(value: object, tp: Any, at: Path, default: Any) -> Any:
        try:
            return CONVERTER.structure(value, tp)
        except Exception as exc:  # every structuring failure is a problem
            problems.extend(((*at, *p), m, c) for p, m, c in _walk(exc, ()))
            return default

    for key in data:
        if key not in TOP_KEYS:
            problems.append(
                (
                    (str(key),),
                    "unknown key; allowed at the top level: "
                    + ", ".join(k for k in TOP_KEYS if k != "$schema"),
                    "unknown_key",
                )
            )
    levels: list[LevelSpec | None] = []
    raw_levels = data.get("levels")
    if "levels" not in data:
        problems.append((("levels",), "required key is missing", "missing_key"))
    elif not isinstance(raw_levels, list):
        problems.append(
            (("levels",), f"expected an array of levels, got {_kind(raw_levels)}", "wrong_type")
        )
    else:
        if not raw_levels:
            problems.append((("levels",), "a pathway needs at least one level", "no_levels"))
        levels = [one(item, LevelSpec, ("levels", i), None) for i, item in enumerate(raw_levels)]
    spec = PathwaySpec(
        id=part("id", str, "", required=True),
        version=part("version", str, "", required=True),
        name=part("name", str, ""),
        description=part("description", str, ""),
        format_version=part("format_version", int, 1),
        levels=tuple(levels),
        criteria=part("criteria", Mapping[str, Mapping[str, int]], {}, required=True),
        rules=part("rules", RuleSetSpec | tuple[RuleSpec, ...], RuleSetSpec()),
    )
    return spec, problems


DIMENSION_NAMES: Final[tuple[str, ...]] = tuple(d.value for d in DIMENSIONS)
