"""Levels of care, their settings and stay rules, and the terminal outcomes."""

from __future__ import annotations

import enum
import re
from typing import Final, final

import attrs

from ._checks import optional, typed
from ._errors import InvalidArgument

__all__ = ["INTAKE", "Level", "Outcome", "Setting", "StayRule"]

INTAKE: Final = "intake"
"""The state of an episode before its first admission."""

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class Setting(enum.StrEnum):
    """Where care happens."""

    RESIDENTIAL = "residential"
    """24-hour care in a facility (detox, inpatient / residential)."""
    DAY = "day"
    """A day programme; the patient sleeps elsewhere (partial hospitalization)."""
    AMBULATORY = "ambulatory"
    """Scheduled sessions; the patient lives at home (IOP, outpatient)."""
    RECOVERY_RESIDENCE = "recovery_residence"
    """Substance-free housing with peer structure and no clinical hours (sober living)."""


class Outcome(enum.StrEnum):
    """How an episode ends."""

    COMPLETED = "completed"
    """Treatment completed: goals met, discharged as planned."""
    DROPPED_OUT = "dropped_out"
    """Left against clinical advice, or stopped attending."""
    TRANSFERRED_OUT = "transferred_out"
    """Moved to another provider or to care outside this pathway."""


def _check_code(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    owner = type(instance).__name__
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidArgument(
            owner=owner,
            field=attribute.name,
            problem="must be 1-40 lowercase letters, digits or underscores starting with a "
            f"letter, got {value!r}"
            if isinstance(value, str)
            else f"expected str, got {type(value).__name__}",
        )
    if value in _RESERVED:
        raise InvalidArgument(
            owner=owner,
            field=attribute.name,
            problem=f"{value!r} is reserved for a state of the episode",
        )


_RESERVED: Final = frozenset({INTAKE, *(o.value for o in Outcome)})


@final
@attrs.frozen(kw_only=True)
class StayRule:
    """Minimum, typical and maximum length of stay at a level, in days.

    ``maximum_days=None`` means the level has no upper limit (sober living,
    outpatient care). The minimum is what a step-down or completion waits for;
    the maximum is what a continued stay must justify.

    >>> StayRule(minimum_days=3, typical_days=5, maximum_days=10)
    StayRule(minimum_days=3, typical_days=5, maximum_days=10)
    """

    minimum_days: int = attrs.field(validator=typed(int, minimum=0))
    typical_days: int = attrs.field(validator=typed(int, minimum=0))
    maximum_days: int | None = attrs.field(
        default=None,
        validator=optional(typed(int, minimum=1)),
    )

    def problems(self) -> list[str]:
        """Inconsistencies between the three figures, in words (empty when consistent)."""
        return [words for _, words in self.issues()]

    def issues(self) -> list[tuple[str, str]]:
        """Each inconsistency as ``(field, words)``, naming the field that is out of line."""
        out: list[tuple[str, str]] = []
        if self.typical_days < self.minimum_days:
            out.append(
                (
                    "typical_days",
                    f"typical stay {self.typical_days} days is below the minimum "
                    f"{self.minimum_days}",
                )
            )
        if self.maximum_days is not None:
            if self.maximum_days < self.minimum_days:
                out.append(
                    (
                        "maximum_days",
                        f"maximum stay {self.maximum_days} days is below the minimum "
                        f"{self.minimum_days}",
                    )
                )
            if self.maximum_days < self.typical_days:
                out.append(
                    (
                        "maximum_days",
                        f"maximum stay {self.maximum_days} days is below the typical "
                        f"{self.typical_days}",
                    )
                )
        return out

    def describe(self) -> str:
        """The rule in words, e.g. ``"3-10 days (typically 5)"``."""
        if self.maximum_days is None:
            return f"at least {self.minimum_days} days (typically {self.typical_days})"
        return f"{self.minimum_days}-{self.maximum_days} days (typically {self.typical_days})"


def _hours(value: tuple[float, float | None]) -> tuple[float, float | None]:
    """Normalise hours to floats, so ``(1, 9)`` and ``(1.0, 9.0)`` hash alike."""
    try:
        low, high = value
        pair = (float(low), None if high is None else float(high))
    except (TypeError, ValueError):
        raise InvalidArgument(
            owner="Level",
            field="hours_per_week",
            problem=f"expected a (low, high) pair of numbers, high may be None; got {value!r}",
        ) from None
    if pair[0] < 0 or (pair[1] is not None and pair[1] < pair[0]):
        raise InvalidArgument(
            owner="Level",
            field="hours_per_week",
            problem=f"must satisfy 0 <= low <= high, got {value!r}",
        )
    return pair


@final
@attrs.frozen(kw_only=True)
class Level:
    """A level of care.

    Args:
        code: Stable identifier used in rules, files and exports (``"iop"``).
        name: Human name (``"Intensive outpatient (IOP)"``).
        intensity: Order from least (0) to most intensive; unique within a pathway.
        setting: Where care happens.
        medically_monitored: Whether medical staff monitor the patient around the clock
            or on site (withdrawal management, inpatient).
        hours_per_week: Typical clinical hours a week, as ``(low, high)``;
            ``high=None`` means open-ended (24-hour care).
        stay: Minimum, typical and maximum length of stay.
        asam3: Matching ASAM Criteria 3rd edition level numbers (public labels only).
        asam4: Matching ASAM Criteria 4th edition level numbers.
        description: What the level means for patients and clinicians.
    """

    code: str = attrs.field(validator=_check_code)
    name: str = attrs.field(validator=typed(str))
    intensity: int = attrs.field(validator=typed(int))
    setting: Setting = attrs.field(validator=typed(Setting))
    medically_monitored: bool = attrs.field(default=False, validator=typed(bool))
    hours_per_week: tuple[float, float | None] = attrs.field(default=(0.0, None), converter=_hours)
    stay: StayRule = attrs.field(validator=typed(StayRule))
    asam3: tuple[str, ...] = attrs.field(default=(), validator=typed(tuple))
    asam4: tuple[str, ...] = attrs.field(default=(), validator=typed(tuple))
    description: str = attrs.field(default="", repr=False, eq=True)

    @property
    def is_24_hour(self) -> bool:
        """True for residential settings (round-the-clock care)."""
        return self.setting is Setting.RESIDENTIAL

    @property
    def is_ambulatory(self) -> bool:
        """True when the patient lives outside the programme (day, ambulatory, residence)."""
        return self.setting is not Setting.RESIDENTIAL

    def __str__(self) -> str:
        return self.name
