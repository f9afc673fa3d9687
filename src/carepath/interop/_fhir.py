"""FHIR out and in: an episode as a Bundle (R4, R4B or R5) and back; bundles other
systems wrote, and Bulk Data NDJSON, read into episodes.

The work is split by direction: ``_fhir_export.py`` writes, ``_fhir_import.py`` reads
carepath's own bundles, ``_fhir_foreign.py`` reads what EHRs write (with a
:class:`~carepath.interop.CodeMap`), and ``_fhir_common.py`` holds what they share.
This module gathers the names.
"""

from ._fhir_common import (
    ASAM3_SYSTEM,
    ASAM4_SYSTEM,
    DIMENSION_SYSTEM,
    EPISODE_SYSTEM,
    EXT_EVENT,
    EXT_EVENT_ID,
    EXT_PATHWAY,
    EXT_PREVIOUS_EPISODE,
    LEVEL_SYSTEM,
    PATIENT_SYSTEM,
    FhirVersion,
)
from ._fhir_export import bundle_data, to_fhir
from ._fhir_import import from_fhir

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
    "bundle_data",
    "from_fhir",
    "to_fhir",
]
