"""Deprecated names: one warning helper, and the one way an alias reaches a higher layer.

Aliases kept for one release after a name moved (``Pathway.from_toml`` ->
:func:`carepath.definitions.loads`, ``Pathway.paths`` ->
:func:`carepath.explore.paths`, ...). The domain core never imports a higher
layer; an alias that forwards there looks the module up by name, at call time,
through :func:`upper` (the only such look-up in the core; it goes when the
aliases go).
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Final

__all__ = ["upper", "warn"]

_UPPER: Final = frozenset({"carepath.definitions", "carepath.explore"})


def warn(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated and name its replacement ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new} instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def upper(name: str) -> ModuleType:
    """A higher layer's module, looked up by name for a deprecated alias that forwards to it."""
    if name not in _UPPER:
        raise AssertionError(f"not a layer a deprecated alias may forward to: {name}")
    return importlib.import_module(name)
