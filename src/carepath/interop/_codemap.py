"""Which codes in a FHIR Encounter mean which level of care: :class:`CodeMap`.

A site's EHR codes a stay at a level in many places: the Encounter's ``class``,
``type`` and ``serviceType``, its ``location`` (the unit, or the Location's ``type``
such as an NHSN HSLOC code), a CMS place of service, an HCPCS or NUBC revenue code,
or the Colorado BHA ASAM level of care. A :class:`CodeMap` holds the codes a site
uses; the shipped default map (:data:`DEFAULT_LEVEL_CODES`) covers the public code
systems and is consulted after the site's own codes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, final

import attrs

from carepath._assessment import DIMENSIONS, Dimension
from carepath._errors import InteropError
from carepath._levels import Outcome

from ._codes import ACT_CODE_SYSTEM, CAREPATH_FHIR, PLACE_OF_SERVICE_SYSTEM

__all__ = [
    "CODE_SYSTEMS",
    "DEFAULT_LEVEL_CODES",
    "CodeMap",
    "system_key",
]

_LEVEL_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/level"
_DIMENSION_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/dimension"
_DISPOSITION_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/discharge-disposition"

CODE_SYSTEMS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "carepath": (_LEVEL_SYSTEM,),
        "asam-co": (
            "http://bha.colorado.gov/fhir/bha-ig/CodeSystem/bha-asam-level-of-care-cs",
            "http://bha.colorado.gov/fhir/bha-test-ig/CodeSystem/bha-asam-level-of-care-cs",
        ),
        "hcpcs": (
            "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
            "urn:oid:2.16.840.1.113883.6.285",
        ),
        "revenue": (
            "https://www.nubc.org/CodeSystem/RevenueCodes",
            "urn:oid:2.16.840.1.113883.6.301.3",
        ),
        "hsloc": (
            "https://www.cdc.gov/nhsn/cdaportal/terminology/codesystem/hsloc.html",
            "urn:oid:2.16.840.1.113883.6.259",
        ),
        "pos": (PLACE_OF_SERVICE_SYSTEM, "urn:oid:2.16.840.1.113883.6.50"),
        "class": (ACT_CODE_SYSTEM, "urn:oid:2.16.840.1.113883.5.4"),
        "disposition": (_DISPOSITION_SYSTEM,),
        "dimension": (_DIMENSION_SYSTEM,),
    }
)
"""Short names a code map may use for the public code systems, in the order a stay's
codes are consulted (most specific first), with the system URLs and OIDs each stands for.
A system URL matches whatever its scheme (``http``/``https``), a ``www.`` prefix,
letter case or trailing slash."""

_SCHEME: Final = re.compile(r"^(?:https?://)?(?:www\.)?")


def system_key(system: str) -> str:
    """The form a code system URL is compared in (no scheme, no ``www.``, lower case)."""
    return _SCHEME.sub("", system.strip().lower()).rstrip("/")


_ALIAS: Final[Mapping[str, str]] = MappingProxyType(
    {system_key(url): name for name, urls in CODE_SYSTEMS.items() for url in urls}
)
_RANK: Final[Mapping[str, int]] = MappingProxyType({name: i for i, name in enumerate(CODE_SYSTEMS)})


def _canonical(system: str) -> str:
    """A system's short name when it is a known public system, else its compared form."""
    key = system_key(system)
    return _ALIAS.get(key, key) if key not in CODE_SYSTEMS else key


_DETOX_CO: Final = ("3.2-WM", "3.2-D", "3.7-WM", "3.7x", "3.7X", "3.7WM", "4-WM", "4.0-WM")

