"""What carepath's FHIR export and import share: versions, URLs, stays, and a JSON reader.

Import and export live in ``_fhir_export.py``, ``_fhir_import.py`` and (for bundles
other systems wrote) ``_fhir_foreign.py``; ``_fhir.py`` gathers the public names.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from carepath._episode import Episode, EventRecord
from carepath._errors import InteropError
from carepath._extras import require
from carepath._guards import Event
from carepath._levels import Level, Outcome

from ._codes import CAREPATH_FHIR, OUTCOME_CODES

FhirVersion = Literal["R4", "R4B", "R5"]
"""FHIR versions: R4 (4.0.1, what US EHRs export), R4B (4.3.0) and R5 (5.0.0).

fhir.resources ships R4B and R5 models, not R4: an R4 bundle is validated with the R4B
models, which is sound for what carepath writes and reads (Bundle, EpisodeOfCare,
Encounter, Observation, QuestionnaireResponse, Patient, Location have the same
elements in R4 and R4B); the tests check carepath's R4 output against the official
R4 JSON schema."""

EXT_PATHWAY: Final = f"{CAREPATH_FHIR}/StructureDefinition/pathway"
"""EpisodeOfCare extension: the pathway's ``id``, ``version`` and ``contentHash``."""
EXT_PREVIOUS_EPISODE: Final = f"{CAREPATH_FHIR}/StructureDefinition/previous-episode"
"""EpisodeOfCare extension (valueIdentifier): the episode this one readmits after."""
EXT_EVENT: Final = f"{CAREPATH_FHIR}/StructureDefinition/event"
"""EpisodeOfCare extension, one per history record, in order (see the guide)."""
EXT_EVENT_ID: Final = f"{CAREPATH_FHIR}/StructureDefinition/event-id"
"""Observation and Encounter extension (valueString): the carepath event id."""
EPISODE_SYSTEM: Final = f"{CAREPATH_FHIR}/identifier/episode"
"""Identifier system of episode ids."""
PATIENT_SYSTEM: Final = f"{CAREPATH_FHIR}/identifier/patient"
"""Default identifier system of patient ids (``to_fhir(patient_system=...)``)."""
STAY_SYSTEM: Final = f"{CAREPATH_FHIR}/identifier/stay"
ASSESSMENT_SYSTEM: Final = f"{CAREPATH_FHIR}/identifier/assessment"
LEVEL_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/level"
"""Code system of carepath level codes (``Encounter.serviceType``)."""
ASAM3_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/asam-3"
"""Code system of ASAM Criteria 3rd edition level numbers."""
ASAM4_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/asam-4"
"""Code system of ASAM Criteria 4th edition level numbers."""
DIMENSION_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/dimension"
"""Code system of the six assessment dimensions (``Observation.code``)."""
_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"

# A FHIR string needs at least one character other than exotic whitespace.
_FHIR_STRING: Final = re.compile(r"[ \r\n\t\S]")
# Whitespace the R4/R4B JSON schemas' string pattern (^[ \r\n\t\S]+$, a JavaScript regex)
# refuses: JavaScript's \s apart from space, CR, LF and tab.
_SCHEMA_SPACE: Final = re.compile(
    "[\x0b\x0c\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
)


def fhir_string_ok(text: str) -> bool:
    """Whether ``text`` is a valid FHIR ``string`` for fhir.resources and the JSON schemas."""
    return bool(_FHIR_STRING.search(text)) and not _SCHEMA_SPACE.search(text)


_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)
_EOC_STATUSES: Final = (
    "planned",
    "waitlist",
    "active",
    "onhold",
    "finished",
    "cancelled",
    "entered-in-error",
)
# Messages for validation errors whose pydantic text would repeat what the sender wrote.
_FIXED_MESSAGES: Final[Mapping[str, str]] = {
    "extra_forbidden": "an element FHIR does not define here",
    "fhir-validation-wrong-resource-type": "the wrong or an unknown resourceType",
    "union_tag_invalid": "an unknown resourceType",
    "union_tag_not_found": "no resourceType",
    "model_validation_format": "the wrong kind of value",
}
_ELEMENT: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _standard(version: str) -> str:
    return f"FHIR {version}"


def _bundle_class(version: str) -> Any:
    """The fhir.resources Bundle model of ``version``, imported only now."""
    module = "fhir.resources.bundle" if version == "R5" else "fhir.resources.R4B.bundle"
    return require(module, extra="fhir", needed_for="FHIR import and export").Bundle


def _check_version(version: object) -> FhirVersion:
    if version == "R4":
        return "R4"
    if version == "R4B":
        return "R4B"
    if version == "R5":
        return "R5"
    raise InteropError(
        standard="FHIR",
        resource="Bundle",
        field="version",
        problem=f"unsupported FHIR version {version!r}; allowed: 'R4', 'R4B', 'R5'",
    )


