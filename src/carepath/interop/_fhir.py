"""FHIR out and in: an episode as a Bundle (R4B or R5) and back, exactly.

What goes in the bundle (see the interoperability guide for the full layout):

- one ``EpisodeOfCare``: identifier (episode id), patient (identifier), period,
  status and status history, and carepath extensions holding the pathway
  identity, the previous episode and the complete event log (one ``event``
  extension per history record: id, event, source, target, time, fact flag,
  note, override and the guard reasons set aside or kept as findings);
- one ``Encounter`` per stay at a level (class, service type with the level code
  and ASAM numbers, place of service, period, discharge disposition);
- one ``Observation`` per assessment dimension (rating 0-4), linked to its event
  by an ``event-id`` extension.

Import reads the event log and the Observations and replays them through the
pathway (so a bundle that describes a move the pathway forbids is refused);
the Encounters and statuses are checked against the replayed episode.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, overload
from urllib.parse import quote

from carepath._assessment import DIMENSIONS
from carepath._episode import Episode, EventRecord
from carepath._errors import CarepathError, EpisodeLoadError, InteropError, PathwayMismatch
from carepath._extras import require
from carepath._guards import Event
from carepath._levels import INTAKE, Level, Outcome

from ._codes import (
    ACT_CODE_SYSTEM,
    CAREPATH_FHIR,
    DISCHARGE_DISPOSITION_SYSTEM,
    OUTCOME_CODES,
    PLACE_OF_SERVICE_SYSTEM,
    codes_for,
)

if TYPE_CHECKING:
    from fhir.resources.bundle import Bundle as BundleR5
    from fhir.resources.R4B.bundle import Bundle as BundleR4B

    from carepath._pathway import Pathway

__all__ = [
    "ASAM3_SYSTEM",
    "ASAM4_SYSTEM",
    "DIMENSION_SYSTEM",
    "EPISODE_SYSTEM",
    "EXT_EVENT",
    "EXT_EVENT_ID",
    "EXT_PATHWAY",
    "EXT_PREVIOUS_EPISODE",
    "LEVEL_SYSTEM",
    "PATIENT_SYSTEM",
    "FhirVersion",
    "from_fhir",
    "to_fhir",
]

FhirVersion = Literal["R4B", "R5"]

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
_EVENTS_AT: Final = re.compile(r"^events\[(\d+)\]")
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
    module = "fhir.resources.R4B.bundle" if version == "R4B" else "fhir.resources.bundle"
    return require(module, extra="fhir", needed_for="FHIR import and export").Bundle


def _check_version(version: object) -> FhirVersion:
    if version == "R4B":
        return "R4B"
    if version == "R5":
        return "R5"
    raise InteropError(
        standard="FHIR",
        resource="Bundle",
        field="version",
        problem=f"unsupported FHIR version {version!r}; allowed: 'R4B', 'R5'",
    )


# -- export -------------------------------------------------------------------------------------


def _dt(at: datetime) -> str:
    offset = at.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        at = at.astimezone(UTC)  # FHIR offsets are whole minutes; the instant is kept
    return at.isoformat()


def _urn(system: str, value: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{system}|{value}')}"


def _ext(url: str, kind: str, value: object) -> dict[str, Any]:
    return {"url": url, f"value{kind}": value}


def _text_ext(url: str, text: str) -> dict[str, Any]:
    """A string sub-extension; text FHIR cannot carry as a string goes JSON-encoded."""
    if _FHIR_STRING.search(text):
        return _ext(url, "String", text)
    return _ext(f"{url}Json", "String", json.dumps(text))


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


def _status_history(episode: Episode) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    status, start = "planned", episode.started_at
    for r in episode.history:
        new = status
        if r.event is Event.ADMIT:
            new = "active"
        elif r.target in _OUTCOME_VALUES:
            new = (
                OUTCOME_CODES[Outcome(r.target)].episode_status
                if status == "active"
                else "cancelled"
            )
        if new != status:
            out.append({"status": status, "period": {"start": _dt(start), "end": _dt(r.at)}})
            status, start = new, r.at
    out.append({"status": status, "period": {"start": _dt(start)}})
    return out


def _event_ext(r: EventRecord, stay: _Stay | None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        _ext("id", "String", r.event_id),
        _ext("event", "Code", r.event.value),
        _ext("source", "Code", r.source),
        _ext("target", "Code", r.target),
        _ext("at", "DateTime", _dt(r.at)),
        _ext("fact", "Boolean", r.fact),
    ]
    if r.note is not None:
        parts.append(_text_ext("note", r.note))
    if r.override is not None:
        parts.append(
            {
                "url": "override",
                "extension": [
                    _text_ext("reason", r.override.reason),
                    _text_ext("by", r.override.by),
                ],
            }
        )
    for reason in r.reasons:
        parts.append(
            {
                "url": "reason",
                "extension": [
                    _text_ext("kind", reason.kind),
                    _text_ext("message", reason.message),
                    _ext("overridable", "Boolean", reason.overridable),
                ],
            }
        )
    if stay is not None:
        parts.append(_ext("encounter", "Reference", {"reference": stay.url}))
    return {"url": EXT_EVENT, "extension": parts}


def _service_type(level: Level, version: str) -> Any:
    codes = codes_for(level)
    coding = [{"system": LEVEL_SYSTEM, "code": level.code, "display": level.name}]
    coding += [{"system": ASAM4_SYSTEM, "code": n} for n in codes.asam4]
    coding += [{"system": ASAM3_SYSTEM, "code": n} for n in codes.asam3]
    concept = {"coding": coding, "text": level.name}
    return concept if version == "R4B" else [{"concept": concept}]


def _encounter(
    episode: Episode, stay: _Stay, version: str, patient: dict[str, Any], episode_url: str
) -> dict[str, Any]:
    codes = codes_for(stay.level)
    act = {"system": ACT_CODE_SYSTEM, "code": codes.act_code, "display": codes.act_display}
    period: dict[str, Any] = {"start": _dt(stay.enter.at)}
    if stay.leave is not None:
        period["end"] = _dt(stay.leave.at)
    ended = "finished" if version == "R4B" else "completed"
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "extension": [_ext(EXT_EVENT_ID, "String", stay.enter.event_id)],
        "identifier": [{"system": STAY_SYSTEM, "value": f"{episode.id}:{stay.enter.event_id}"}],
        "status": "in-progress" if stay.leave is None else ended,
        "class": act if version == "R4B" else [{"coding": [act]}],
        "type": [
            {
                "coding": [
                    {
                        "system": PLACE_OF_SERVICE_SYSTEM,
                        "code": codes.place_of_service,
                        "display": codes.place_of_service_display,
                    }
                ]
            }
        ],
        "serviceType": _service_type(stay.level, version),
        "subject": patient,
        "episodeOfCare": [{"reference": episode_url}],
        "period" if version == "R4B" else "actualPeriod": period,
    }
    if stay.leave is not None and stay.leave.target in _OUTCOME_VALUES:
        oc = OUTCOME_CODES[Outcome(stay.leave.target)]
        res["hospitalization" if version == "R4B" else "admission"] = {
            "dischargeDisposition": {
                "coding": [
                    {
                        "system": DISCHARGE_DISPOSITION_SYSTEM,
                        "code": oc.disposition,
                        "display": oc.disposition_display,
                    }
                ]
            }
        }
    return res


def _observations(
    episode: Episode, r: EventRecord, stay: _Stay | None, patient: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any]]]:
    a = r.assessment
    if a is None:
        return []
    out = []
    for d in DIMENSIONS:
        value = f"{episode.id}:{r.event_id}:{d.value}"
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "extension": [_ext(EXT_EVENT_ID, "String", r.event_id)],
            "identifier": [{"system": ASSESSMENT_SYSTEM, "value": value}],
            "status": "final",
            "category": [
                {"coding": [{"system": _CATEGORY, "code": "survey", "display": "Survey"}]}
            ],
            "code": {
                "coding": [{"system": DIMENSION_SYSTEM, "code": d.value, "display": d.label}],
                "text": d.label,
            },
            "subject": patient,
            "effectiveDateTime": _dt(r.at),
            "valueInteger": int(a[d]),
        }
        if stay is not None:
            res["encounter"] = {"reference": stay.url}
        out.append((ASSESSMENT_SYSTEM, value, res))
    return out


def bundle_data(
    episode: Episode,
    version: FhirVersion,
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: str = "transaction",
) -> dict[str, Any]:
    """The bundle as plain JSON data (what :func:`to_fhir` validates)."""
    pathway = episode.pathway
    patient: dict[str, Any] = {
        "identifier": {"system": patient_system, "value": episode.patient_id}
    }
    if patient_reference is not None:
        patient = {"reference": patient_reference, **patient}
    episode_url = _urn(EPISODE_SYSTEM, episode.id)
    stays, during = _stays(episode)
    history = episode.history
    extensions: list[dict[str, Any]] = [
        {
            "url": EXT_PATHWAY,
            "extension": [
                _ext("id", "String", pathway.id),
                _ext("version", "String", pathway.version),
                _ext("contentHash", "String", pathway.content_hash),
            ],
        }
    ]
    if episode.previous_episode_id is not None:
        extensions.append(
            _ext(
                EXT_PREVIOUS_EPISODE,
                "Identifier",
                {"system": EPISODE_SYSTEM, "value": episode.previous_episode_id},
            )
        )
    extensions += [_event_ext(r, during.get(r.event_id)) for r in history]
    period: dict[str, Any] = {"start": _dt(episode.started_at)}
    if episode.outcome is not None:
        period["end"] = _dt(history[-1].at)
    eoc = {
        "resourceType": "EpisodeOfCare",
        "extension": extensions,
        "identifier": [{"system": EPISODE_SYSTEM, "value": episode.id}],
        "status": _episode_status(episode),
        "statusHistory": _status_history(episode),
        "type": [
            {
                "text": f"Addiction treatment: {pathway.name} (carepath pathway "
                f"{pathway.id!r} version {pathway.version!r})"
            }
        ],
        "patient": patient,
        "period": period,
    }
    entries: list[tuple[str, str, str, dict[str, Any]]] = [
        (episode_url, EPISODE_SYSTEM, episode.id, eoc)
    ]
    for stay in stays:
        res = _encounter(episode, stay, version, patient, episode_url)
        entries.append((stay.url, STAY_SYSTEM, res["identifier"][0]["value"], res))
    for r in history:
        for system, value, res in _observations(episode, r, during.get(r.event_id), patient):
            entries.append((_urn(system, value), system, value, res))
    out_entries = []
    for url, system, value, res in entries:
        entry: dict[str, Any] = {"fullUrl": url, "resource": res}
        if bundle_type == "transaction":
            query = f"{quote(system, safe=':/')}|{quote(value, safe='')}"
            entry["request"] = {"method": "PUT", "url": f"{res['resourceType']}?identifier={query}"}
        out_entries.append(entry)
    return {"resourceType": "Bundle", "type": bundle_type, "entry": out_entries}


@overload
def to_fhir(
    episode: Episode,
    version: Literal["R4B"] = "R4B",
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
) -> BundleR4B: ...


@overload
def to_fhir(
    episode: Episode,
    version: Literal["R5"],
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
) -> BundleR5: ...


def to_fhir(
    episode: Episode,
    version: FhirVersion = "R4B",
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
) -> BundleR4B | BundleR5:
    """The episode as a FHIR Bundle (fhir.resources model) that :func:`from_fhir` reads back.

    Args:
        episode: The episode.
        version: ``"R4B"`` (``fhir.resources.R4B``) or ``"R5"`` (``fhir.resources``).
        patient_system: The identifier system of the patient id on every resource.
        patient_reference: A literal reference to the patient (``"Patient/123"``), when
            the receiving server holds one; the identifier is always given too.
        bundle_type: ``"transaction"`` (conditional PUTs by identifier, so exporting
            again updates rather than duplicates) or ``"collection"``.

    Returns:
        The Bundle; ``bundle.model_dump_json()`` gives its JSON.

    Raises:
        InteropError: an unsupported version or bundle type.
    """
    v = _check_version(version)
    if not isinstance(episode, Episode):
        raise InteropError(
            standard=_standard(v),
            resource="Bundle",
            field="episode",
            problem=f"expected an Episode, got {type(episode).__name__}",
        )
    if bundle_type not in ("transaction", "collection"):
        raise InteropError(
            standard=_standard(v),
            resource="Bundle",
            field="type",
            problem="bundle_type must be 'transaction' or 'collection'",
        )
    data = bundle_data(
        episode,
        v,
        patient_system=patient_system,
        patient_reference=patient_reference,
        bundle_type=bundle_type,
    )
    model: BundleR4B | BundleR5 = _validate(data, v)
    return model


# -- import -------------------------------------------------------------------------------------


def _validate(data: object, version: FhirVersion) -> Any:
    """Validate plain data as a Bundle of ``version``; errors name the resource and field."""
    cls = _bundle_class(version)
    try:
        return cls.model_validate(data)
    except Exception as exc:  # fhir.resources raises more than ValidationError
        raise _validation_error(exc, data, version) from None


def _validation_error(exc: Exception, data: object, version: str) -> InteropError:
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
    loc = [str(p) for p in first.get("loc", ())]
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


def _read_event(node: _Node, assessments: dict[str, dict[str, int]]) -> dict[str, Any]:
    event_id = node.text_value("id")
    assert event_id is not None  # required
    override = None
    o = node.sub("override")
    if o is not None:
        override = {"reason": o.text_value("reason"), "by": o.text_value("by")}
    fact = node.value("fact", "Boolean")
    if not isinstance(fact, bool):
        raise node.error("extension", "sub-extension 'fact' needs a boolean")
    return {
        "event_id": event_id,
        "event": str(node.value("event", "Code")),
        "source": str(node.value("source", "Code")),
        "target": str(node.value("target", "Code")),
        "at": str(node.value("at", "DateTime")),
        "assessment": assessments.pop(event_id, None),
        "override": override,
        "note": node.text_value("note", required=False),
        "fact": fact,
    }


def _read_assessments(observations: Sequence[_Node]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    dims = {d.value for d in DIMENSIONS}
    for obs in observations:
        links = obs.extensions(EXT_EVENT_ID)
        if len(links) != 1:
            raise obs.error(
                "extension",
                f"needs exactly one {EXT_EVENT_ID} extension "
                "naming the carepath event it belongs to",
            )
        event_id = links[0].get("valueString")
        if not isinstance(event_id, str):
            raise links[0].error("valueString", "expected the event id as a string")
        codes = [c for c in obs.node("code").nodes("coding") if c.get("system") == DIMENSION_SYSTEM]
        if len(codes) != 1 or codes[0].get("code") not in dims:
            raise obs.error(
                "code",
                f"needs one coding from {DIMENSION_SYSTEM} naming one of: "
                + ", ".join(d.value for d in DIMENSIONS),
            )
        dim = str(codes[0].get("code"))
        rating = obs.get("valueInteger")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 4:
            raise obs.error("valueInteger", "expected a rating 0-4")
        ratings = out.setdefault(event_id, {})
        if dim in ratings:
            raise obs.error("code", f"a second {dim} rating for event {event_id!r}")
        ratings[dim] = rating
    for event_id, ratings in out.items():
        if set(ratings) != dims:
            missing = ", ".join(sorted(dims - set(ratings)))
            raise InteropError(
                standard=observations[0].standard,
                resource="Observation",
                field="code",
                problem=f"the assessment of event {event_id!r} lacks a rating for: {missing}",
            )
    return out


def _coerce(bundle_or_json: object, version: FhirVersion | None) -> tuple[Any, FhirVersion]:
    """Plain JSON data and its FHIR version from a model, JSON text or data."""
    if isinstance(bundle_or_json, str | bytes | bytearray):
        try:
            data = json.loads(bundle_or_json)
        except (ValueError, RecursionError):
            raise InteropError(
                standard="FHIR", resource="Bundle", problem="not valid JSON"
            ) from None
    elif hasattr(bundle_or_json, "model_dump_json") and type(bundle_or_json).__module__.startswith(
        "fhir.resources"
    ):
        module = type(bundle_or_json).__module__
        if version is None:
            version = "R4B" if module.startswith("fhir.resources.R4B") else "R5"
            if module.startswith("fhir.resources.STU3"):
                raise InteropError(
                    standard="FHIR STU3",
                    resource="Bundle",
                    problem="unsupported FHIR version; allowed: R4B, R5",
                )
        try:
            data = json.loads(bundle_or_json.model_dump_json())
        except Exception:  # a model built without validation
            raise InteropError(
                standard=_standard(version),
                resource="Bundle",
                problem="the model cannot be serialised as FHIR JSON",
            ) from None
    else:
        data = bundle_or_json
    if not isinstance(data, Mapping):
        raise InteropError(
            standard="FHIR",
            resource="Bundle",
            problem=f"expected a JSON object, got {type(data).__name__}",
        )
    v = _check_version(version) if version is not None else _detect(data)
    return data, v


def from_fhir(
    bundle_or_json: object, pathway: Pathway, *, version: FhirVersion | None = None
) -> Episode:
    """Rebuild an episode from a Bundle written by :func:`to_fhir`, replaying its events.

    Args:
        bundle_or_json: A fhir.resources Bundle (R4B or R5), its JSON text, or the
            parsed JSON.
        pathway: The pathway the episode was recorded under (same content hash).
        version: ``"R4B"`` or ``"R5"``; detected from the bundle when ``None``.

    Raises:
        InteropError: the input is not valid FHIR, lacks what carepath needs, was
            recorded under another pathway, or describes a move the pathway forbids;
            the error names the resource and the field.
    """
    data, v = _coerce(bundle_or_json, version)
    _validate(data, v)  # valid FHIR first; then read the (now known to be valid) JSON
    std = _standard(v)
    bundle = _Node(data, std, "Bundle")
    by_type: dict[str, list[_Node]] = {}
    for i, entry in enumerate(bundle.nodes("entry")):
        res = entry.get("resource")
        if res is None:
            continue
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        name = f"{rtype} {entry.get('fullUrl') or f'(Bundle.entry[{i}])'}"
        by_type.setdefault(str(rtype), []).append(_Node(res, std, name))
    episodes = by_type.get("EpisodeOfCare", [])
    if len(episodes) != 1:
        raise InteropError(
            standard=std,
            resource="Bundle",
            field="entry",
            problem=f"expected exactly one EpisodeOfCare, found {len(episodes)}",
        )
    eoc = episodes[0]
    episode = _rebuild(eoc, by_type, pathway)
    _check_views(episode, eoc, by_type.get("Encounter", []), v)
    return episode


def _rebuild(eoc: _Node, by_type: Mapping[str, list[_Node]], pathway: Pathway) -> Episode:
    ids = [n for n in eoc.nodes("identifier") if n.get("system") == EPISODE_SYSTEM]
    if len(ids) != 1:
        raise eoc.error("identifier", f"needs exactly one identifier with system {EPISODE_SYSTEM}")
    episode_id = ids[0].text("value")
    patient_id = eoc.node("patient").node("identifier").text("value")
    started = eoc.node("period").time("start")
    pathway_exts = eoc.extensions(EXT_PATHWAY)
    if len(pathway_exts) != 1:
        raise eoc.error("extension", f"needs exactly one {EXT_PATHWAY} extension")
    p = pathway_exts[0]
    previous: str | None = None
    prev_exts = eoc.extensions(EXT_PREVIOUS_EPISODE)
    if len(prev_exts) > 1:
        raise eoc.error("extension", f"{EXT_PREVIOUS_EPISODE} appears more than once")
    if prev_exts:
        previous = prev_exts[0].node("valueIdentifier").text("value")
    assessments = _read_assessments(by_type.get("Observation", []))
    positions: list[int] = []
    events: list[dict[str, Any]] = []
    for i, ext in enumerate(eoc.nodes("extension")):
        if ext.get("url") == EXT_EVENT:
            positions.append(i)
            events.append(_read_event(ext, assessments))
    if assessments:
        unknown = next(iter(assessments))
        raise InteropError(
            standard=eoc.standard,
            resource="Observation",
            field=f"extension({EXT_EVENT_ID})",
            problem=f"names event {unknown!r}, which is not in the EpisodeOfCare's event log",
        )
    data = {
        "format": "carepath.episode",
        "format_version": 1,
        "id": episode_id,
        "patient_id": patient_id,
        "previous_episode_id": previous,
        "pathway": {
            "id": str(p.value("id", "String")),
            "version": str(p.value("version", "String")),
            "content_hash": str(p.value("contentHash", "String")),
        },
        "started_at": started.isoformat(),
        "events": events,
    }
    _check_vocabulary(eoc, events, positions, pathway)
    try:
        return Episode.from_dict(data, pathway)
    except PathwayMismatch:
        raise eoc.error(
            f"extension({EXT_PATHWAY})",
            "recorded under another pathway (its id, version or content hash "
            f"differ from pathway {pathway.id!r} version {pathway.version!r}); "
            "pass the pathway the episode was recorded under",
        ) from None
    except EpisodeLoadError as exc:
        field, problem = "extension", exc.problem
        m = _EVENTS_AT.match(exc.location)
        if m is not None:
            i = int(m.group(1))
            field = f"extension[{positions[i]}]"
            problem = f"event {events[i]['event_id']!r}: {problem}"
        elif exc.location:
            field = exc.location
        raise InteropError(
            standard=eoc.standard,
            resource=eoc.resource,
            field=field,
            problem=problem,
            reasons=getattr(exc, "reasons", ()),
        ) from None
    except CarepathError as exc:  # pragma: no cover - from_dict raises EpisodeLoadError
        raise InteropError(standard=eoc.standard, resource=eoc.resource, problem=str(exc)) from None


def _check_vocabulary(
    eoc: _Node, events: Sequence[Mapping[str, Any]], positions: Sequence[int], pathway: Pathway
) -> None:
    """Every event's ``event``, ``source`` and ``target`` is one of the pathway's words, so
    no later message repeats a code the sender made up."""
    words = {
        "event": [e.value for e in Event],
        "source": [INTAKE, *(lv.code for lv in pathway.levels), *(o.value for o in Outcome)],
    }
    words["target"] = words["source"]
    for i, event in enumerate(events):
        for key, allowed in words.items():
            if event[key] not in allowed:
                raise eoc.error(
                    f"extension[{positions[i]}].extension({key})",
                    f"event {event['event_id']!r}: not a {key} of pathway {pathway.id!r}; "
                    "allowed: " + ", ".join(allowed),
                )


def _check_views(
    episode: Episode, eoc: _Node, encounters: Sequence[_Node], version: FhirVersion
) -> None:
    """The EpisodeOfCare status and the Encounters agree with the replayed events."""
    status = _episode_status(episode)
    given = eoc.get("status")
    if given not in _EOC_STATUSES:
        raise eoc.error(
            "status", "not an EpisodeOfCare status; allowed: " + ", ".join(_EOC_STATUSES)
        )
    if given != status:
        raise eoc.error("status", f"is {given!r} but the event log leads to {status!r}")
    stays, _ = _stays(episode)
    expected = {f"{episode.id}:{s.enter.event_id}": s for s in stays}
    seen: set[str] = set()
    period_key = "period" if version == "R4B" else "actualPeriod"
    for enc in encounters:
        ids = [n for n in enc.nodes("identifier") if n.get("system") == STAY_SYSTEM]
        if len(ids) != 1:
            continue  # not one of carepath's stays: left alone
        key = ids[0].text("value")
        stay = expected.get(key)
        if stay is None or key in seen:
            raise ids[0].error("value", "names no stay of the episode's event log")
        seen.add(key)
        period = enc.node(period_key)
        if period.time("start") != stay.enter.at:
            raise period.error("start", "differs from the time of the event that began the stay")
        end = period.get("end")
        if (end is None) != (stay.leave is None) or (
            stay.leave is not None and period.time("end") != stay.leave.at
        ):
            raise period.error("end", "differs from the time of the event that ended the stay")
        service = enc.get("serviceType")
        concepts = (
            [service]
            if isinstance(service, dict)
            else (
                [s.get("concept") for s in service if isinstance(s, dict)]
                if isinstance(service, list)
                else []
            )
        )
        codes = {
            c.get("code")
            for cc in concepts
            if isinstance(cc, dict)
            for c in cc.get("coding", [])
            if isinstance(c, dict) and c.get("system") == LEVEL_SYSTEM
        }
        if codes != {stay.level.code}:
            raise enc.error(
                "serviceType", f"should carry the level code {stay.level.code!r} of the event log"
            )
    missing = set(expected) - seen
    if missing:
        raise InteropError(
            standard=eoc.standard,
            resource="Bundle",
            field="entry",
            problem=f"no Encounter for the stay {sorted(missing)[0]!r}",
        )
