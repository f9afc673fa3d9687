"""The pathways shipped with carepath (``carepath/catalogs/*.toml``)."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Final

from carepath._errors import DefinitionProblem, PathwayDefinitionError

from ._read import load_text

if TYPE_CHECKING:
    from carepath._pathway import Pathway

__all__ = ["catalogs", "load_catalog"]

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
                    code="unknown_catalog",
                    message=f"no catalog named {shown}; known: " + ", ".join(_CATALOGS),
                )
            ]
        )
    return _load_catalog(name)


@functools.cache
def _load_catalog(name: str) -> Pathway:
    return load_text(_catalog_text(name), "toml", file=f"carepath/catalogs/{name}.toml")