DEFAULT_LEVEL_CODES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "carepath": MappingProxyType(
            {c: c for c in ("detox", "inpatient", "php", "iop", "sober_living", "outpatient")}
        ),
        "asam-co": MappingProxyType(
            {
                **dict.fromkeys(("1", "1.0", "1.5"), "outpatient"),
                "2.1": "iop",
                "2.5": "php",
                **dict.fromkeys(("3.1", "3.3", "3.5", "3.7"), "inpatient"),
                **dict.fromkeys(_DETOX_CO, "detox"),
                **dict.fromkeys(("4", "4.0"), "detox"),
            }
        ),
        "hcpcs": MappingProxyType(
            {
                # Alcohol and/or drug services: detoxification.
                **dict.fromkeys(("H0008", "H0009", "H0010", "H0011", "H0012", "H0013"), "detox"),
                # Short- and long-term residential (non-hospital) treatment; halfway house.
                **dict.fromkeys(("H0017", "H0018", "H0019", "H2034"), "inpatient"),
                "H0015": "iop",  # intensive outpatient (3+ hours a day, 3+ days a week)
                "H0035": "php",  # partial hospitalization, less than 24 hours
                "S0201": "php",  # partial hospitalization services, less than 24 hours
                **dict.fromkeys(("H0004", "H0005"), "outpatient"),  # counselling
            }
        ),
        "revenue": MappingProxyType(
            {
                # Room and board, detoxification (private, semi-private, ward, ...).
                **dict.fromkeys(("0116", "0126", "0136", "0146", "0156"), "detox"),
                "1002": "inpatient",  # behavioral health accommodations: residential SUD
                "0906": "iop",  # intensive outpatient services: chemical dependency
                **dict.fromkeys(("0912", "0913"), "php"),  # partial hospitalization
                **dict.fromkeys(("0944", "0945"), "outpatient"),  # drug / alcohol rehab
            }
        ),
        "pos": MappingProxyType(
            {
                "55": "inpatient",  # residential substance abuse treatment facility
                "52": "php",  # psychiatric facility, partial hospitalization
                "57": "outpatient",  # non-residential substance abuse treatment facility
                "58": "outpatient",  # non-residential opioid treatment facility
            }
        ),
    }
)
"""The shipped default map: short code-system name (:data:`CODE_SYSTEMS`) -> code ->
level code of the standard pathway. Site codes go in the caller's :class:`CodeMap`.

Notes: place of service 57 is used for IOP and outpatient care alike, so it maps to
outpatient and a more specific code (HCPCS H0015, revenue 0906, ASAM 2.1) wins over it;
ASAM 3.7 without the withdrawal-management mark is residential treatment (inpatient), 3.7-WM
and 4-WM are detox; the encounter class (v3 ActCode) and HSLOC have no default entries:
``AMB`` or ``IMP`` alone cannot tell one level from another, and HSLOC has no codes of
its own for addiction treatment units (map your units' locations instead).
"""

_DEFAULT_DIMENSIONS: Final[Mapping[str, Mapping[str, Dimension]]] = MappingProxyType(
    {"dimension": MappingProxyType({d.value: d for d in DIMENSIONS})}
)


