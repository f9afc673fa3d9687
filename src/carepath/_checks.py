"""attrs validators that raise :class:`~carepath.InvalidArgument` naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import attrs

from ._errors import InvalidArgument

Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def typed(kind: type | tuple[type, ...], *, minimum: int | None = None) -> Validator:
    """Value is an instance of ``kind`` (never a bool for int), and at least ``minimum``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise InvalidArgument(
                owner=type(instance).__name__,
                field=attribute.name,
                problem=f"expected {_names(kind)}, got {type(value).__name__}",
            )
        if minimum is not None and isinstance(value, int) and value < minimum:
            raise InvalidArgument(
                owner=type(instance).__name__,
                field=attribute.name,
                problem=f"must be at least {minimum}, got {value}",
            )

    return check


def optional(validator: Validator) -> Validator:
    """``None``, or what ``validator`` accepts."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check
