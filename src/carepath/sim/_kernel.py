"""The fast engine's optional accelerator: :mod:`._numba_kernel`, when numba is there.

:func:`carepath.sim._fast.run_fast` uses it when numba can be imported and the
pathway has no custom (array-form) guards (those are Python callables); otherwise
it runs its numpy loop. Both give the same rows (``tests/test_sim_fast*.py`` run
each engine path against the reference engine). Setting the environment variable
``CAREPATH_NUMBA=0`` turns the accelerator off; ``CAREPATH_NUMBA=require`` makes a
missing numba an error (:class:`carepath.MissingExtra`, extra ``fast``) instead of a
quiet fall-back to the numpy loop.

The kernel is compiled on first use in a process, about a few seconds, with
``cache=True``: the machine code is kept on disk (next to the module, else in
numba's user cache directory) and later processes load it in milliseconds.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

from carepath._extras import MissingExtra

_T = TypeVar("_T")

__all__ = ["aggregate", "call", "kernel"]

_OFF = {"0", "false", "no", "off"}
_state: dict[str, Any] = {}
_warm: set[Callable[..., Any]] = set()
_lock = threading.Lock()


def _module() -> Any:
    """:mod:`._numba_kernel`, or None when numba is missing, turned off or unusable."""
    if "module" not in _state:
        found = None
        if os.environ.get("CAREPATH_NUMBA", "1").strip().lower() not in _OFF:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # numba's own import-time notices
                    from . import _numba_kernel  # noqa: PLC0415  # optional accelerator
            except Exception as exc:  # missing, or unusable (e.g. no cache directory usable)
                if os.environ.get("CAREPATH_NUMBA", "").strip().lower() == "require":
                    raise MissingExtra(
                        extra="fast",
                        needed_for="the fast engine's compiled kernel (CAREPATH_NUMBA=require)",
                        module=getattr(exc, "name", None) or "numba",
                    ) from exc
            else:
                found = _numba_kernel
        _state["module"] = found
    return _state["module"]


def kernel() -> Callable[..., int] | None:
    """The compiled patient kernel (loaded once per process), or None without numba."""
    mod = _module()
    return None if mod is None else cast("Callable[..., int]", mod.run)


def aggregate() -> Callable[..., bool] | None:
    """The compiled summary counts of one block's stays, or None without numba."""
    mod = _module()
    return None if mod is None else cast("Callable[..., bool]", mod.aggregate)


def call(fn: Callable[..., _T], *args: Any) -> _T:
    """Call a compiled function. Its first call in a process compiles it (or loads it from
    numba's cache), with numba's warnings silenced: those concern where the machine code
    is kept (e.g. a cache directory that cannot be written), never the results. Later
    calls leave the process's warning filters alone (they are not thread-safe to change).
    """
    if fn in _warm:
        return fn(*args)
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(*args)
    _warm.add(fn)
    return out