def _dt(at: datetime) -> str:
    offset = at.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        at = at.astimezone(UTC)  # FHIR offsets are whole minutes; the instant is kept
    return at.isoformat()


def _urn(system: str, value: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{system}|{value}')}"


class _Stay:
    __slots__ = ("enter", "leave", "level", "url")

    def __init__(self, level: Level, enter: EventRecord, url: str) -> None:
        self.level = level
        self.enter = enter
        self.leave: EventRecord | None = None
        self.url = url


def _stays(episode: Episode) -> tuple[list[_Stay], dict[str, _Stay]]:
    """Each stay at a level, and the stay each event leaves the patient in."""
    by_code = {lv.code: lv for lv in episode.pathway.levels}
    stays: list[_Stay] = []
    during: dict[str, _Stay] = {}
    current: _Stay | None = None
    for r in episode.history:
        level = by_code.get(r.target)
        if level is not None and (r.source != r.target or r.event is Event.ADMIT):
            if current is not None:
                current.leave = r
            current = _Stay(level, r, _urn(STAY_SYSTEM, f"{episode.id}:{r.event_id}"))
            stays.append(current)
        elif r.target != r.source and current is not None:
            current.leave = r
            current = None
        if current is not None:
            during[r.event_id] = current
    return stays, during


def _episode_status(episode: Episode) -> str:
    outcome = episode.outcome
    admitted = any(r.event is Event.ADMIT for r in episode.history)
    if outcome is not None:
        return OUTCOME_CODES[outcome].episode_status if admitted else "cancelled"
    return "active" if admitted else "planned"


def _validate(data: object, version: FhirVersion) -> Any:
    """Validate plain data as a Bundle of ``version``; errors name the resource and field."""
    cls = _bundle_class(version)
    try:
        return cls.model_validate(data)
    except Exception as exc:  # fhir.resources raises more than ValidationError
        raise _validation_error(exc, data, version) from None


def _model_class(version: str, resource_type: str) -> Any:
    """The fhir.resources model of a resource type (``None`` when FHIR has no such type)."""
    module = "fhir.resources" if version == "R5" else "fhir.resources.R4B"
    getter = require(module, extra="fhir", needed_for="FHIR import and export").get_fhir_model_class
    try:
        return getter(resource_type)
    except (KeyError, ValueError, ImportError):
        return None


_VALIDATED: Final = frozenset({"EpisodeOfCare", "Encounter"})


def _validate_read(data: Mapping[str, Any], version: FhirVersion) -> None:
    """Validate what carepath reads of one of its own bundles: the entries' resource
    types, the EpisodeOfCare (its event-log extensions are read, strictly, by the
    reader) and the Encounters, with fhir.resources; the Observations are read strictly
    by the reader. Validating every resource of a large bundle would cost ten times the
    JSON parsing."""
    entries = data.get("entry")
    if data.get("resourceType") != "Bundle" or not isinstance(entries, list):
        raise InteropError(
            standard=_standard(version),
            resource="Bundle",
            problem="expected a Bundle with a list of entries",
        )
    known: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(res, Mapping):
            continue
        kind = res.get("resourceType")
        if not isinstance(kind, str) or not kind.isalpha():
            raise InteropError(
                standard=_standard(version), resource="Bundle", problem="an unknown resourceType"
            )
        if kind not in known:
            known[kind] = _model_class(version, kind)
        cls = known[kind]
        if cls is None:
            raise InteropError(
                standard=_standard(version),
                resource="Bundle",
                problem=f"entry [{i}] has an unknown resourceType",
            )
        if kind in _VALIDATED:
            body = {k: v for k, v in res.items() if k != "extension" or kind != "EpisodeOfCare"}
            try:
                cls.model_validate(body)
            except Exception as exc:  # fhir.resources raises more than ValidationError
                raise _validation_error(exc, data, version, ("entry", str(i), "resource")) from None


def _validation_error(
    exc: Exception, data: object, version: str, prefix: tuple[str, ...] = ()
) -> InteropError:
    errors: list[dict[str, Any]] = []
    if hasattr(exc, "errors"):
        try:
            errors = list(exc.errors(include_url=False, include_context=False))
        except Exception:  # best effort; fall back to the exception type
            errors = []
    if not errors:
        if isinstance(exc, KeyError):
            problem = "an entry has an unknown resourceType"
        else:
            problem = f"not a valid FHIR {version} Bundle ({type(exc).__name__})"
        return InteropError(standard=_standard(version), resource="Bundle", problem=problem)
    first = errors[0]
    loc = [*prefix, *(str(p) for p in first.get("loc", ()))]
    kind = str(first.get("type", ""))
    if kind == "extra_forbidden" and loc:
        loc = loc[:-1]  # the unknown key is the sender's text: name where it is, not it
    # Keep the path up to anything that is not an element name or an index.
    for n, part in enumerate(loc):
        if not (part.isdigit() or _ELEMENT.match(part)):
            loc = loc[:n]
            break
    resource, field = "Bundle", loc
    if len(loc) >= 3 and loc[0] == "entry" and loc[1].isdigit() and loc[2] == "resource":
        i = int(loc[1])
        rtype = "resource"
        if isinstance(data, Mapping):
            entries = data.get("entry")
            if isinstance(entries, list) and i < len(entries) and isinstance(entries[i], Mapping):
                res = entries[i].get("resource")
                if isinstance(res, Mapping) and isinstance(res.get("resourceType"), str):
                    rtype = res["resourceType"]
        resource, field = f"{rtype} (Bundle.entry[{i}])", loc[3:]
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    return InteropError(
        standard=_standard(version),
        resource=resource,
        field=".".join(p if not p.isdigit() else f"[{p}]" for p in field).replace(".[", "["),
        problem=f"not valid FHIR: {_safe_message(first)}{more}",
    )


def _safe_message(error: Mapping[str, Any]) -> str:
    """A validation error's message, never repeating the value the sender wrote."""
    kind = str(error.get("type", ""))
    fixed = _FIXED_MESSAGES.get(kind)
    if fixed is not None:
        return fixed
    msg = str(error.get("msg", "invalid"))
    given = error.get("input")
    if isinstance(given, str | int | float) and not isinstance(given, bool):
        text = str(given)
        if text and text in msg:
            return f"an invalid value ({kind})"
    return msg


def _detect(data: Mapping[str, Any]) -> FhirVersion:
    """R5 or R4B, from the shape of the Encounters (R4B when nothing tells)."""
    entries = data.get("entry")
    for e in entries if isinstance(entries, list) else ():
        res = e.get("resource") if isinstance(e, Mapping) else None
        if not isinstance(res, Mapping) or res.get("resourceType") != "Encounter":
            continue
        if isinstance(res.get("class"), list) or "actualPeriod" in res or "admission" in res:
            return "R5"
        return "R4B"
    return "R4B"


class _Node:
    """A JSON object inside one resource; every problem names the resource and field."""

    __slots__ = ("data", "path", "resource", "standard")

    def __init__(self, data: object, standard: str, resource: str, path: str = "") -> None:
        self.standard, self.resource, self.path = standard, resource, path
        if not isinstance(data, dict):
            raise self.error("", f"expected an object, got {type(data).__name__}")
        self.data: dict[str, Any] = data

    def error(self, key: str, problem: str) -> InteropError:
        field = f"{self.path}.{key}" if self.path and key else (self.path or key)
        return InteropError(
            standard=self.standard, resource=self.resource, field=field, problem=problem
        )

    def get(self, key: str) -> object:
        return self.data.get(key)

    def require(self, key: str) -> object:
        value = self.data.get(key)
        if value is None:
            raise self.error(key, "missing")
        return value

    def text(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {type(value).__name__}")
        return value

    def node(self, key: str) -> _Node:
        return _Node(self.require(key), self.standard, self.resource, self._sub(key))

    def nodes(self, key: str) -> list[_Node]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise self.error(key, "expected a list")
        return [
            _Node(v, self.standard, self.resource, f"{self._sub(key)}[{i}]")
            for i, v in enumerate(value)
        ]

    def time(self, key: str) -> datetime:
        text = self.text(key)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self.error(key, "expected a FHIR dateTime with a time and offset") from None
        if value.tzinfo is None or value.utcoffset() is None:
            raise self.error(key, "expected a dateTime with a time and a UTC offset")
        return value

    def _sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def extensions(self, url: str) -> list[_Node]:
        return [n for n in self.nodes("extension") if n.get("url") == url]

    def sub(self, url: str) -> _Node | None:
        """The one sub-extension with ``url`` (``None`` when absent)."""
        found = self.extensions(url)
        if len(found) > 1:
            raise self.error("extension", f"sub-extension {url!r} appears more than once")
        return found[0] if found else None

    def value(self, url: str, kind: str, *, required: bool = True) -> Any:
        ext = self.sub(url)
        if ext is None:
            if required:
                raise self.error("extension", f"sub-extension {url!r} is missing")
            return None
        value = ext.get(f"value{kind}")
        if value is None:
            raise ext.error(f"value{kind}", f"sub-extension {url!r} needs a value{kind}")
        return value

    def text_value(self, url: str, *, required: bool = True) -> str | None:
        plain = self.value(url, "String", required=False)
        if plain is not None:
            return str(plain)
        encoded = self.value(f"{url}Json", "String", required=False)
        if encoded is not None:
            try:
                decoded = json.loads(str(encoded))
            except ValueError:
                decoded = None
            if not isinstance(decoded, str):
                raise self.error(
                    "extension", f"sub-extension {url + 'Json'!r} must hold a JSON-encoded string"
                )
            return decoded
        if required:
            raise self.error("extension", f"sub-extension {url!r} is missing")
        return None
