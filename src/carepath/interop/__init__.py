"""FHIR and HL7 v2 in and out (extras ``fhir`` and ``hl7``).

- :func:`to_fhir` / :func:`from_fhir`: an episode as a FHIR Bundle (R4B or R5) and
  back, exactly (fhir.resources).
- :func:`from_hl7v2`: a visit's ADT messages replayed into an episode, each
  message recorded as a fact (hl7apy); :class:`LevelMap` says which PV1 fields
  mean which level.
- :func:`questionnaire` / :func:`assessment_from_response`: the six-dimension
  assessment as an SDC Questionnaire, and a QuestionnaireResponse read back into an
  :class:`~carepath.Assessment` (plain JSON; no extra needed).
- :data:`LEVEL_CODES` and :data:`OUTCOME_CODES`: the one table of code mappings.

Importing this package imports neither fhir.resources nor hl7apy; each function
imports what it needs when called, so the HL7 reader works with only the ``hl7``
extra installed, and the FHIR functions with only ``fhir``.
"""

from ._codes import LEVEL_CODES as LEVEL_CODES
from ._codes import OUTCOME_CODES as OUTCOME_CODES
from ._codes import LevelCodes as LevelCodes
from ._codes import OutcomeCodes as OutcomeCodes
from ._codes import codes_for as codes_for
from ._fhir import FhirVersion as FhirVersion
from ._fhir import from_fhir as from_fhir
from ._fhir import to_fhir as to_fhir
from ._hl7 import LevelMap as LevelMap
from ._hl7 import from_hl7v2 as from_hl7v2
from ._questionnaire import QUESTIONNAIRE_URL as QUESTIONNAIRE_URL
from ._questionnaire import RATING_SYSTEM as RATING_SYSTEM
from ._questionnaire import assessment_from_response as assessment_from_response
from ._questionnaire import questionnaire as questionnaire
from ._questionnaire import questionnaire_response as questionnaire_response

__all__ = [
    "LEVEL_CODES",
    "OUTCOME_CODES",
    "QUESTIONNAIRE_URL",
    "RATING_SYSTEM",
    "FhirVersion",
    "LevelCodes",
    "LevelMap",
    "OutcomeCodes",
    "assessment_from_response",
    "codes_for",
    "from_fhir",
    "from_hl7v2",
    "questionnaire",
    "questionnaire_response",
    "to_fhir",
]
