"""The one table of code mappings between carepath and FHIR / HL7 v2 / CMS codes.

Levels map to a v3 ActCode encounter class, a CMS place-of-service code, the
ASAM level numbers (taken from the :class:`~carepath.Level` itself) and an HL7 v2
patient class (PV1-2) plus hospital-service codes (PV1-10); outcomes map to a
FHIR discharge disposition, an EpisodeOfCare status and an HL7 v2 discharge
disposition (PV1-36). Levels of a custom pathway that are not in the table get
codes from their setting (:func:`codes_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, final

import attrs

from carepath._levels import Level, Outcome, Setting
from carepath.levels import DETOX, INPATIENT, IOP, OUTPATIENT, PHP, SOBER_LIVING

__all__ = [
    "ACT_CODE_SYSTEM",
    "CAREPATH_FHIR",
    "DISCHARGE_DISPOSITION_SYSTEM",
    "HCPCS_SYSTEM",
    "LEVEL_CODES",
    "OUTCOME_CODES",
    "PLACE_OF_SERVICE_SYSTEM",
    "LevelCodes",
    "OutcomeCodes",
    "codes_for",
]

CAREPATH_FHIR: Final = "https://carepath.dev/fhir"
"""Base of carepath's FHIR extension, code-system and identifier-system URLs."""

ACT_CODE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
"""HL7 v3 ActCode, the code system of ``Encounter.class``."""

PLACE_OF_SERVICE_SYSTEM: Final = (
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
)
"""CMS place-of-service codes (the code system URL used by US Core and CARIN)."""

HCPCS_SYSTEM: Final = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
"""CMS HCPCS Level II codes (public), used in ``Encounter.type`` where a level has one."""

DISCHARGE_DISPOSITION_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
"""FHIR discharge disposition codes (``Encounter.hospitalization.dischargeDisposition``)."""


@final
@attrs.frozen(kw_only=True)
class LevelCodes:
    """How one level of care is coded outside carepath.

    Attributes:
        level: The carepath level code (``"detox"``).
        act_code: The v3 ActCode encounter class (``"ACUTE"``, ``"NONAC"``, ``"AMB"``).
        act_display: Its display text.
        place_of_service: The CMS place-of-service code (``"55"``).
        place_of_service_display: Its display text.
        asam3: ASAM Criteria 3rd edition level numbers (from the level).
        asam4: ASAM Criteria 4th edition level numbers (from the level).
        patient_class: The HL7 v2 patient class (PV1-2, table 0004).
        services: HL7 v2 hospital-service codes (PV1-10) that mean this level by default.
        hcpcs: The HCPCS Level II code of a stay at this level (``"H0015"``), if any.
        hcpcs_display: Its display text.
    """

    level: str
    act_code: str
    act_display: str
    place_of_service: str
    place_of_service_display: str
    asam3: tuple[str, ...] = ()
    asam4: tuple[str, ...] = ()
    patient_class: str
    services: tuple[str, ...] = ()
    hcpcs: str = ""
    hcpcs_display: str = ""


@final
@attrs.frozen(kw_only=True)
class OutcomeCodes:
    """How one outcome is coded outside carepath.

    Attributes:
        outcome: The carepath outcome.
        disposition: The FHIR discharge disposition code (``"aadvice"``).
        disposition_display: Its display text.
        episode_status: The EpisodeOfCare status once the episode has ended this way
            after an admission (an episode that ends from intake is ``"cancelled"``).
        hl7_disposition: The HL7 v2 discharge disposition (PV1-36, UB-04 patient status
            codes) written for it; :class:`~carepath.interop.LevelMap` reads more.
    """

    outcome: Outcome
    disposition: str
    disposition_display: str
    episode_status: str
    hl7_disposition: str


def _row(
    level: Level,
    act: tuple[str, str],
    pos: tuple[str, str],
    patient_class: str,
    services: tuple[str, ...],
    hcpcs: tuple[str, str] = ("", ""),
) -> LevelCodes:
    return LevelCodes(
        level=level.code,
        act_code=act[0],
        act_display=act[1],
        place_of_service=pos[0],
        place_of_service_display=pos[1],
        asam3=level.asam3,
        asam4=level.asam4,
        patient_class=patient_class,
        services=services,
        hcpcs=hcpcs[0],
        hcpcs_display=hcpcs[1],
    )


