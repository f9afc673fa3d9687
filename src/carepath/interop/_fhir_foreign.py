"""FHIR as EHRs write it: Encounters (with or without an EpisodeOfCare), Observations and
QuestionnaireResponses read into episodes through a :class:`CodeMap`.

Each resource is reduced, as it is read, to the few facts carepath needs (a stay's
times, level codes, status, episode link; an assessment's ratings), grouped by
patient; the resource itself is not kept. So a Bulk Data export streams through in
memory proportional to the number of stays, not to the size of the export.

Rules (documented in the interoperability guide):

- ``entered-in-error`` and ``cancelled`` Encounters are ignored (reported); so are
  ``planned`` ones, pre-admission (``PRENC``) and emergency (``EMER``) Encounters
  that the code map does not place at a level, and Encounters not linked to a
  patient's EpisodeOfCare that map to no level.
- An Encounter without an end that is ``in-progress`` (R5 also ``on-hold``) is the
  current stay. Locations with periods inside one Encounter (a transfer as Epic
  writes it) are stays of their own when their locations map to different levels.
- Date-only times are midnight in ``tz`` (reported).
- Overlapping stays: the earlier stay ends when the later one starts; a stay lying
  wholly inside another at the same level is merged into it (reported).
- The last stay's discharge disposition (R4/R4B ``hospitalization``, R5
  ``admission``) gives the outcome, when the episode has ended: its EpisodeOfCare
  is finished, or it has none and the last stay has ended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal, final

import attrs

from carepath._assessment import Dimension
from carepath._episode import Episode
from carepath._guards import Event
from carepath._levels import Outcome
from carepath._textio import is_quotable

from ._codemap import CodeMap

__all__ = ["Collector", "FhirImport", "ImportFinding"]

FindingKind = Literal[
    "ignored",
    "unmapped",
    "unknown-level",
    "overlap",
    "date-only",
    "no-end",
    "partial-page",
    "incomplete-assessment",
    "unknown-disposition",
    "no-patient",
    "new-episode",
]

_STANDARD: Final = "FHIR"
_IGNORED_STATUS: Final = frozenset({"entered-in-error", "cancelled"})
_PLANNED: Final = frozenset({"planned"})
_CURRENT: Final = frozenset({"in-progress", "onleave", "on-hold", "arrived", "triaged"})
_NOT_A_STAY: Final = frozenset({"PRENC", "EMER"})
_OUTCOME_EVENT: Final[Mapping[Outcome, Event]] = {
    Outcome.COMPLETED: Event.COMPLETE,
    Outcome.DROPPED_OUT: Event.DROP_OUT,
    Outcome.TRANSFERRED_OUT: Event.TRANSFER_OUT,
}
_SYSTEM: Final = re.compile(r"^(?:https?://|urn:)[\x21-\x7e]{1,200}$")
_DATE_ONLY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _shown_system(system: str) -> str:
    return system if _SYSTEM.match(system) else "(a system that is not a URL)"


@final
@attrs.frozen(kw_only=True)
class ImportFinding:
    """Something the import decided or could not do, for the person checking the mapping.

    Attributes:
        kind: ``"ignored"`` (a resource left out on purpose), ``"unmapped"`` (a stay
            whose level the code map cannot determine: add one of ``codes``),
            ``"unknown-level"`` (a level code the pathway does not have),
            ``"overlap"``, ``"date-only"``, ``"no-end"``, ``"partial-page"``,
            ``"incomplete-assessment"``, ``"unknown-disposition"``, ``"no-patient"``,
            ``"new-episode"`` (the stitching policy began a new episode: why).
        resource: The resource (``"Encounter/123"``), ids only.
        message: What happened, in words (ids and short codes only, never patient data).
        codes: For ``"unmapped"`` and ``"unknown-disposition"``: the ``system|code``
            pairs found, to add to the code map.
    """

    kind: FindingKind
    resource: str
    message: str
    codes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}: {self.resource}: {self.message}"


@final
@attrs.frozen(kw_only=True)
class FhirImport:
    """What an import of foreign FHIR gave: each patient's episodes, and the findings.

    Attributes:
        episodes: Patient id -> that patient's episodes, oldest first.
        findings: What was ignored, merged or could not be mapped, in input order.
        counts: Resources read by type, and ``"stays"`` (stays placed at a level).
    """

    episodes: Mapping[str, tuple[Episode, ...]]
    findings: tuple[ImportFinding, ...]
    counts: Mapping[str, int]

    def summary(self) -> str:
        """A few lines: what was read, mapped, ignored and found (ids and counts only)."""
        n_eps = sum(len(v) for v in self.episodes.values())
        read = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()) if k != "stays")
        lines = [
            f"read: {read or 'nothing'}",
            f"mapped: {self.counts.get('stays', 0)} stays into {n_eps} episodes "
            f"of {len(self.episodes)} patients",
        ]
        by_kind: dict[str, int] = {}
        for f in self.findings:
            by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
        lines.append(
            "findings: " + (", ".join(f"{n} {k}" for k, n in sorted(by_kind.items())) or "none")
        )
        return "\n".join(lines)


# -- facts ------------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class _Segment:
    start: str | None
    end: str | None
    keys: tuple[str, ...]  # location reference and identifier values


@final
@attrs.frozen(kw_only=True)
class _Encounter:
    """What carepath keeps of one Encounter."""

    name: str
    status: str
    start: str | None
    end: str | None
    codings: tuple[tuple[str, str], ...]
    classes: tuple[str, ...]
    episode: str | None
    locations: tuple[_Segment, ...]
    dispositions: tuple[str, ...]
    disposition_codes: tuple[str, ...]
    order: int


@final
@attrs.frozen(kw_only=True)
class _Ratings:
    name: str
    at: str | None
    ratings: Mapping[Dimension, int]
    order: int


@final
@attrs.frozen(kw_only=True)
class _EpisodeOfCare:
    name: str
    status: str
    order: int


class _Patient:
    __slots__ = ("encounters", "episodes", "ratings")

    def __init__(self) -> None:
        self.encounters: list[_Encounter] = []
        self.ratings: list[_Ratings] = []
        self.episodes: dict[str, _EpisodeOfCare] = {}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _codings(concept: object) -> list[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept, a Coding, an R5 CodeableReference, or a
    list of any of them."""
    out: list[tuple[str, str]] = []
    for item in concept if isinstance(concept, list) else [concept]:
        d = _dict(item)
        if "concept" in d:
            d = _dict(d["concept"])
        codings = d.get("coding", [d] if "code" in d else [])
        for c in _list(codings):
            cd = _dict(c)
            system, code = cd.get("system"), cd.get("code")
            if isinstance(code, str) and code.strip():
                out.append((system if isinstance(system, str) else "", code))
    return out


