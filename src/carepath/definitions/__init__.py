"""Pathway definitions as files and data: TOML and JSON in and out, errors that point.

A definition file holds a whole pathway: its id and version, its levels (with
stay rules, hours, setting and ASAM labels), per-level criteria, and its rules
(``rules = "default"`` for :func:`~carepath.default_rules`, optionally with
rules added and removed, or every rule spelled out with its guards).

This layer sits above the domain core (:class:`~carepath.Pathway` knows nothing
of files): read with :func:`load` (a file), :func:`loads` (text) or
:func:`from_dict` (parsed data); write with :func:`dump`, :func:`dumps` or
:func:`to_dict`. Every problem is reported at once in a
:class:`~carepath.PathwayDefinitionError`, each with its key path and line.

>>> import carepath
>>> from carepath import definitions
>>> text = definitions.dumps(carepath.standard_pathway())
>>> definitions.loads(text) == carepath.standard_pathway()
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from carepath._errors import InvalidArgument

from ._build import FORMAT_VERSION as FORMAT_VERSION
from ._build import GuardFactory as GuardFactory
from ._build import build
from ._catalogs import catalogs as catalogs
from ._catalogs import load_catalog as load_catalog
from ._read import Format as Format
from ._read import load_file, load_text
from ._schema import definition_schema as definition_schema
from ._write import to_data, to_json_text, to_toml_text

if TYPE_CHECKING:
    from carepath._pathway import Pathway

__all__ = [
    "FORMAT_VERSION",
    "Format",
    "GuardFactory",
    "catalogs",
    "definition_schema",
    "dump",
    "dumps",
    "from_dict",
    "load",
    "load_catalog",
    "loads",
    "to_dict",
]


def load(
    path: str | os.PathLike[str], *, guards: Mapping[str, GuardFactory] | None = None
) -> Pathway:
    """Read a pathway definition file (``.toml`` or ``.json``).

    Args:
        path: The file; ``.json`` is read as JSON, anything else as TOML (or as JSON
            when it starts with ``{``).
        guards: Custom guard kinds the file may name, each mapped to a factory that
            is called with the guard's parameters as keyword arguments.

    Raises:
        PathwayDefinitionError: every problem in the file, each with its key path
            and line.
    """
    return load_file(path, guards=guards)


def loads(
    text: str | bytes,
    format: Format = "toml",
    *,
    guards: Mapping[str, GuardFactory] | None = None,
    file: str = "",
) -> Pathway:
    """Read a pathway definition from TOML or JSON text (``file`` names it in errors).

    Raises:
        PathwayDefinitionError: every problem in the text, each with its key path
            and line.
    """
    if format not in ("toml", "json"):
        raise _bad_format("loads", format)
    return load_text(text, format, file=file, guards=guards)


def from_dict(
    data: Mapping[str, Any], *, guards: Mapping[str, GuardFactory] | None = None
) -> Pathway:
    """Build a pathway from plain data, as :func:`to_dict` gives or a parsed file holds."""
    return build(data, guards=guards)


def to_dict(pathway: Pathway, *, compact: bool = False) -> dict[str, Any]:
    """The definition as plain data: the canonical form the content hash covers.

    With ``compact=True`` the rules are written as ``"default"`` (or the default
    rules plus ``add`` / ``remove``) where that says the same thing.
    """
    return to_data(pathway, compact=compact)


def dumps(
    pathway: Pathway, format: Format = "toml", *, compact: bool = False, indent: int | None = 2
) -> str:
    """The definition as TOML or JSON text that :func:`loads` reads back equal.

    ``indent`` applies to JSON only.
    """
    if format == "toml":
        return to_toml_text(pathway, compact=compact)
    if format == "json":
        return to_json_text(pathway, compact=compact, indent=indent)
    raise _bad_format("dumps", format)


def _bad_format(owner: str, format: object) -> InvalidArgument:
    return InvalidArgument(
        owner=f"definitions.{owner}",
        field="format",
        problem=f"expected 'toml' or 'json', got {format!r}",
    )


def dump(
    pathway: Pathway,
    path: str | os.PathLike[str],
    *,
    compact: bool = False,
    format: Format | None = None,
) -> None:
    """Write the definition to a file, as JSON for a ``.json`` name and TOML otherwise."""
    file = os.fspath(path)
    fmt: Format = format or ("json" if file.lower().endswith(".json") else "toml")
    text = dumps(pathway, fmt, compact=compact)
    with open(file, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
