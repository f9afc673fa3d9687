"""Risk ratings, the six assessment dimensions and the frozen Assessment record."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Final, final

import attrs

from ._errors import InvalidAssessment
from ._textio import is_quotable  # a sender's key is quoted only when well-formed

__all__ = ["Assessment", "Dimension", "Risk"]


class Risk(enum.IntEnum):
    """A rating of risk or severity on one dimension, 0-4."""

    NONE = 0
    MILD = 1
    MODERATE = 2
    SIGNIFICANT = 3
    SEVERE = 4

    @property
    def label(self) -> str:
        """The rating in words (``"significant"``)."""
        return self.name.lower()

    def describe(self) -> str:
        """The rating as ``"3 (significant)"``."""
        return f"{int(self)} ({self.label})"


class Dimension(enum.StrEnum):
    """The six assessment dimensions, in the style of the ASAM Criteria."""

    WITHDRAWAL = "withdrawal"
    """Acute intoxication and withdrawal potential."""
    BIOMEDICAL = "biomedical"
    """Biomedical conditions and complications."""
    EMOTIONAL = "emotional"
    """Emotional, behavioural or cognitive conditions and complications."""
    READINESS = "readiness"
    """Readiness to change (a higher rating means less ready)."""
    RELAPSE = "relapse"
    """Relapse, continued use or continued problem potential (cravings)."""
    ENVIRONMENT = "environment"
    """Recovery / living environment (a higher rating means less safe or supportive)."""

    @property
    def label(self) -> str:
        """The dimension as a clinician would say it."""
        return _LABELS[self]


_LABELS: Final[Mapping[Dimension, str]] = {
    Dimension.WITHDRAWAL: "withdrawal risk",
    Dimension.BIOMEDICAL: "biomedical risk",
    Dimension.EMOTIONAL: "emotional/behavioural risk",
    Dimension.READINESS: "readiness-to-change concern",
    Dimension.RELAPSE: "relapse potential",
    Dimension.ENVIRONMENT: "recovery-environment risk",
}

DIMENSIONS: Final[tuple[Dimension, ...]] = tuple(Dimension)
_RISKS: Final[tuple[Risk, ...]] = tuple(Risk)
PROFILE_COUNT: Final = 5 ** len(DIMENSIONS)


def _risk(field: str, value: Risk | int) -> Risk:
    # bool is an int subclass; True is not a rating.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAssessment(
            field=field,
            problem=f"expected an integer rating 0-4 or a Risk, got {type(value).__name__}",
        )
    if not 0 <= value <= 4:
        raise InvalidAssessment(
            field=field, problem=f"rating {int(value)} is out of range; allowed 0-4"
        )
    return _RISKS[value]


@final
@attrs.frozen(init=False, repr=False)
class Assessment:
    """A multidimensional assessment: six ratings 0-4 (missing ones default to 0).

    Ratings accept an ``int`` or a :class:`Risk`; anything else, or a number
    outside 0-4, raises :class:`~carepath.InvalidAssessment` naming the field.

    >>> a = Assessment(withdrawal=3, relapse=2)
    >>> a.withdrawal
    <Risk.SIGNIFICANT: 3>
    >>> a.highest
    (<Dimension.WITHDRAWAL: 'withdrawal'>, <Risk.SIGNIFICANT: 3>)
    """

    withdrawal: Risk
    biomedical: Risk
    emotional: Risk
    readiness: Risk
    relapse: Risk
    environment: Risk

    def __init__(
        self,
        *,
        withdrawal: Risk | int = 0,
        biomedical: Risk | int = 0,
        emotional: Risk | int = 0,
        readiness: Risk | int = 0,
        relapse: Risk | int = 0,
        environment: Risk | int = 0,
    ) -> None:
        self.__attrs_init__(
            withdrawal=_risk("withdrawal", withdrawal),
            biomedical=_risk("biomedical", biomedical),
            emotional=_risk("emotional", emotional),
            readiness=_risk("readiness", readiness),
            relapse=_risk("relapse", relapse),
            environment=_risk("environment", environment),
        )

    def __getitem__(self, dimension: Dimension) -> Risk:
        """The rating on one dimension."""
        try:
            name = Dimension(dimension).value
        except ValueError:
            raise InvalidAssessment(
                field=str(dimension) if isinstance(dimension, str) else type(dimension).__name__,
                problem="not a dimension; the dimensions are "
                + ", ".join(d.value for d in Dimension),
            ) from None
        value: Risk = getattr(self, name)
        return value

    def items(self) -> Iterator[tuple[Dimension, Risk]]:
        """``(dimension, rating)`` pairs in the standard order."""
        for d in DIMENSIONS:
            yield d, getattr(self, d.value)

    def as_tuple(self) -> tuple[int, ...]:
        """The six ratings as plain integers, in the standard order."""
        return (
            int(self.withdrawal),
            int(self.biomedical),
            int(self.emotional),
            int(self.readiness),
            int(self.relapse),
            int(self.environment),
        )

    def as_dict(self) -> dict[str, int]:
        """``{"withdrawal": 3, ...}``, ready for JSON."""
        return {d.value: int(r) for d, r in self.items()}

    @property
    def highest(self) -> tuple[Dimension, Risk]:
        """The highest-risk dimension (the first one, in the standard order, on ties)."""
        return max(self.items(), key=lambda item: int(item[1]))

    @property
    def index(self) -> int:
        """This profile's position among all 5**6 = 15,625 profiles (base-5 digits)."""
        i = 0
        for r in reversed(self.as_tuple()):
            i = i * 5 + r
        return i

    @classmethod
    def from_index(cls, index: int) -> Assessment:
        """The profile at ``index`` (the inverse of :attr:`index`)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidAssessment(field="index", problem="expected an integer")
        if not 0 <= index < PROFILE_COUNT:
            raise InvalidAssessment(
                field="index", problem=f"{index} is out of range; allowed 0-{PROFILE_COUNT - 1}"
            )
        digits = []
        for _ in DIMENSIONS:
            index, r = divmod(index, 5)
            digits.append(r)
        return cls(**{d.value: v for d, v in zip(DIMENSIONS, digits, strict=True)})

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Assessment:
        """Build from ``{"withdrawal": 3, ...}``; unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise InvalidAssessment(
                field="assessment", problem=f"expected a mapping, got {type(data).__name__}"
            )
        known = {d.value for d in DIMENSIONS}
        for key in data:
            if key not in known:
                raise InvalidAssessment(
                    field=str(key) if is_quotable(str(key), kind="key") else "<key>",
                    problem="unknown dimension; allowed: " + ", ".join(sorted(known)),
                )
        return cls(**data)  # type: ignore[arg-type]  # values are checked by the converters

    @classmethod
    def all_profiles(cls) -> Iterator[Assessment]:
        """Every one of the 15,625 profiles, in :attr:`index` order."""
        for i in range(PROFILE_COUNT):
            yield cls.from_index(i)

    def __repr__(self) -> str:
        inner = ", ".join(f"{d.value}={int(r)}" for d, r in self.items())
        return f"Assessment({inner})"