def _norm_codes(value: Mapping[str, Mapping[str, str]]) -> Mapping[str, Mapping[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for system, codes in dict(value).items():
        out.setdefault(_canonical(str(system)), {}).update(
            {str(k).strip(): str(v) for k, v in dict(codes).items()}
        )
    return MappingProxyType({k: MappingProxyType(v) for k, v in out.items()})


def _norm_dimensions(
    value: Mapping[str, Mapping[str, Dimension | str]],
) -> Mapping[str, Mapping[str, Dimension]]:
    out: dict[str, dict[str, Dimension]] = {}
    for system, codes in dict(value).items():
        out.setdefault(_canonical(str(system)), {}).update(
            {str(k).strip(): Dimension(v) for k, v in dict(codes).items()}
        )
    return MappingProxyType({k: MappingProxyType(v) for k, v in out.items()})


def _norm_items(value: Mapping[str, Dimension | str]) -> Mapping[str, Dimension]:
    return MappingProxyType({str(k).strip(): Dimension(v) for k, v in dict(value).items()})


def _norm_plain(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(k).strip(): str(v) for k, v in dict(value).items()})


def _norm_dispositions(value: Mapping[str, Outcome | str]) -> Mapping[str, Outcome]:
    return MappingProxyType({str(k).strip().lower(): Outcome(v) for k, v in dict(value).items()})


def _default_dispositions() -> Mapping[str, Outcome]:
    from ._hl7_map import LevelMap  # noqa: PLC0415  # the one table of disposition codes

    return LevelMap().dispositions


@final
@attrs.frozen(kw_only=True)
class CodeMap:
    """Which codes of a FHIR Encounter, its locations and its Observations mean what.

    A stay's level is looked up, first match wins: (1) each location of the Encounter
    (``location[].location``) in ``locations`` by its reference (``"Location/4W"``) or
    identifier value, then by the Location resource's ``type`` codes; (2) the codes
    of ``serviceType``, ``type`` and ``class``, by code system in the order of
    :data:`CODE_SYSTEMS` (site systems first), in ``levels`` and then, with
    ``defaults``, in :data:`DEFAULT_LEVEL_CODES`.

    Attributes:
        levels: Code system (a URL, or a short name of :data:`CODE_SYSTEMS` such as
            ``"hcpcs"``, ``"pos"``, ``"revenue"``, ``"hsloc"``, ``"asam-co"``,
            ``"class"``) -> code -> level code.
        locations: Location reference (``"Location/4W"``) or identifier value -> level code.
        defaults: Whether :data:`DEFAULT_LEVEL_CODES` is consulted after ``levels``.
        dimensions: Observation code system -> code -> assessment dimension; by default
            carepath's dimension codes. Observations with other codes are ignored.
        questionnaire_items: QuestionnaireResponse item ``linkId`` -> dimension; by
            default the dimension names (``"withdrawal"``, ``"biomedical"``, ...).
        dispositions: Discharge disposition code (any system, any case) -> outcome; by
            default the FHIR codes and UB-04 patient status codes
            :class:`~carepath.interop.LevelMap` reads.
        missing_disposition: The outcome of a finished last stay without a disposition.
        patient_system: When given, patients are named by their identifier in this
            system (read from the Patient resources); otherwise by the Patient resource id.

    >>> m = CodeMap(levels={"hcpcs": {"T1007": "outpatient"}}, locations={"Location/DTX": "detox"})
    >>> m.level_for([("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "H0015")])
    'iop'
    >>> m.level_for([("urn:oid:2.16.840.1.113883.6.285", "T1007")])
    'outpatient'
    """

    levels: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict, converter=_norm_codes)
    locations: Mapping[str, str] = attrs.field(factory=dict, converter=_norm_plain)
    defaults: bool = True
    dimensions: Mapping[str, Mapping[str, Dimension]] = attrs.field(
        factory=lambda: dict(_DEFAULT_DIMENSIONS), converter=_norm_dimensions
    )
    questionnaire_items: Mapping[str, Dimension] = attrs.field(
        factory=lambda: {d.value: d for d in DIMENSIONS}, converter=_norm_items
    )
    dispositions: Mapping[str, Outcome] = attrs.field(
        factory=_default_dispositions, converter=_norm_dispositions
    )
    missing_disposition: Outcome = attrs.field(default=Outcome.COMPLETED, converter=Outcome)
    patient_system: str | None = None

    def _tables(self) -> list[tuple[int, Mapping[str, Mapping[str, str]]]]:
        tables = [(0, self.levels)]
        if self.defaults:
            tables.append((1, DEFAULT_LEVEL_CODES))
        return tables

    def level_for(self, codings: Iterable[tuple[str, str]]) -> str | None:
        """The level code the (system, code) pairs map to, or ``None``."""
        return self.lookup(codings)[0]

    def lookup(self, codings: Iterable[tuple[str, str]]) -> tuple[str | None, str]:
        """The level code and the short name or URL of the system it came from."""
        pairs = [(_canonical(s), c.strip()) for s, c in codings if s and c]
        best: tuple[tuple[int, int], str, str] | None = None
        for tier, table in self._tables():
            for system, code in pairs:
                level = table.get(system, {}).get(code)
                if level is None:
                    continue
                rank = (tier, _RANK.get(system, -1))
                if best is None or rank < best[0]:
                    best = (rank, level, system)
            if best is not None:
                return best[1], best[2]
        return None, ""

    def level_for_location(self, keys: Iterable[str]) -> str | None:
        """The level a location reference or identifier value maps to, or ``None``."""
        for key in keys:
            found = self.locations.get(key.strip())
            if found is not None:
                return found
        return None

    def dimension_for(self, codings: Iterable[tuple[str, str]]) -> Dimension | None:
        """The dimension an Observation's codes rate, or ``None`` (ignored)."""
        for system, code in codings:
            found = self.dimensions.get(_canonical(system), {}).get(code.strip())
            if found is not None:
                return found
        return None

    def outcome_for(self, codes: Iterable[str]) -> Outcome | None:
        """The outcome the first known disposition code means, or ``None``."""
        for code in codes:
            found = self.dispositions.get(code.strip().lower())
            if found is not None:
                return found
        return None

    @classmethod
    def from_toml(cls, text: str, *, source: str = "code map") -> CodeMap:
        """A code map from TOML text (see the interoperability guide for the layout); its
        ``[dispositions]`` are added to the shipped ones.

        Raises:
            InteropError: not TOML, or a table that is not a code map's.
        """
        try:
            data = tomllib.loads(text.removeprefix("\ufeff"))
        except tomllib.TOMLDecodeError as exc:
            raise InteropError(
                standard="FHIR", resource=source, problem=f"not valid TOML ({exc})"
            ) from None
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InteropError(
                standard="FHIR",
                resource=source,
                field=unknown[0],
                problem="not a code-map table; allowed: " + ", ".join(sorted(known)),
            )
        data = dict(data)
        if "dispositions" in data and isinstance(data["dispositions"], dict):
            data["dispositions"] = {**_default_dispositions(), **data["dispositions"]}
        try:
            return cls(**data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise InteropError(
                standard="FHIR",
                resource=source,
                problem=f"not a valid code map ({type(exc).__name__}: check the value types; "
                "levels are tables of strings, dimensions and outcomes by name)",
            ) from None

    @classmethod
    def load(cls, path: str | Path) -> CodeMap:
        """A code map from a TOML file."""
        p = Path(path)
        try:
            text = p.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InteropError(
                standard="FHIR", resource=p.name, problem=f"cannot read ({type(exc).__name__})"
            ) from None
        return cls.from_toml(text, source=p.name)
