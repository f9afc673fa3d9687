"""A site's reading of ADT messages: :class:`LevelMap` and the PV1-36 tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, final

import attrs

from carepath._errors import CarepathError, InteropError
from carepath._levels import Outcome

from ._codes import LEVEL_CODES
from ._hl7_reader import STANDARD as _STANDARD
from ._quote import show

__all__ = ["DEFAULT_DISPOSITIONS", "DISCHARGE_STATUS", "LevelMap"]

DISCHARGE_STATUS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": "home or self care",
        "02": "short-term general hospital",
        "03": "skilled nursing facility",
        "04": "intermediate care facility",
        "05": "cancer center or children's hospital",
        "06": "home under a home health organization",
        "07": "left against medical advice or discontinued care",
        "09": "admitted as an inpatient to this hospital",
        "20": "expired",
        "21": "court or law enforcement",
        "30": "still a patient",
        "40": "expired at home (hospice)",
        "41": "expired in a medical facility (hospice)",
        "42": "expired, place unknown (hospice)",
        "43": "federal health care facility",
        "50": "hospice, home",
        "51": "hospice, medical facility",
        "61": "swing bed",
        "62": "inpatient rehabilitation facility",
        "63": "long-term care hospital",
        "64": "nursing facility (Medicaid)",
        "65": "psychiatric hospital or unit",
        "66": "critical access hospital",
        "69": "disaster alternative care site",
        "70": "another health care institution",
        "81": "home or self care, planned readmission",
        "82": "short-term general hospital, planned readmission",
        "83": "skilled nursing facility, planned readmission",
        "84": "intermediate care facility, planned readmission",
        "85": "cancer center or children's hospital, planned readmission",
        "86": "home health organization, planned readmission",
        "87": "court or law enforcement, planned readmission",
        "88": "federal health care facility, planned readmission",
        "89": "swing bed, planned readmission",
        "90": "inpatient rehabilitation facility, planned readmission",
        "91": "long-term care hospital, planned readmission",
        "92": "nursing facility (Medicaid), planned readmission",
        "93": "psychiatric hospital or unit, planned readmission",
        "94": "critical access hospital, planned readmission",
        "95": "another health care institution, planned readmission",
    }
)
"""The UB-04 / NUBC patient discharge status codes (PV1-36, HL7 table 0112) and what
they mean. :data:`DEFAULT_DISPOSITIONS` maps each to an outcome except those no carepath
outcome fits (expired ``20``/``40``/``41``/``42``, still a patient ``30``)."""

DEFAULT_DISPOSITIONS: Final[Mapping[str, Outcome]] = MappingProxyType(
    {
        "01": Outcome.COMPLETED,  # home or self care
        "81": Outcome.COMPLETED,  # home or self care, planned readmission
        "07": Outcome.DROPPED_OUT,  # left against medical advice or discontinued care
        # To a hospital, nursing facility, hospice, another institution, home health care,
        # law enforcement, with or without a planned readmission.
        **dict.fromkeys(
            (
                *("02", "03", "04", "05", "06", "09", "21", "43", "50", "51"),
                *("61", "62", "63", "64", "65", "66", "69", "70"),
                *(str(code) for code in range(82, 96)),
            ),
            Outcome.TRANSFERRED_OUT,
        ),
        # FHIR discharge-disposition codes, which some feeds send instead.
        "HOME": Outcome.COMPLETED,
        "ALT-HOME": Outcome.COMPLETED,
        "AADVICE": Outcome.DROPPED_OUT,
        **dict.fromkeys(
            ("OTHER-HCF", "HOSP", "LONG", "PSY", "REHAB", "SNF", "HOSP"), Outcome.TRANSFERRED_OUT
        ),
    }
)
"""PV1-36 discharge dispositions the default :class:`LevelMap` maps to outcomes (upper
case): every UB-04 code of :data:`DISCHARGE_STATUS` except expired (``20``, ``40``,
``41``, ``42``) and still a patient (``30``), plus FHIR discharge-disposition codes.

