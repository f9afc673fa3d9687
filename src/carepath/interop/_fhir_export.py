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

import html
import json
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import quote

from carepath._assessment import DIMENSIONS
from carepath._episode import Episode, EventRecord
from carepath._errors import InteropError
from carepath._guards import Event
from carepath._levels import Level, Outcome

from ._codes import (
    ACT_CODE_SYSTEM,
    DISCHARGE_DISPOSITION_SYSTEM,
    HCPCS_SYSTEM,
    OUTCOME_CODES,
    PLACE_OF_SERVICE_SYSTEM,
    LevelCodes,
    codes_for,
)
from ._fhir_common import (
    _CATEGORY,
    _OUTCOME_VALUES,
    ASAM3_SYSTEM,
    ASAM4_SYSTEM,
    ASSESSMENT_SYSTEM,
    DIMENSION_SYSTEM,
    EPISODE_SYSTEM,
    EXT_EVENT,
    EXT_EVENT_ID,
    EXT_PATHWAY,
    EXT_PREVIOUS_EPISODE,
    LEVEL_SYSTEM,
    PATIENT_SYSTEM,
    STAY_SYSTEM,
    FhirVersion,
    _check_version,
    _dt,
    _episode_status,
    _standard,
    _Stay,
    _stays,
    _urn,
    _validate,
    fhir_string_ok,
)

if TYPE_CHECKING:
    from fhir.resources.bundle import Bundle as BundleR5
    from fhir.resources.R4B.bundle import Bundle as BundleR4B


def _ext(url: str, kind: str, value: object) -> dict[str, Any]:
    return {"url": url, f"value{kind}": value}


def _text_ext(url: str, text: str) -> dict[str, Any]:
    """A string sub-extension; text FHIR cannot carry as a string goes JSON-encoded."""
    if fhir_string_ok(text):
        return _ext(url, "String", text)
    return _ext(f"{url}Json", "String", json.dumps(text))


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
    # One ASAM level per stay: the level's first 3rd-edition number, which carries the
    # withdrawal-management mark (detox 3.7-WM; residential 3.1), and its 4th-edition
    # number, left out for withdrawal management, where it (3.7) would not tell detox from
    # residential treatment.
    wm = codes.asam3[:1] != () and codes.asam3[0].endswith("-WM")
    if codes.asam3:
        coding.append({"system": ASAM3_SYSTEM, "code": codes.asam3[0]})
    if codes.asam4 and not wm:
        coding.append({"system": ASAM4_SYSTEM, "code": codes.asam4[0]})
    concept = {"coding": coding, "text": level.name}
    return concept if version != "R5" else [{"concept": concept}]


def _encounter(
    episode: Episode, stay: _Stay, version: str, patient: dict[str, Any], episode_url: str
) -> dict[str, Any]:
    codes = codes_for(stay.level)
    act = {"system": ACT_CODE_SYSTEM, "code": codes.act_code, "display": codes.act_display}
    period: dict[str, Any] = {"start": _dt(stay.enter.at)}
    if stay.leave is not None:
        period["end"] = _dt(stay.leave.at)
    ended = "finished" if version != "R5" else "completed"
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "extension": [_ext(EXT_EVENT_ID, "String", stay.enter.event_id)],
        "identifier": [{"system": STAY_SYSTEM, "value": f"{episode.id}:{stay.enter.event_id}"}],
        "status": "in-progress" if stay.leave is None else ended,
        "class": act if version != "R5" else [{"coding": [act]}],
        "text": _narrative(
            f"Stay at {stay.level.name} ({stay.level.code}) in carepath episode {episode.id}; "
            f"{'in progress' if stay.leave is None else 'ended'}."
        ),
        "type": _types(codes),
        "serviceType": _service_type(stay.level, version),
        "subject": patient,
        "episodeOfCare": [{"reference": episode_url}],
        "period" if version != "R5" else "actualPeriod": period,
    }
    if stay.leave is not None and stay.leave.target in _OUTCOME_VALUES:
        oc = OUTCOME_CODES[Outcome(stay.leave.target)]
        res["hospitalization" if version != "R5" else "admission"] = {
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


def _types(codes: LevelCodes) -> list[dict[str, Any]]:
    """The place of service, and the HCPCS code of the level where a public one exists."""
    out = [
        {
            "coding": [
                {
                    "system": PLACE_OF_SERVICE_SYSTEM,
                    "code": codes.place_of_service,
                    "display": codes.place_of_service_display,
                }
            ]
        }
    ]
    if codes.hcpcs:
        out.insert(
            0,
            {
                "coding": [
                    {"system": HCPCS_SYSTEM, "code": codes.hcpcs, "display": codes.hcpcs_display}
                ]
            },
        )
    return out


def _narrative(text: str) -> dict[str, str]:
    """Generated narrative: ids, codes and level names only, never dates or patient data."""
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></div>',
    }


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
            "text": _narrative(
                f"{d.label}: rating {int(a[d])} of 4 (carepath event {r.event_id})."
            ),
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


