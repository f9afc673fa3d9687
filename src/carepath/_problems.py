"""Problems as records: a stable code, where it is, and the words rendered from them.

Every error that reports problems carries them as :class:`Problem` records
(``error.problems``); the message is rendered from the records and never parsed
back. A service returns :meth:`Problem.to_dict` as JSON. The codes are listed in
``docs/errors.md``.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from ._quote import is_quotable

__all__ = ["Path", "PathSegment", "Problem", "format_path"]

PathSegment: TypeAlias = str | int
"""A step in a key path: a key (str) or an array index (int)."""

Path: TypeAlias = tuple[PathSegment, ...]
"""A key path into a document: ``("levels", 2, "stay", "maximum_days")``."""


def format_path(path: Path) -> str:
    """``("levels", 2, "stay", "maximum_days")`` -> ``"levels[2].stay.maximum_days"``."""

    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif not is_quotable(seg, kind="key"):  # a sender's key: described, never quoted
            out += "[<key>]"
        elif seg.isidentifier() or (seg.replace("_", "a").isalnum() and seg.isascii()):
            out += f".{seg}" if out else seg
        else:
            out += f"[{seg!r}]"
    return out


def _path(value: object) -> Path:
    if isinstance(value, str):
        raise TypeError("where is a tuple of keys and indexes, not a string")
    return tuple(value)  # type: ignore[arg-type]  # checked by the validator below


def _check_path(_: object, __: attrs.Attribute[Path], value: Path) -> None:
    for seg in value:
        if isinstance(seg, bool) or not isinstance(seg, str | int):
            raise TypeError(f"a path holds keys (str) and indexes (int), got {seg!r}")


@attrs.frozen(kw_only=True)
class Problem:
    """One problem, as a record.

    Attributes:
        code: Stable identifier of the kind of problem (``"unknown_target"``); see
            docs/errors.md. Callers branch on it; the words may change.
        message: What is wrong and what is allowed, in words for people.
        where: The key path it is about (``("rules", 30, "target")``; empty for the
            whole document); an event's problems start with ``("events", index)``.
        level: The level code concerned, if one is.
        event_id: The event id concerned, if one is.
        event_index: The event's index in the episode's history, if one is concerned.
        dimension: The assessment dimension concerned, if one is.

    >>> p = Problem(code="unknown_target", where=("rules", 3, "target"), message="no level 'x'")
    >>> str(p)
    "rules[3].target: no level 'x'"
    >>> p.to_dict()
    {'code': 'unknown_target', 'message': "no level 'x'", 'where': 'rules[3].target'}
    """

    code: str
    message: str
    where: Path = attrs.field(default=(), converter=_path, validator=_check_path)
    level: str | None = None
    event_id: str | None = None
    event_index: int | None = None
    dimension: str | None = None

    @property
    def pointer(self) -> str:
        """``where`` as text: ``"levels[2].stay.maximum_days"`` (empty for the whole)."""
        return format_path(self.where)

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}" if self.where else self.message

    def to_dict(self) -> dict[str, str | int]:
        """The record as JSON-ready data; fields that are not set are left out."""
        out: dict[str, str | int] = {"code": self.code, "message": self.message}
        if self.where:
            out["where"] = self.pointer
        for key in ("level", "event_id", "event_index", "dimension"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out
