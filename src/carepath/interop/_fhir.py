"""FHIR out and in: an episode as a Bundle (R4, R4B or R5) and back; bundles other
systems wrote, and Bulk Data NDJSON, read into episodes.

The work is split by direction: ``_fhir_export.py`` writes, ``_fhir_import.py`` reads
carepath's own bundles, ``_fhir_foreign.py`` reads what EHRs write (with a
:class:`~carepath.interop.CodeMap`), and ``_fhir_common.py`` holds what they share.
This module gathers the names.
"""

from ._codemap import CODE_SYSTEMS, DEFAULT_LEVEL_CODES, CodeMap
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
from ._fhir_export import bundle_data, to_fhir, to_fhir_json
from ._fhir_foreign import FhirImport, ImportFinding
from ._fhir_import import from_fhir
from ._fhir_read import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    episodes_from_fhir_ndjson,
    read_fhir,
)

__all__ = [
    "ASAM3_SYSTEM",
    "ASAM4_SYSTEM",
    "CODE_SYSTEMS",
    "DEFAULT_LEVEL_CODES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "DIMENSION_SYSTEM",
    "EPISODE_SYSTEM",
    "EXT_EVENT",
    "EXT_EVENT_ID",
    "EXT_PATHWAY",
    "EXT_PREVIOUS_EPISODE",
    "LEVEL_SYSTEM",
    "PATIENT_SYSTEM",
    "CodeMap",
    "FhirImport",
    "FhirVersion",
    "ImportFinding",
    "bundle_data",
    "episodes_from_fhir_ndjson",
    "from_fhir",
    "read_fhir",
    "to_fhir",
    "to_fhir_json",
]