def _gone(
    replaces: Episode, episode: Episode, version: str, patient: dict[str, Any], episode_url: str
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Encounters and Observations of ``replaces`` that ``episode`` no longer has, marked
    ``entered-in-error`` so a server that holds them from an earlier export drops them."""
    if replaces.id != episode.id:
        raise InteropError(
            standard=_standard(version),
            resource="Bundle",
            field="replaces",
            problem=f"replaces episode {replaces.id!r}, not {episode.id!r}",
        )
    kept_stays = {s.url for s in _stays(episode)[0]}
    kept_obs = {(r.event_id, r.at) for r in episode.history if r.assessment is not None}
    old_stays, old_during = _stays(replaces)
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    for stay in old_stays:
        if stay.url in kept_stays:
            continue
        res = _encounter(replaces, stay, version, patient, episode_url)
        res["status"] = "entered-in-error"
        res["text"] = _narrative(
            f"Entered in error: carepath episode {episode.id} no longer has this stay."
        )
        out.append((stay.url, STAY_SYSTEM, res["identifier"][0]["value"], res))
    for r in replaces.history:
        if r.assessment is None or (r.event_id, r.at) in kept_obs:
            continue
        for system, value, res in _observations(replaces, r, old_during.get(r.event_id), patient):
            res["status"] = "entered-in-error"
            res.pop("encounter", None)
            out.append((_urn(system, value), system, value, res))
    return out


def bundle_data(
    episode: Episode,
    version: FhirVersion,
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: str = "transaction",
    replaces: Episode | None = None,
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
    status = _episode_status(episode)
    eoc = {
        "resourceType": "EpisodeOfCare",
        "text": _narrative(
            f"carepath episode {episode.id} under pathway {pathway.id} version "
            f"{pathway.version}: {status}, {len(stays)} stay{'s' if len(stays) != 1 else ''}, "
            f"{len(history)} event{'s' if len(history) != 1 else ''}."
        ),
        "extension": extensions,
        "identifier": [{"system": EPISODE_SYSTEM, "value": episode.id}],
        "status": status,
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
    if replaces is not None:
        entries += _gone(replaces, episode, version, patient, episode_url)
    out_entries = []
    for url, system, value, res in entries:
        entry: dict[str, Any] = {"fullUrl": url, "resource": res}
        if bundle_type == "transaction":
            query = f"{quote(system, safe=':/')}|{quote(value, safe='')}"
            entry["request"] = {"method": "PUT", "url": f"{res['resourceType']}?identifier={query}"}
        out_entries.append(entry)
    return {"resourceType": "Bundle", "type": bundle_type, "entry": out_entries}


def _checked(
    episode: object, version: object, bundle_type: object, replaces: object
) -> FhirVersion:
    v = _check_version(version)
    for name, value in (("episode", episode), ("replaces", replaces)):
        if not isinstance(value, Episode) and (name == "episode" or value is not None):
            raise InteropError(
                standard=_standard(v),
                resource="Bundle",
                field=name,
                problem=f"expected an Episode, got {type(value).__name__}",
            )
    if bundle_type not in ("transaction", "collection"):
        raise InteropError(
            standard=_standard(v),
            resource="Bundle",
            field="type",
            problem="bundle_type must be 'transaction' or 'collection'",
        )
    return v


@overload
def to_fhir(
    episode: Episode,
    version: Literal["R4", "R4B"] = "R4B",
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
    replaces: Episode | None = None,
) -> BundleR4B: ...


@overload
def to_fhir(
    episode: Episode,
    version: Literal["R5"],
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
    replaces: Episode | None = None,
) -> BundleR5: ...


def to_fhir(
    episode: Episode,
    version: FhirVersion = "R4B",
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
    replaces: Episode | None = None,
) -> BundleR4B | BundleR5:
    """The episode as a FHIR Bundle (fhir.resources model) that :func:`from_fhir` reads back.

    Args:
        episode: The episode.
        version: ``"R4"`` or ``"R4B"`` (``fhir.resources.R4B`` models: the resources
            carepath writes are the same in both) or ``"R5"`` (``fhir.resources``).
        patient_system: The identifier system of the patient id on every resource.
        patient_reference: A literal reference to the patient (``"Patient/123"``), when
            the receiving server holds one; the identifier is always given too.
        bundle_type: ``"transaction"`` (conditional PUTs by identifier, so exporting
            again updates rather than duplicates) or ``"collection"``.
        replaces: The same episode as exported before a correction (an HL7 cancel, a
            voided event): the Encounters and Observations it had that ``episode`` no
            longer has go in the bundle marked ``entered-in-error``.

    Returns:
        The Bundle; ``bundle.model_dump_json()`` gives its JSON. For large episodes,
        :func:`to_fhir_json` gives the same JSON without building the models.

    Raises:
        InteropError: an unsupported version or bundle type.
    """
    v = _checked(episode, version, bundle_type, replaces)
    data = bundle_data(
        episode,
        v,
        patient_system=patient_system,
        patient_reference=patient_reference,
        bundle_type=bundle_type,
        replaces=replaces,
    )
    model: BundleR4B | BundleR5 = _validate(data, v)
    return model


def to_fhir_json(
    episode: Episode,
    version: FhirVersion = "R4B",
    *,
    patient_system: str = PATIENT_SYSTEM,
    patient_reference: str | None = None,
    bundle_type: Literal["transaction", "collection"] = "transaction",
    replaces: Episode | None = None,
    indent: int | None = None,
) -> str:
    """The bundle :func:`to_fhir` builds, as JSON text, without building fhir.resources
    models: what carepath writes is checked against the official FHIR JSON schemas in
    its tests, so this is the fast way to export large episodes.

    Arguments as for :func:`to_fhir`; ``indent`` as for :func:`json.dumps`.
    """
    v = _checked(episode, version, bundle_type, replaces)
    data = bundle_data(
        episode,
        v,
        patient_system=patient_system,
        patient_reference=patient_reference,
        bundle_type=bundle_type,
        replaces=replaces,
    )
    return json.dumps(data, ensure_ascii=False, indent=indent)
