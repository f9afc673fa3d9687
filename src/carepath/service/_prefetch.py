"""Prefetch templates, and the FHIR data a hook needs: from the prefetch or the FHIR server.

The service asks the CDS client to prefetch four things (see :data:`PREFETCH`). A key
the client left out is fetched from the request's ``fhirServer`` with the
``fhirAuthorization`` bearer token (httpx); with no server to ask, the request is
answered 412 (Precondition Failed), as the CDS Hooks specification says.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any, Final

import attrs
import httpx

from carepath._assessment import Assessment
from carepath._levels import Level
from carepath._pathway import Pathway
from carepath.interop._fhir import EPISODE_SYSTEM
from carepath.interop._questionnaire import QUESTIONNAIRE_URL, assessment_from_response

from ._cards import levels_in
from ._errors import ServiceError

__all__ = ["PREFETCH", "HookData", "gather", "read_data", "render"]

PREFETCH: Final[Mapping[str, str]] = {
    "patient": "Patient/{{context.patientId}}",
    "assessment": "QuestionnaireResponse?subject=Patient/{{context.patientId}}"
    f"&questionnaire={QUESTIONNAIRE_URL}&status=completed&_sort=-authored&_count=1",
    "episode": "EpisodeOfCare?patient={{context.patientId}}&status=active",
    "encounters": "Encounter?patient={{context.patientId}}&date=ge{{today() - 90 days}}"
    "&_sort=-date&_count=20",
}
"""The prefetch templates every hook of the service declares in discovery."""

_TOKEN: Final = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_TODAY: Final = re.compile(r"^today\(\)\s*(?:([+-])\s*(\d{1,4})\s*days?)?$")
_FETCH_TIMEOUT: Final = 5.0
_MAX_RESOURCE: Final = 2_000_000


def render(template: str, context: Mapping[str, Any], today: date) -> str:
    """Fill a prefetch template's tokens (``{{context.patientId}}``, ``{{today() - 90 days}}``)."""

    def token(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("context."):
            value = context.get(name.removeprefix("context."))
            if not isinstance(value, str):
                raise ServiceError(
                    status=400, code="invalid", field=name, problem="missing from the context"
                )
            return value
        t = _TODAY.match(name)
        if t is None:
            raise AssertionError(f"unknown prefetch token {name!r}")  # our own templates
        days = int(t.group(2) or 0) * (-1 if t.group(1) == "-" else 1)
        return (today + timedelta(days=days)).isoformat()

    return _TOKEN.sub(token, template)


async def gather(
    request: Mapping[str, Any],
    client: httpx.AsyncClient,
    today: date,
) -> dict[str, Any]:
    """Every prefetch key: from the request's prefetch, else fetched from its FHIR server."""
    given = request.get("prefetch") or {}
    out: dict[str, Any] = {k: given[k] for k in PREFETCH if k in given}
    missing = [k for k in PREFETCH if k not in out]
    if not missing:
        return out
    server = request.get("fhirServer")
    if not isinstance(server, str):
        raise ServiceError(
            status=412,
            code="not-found",
            field=f"prefetch.{missing[0]}",
            problem="missing from the prefetch, and the request names no fhirServer to "
            "fetch it from; prefetch " + ", ".join(missing) + " or send fhirServer",
        )
    headers = {"Accept": "application/fhir+json"}
    auth = request.get("fhirAuthorization")
    if isinstance(auth, Mapping):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    base = server.rstrip("/") + "/"
    context = request.get("context") or {}

    async def fetch(key: str) -> tuple[str, Any]:
        url = base + render(PREFETCH[key], context, today)
        try:
            resp = await client.get(url, headers=headers, timeout=_FETCH_TIMEOUT)
        except httpx.HTTPError as exc:
            raise ServiceError(
                status=412,
                code="transient",
                field=f"prefetch.{key}",
                problem=f"the FHIR server could not be reached ({type(exc).__name__})",
            ) from None
        if resp.status_code == 404 and key == "patient":
            return key, None
        if resp.status_code != 200 or len(resp.content) > _MAX_RESOURCE:
            raise ServiceError(
                status=412,
                code="processing",
                field=f"prefetch.{key}",
                problem=f"the FHIR server answered HTTP {resp.status_code}"
                if resp.status_code != 200
                else "the FHIR server's answer is too large",
            )
        try:
            return key, resp.json()
        except ValueError:
            raise ServiceError(
                status=412,
                code="processing",
                field=f"prefetch.{key}",
                problem="the FHIR server's answer is not JSON",
            ) from None

    for key, value in await asyncio.gather(*(fetch(k) for k in missing)):
        out[key] = value
    return out


@attrs.frozen(kw_only=True)
class HookData:
    """What the hook's FHIR data say, read into carepath terms (ids, levels, ratings)."""

    assessment: Assessment | None
    episode_id: str | None
    encounter_level: Level | None


def _resources(value: object, resource_type: str) -> Iterator[Mapping[str, Any]]:
    """The resources of one type in a prefetch value: a resource or a Bundle of them."""
    if not isinstance(value, Mapping):
        return
    if value.get("resourceType") == resource_type:
        yield value
    elif value.get("resourceType") == "Bundle" and isinstance(value.get("entry"), list):
        for entry in value["entry"]:
            res = entry.get("resource") if isinstance(entry, Mapping) else None
            if isinstance(res, Mapping) and res.get("resourceType") == resource_type:
                yield res


def read_data(data: Mapping[str, Any], pathway: Pathway, patient_id: str) -> HookData:
    """Read the prefetched FHIR data.

    Raises:
        ServiceError: the Patient is another patient, or the QuestionnaireResponse
            cannot be read (naming the item; never the answers).
    """
    patient = data.get("patient")
    if isinstance(patient, Mapping) and patient.get("id") not in (None, patient_id):
        raise ServiceError(
            status=400,
            code="invalid",
            field="prefetch.patient.id",
            problem="the prefetched Patient is not the context's patientId",
        )
    responses = [
        r
        for r in _resources(data.get("assessment"), "QuestionnaireResponse")
        if str(r.get("questionnaire", "")).partition("|")[0] == QUESTIONNAIRE_URL
    ]
    assessment = None
    if responses:
        latest = max(responses, key=lambda r: str(r.get("authored", "")))
        assessment = assessment_from_response(latest)
    episode_id = None
    for eoc in _resources(data.get("episode"), "EpisodeOfCare"):
        if eoc.get("status") != "active":
            continue
        for ident in eoc.get("identifier") or ():
            if isinstance(ident, Mapping) and ident.get("system") == EPISODE_SYSTEM:
                value = ident.get("value")
                if isinstance(value, str) and value:
                    episode_id = value
    encounter_level = None
    for enc in _resources(data.get("encounters"), "Encounter"):
        if enc.get("status") != "in-progress":
            continue
        service = enc.get("serviceType")
        concepts = service if isinstance(service, list) else [service]
        for concept in concepts:
            found = levels_in(pathway, concept)
            if found:
                encounter_level = found[0]
                break
        if encounter_level is not None:
            break
    return HookData(assessment=assessment, episode_id=episode_id, encounter_level=encounter_level)
