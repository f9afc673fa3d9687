"""The optional extras and one way to say that one is missing.

Every place that needs a package of an extra imports it through :func:`require`, so a
missing package always gives the same message: what needs it and the exact install line,

    carepath.sim needs the 'sim' extra (numpy is not installed): pip install 'carepath[sim]'

raised as :class:`MissingExtra`, an ``ImportError`` (``name`` is the missing module).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

from ._errors import CarepathError

__all__ = ["EXTRAS", "MissingExtra", "install_line", "require"]

EXTRAS: Final[dict[str, str]] = {
    "sim": "cohort simulation (carepath.sim): numpy, pandas, pyarrow",
    "fast": "the fast engine's compiled kernel: numba",
    "viz": "plots and rendered diagrams (carepath.explore): plotly, graphviz, matplotlib",
    "fhir": "FHIR import and export (carepath.interop): fhir.resources",
    "hl7": "HL7 v2 import (carepath.interop): nothing any more, carepath reads HL7 v2 itself; "
    "kept so that existing installs of carepath[hl7] still work",
    "dask": "simulation on a Dask cluster: dask[distributed]",
    "store": "the episode store (carepath.store): SQLAlchemy",
    "postgres": "the episode store on PostgreSQL: SQLAlchemy, psycopg",
    "cli": "the carepath command line: click, rich",
    "service": "the CDS Hooks service and placement page (carepath serve): starlette, "
    "uvicorn, httpx, jsonschema, PyJWT",
}
"""Each extra and what it brings (``pip install 'carepath[EXTRA]'``)."""


def install_line(extra: str) -> str:
    """The exact command that installs ``extra``: ``pip install 'carepath[extra]'``."""
    return f"pip install 'carepath[{extra}]'"


class MissingExtra(CarepathError, ImportError):
    """A feature needs an optional extra that is not installed.

    Attributes:
        extra: The extra to install (``sim``, ``hl7``, ...).
        needed_for: What needs it, in words (``carepath.sim``, ``from_hl7v2``, ...).
        module: The module that could not be imported (also ``ImportError.name``).
    """

    def __init__(self, *, extra: str, needed_for: str, module: str) -> None:
        self.extra = extra
        self.needed_for = needed_for
        self.module = module
        super().__init__(
            f"{needed_for} needs the {extra!r} extra ({module} is not installed): "
            + install_line(extra),
            name=module,
        )


def require(module: str, *, extra: str, needed_for: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` naming ``extra``.

    Raises:
        MissingExtra: ``module`` (or a package it needs) cannot be imported.
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}")  # a bug in carepath, not in the caller
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module
        raise MissingExtra(extra=extra, needed_for=needed_for, module=missing) from exc
