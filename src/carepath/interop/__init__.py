"""FHIR and HL7 v2 in and out (extras ``fhir`` and ``hl7``).

- :func:`to_fhir` / :func:`from_fhir`: an episode as a FHIR Bundle (R4, R4B or R5) and
  back, exactly (fhir.resources).
- :func:`read_fhir` / :func:`episodes_from_fhir_ndjson`: FHIR an EHR wrote (bundles of
  any type, lists of resources, Bulk Data NDJSON) read into each patient's episodes;
  :class:`CodeMap` says which codes mean which level.
- :func:`from_hl7v2`: a visit's ADT messages replayed into an episode, each
  message recorded as a fact; :func:`episodes_from_hl7v2`: a whole feed of many
  visits and patients read into courses of treatment, stitched by a
  :class:`Stitching` policy (:func:`stitch` works on neutral :class:`Stay` records,
  for any source) with every decision explained (:class:`Link`); :class:`LevelMap`
  is a site's reading of PV1 and PID-3; :class:`HL7Limits` bounds the reader.
- :func:`questionnaire` / :func:`assessment_from_response`: the six-dimension
  assessment as an SDC Questionnaire, and a QuestionnaireResponse read back into an
  :class:`~carepath.Assessment` (plain JSON; no extra needed).
- :data:`LEVEL_CODES` and :data:`OUTCOME_CODES`: the one table of code mappings.

Importing this package imports no extra: the HL7 v2 reader is carepath's own
(bounded, linear-time) and needs no extra; the FHIR functions import
fhir.resources when called.
"""

from ._codes import LEVEL_CODES as LEVEL_CODES
from ._codes import OUTCOME_CODES as OUTCOME_CODES
from ._codes import LevelCodes as LevelCodes
from ._codes import OutcomeCodes as OutcomeCodes
from ._codes import codes_for as codes_for
from ._fhir import CODE_SYSTEMS as CODE_SYSTEMS
from ._fhir import DEFAULT_LEVEL_CODES as DEFAULT_LEVEL_CODES
from ._fhir import CodeMap as CodeMap
from ._fhir import FhirImport as FhirImport
from ._fhir import FhirVersion as FhirVersion
from ._fhir import ImportFinding as ImportFinding
from ._fhir import episodes_from_fhir_ndjson as episodes_from_fhir_ndjson
from ._fhir import from_fhir as from_fhir
from ._fhir import read_fhir as read_fhir
from ._fhir import to_fhir as to_fhir
from ._fhir import to_fhir_json as to_fhir_json
from ._hl7 import from_hl7v2 as from_hl7v2
from ._hl7_feed import episodes_from_hl7v2 as episodes_from_hl7v2
from ._hl7_map import DEFAULT_DISPOSITIONS as DEFAULT_DISPOSITIONS
from ._hl7_map import DISCHARGE_STATUS as DISCHARGE_STATUS
from ._hl7_map import LevelMap as LevelMap
from ._hl7_reader import HL7Limits as HL7Limits
from ._questionnaire import QUESTIONNAIRE_URL as QUESTIONNAIRE_URL
from ._questionnaire import RATING_SYSTEM as RATING_SYSTEM
from ._questionnaire import assessment_from_response as assessment_from_response
from ._questionnaire import questionnaire as questionnaire
from ._questionnaire import questionnaire_response as questionnaire_response
from ._stitching import Course as Course
from ._stitching import Link as Link
from ._stitching import Stay as Stay
from ._stitching import Stitching as Stitching
from ._stitching import stitch as stitch

__all__ = [
    "CODE_SYSTEMS",
    "DEFAULT_DISPOSITIONS",
    "DEFAULT_LEVEL_CODES",
    "DISCHARGE_STATUS",
    "LEVEL_CODES",
    "OUTCOME_CODES",
    "QUESTIONNAIRE_URL",
    "RATING_SYSTEM",
    "CodeMap",
    "Course",
    "FhirImport",
    "FhirVersion",
    "HL7Limits",
    "ImportFinding",
    "LevelCodes",
    "LevelMap",
    "Link",
    "OutcomeCodes",
    "Stay",
    "Stitching",
    "assessment_from_response",
    "codes_for",
    "episodes_from_fhir_ndjson",
    "episodes_from_hl7v2",
    "from_fhir",
    "from_hl7v2",
    "questionnaire",
    "questionnaire_response",
    "read_fhir",
    "stitch",
    "to_fhir",
    "to_fhir_json",
]
