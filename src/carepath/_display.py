"""Notebook display by registration: the core's values ask here for their HTML.

The core never imports :mod:`carepath.explore`. ``explore`` registers its
renderers with :func:`register_html` when it is imported, and it is found as a
plug-in (entry point group ``carepath.display``) the first time a value is shown
before anything imported it. Without a renderer a value's HTML form is its
``repr``, escaped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from html import escape
from importlib.metadata import entry_points
from typing import Any, Final, Literal, TypeAlias

__all__ = ["Kind", "html", "register_html"]

Kind: TypeAlias = Literal["pathway", "episode", "placement", "result"]

_RENDERERS: Final[dict[str, Callable[[Any], str]]] = {}
_PLUGINS_LOADED: list[bool] = [False]
_LOCK: Final = threading.Lock()


def register_html(kind: Kind, render: Callable[[Any], str]) -> None:
    """Make ``render`` the HTML form of every value of ``kind``."""
    _RENDERERS[kind] = render


def html(kind: Kind, value: object) -> str:
    """``value``'s HTML form from the registered renderer (its escaped ``repr`` without one)."""
    render = _RENDERERS.get(kind)
    if render is None:
        _load_plugins()
        render = _RENDERERS.get(kind)
    if render is None:
        return f"<pre>{escape(repr(value))}</pre>"
    return render(value)


def _load_plugins() -> None:
    with _LOCK:
        if _PLUGINS_LOADED[0]:
            return
        _PLUGINS_LOADED[0] = True
        for ep in entry_points(group="carepath.display"):
            ep.load()()