_ACUTE: Final = ("ACUTE", "inpatient acute")
_NONAC: Final = ("NONAC", "inpatient non-acute")
_AMB: Final = ("AMB", "ambulatory")
_POS_RESIDENTIAL: Final = ("55", "Residential Substance Abuse Treatment Facility")
_POS_PARTIAL: Final = ("52", "Psychiatric Facility-Partial Hospitalization")
_POS_NON_RESIDENTIAL: Final = ("57", "Non-residential Substance Abuse Treatment Facility")
_POS_GROUP_HOME: Final = ("14", "Group Home")

_H_DETOX: Final = ("H0011", "Alcohol and/or drug services; acute detoxification (residential)")
_H_RES: Final = ("H0018", "Behavioral health; short-term residential treatment program")
_H_PHP: Final = ("H0035", "Mental health partial hospitalization, treatment, less than 24 hours")
_H_IOP: Final = ("H0015", "Alcohol and/or drug services; intensive outpatient")
_H_OP: Final = ("H0004", "Behavioral health counseling and therapy, per 15 minutes")

LEVEL_CODES: Final[Mapping[str, LevelCodes]] = MappingProxyType(
    {
        row.level: row
        for row in (
            _row(DETOX, _ACUTE, _POS_RESIDENTIAL, "I", ("DETOX", "WM"), _H_DETOX),
            _row(INPATIENT, _NONAC, _POS_RESIDENTIAL, "I", ("INPATIENT", "RES"), _H_RES),
            _row(PHP, _AMB, _POS_PARTIAL, "O", ("PHP",), _H_PHP),
            _row(IOP, _AMB, _POS_NON_RESIDENTIAL, "O", ("IOP",), _H_IOP),
            _row(SOBER_LIVING, _AMB, _POS_GROUP_HOME, "O", ("SOBER_LIVING", "SLH")),
            _row(OUTPATIENT, _AMB, _POS_NON_RESIDENTIAL, "O", ("OUTPATIENT", "OP"), _H_OP),
        )
    }
)
"""The standard levels' codes, most intensive first, keyed by level code.

Sober living (a recovery residence) is not a billable clinical setting: CMS
place of service 14 (group home) is the nearest code.
"""

OUTCOME_CODES: Final[Mapping[Outcome, OutcomeCodes]] = MappingProxyType(
    {
        Outcome.COMPLETED: OutcomeCodes(
            outcome=Outcome.COMPLETED,
            disposition="home",
            disposition_display="Home",
            episode_status="finished",
            hl7_disposition="01",
        ),
        Outcome.DROPPED_OUT: OutcomeCodes(
            outcome=Outcome.DROPPED_OUT,
            disposition="aadvice",
            disposition_display="Left against advice",
            episode_status="finished",
            hl7_disposition="07",
        ),
        Outcome.TRANSFERRED_OUT: OutcomeCodes(
            outcome=Outcome.TRANSFERRED_OUT,
            disposition="other-hcf",
            disposition_display="Other healthcare facility",
            episode_status="finished",
            hl7_disposition="70",
        ),
    }
)
"""The outcomes' codes."""


def codes_for(level: Level) -> LevelCodes:
    """The codes of ``level``: its row in :data:`LEVEL_CODES` when the code and its ASAM
    numbers match a standard level, else codes derived from its setting (24-hour
    medically monitored care is inpatient acute, other 24-hour care non-acute, the rest
    ambulatory).

    >>> from carepath.levels import IOP
    >>> codes_for(IOP).act_code, codes_for(IOP).place_of_service
    ('AMB', '57')
    """
    row = LEVEL_CODES.get(level.code)
    if row is not None and row.asam3 == level.asam3 and row.asam4 == level.asam4:
        return row
    if level.setting is Setting.RESIDENTIAL:
        act = _ACUTE if level.medically_monitored else _NONAC
        pos, patient_class = _POS_RESIDENTIAL, "I"
    elif level.setting is Setting.DAY:
        act, pos, patient_class = _AMB, _POS_PARTIAL, "O"
    elif level.setting is Setting.RECOVERY_RESIDENCE:
        act, pos, patient_class = _AMB, _POS_GROUP_HOME, "O"
    else:
        act, pos, patient_class = _AMB, _POS_NON_RESIDENTIAL, "O"
    return _row(level, act, pos, patient_class, (level.code.upper(),))
