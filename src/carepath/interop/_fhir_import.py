"""FHIR in: an episode rebuilt from a Bundle carepath wrote, by replaying its event log."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any

from carepath._assessment import DIMENSIONS
from carepath._episode import Episode
from carepath._errors import CarepathError, EpisodeLoadError, InteropError, PathwayMismatch
from carepath._guards import Event
from carepath._levels import INTAKE, Outcome

from ._codemap import CodeMap
from ._fhir_common import (
    _EOC_STATUSES,
    DIMENSION_SYSTEM,
    EPISODE_SYSTEM,
    EXT_EVENT,
    EXT_EVENT_ID,
    EXT_PATHWAY,
    EXT_PREVIOUS_EPISODE,
    LEVEL_SYSTEM,
    STAY_SYSTEM,
    FhirVersion,
    _check_version,
    _detect,
    _episode_status,
    _Node,
    _standard,
    _stays,
    _validate_read,
)
from ._fhir_read import DEFAULT_MAX_BYTES, is_carepath_bundle, one_episode, parse_json, read_fhir
from ._stitching import Stitching

if TYPE_CHECKING:
    from carepath._pathway import Pathway


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


def _coerce(bundle_or_json: object, version: FhirVersion | None, max_bytes: int) -> Any:
    """Plain JSON data from a model, JSON text or data."""
    if isinstance(bundle_or_json, str | bytes | bytearray):
        data = parse_json(bundle_or_json, what="Bundle", max_bytes=max_bytes)
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
    return data


def from_fhir(
    bundle_or_json: object,
    pathway: Pathway,
    *,
    version: FhirVersion | None = None,
    code_map: CodeMap | None = None,
    tz: tzinfo = UTC,
    stitching: Stitching | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Episode:
    """An episode from FHIR: a Bundle carepath wrote (its event log replayed exactly), or
    FHIR an EHR wrote, holding one patient's one episode.

    A Bundle from :func:`to_fhir` is recognised by its EpisodeOfCare's ``pathway``
    extension and validated with fhir.resources. Anything else (a Bundle of any
    type, a list of resources) is read as an EHR wrote it, through ``code_map``;
    see :func:`read_fhir` for the rules and for several patients or episodes. Its
    findings (what was ignored, merged or could not be mapped) are logged on the
    ``carepath.interop`` logger; :func:`read_fhir` returns them.

    Args:
        bundle_or_json: A fhir.resources Bundle, its JSON text, or the parsed JSON (a
            Bundle, or a list of resources).
        pathway: The pathway the episode was recorded under (same content hash).
        version: ``"R4"``, ``"R4B"`` or ``"R5"``; detected from the bundle when ``None``.
        code_map: For FHIR an EHR wrote: which codes mean which level.
        tz: For FHIR an EHR wrote: the zone of date-only times.
        stitching: For FHIR an EHR wrote: how Encounters without an EpisodeOfCare
            group into episodes.
        max_bytes: JSON text longer than this is refused.

    Raises:
        InteropError: the input is not valid FHIR, lacks what carepath needs, was
            recorded under another pathway, or describes a move the pathway forbids;
            the error names the resource and the field. For FHIR an EHR wrote: it holds
            no episode (the error lists the codes to add to the code map) or several.
    """
    data = _coerce(bundle_or_json, version, max_bytes)
    if version is not None:
        _check_version(version)
    if not is_carepath_bundle(data):
        return one_episode(read_fhir(data, pathway, code_map=code_map, tz=tz, stitching=stitching))
    v = _check_version(version) if version is not None else _detect(data)
    _validate_read(data, v)  # valid FHIR first; then read the (now known to be valid) JSON
    std = _standard(v)
    bundle = _Node(data, std, "Bundle")
    by_type: dict[str, list[_Node]] = {}
    for i, entry in enumerate(bundle.nodes("entry")):
        res = entry.get("resource")
        if res is None:
            continue
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        name = f"{rtype} {entry.get('fullUrl') or f'(Bundle.entry[{i}])'}"
        if isinstance(res, dict) and res.get("status") == "entered-in-error":
            continue  # a stay or assessment a correction removed (to_fhir(replaces=...))
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
        if exc.event_index is not None:
            i = exc.event_index
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
    period_key = "period" if version != "R5" else "actualPeriod"
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
