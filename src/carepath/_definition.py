"""Moved to :mod:`carepath.definitions`; this module keeps the old private paths importable."""

from .definitions import (
    FORMAT_VERSION,
    GuardFactory,
    catalogs,
    definition_schema,
    load_catalog,
)
from .definitions._build import BUILTIN_GUARDS, build
from .definitions._read import Format, json_lines, load_file, load_text, toml_lines
from .definitions._write import to_data, to_json_text, to_toml_text

__all__ = [
    "BUILTIN_GUARDS",
    "FORMAT_VERSION",
    "Format",
    "GuardFactory",
    "build",
    "catalogs",
    "definition_schema",
    "json_lines",
    "load_catalog",
    "load_file",
    "load_text",
    "to_data",
    "to_json_text",
    "to_toml_text",
    "toml_lines",
]
