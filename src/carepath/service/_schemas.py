"""JSON Schemas of the CDS Hooks requests the service accepts, and their checking.

Every request body is checked against its schema before anything else looks at
it. The error names the field (a JSON path) and the rule it breaks, never the
value that was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from jsonschema import (  # type: ignore[import-untyped]  # no stubs shipped
    Draft202012Validator,
)
from jsonschema.exceptions import (  # type: ignore[import-untyped]  # no stubs shipped
    ValidationError,
)

from ._errors import ServiceError

__all__ = ["FEEDBACK_SCHEMA", "hook_request_schema", "validate"]

_ID: Final = {"type": "string", "minLength": 1, "maxLength": 256}
_UUID: Final = {
    "type": "string",
    "pattern": "^(urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    "[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
_URL: Final = {"type": "string", "pattern": "^https?://[^\\s]+$", "maxLength": 2048}
_CODING: Final = {
    "type": "object",
    "required": ["code", "system"],
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 256},
        "system": {"type": "string", "minLength": 1, "maxLength": 2048},
        "display": {"type": "string", "maxLength": 1024},
    },
}
_BUNDLE: Final = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "entry": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "properties": {
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string"}, "id": _ID},
                    }
                },
            },
        },
    },
}
_CONTEXT: Final[Mapping[str, Mapping[str, Any]]] = {
    "patient-view": {
        "required": ["userId", "patientId"],
        "properties": {"userId": _ID, "patientId": _ID, "encounterId": _ID},
    },
    "order-select": {
        "required": ["userId", "patientId", "selections", "draftOrders"],
        "properties": {
            "userId": _ID,
            "patientId": _ID,
            "encounterId": _ID,
            "selections": {"type": "array", "minItems": 1, "maxItems": 200, "items": _ID},
            "draftOrders": _BUNDLE,
        },
    },
    "order-sign": {
        "required": ["userId", "patientId", "draftOrders"],
        "properties": {
            "userId": _ID,
            "patientId": _ID,
            "encounterId": _ID,
            "draftOrders": _BUNDLE,
        },
    },
}


def hook_request_schema(hook: str) -> dict[str, Any]:
    """The schema of a call to a service on ``hook`` (CDS Hooks 3.0 request)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["hook", "hookInstance", "context"],
        "properties": {
            "hook": {"const": hook},
            "hookInstance": _UUID,
            "fhirServer": _URL,
            "fhirAuthorization": {
                "type": "object",
                "required": ["access_token", "token_type", "expires_in", "scope", "subject"],
                "properties": {
                    "access_token": {"type": "string", "minLength": 1, "maxLength": 8192},
                    "token_type": {"const": "Bearer"},
                    "expires_in": {"type": "integer", "minimum": 0},
                    "scope": {"type": "string", "maxLength": 8192},
                    "subject": _ID,
                    "patient": _ID,
                },
            },
            "context": {"type": "object", **_CONTEXT[hook]},
            "prefetch": {"type": "object"},
        },
        "dependentRequired": {"fhirAuthorization": ["fhirServer"]},
    }


FEEDBACK_SCHEMA: Final[Mapping[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["feedback"],
    "properties": {
        "feedback": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["card", "outcome", "outcomeTimestamp"],
                "properties": {
                    "card": _UUID,
                    "outcome": {"enum": ["accepted", "overridden"]},
                    "acceptedSuggestions": {
                        "type": "array",
                        "maxItems": 50,
                        "items": {"type": "object", "required": ["id"], "properties": {"id": _ID}},
                    },
                    "overrideReason": {
                        "type": "object",
                        "properties": {
                            "reason": _CODING,
                            "userComment": {"type": "string", "maxLength": 4096},
                        },
                    },
                    "outcomeTimestamp": {
                        "type": "string",
                        "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?"
                        "(Z|[+-]\\d{2}:\\d{2})$",
                    },
                },
                "if": {"properties": {"outcome": {"const": "accepted"}}},
                "then": {"required": ["acceptedSuggestions"]},
            },
        }
    },
}
"""The schema of a feedback request (CDS Hooks 3.0)."""

_VALIDATORS: dict[int, Draft202012Validator] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    key = id(schema)
    v = _VALIDATORS.get(key)
    if v is None:
        Draft202012Validator.check_schema(schema)
        v = _VALIDATORS[key] = Draft202012Validator(schema)
    return v


def _path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(error: ValidationError) -> tuple[str, str]:
    """``(field, problem)`` in words built from the schema, never from the value sent."""
    field = _path(error)
    rule, expected = error.validator, error.validator_value
    if rule == "required":
        present = error.instance if isinstance(error.instance, Mapping) else {}
        missing = [k for k in expected if k not in present]
        name = missing[0] if missing else "?"
        return (f"{field}.{name}" if field else name), "a required field is missing"
    if rule == "type":
        return (
            field,
            f"expected {'an' if expected in ('object', 'array', 'integer') else 'a'} {expected}",
        )
    if rule == "const":
        return field, f"expected {expected!r}"
    if rule == "enum":
        return field, "expected one of " + ", ".join(repr(e) for e in expected)
    if rule == "pattern":
        return field, "not in the expected form (a UUID, URL or timestamp as the spec says)"
    if rule in ("maxLength", "maxItems", "maximum"):
        return field, f"too long or too large; at most {expected}"
    if rule in ("minLength", "minItems", "minimum"):
        return field, f"too short or too small; at least {expected}"
    if rule == "dependentRequired":
        return "fhirServer", "fhirAuthorization needs fhirServer"
    return field, f"breaks the schema's {rule!r} rule"


def validate(data: object, schema: Mapping[str, Any]) -> None:
    """Check ``data`` against ``schema``.

    Raises:
        ServiceError: HTTP 400 naming the first failing field and the rule.
    """
    errors = sorted(_validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        if error.validator in ("if", "then"):
            field, problem = _path(error), "an accepted outcome needs acceptedSuggestions"
        else:
            field, problem = _problem(error)
        raise ServiceError(status=400, code="invalid", field=field, problem=problem)