def _ref_id(ref: object, kind: str) -> str | None:
    """``"Patient/123"`` (also absolute or versioned) -> ``"123"``; ``urn:uuid:`` kept whole."""
    text = _str(_dict(ref).get("reference"))
    if text is None:
        return None
    if text.startswith("urn:"):
        return text
    parts = text.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == kind:
        return parts[-1]
    return None


class Collector:
    """Reduces resources to facts, grouped by patient, as they are read."""

    def __init__(self, code_map: CodeMap) -> None:
        self.code_map = code_map
        self.patients: dict[str, _Patient] = {}
        self.locations: dict[str, tuple[tuple[str, str], ...]] = {}
        self.patient_ids: dict[str, str] = {}  # Patient resource id -> id in patient_system
        self.urls: dict[str, str] = {}  # fullUrl -> "Kind/id"
        self.findings: list[ImportFinding] = []
        self.counts: dict[str, int] = {}
        self.order = 0

    def finding(
        self, kind: FindingKind, resource: str, message: str, codes: tuple[str, ...] = ()
    ) -> None:
        self.findings.append(
            ImportFinding(kind=kind, resource=resource, message=message, codes=codes)
        )

    def _patient(self, res: Mapping[str, Any], name: str, key: str) -> _Patient | None:
        pid = _ref_id(res.get(key), "Patient")
        if pid is None:
            self.finding("no-patient", name, f"no {key} reference to a Patient: ignored")
            return None
        return self.patients.setdefault(pid, _Patient())

    def add(self, res: object, full_url: str | None = None) -> None:
        """Take what carepath needs from one resource (anything else is counted, ignored)."""
        d = _dict(res)
        kind = d.get("resourceType")
        kind = kind if isinstance(kind, str) and kind.isalpha() and len(kind) < 40 else "?"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        rid = _str(d.get("id"))
        shown = rid is not None and is_quotable(rid, kind="id")
        name = f"{kind}/{rid}" if shown else f"{kind} #{self.order}"
        if full_url is not None and rid is not None:
            self.urls[full_url] = f"{kind}/{rid}"
        self.order += 1
        reader = _READERS.get(kind)
        if reader is not None:
            reader(self, d, name)

    def _encounter(self, d: Mapping[str, Any], name: str) -> None:
        patient = self._patient(d, name, "subject")
        if patient is None:
            return
        period = _dict(d.get("period") or d.get("actualPeriod"))
        cls = d.get("class")
        classes = tuple(c for _, c in _codings(cls))
        codings = _codings(d.get("serviceType")) + _codings(d.get("type")) + _codings(cls)
        segments = []
        for loc in _list(d.get("location")):
            ld = _dict(loc)
            ref = _dict(ld.get("location"))
            keys = [k for k in (_str(ref.get("reference")),) if k is not None]
            ident = _str(_dict(ref.get("identifier")).get("value"))
            if ident is not None:
                keys.append(ident)
            lp = _dict(ld.get("period"))
            segments.append(
                _Segment(start=_str(lp.get("start")), end=_str(lp.get("end")), keys=tuple(keys))
            )
        hosp = _dict(d.get("hospitalization") or d.get("admission"))
        dispo = _codings(hosp.get("dischargeDisposition"))
        episode = None
        for ref in _list(d.get("episodeOfCare")):
            episode = _ref_id(ref, "EpisodeOfCare") or episode
        patient.encounters.append(
            _Encounter(
                name=name,
                status=str(d.get("status") or ""),
                start=_str(period.get("start")),
                end=_str(period.get("end")),
                codings=tuple(codings),
                classes=classes,
                episode=episode,
                locations=tuple(segments),
                dispositions=tuple(c for _, c in dispo),
                disposition_codes=tuple(f"{s}|{c}" for s, c in dispo),
                order=self.order,
            )
        )

    def _episode_of_care(self, d: Mapping[str, Any], name: str) -> None:
        patient = self._patient(d, name, "patient")
        rid = _str(d.get("id"))
        if patient is None or rid is None:
            return
        patient.episodes[rid] = _EpisodeOfCare(
            name=name, status=str(d.get("status") or ""), order=self.order
        )

    def _observation(self, d: Mapping[str, Any], name: str) -> None:
        dim = self.code_map.dimension_for(_codings(d.get("code")))
        if dim is None or d.get("status") in _IGNORED_STATUS:
            return  # vitals, PHQ-9, AUDIT-C, ...: not carepath's
        patient = self._patient(d, name, "subject")
        if patient is None:
            return
        value = d.get("valueInteger")
        if value is None:
            value = _dict(d.get("valueQuantity")).get("value")
        at = _str(d.get("effectiveDateTime")) or _str(_dict(d.get("effectivePeriod")).get("start"))
        if isinstance(value, bool) or not isinstance(value, int | float) or value not in range(5):
            self.finding(
                "incomplete-assessment", name, f"the {dim.value} rating is not 0-4: ignored"
            )
            return
        patient.ratings.append(
            _Ratings(name=name, at=at, ratings={dim: int(value)}, order=self.order)
        )

    def _questionnaire(self, d: Mapping[str, Any], name: str) -> None:
        if d.get("status") not in ("completed", "amended"):
            return
        ratings: dict[Dimension, int] = {}
        stack = list(_list(d.get("item")))
        while stack:
            item = _dict(stack.pop())
            stack.extend(_list(item.get("item")))
            dim = self.code_map.questionnaire_items.get(str(item.get("linkId") or ""))
            if dim is None:
                continue
            for ans in _list(item.get("answer")):
                a = _dict(ans)
                value = a.get("valueInteger")
                if value is None:
                    code = _dict(a.get("valueCoding")).get("code")
                    value = int(code) if isinstance(code, str) and code.isdigit() else None
                if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4:
                    ratings[dim] = value
        if not ratings:
            return
        patient = self._patient(d, name, "subject")
        if patient is None:
            return
        patient.ratings.append(
            _Ratings(name=name, at=_str(d.get("authored")), ratings=ratings, order=self.order)
        )

    def _location(self, d: Mapping[str, Any], name: str) -> None:
        rid = _str(d.get("id"))
        if rid is not None:
            self.locations[f"Location/{rid}"] = tuple(_codings(d.get("type")))

    def _patient_resource(self, d: Mapping[str, Any], name: str) -> None:
        system = self.code_map.patient_system
        rid = _str(d.get("id"))
        if system is None or rid is None:
            return
        for ident in _list(d.get("identifier")):
            i = _dict(ident)
            value = _str(i.get("value"))
            if i.get("system") == system and value is not None:
                self.patient_ids[rid] = value
                return


_READERS: Final = {
    "Encounter": Collector._encounter,
    "EpisodeOfCare": Collector._episode_of_care,
    "Observation": Collector._observation,
    "QuestionnaireResponse": Collector._questionnaire,
    "Location": Collector._location,
    "Patient": Collector._patient_resource,
}
