"""The JSON Schema of pathway definition files."""

from __future__ import annotations

import json
from typing import Any, Final

from carepath._assessment import DIMENSIONS
from carepath._guards import Event
from carepath._levels import INTAKE, Outcome

from ._build import BUILTIN_GUARDS, FORMAT_VERSION
from ._spec import DIMENSION_NAMES

__all__ = ["definition_schema"]


def definition_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of pathway definition files, TOML or JSON.

    Editors use it to validate and complete files; ``carepath schema`` prints it.

    >>> schema = definition_schema()
    >>> schema["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    >>> sorted(schema["required"])
    ['criteria', 'id', 'levels', 'version']
    """
    schema: dict[str, Any] = json.loads(json.dumps(_SCHEMA))  # a fresh copy every call
    return schema


_RISK: Final = {"type": "integer", "minimum": 0, "maximum": 4}
_EVENTS: Final = [e.value for e in Event]

_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://carepath.invalid/schema/pathway-1.json",
    "title": "carepath pathway definition",
    "description": "A care pathway: levels of care, per-level criteria and transition rules.",
    "type": "object",
    "required": ["id", "version", "levels", "criteria"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "description": "The schema this file follows (ignored)."},
        "format_version": {
            "const": FORMAT_VERSION,
            "description": "Version of the file format; 1.",
        },
        "id": {
            "type": "string",
            "minLength": 1,
            "pattern": r"\S",
            "description": "Stable identifier of the pathway, recorded on every episode.",
        },
        "version": {
            "type": "string",
            "minLength": 1,
            "pattern": r"\S",
            "description": "Version of the rules, recorded on every episode.",
        },
        "name": {"type": "string", "description": "Human name; defaults to the id."},
        "description": {
            "type": "string",
            "description": "What the pathway is for (not part of the pathway's content hash).",
        },
        "levels": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/level"},
            "description": "The levels of care.",
        },
        "criteria": {
            "type": "object",
            "description": "Per-level criteria keyed by level code: the most risk the level "
            "can safely manage on each dimension.",
            "additionalProperties": {"$ref": "#/$defs/criteria"},
        },
        "rules": {
            "description": "'default' for the standard rules, a table with base, add and "
            "remove, or every rule as an array.",
            "oneOf": [
                {"const": "default"},
                {"$ref": "#/$defs/rule_set"},
                {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            ],
        },
    },
    "$defs": {
        "level": {
            "type": "object",
            "required": ["code", "name", "setting", "stay"],
            "additionalProperties": False,
            "properties": {
                "code": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9_]{0,39}$",
                    "not": {"enum": [INTAKE, *(o.value for o in Outcome)]},
                    "description": "Stable identifier used in criteria and rules.",
                },
                "name": {"type": "string", "description": "Human name."},
                "intensity": {
                    "type": "integer",
                    "description": "Order from least to most intensive; defaults to "
                    "the level's position in the list.",
                },
                "setting": {
                    "enum": ["residential", "day", "ambulatory", "recovery_residence"],
                    "description": "Where care happens.",
                },
                "medically_monitored": {
                    "type": "boolean",
                    "description": "Medical staff monitor the patient around the clock or on site.",
                },
                "hours_per_week": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "prefixItems": [
                        {"type": "number", "minimum": 0},
                        {"type": ["number", "null"], "minimum": 0},
                    ],
                    "description": "[low] (open-ended) or [low, high] clinical hours a week.",
                },
                "stay": {"$ref": "#/$defs/stay"},
                "asam3": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "ASAM Criteria 3rd edition level numbers.",
                },
                "asam4": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "ASAM Criteria 4th edition level numbers.",
                },
                "description": {
                    "type": "string",
                    "description": "What the level means for patients and clinicians.",
                },
            },
        },
        "stay": {
            "type": "object",
            "required": ["minimum_days", "typical_days"],
            "additionalProperties": False,
            "description": "Length of stay in days.",
            "properties": {
                "minimum_days": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "What a step down or completion waits for.",
                },
                "typical_days": {"type": "integer", "minimum": 0, "description": "The usual stay."},
                "maximum_days": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "What a continued stay must justify; leave out for no limit.",
                },
            },
        },
        "criteria": {
            "type": "object",
            "additionalProperties": False,
            "description": "Maximum rating (0-4) per dimension; a dimension left out has no limit.",
            "properties": {d.value: {**_RISK, "description": d.label} for d in DIMENSIONS},
        },
        "guard": {
            "oneOf": [
                {"type": "string", "description": "A guard kind without parameters."},
                {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {
                        "kind": {
                            "type": "string",
                            "anyOf": [{"enum": sorted(BUILTIN_GUARDS)}, {"type": "string"}],
                            "description": "A built-in guard kind or a registered custom one.",
                        },
                        "dimension": {"enum": list(DIMENSION_NAMES)},
                        "risk": _RISK,
                    },
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
            ],
        },
        "rule": {
            "type": "object",
            "required": ["event", "source", "target"],
            "additionalProperties": False,
            "properties": {
                "event": {"enum": _EVENTS, "description": "The event that makes the move."},
                "source": {"type": "string", "description": "'intake' or a level code."},
                "target": {
                    "type": "string",
                    "description": "A level code or an outcome (completed, "
                    "dropped_out, transferred_out).",
                },
                "guards": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/guard"},
                    "description": "Checks the move must pass.",
                },
            },
        },
        "removal": {
            "type": "object",
            "required": ["event"],
            "additionalProperties": False,
            "properties": {
                "event": {"enum": _EVENTS},
                "source": {"type": "string", "description": "Leave out to match any source."},
                "target": {"type": "string", "description": "Leave out to match any target."},
            },
        },
        "rule_set": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "base": {
                    "enum": ["default", "none"],
                    "description": "Start from the standard rules or from none.",
                },
                "add": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/rule"},
                    "description": "Rules added; one with the same event, source and "
                    "target as a base rule replaces it.",
                },
                "remove": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/removal"},
                    "description": "Base rules taken away.",
                },
            },
        },
    },
}
