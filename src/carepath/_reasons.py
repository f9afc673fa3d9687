"""Why a patient receives a level other than the one indicated: one documented code list.

The same list serves every place where the level provided may differ from the
placement: the ``overrideReasons`` of the CDS Hooks cards (:mod:`carepath.service`),
feedback written to an episode's history, and (planned) recording the level
received beside the level indicated. A reason is a short code; its words come from
:attr:`DiscrepancyReason.display`, so no free text is ever needed or stored.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

__all__ = ["DiscrepancyReason"]


class DiscrepancyReason(enum.StrEnum):
    """Why the level of care provided differs from the level indicated.

    >>> DiscrepancyReason("not-available").display
    'Indicated level not available (waitlist or no capacity)'
    """

    PATIENT_PREFERENCE = "patient-preference"
    """The patient chose another level."""
    NOT_AVAILABLE = "not-available"
    """The indicated level is not available: a waitlist or no capacity."""
    PAYER = "payer"
    """The payer does not authorise the indicated level."""
    CLINICAL_JUDGEMENT = "clinical-judgement"
    """The clinician judges another level better for this patient."""
    LEGAL = "legal"
    """A court order or other legal requirement sets the level."""
    OTHER = "other"
    """Another reason."""

    @property
    def display(self) -> str:
        """The reason in words, for a pick list."""
        return _DISPLAY[self]


_DISPLAY: Final[Mapping[DiscrepancyReason, str]] = {
    DiscrepancyReason.PATIENT_PREFERENCE: "Patient preference",
    DiscrepancyReason.NOT_AVAILABLE: "Indicated level not available (waitlist or no capacity)",
    DiscrepancyReason.PAYER: "Payer (coverage or authorisation)",
    DiscrepancyReason.CLINICAL_JUDGEMENT: "Clinical judgement",
    DiscrepancyReason.LEGAL: "Legal (e.g. court order)",
    DiscrepancyReason.OTHER: "Other",
}