A code not in the map is not refused: the discharge is recorded with
:attr:`LevelMap.unmapped_disposition` and a finding in the event's note.
"""

_DEFAULT_SERVICES: Final[Mapping[str, str]] = MappingProxyType(
    {service: row.level for row in LEVEL_CODES.values() for service in row.services}
)
_DEFAULT_PATIENT_CLASSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "I": "inpatient",
        "O": "outpatient",
    }
)


def _map_error(problem: str, field: str = "") -> InteropError:
    return InteropError(standard=_STANDARD, resource="LevelMap", field=field, problem=problem)


def _upper_map(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise _map_error(f"expected a mapping, got {type(value).__name__}")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise _map_error("tables map HL7 codes (strings) to level codes (strings)")
        out[k.strip().upper()] = v
    return MappingProxyType(out)


def _outcome(value: object) -> Outcome:
    try:
        return Outcome(value if isinstance(value, str) else "")
    except ValueError:
        raise _map_error(
            f"{value!r} is not an outcome; allowed: " + ", ".join(o.value for o in Outcome)
        ) from None


def _disposition_map(value: Mapping[str, Outcome | str]) -> Mapping[str, Outcome]:
    if not isinstance(value, Mapping):
        raise _map_error(f"expected a mapping, got {type(value).__name__}")
    return MappingProxyType({str(k).strip().upper(): _outcome(v) for k, v in value.items()})


def _id_types(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _map_error("expected a list of identifier type codes", "patient_id_types")
    out = tuple(v.strip().upper() for v in value if isinstance(v, str))
    if len(out) != len(tuple(value)) or not out:
        raise _map_error("expected a non-empty list of identifier type codes", "patient_id_types")
    if "SS" in out:
        raise _map_error(
            "a social security number (SS) is never used as a patient id", "patient_id_types"
        )
    return out


def _flag(instance: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise _map_error(f"expected true or false, got {type(value).__name__}", attribute.name)


def _authority(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise _map_error(f"expected a string, got {type(value).__name__}", attribute.name)


@final
@attrs.frozen(kw_only=True)
class LevelMap:
    """A site's reading of ADT messages: which PV1 fields mean which level of care, which
    PV1-36 discharge dispositions mean which outcome, and which PID-3 identifier is the
    patient id.

    A message's level is looked up in ``locations`` by the point of care (PV1-3.1),
    then in ``services`` by the hospital service (PV1-10); the first match wins. Keys are
    matched without regard to case. The patient class (PV1-2) alone does not name a
    level: a message whose level only ``patient_classes`` gives is refused, naming the
    unit and service codes to add, unless ``patient_class_fallback`` is true (then the
    level is taken from ``patient_classes`` and a finding is kept in the event's note).
    A transfer or update whose only clue is a patient class equal to the current
    level's class (:func:`codes_for` ``.patient_class``) is a bed move or a demographic
    update: it moves no one, whatever ``patient_class_fallback`` says.

    Attributes:
        locations: Point of care (PV1-3.1, e.g. a unit ``"DTX"``) -> level code. Empty
            by default: locations are site-specific.
        services: Hospital service (PV1-10) -> level code. By default the services of
            :data:`~carepath.interop.LEVEL_CODES` (``"DETOX"``/``"WM"`` -> detox,
            ``"INPATIENT"``/``"RES"`` -> inpatient, ``"PHP"``, ``"IOP"``,
            ``"SOBER_LIVING"``/``"SLH"``, ``"OUTPATIENT"``/``"OP"``).
        patient_classes: Patient class (PV1-2) -> level code, used only with
            ``patient_class_fallback``. By default ``"I"`` -> inpatient and ``"O"`` ->
            outpatient.
        patient_class_fallback: Whether a level found only from PV1-2 is used (with a
            finding) instead of refused. Default false.
        dispositions: Discharge disposition (PV1-36) -> outcome; by default
            :data:`DEFAULT_DISPOSITIONS` (the UB-04 table and FHIR codes).
        missing_disposition: The outcome of a discharge without PV1-36.
        unmapped_disposition: The outcome of a discharge whose PV1-36 code the map does
            not know (recorded with a finding, never refused). Default transferred out
            (care that continues outside this pathway).
        patient_id_types: The PID-3 identifier types (CX-5) that are the patient id, in
            order of preference. Default ``("MR",)`` (medical record number). ``"SS"``
            (social security number) is never allowed.
        patient_id_authority: When set, only identifiers whose assigning authority
            (CX-4.1) is this are used.
        untyped_patient_id: Whether a PID-3 without any typed identifier (a lone
            ``"12345"``) is used as the patient id. Default true. Identifiers of other
            types (``SS``, ``PI``, ...) are never used.

    >>> m = LevelMap(locations={"DTX": "detox"})
    >>> m.level_for(patient_class="I", location="dtx", service="")
    'detox'
    >>> m.level_for(patient_class="O", location="", service="IOP")
    'iop'
    >>> m.level_for(patient_class="I", location="", service="") is None
    True
    """

    locations: Mapping[str, str] = attrs.field(factory=dict, converter=_upper_map)
    services: Mapping[str, str] = attrs.field(
        factory=lambda: dict(_DEFAULT_SERVICES), converter=_upper_map
    )
    patient_classes: Mapping[str, str] = attrs.field(
        factory=lambda: dict(_DEFAULT_PATIENT_CLASSES), converter=_upper_map
    )
    patient_class_fallback: bool = attrs.field(default=False, validator=_flag)
    dispositions: Mapping[str, Outcome] = attrs.field(
        factory=lambda: dict(DEFAULT_DISPOSITIONS), converter=_disposition_map
    )
    missing_disposition: Outcome = attrs.field(default=Outcome.COMPLETED, converter=_outcome)
    unmapped_disposition: Outcome = attrs.field(default=Outcome.TRANSFERRED_OUT, converter=_outcome)
    patient_id_types: tuple[str, ...] = attrs.field(default=("MR",), converter=_id_types)
    patient_id_authority: str = attrs.field(default="", validator=_authority)
    untyped_patient_id: bool = attrs.field(default=True, validator=_flag)

    def level_for(self, *, patient_class: str, location: str, service: str) -> str | None:
        """The level code the PV1 fields map to (the patient class only with
        ``patient_class_fallback``), or ``None``."""
        code, source = _lookup(
            self, patient_class=patient_class, location=location, service=service
        )
        return code if source != "PV1-2" or self.patient_class_fallback else None

    def outcome_for(self, disposition: str) -> Outcome | None:
        """The outcome a PV1-36 disposition means (``missing_disposition`` when empty,
        ``None`` when the map does not know the code)."""
        if not disposition.strip():
            return self.missing_disposition
        return self.dispositions.get(disposition.strip().upper())

    @classmethod
    def from_toml(cls, text: str) -> LevelMap:
        """A level map from TOML text (a site's map file; see the interop guide).

        Tables ``[locations]``, ``[services]``, ``[patient_classes]`` and
        ``[dispositions]``; keys ``patient_class_fallback``, ``missing_disposition``,
        ``unmapped_disposition``, ``patient_id_types``, ``patient_id_authority`` and
        ``untyped_patient_id``. Unknown keys are refused, naming them.

        >>> LevelMap.from_toml('[locations]\\nDTX = "detox"').locations["DTX"]
        'detox'
        """
        import tomllib  # noqa: PLC0415  # only when a map file is read

        if not isinstance(text, str):
            raise _map_error(f"expected TOML text, got {type(text).__name__}")
        try:
            data = tomllib.loads(text.removeprefix("\ufeff"))
        except tomllib.TOMLDecodeError as exc:
            raise _map_error(f"not valid TOML ({exc})") from None
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise _map_error(
                "unknown keys "
                + ", ".join(show(k, what="a known key") for k in unknown)
                + "; allowed: "
                + ", ".join(sorted(known))
            )
        try:
            return cls(**data)
        except CarepathError:
            raise
        except (TypeError, ValueError) as exc:  # a table where a value belongs, or the like
            raise _map_error(f"a value of the wrong kind ({type(exc).__name__})") from None


def _lookup(
    level_map: LevelMap, *, patient_class: str, location: str, service: str
) -> tuple[str | None, str]:
    """The level code and the field it came from (``"PV1-3"``, ``"PV1-10"``, ``"PV1-2"``)."""
    for table, key, field in (
        (level_map.locations, location, "PV1-3"),
        (level_map.services, service, "PV1-10"),
        (level_map.patient_classes, patient_class, "PV1-2"),
    ):
        found = table.get(key.strip().upper()) if key else None
        if found is not None:
            return found, field
    return None, ""
