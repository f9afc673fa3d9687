"""The standard catalog: six levels of addiction care and their criteria.

Least to most intensive: :data:`OUTPATIENT` < :data:`SOBER_LIVING` < :data:`IOP`
< :data:`PHP` < :data:`INPATIENT` < :data:`DETOX`. Sober living sits above
outpatient care so that placement stays monotone: a worse recovery
environment never moves a patient to a less supportive level.

The ASAM level numbers are public labels given for orientation. The criteria
in :data:`STANDARD_CRITERIA` are carepath's own documented heuristics, not the
proprietary ASAM decision rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ._criteria import Criteria
from ._levels import Level, Setting, StayRule

__all__ = [
    "DETOX",
    "INPATIENT",
    "IOP",
    "OUTPATIENT",
    "PHP",
    "SOBER_LIVING",
    "STANDARD_CRITERIA",
    "STANDARD_LEVELS",
]

OUTPATIENT: Final = Level(
    code="outpatient",
    name="Outpatient",
    intensity=0,
    setting=Setting.AMBULATORY,
    hours_per_week=(1.0, 9.0),
    stay=StayRule(minimum_days=28, typical_days=90, maximum_days=None),
    asam3=("1",),
    asam4=("1.0", "1.5"),
    description=(
        "Scheduled counselling, fewer than 9 hours a week, while the patient lives at home "
        "and keeps work, school and family routines. For stable patients with mild risks, "
        "or the last step of a step-down."
    ),
)
"""Outpatient services: fewer than 9 clinical hours a week (ASAM 1 / 1.0-1.5)."""

SOBER_LIVING: Final = Level(
    code="sober_living",
    name="Sober living",
    intensity=1,
    setting=Setting.RECOVERY_RESIDENCE,
    hours_per_week=(0.0, 0.0),
    stay=StayRule(minimum_days=30, typical_days=90, maximum_days=None),
    description=(
        "A recovery residence: 24-hour substance-free housing with house rules and peer "
        "support but no clinical hours of its own. For patients whose clinical risks are low "
        "but whose home is not a safe place to recover; often combined with IOP or "
        "outpatient care."
    ),
)
"""Sober living (recovery residence): structure and a safe home, no clinical hours."""

IOP: Final = Level(
    code="iop",
    name="Intensive outpatient (IOP)",
    intensity=2,
    setting=Setting.AMBULATORY,
    hours_per_week=(9.0, 19.0),
    stay=StayRule(minimum_days=42, typical_days=56, maximum_days=84),
    asam3=("2.1",),
    asam4=("2.1",),
    description=(
        "Group and individual therapy 9-19 hours a week (6+ for adolescents), typically "
        "three to five days a week, while the patient sleeps at home. For patients with "
        "moderate risks, a supportive enough home, and no need for medical monitoring; "
        "a common step down after inpatient care."
    ),
)
"""Intensive outpatient programme: 9-19 hours a week (ASAM 2.1)."""

PHP: Final = Level(
    code="php",
    name="Partial hospitalization (PHP)",
    intensity=3,
    setting=Setting.DAY,
    hours_per_week=(20.0, None),
    stay=StayRule(minimum_days=10, typical_days=21, maximum_days=42),
    asam3=("2.5",),
    asam4=("2.5",),
    description=(
        "A day programme of 20 or more hours a week, usually five days, with direct access "
        "to psychiatric and medical services; the patient sleeps at home or in sober "
        "housing. For significant emotional or behavioural needs that do not require "
        "24-hour care."
    ),
)
"""Partial hospitalization / day treatment: 20+ hours a week (ASAM 2.5)."""

INPATIENT: Final = Level(
    code="inpatient",
    name="Inpatient / residential",
    intensity=4,
    setting=Setting.RESIDENTIAL,
    medically_monitored=True,
    hours_per_week=(168.0, 168.0),
    stay=StayRule(minimum_days=7, typical_days=28, maximum_days=90),
    asam3=("3.1", "3.3", "3.5", "3.7", "3.2-WM"),
    asam4=("3.1", "3.5", "3.7"),
    description=(
        "24-hour structured care in a residential facility, clinically managed or medically "
        "monitored, with daily therapy. For strong cravings, an unsafe home, significant "
        "emotional needs or moderate withdrawal: a step away from triggers."
    ),
)
"""Clinically managed or medically monitored residential care (ASAM 3.1-3.7)."""

DETOX: Final = Level(
    code="detox",
    name="Withdrawal management (detox)",
    intensity=5,
    setting=Setting.RESIDENTIAL,
    medically_monitored=True,
    hours_per_week=(168.0, 168.0),
    stay=StayRule(minimum_days=3, typical_days=5, maximum_days=10),
    asam3=("3.7-WM", "4-WM"),
    asam4=("3.7", "4.0"),
    description=(
        "Medically managed withdrawal with 24-hour nursing and physician care. For "
        "significant or severe withdrawal risk, or biomedical / emotional conditions that "
        "need hospital-level care; followed by a step down to continuing treatment."
    ),
)
"""Medically managed withdrawal management (ASAM 3.7-WM / 4-WM; 4th edition 3.7 / 4.0)."""

STANDARD_LEVELS: Final[tuple[Level, ...]] = (OUTPATIENT, SOBER_LIVING, IOP, PHP, INPATIENT, DETOX)
"""The six standard levels, least intensive first."""

STANDARD_CRITERIA: Final[Mapping[str, Criteria]] = MappingProxyType(
    {
        # Mild risks, a stable home.
        "outpatient": Criteria(
            withdrawal=1, biomedical=1, emotional=1, readiness=2, relapse=1, environment=1
        ),
        # Clinical risks as for outpatient care; the home may be unsafe.
        "sober_living": Criteria(
            withdrawal=1, biomedical=1, emotional=1, readiness=2, relapse=1, environment=3
        ),
        # Moderate emotional needs and cravings; a home that supports recovery enough.
        "iop": Criteria(
            withdrawal=1, biomedical=2, emotional=2, readiness=3, relapse=2, environment=2
        ),
        # Significant emotional needs; the patient may sleep in sober housing.
        "php": Criteria(
            withdrawal=1, biomedical=2, emotional=3, readiness=3, relapse=2, environment=3
        ),
        # 24-hour care: strong cravings, an unsafe home, moderate withdrawal.
        "inpatient": Criteria(withdrawal=2, biomedical=3, emotional=3),
        # Medically managed: significant or severe withdrawal, hospital-level needs.
        "detox": Criteria(),
    }
)
"""Per-level criteria of the standard pathway (carepath's heuristics).

Each entry is the most risk the level can safely manage on each dimension;
placement picks the least intensive level that fits every rating.
"""
