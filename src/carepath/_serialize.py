"""Moved to :mod:`carepath.definitions`; this module keeps the old private paths importable."""

from .definitions._spec import (
    CONVERTER,
    DIMENSION_NAMES,
    TOP_KEYS,
    GuardSpec,
    LevelSpec,
    Path,
    PathSegment,
    PathwaySpec,
    RemoveSpec,
    RuleSetSpec,
    RuleSpec,
    StaySpec,
    format_path,
    structure_spec,
)
from .definitions._toml import to_toml

__all__ = [
    "CONVERTER",
    "DIMENSION_NAMES",
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
    "to_toml",
]
