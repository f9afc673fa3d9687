"""Per-level admission criteria and placement.

The criteria are carepath's own documented heuristics in the style of the
public ASAM principles (the highest-risk dimension drives intensity; place in
the least intensive level that is safe). They are not the proprietary ASAM
decision rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import final

import attrs

from . import _display
from ._assessment import DIMENSIONS, Assessment, Dimension, Risk
from ._levels import Level, Setting

__all__ = ["Criteria", "Placement", "Ruling"]


@final
@attrs.frozen(init=False, repr=False)
class Criteria:
    """The most risk a level can safely manage on each dimension.

    A level *fits* an assessment when every rating is at or below the level's
    maximum for that dimension. Dimensions left out default to ``SEVERE``
    (no limit).

    >>> iop = Criteria(withdrawal=1, emotional=2, relapse=2, environment=2)
    >>> iop.exceeded(Assessment(withdrawal=3))
    [(<Dimension.WITHDRAWAL: 'withdrawal'>, <Risk.SIGNIFICANT: 3>, <Risk.MILD: 1>)]
    """

    maximum: Assessment

    def __init__(
        self,
        *,
        withdrawal: Risk | int = Risk.SEVERE,
        biomedical: Risk | int = Risk.SEVERE,
        emotional: Risk | int = Risk.SEVERE,
        readiness: Risk | int = Risk.SEVERE,
        relapse: Risk | int = Risk.SEVERE,
        environment: Risk | int = Risk.SEVERE,
    ) -> None:
        self.__attrs_init__(
            maximum=Assessment(
                withdrawal=withdrawal,
                biomedical=biomedical,
                emotional=emotional,
                readiness=readiness,
                relapse=relapse,
                environment=environment,
            )
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Criteria:
        """Build from ``{"withdrawal": 1, ...}``; missing dimensions have no limit."""
        full: dict[str, object] = {d.value: Risk.SEVERE for d in DIMENSIONS}
        full.update(data)
        m = Assessment.from_mapping(full)
        return cls(**{d.value: r for d, r in m.items()})

    def fits(self, assessment: Assessment) -> bool:
        """True when no rating exceeds this level's maximum."""
        m = self.maximum
        return (
            assessment.withdrawal <= m.withdrawal
            and assessment.biomedical <= m.biomedical
            and assessment.emotional <= m.emotional
            and assessment.readiness <= m.readiness
            and assessment.relapse <= m.relapse
            and assessment.environment <= m.environment
        )

    def exceeded(self, assessment: Assessment) -> list[tuple[Dimension, Risk, Risk]]:
        """``(dimension, rating, maximum)`` for every rating above the maximum."""
        return [(d, r, self.maximum[d]) for d, r in assessment.items() if r > self.maximum[d]]

    @property
    def is_total(self) -> bool:
        """True when the level accepts every profile (no limit on any dimension)."""
        return all(r is Risk.SEVERE for _, r in self.maximum.items())

    def as_dict(self) -> dict[str, int]:
        """``{"withdrawal": 1, ...}`` with every dimension."""
        return self.maximum.as_dict()

    def __repr__(self) -> str:
        limited = ", ".join(
            f"{d.value}={int(r)}" for d, r in self.maximum.items() if r is not Risk.SEVERE
        )
        return f"Criteria({limited})"


def excess_reason(level: Level, dimension: Dimension, rating: Risk, maximum: Risk) -> str:
    """``"withdrawal risk 3 (significant) exceeds IOP's maximum of 1 (mild)"``."""
    return (
        f"{dimension.label} {rating.describe()} exceeds {level.name}'s maximum of "
        f"{maximum.describe()}"
    )


@final
@attrs.frozen(kw_only=True)
class Ruling:
    """Why one less intensive level was ruled out for a placement."""

    level: Level
    exceeded: tuple[tuple[Dimension, Risk, Risk], ...]

    def reasons(self) -> list[str]:
        """One sentence per dimension that rules the level out."""
        return [excess_reason(self.level, d, r, m) for d, r, m in self.exceeded]


@final
@attrs.frozen(kw_only=True)
class Placement:
    """Where an assessment places a patient, with the alternatives and the reasons.

    Attributes:
        assessment: The assessment placed.
        level: The least intensive level whose criteria accept every rating.
        alternatives: Other levels that could also serve: the next more intensive
            level when a rating sits at the placed level's limit, and a recovery
            residence (sober living) as a place to live when the recovery
            environment is a concern and the placed level is not residential.
        ruled_out: Each less intensive level and the ratings that rule it out.
        deciding: The dimensions that rule out the next less intensive level:
            the ratings that drive the intensity.
        with_safer_home: A less intensive level that would fit if the recovery
            environment were the only obstacle and the patient lived in sober
            housing (``None`` when that does not apply).
    """

    assessment: Assessment
    level: Level
    alternatives: tuple[Level, ...] = ()
    ruled_out: tuple[Ruling, ...] = ()
    deciding: tuple[Dimension, ...] = ()
    with_safer_home: Level | None = None

    @property
    def reasons(self) -> dict[Dimension, str]:
        """One plain sentence per dimension: what the rating rules out, or that it fits."""
        out: dict[Dimension, str] = {}
        for d, r in self.assessment.items():
            blocked = [
                ru.level.name for ru in self.ruled_out if any(x[0] is d for x in ru.exceeded)
            ]
            if blocked:
                out[d] = f"{d.label} {r.describe()} rules out {_join(blocked)}"
            else:
                out[d] = f"{d.label} {r.describe()} is within {self.level.name}'s limits"
        return out

    def _repr_html_(self) -> str:
        """Notebook display (registered by :mod:`carepath.explore`): the dimension table."""
        return _display.html("placement", self)

    def __str__(self) -> str:
        """One line: the level and the deciding ratings; :meth:`explain` gives every reason.

        >>> from carepath import Assessment, place
        >>> print(place(Assessment(withdrawal=3, relapse=2)))
        Withdrawal management (detox) — deciding rating: withdrawal 3
        """
        a = self.assessment
        if not self.ruled_out:
            return f"{self.level.name} — the least intensive level; every rating fits"
        ratings = ", ".join(f"{d.value} {int(a[d])}" for d in self.deciding)
        noun = "rating" if len(self.deciding) == 1 else "ratings"
        also = [alt.name for alt in self.alternatives if alt is not self.level]
        tail = f"; could also serve: {', '.join(also)}" if also else ""
        return f"{self.level.name} — deciding {noun}: {ratings}{tail}"

    def explain(self) -> str:
        """The placement in plain words, as a clinician would say it: every reason."""
        a = self.assessment
        lines = [f"Placement: {self.level.name}."]
        if not self.ruled_out:
            lines.append(
                f"{self.level.name} is the least intensive level, and it can safely manage "
                "every rating."
            )
        else:
            drivers = _join([f"{d.label} {a[d].describe()}" for d in self.deciding])
            lines.append(
                f"{self.level.name} is the least intensive level that can safely manage every "
                f"rating; the deciding {'rating is' if len(self.deciding) == 1 else 'ratings are'}"
                f" {drivers}."
            )
            for ru in self.ruled_out:
                lines.append(f"Not {ru.level.name}: " + "; ".join(ru.reasons()) + ".")
        for alt in self.alternatives:
            if alt.setting is Setting.RECOVERY_RESIDENCE and alt is not self.level:
                lines.append(
                    f"Also consider {alt.name} as a place to live during {self.level.name}: "
                    f"{Dimension.ENVIRONMENT.label} is {a.environment.describe()}."
                )
            else:
                lines.append(
                    f"{alt.name} could also serve: a rating sits at {self.level.name}'s limit, so "
                    "both are reasonable; choose with the patient."
                )
        if self.with_safer_home is not None:
            if self.level.setting is Setting.RECOVERY_RESIDENCE:
                lines.append(
                    f"The clinical ratings fit {self.with_safer_home.name}: {self.level.name} "
                    f"as a place to live, with {self.with_safer_home.name} care, is a common "
                    "combination."
                )
            else:
                lines.append(
                    f"With a safer place to live (e.g. sober living), "
                    f"{self.with_safer_home.name} would fit."
                )
        return "\n".join(lines)


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def place_among(
    levels: Sequence[Level], criteria: Mapping[str, Criteria], assessment: Assessment
) -> Placement:
    """Place ``assessment`` among ``levels`` (sorted least intensive first).

    The pathway guarantees that its most intensive level accepts every profile,
    so a placement always exists.
    """
    ruled: list[Ruling] = []
    placed: Level | None = None
    index = 0
    for index, level in enumerate(levels):  # noqa: B007  # index used after the loop
        c = criteria[level.code]
        if c.fits(assessment):
            placed = level
            break
        ruled.append(Ruling(level=level, exceeded=tuple(c.exceeded(assessment))))
    if placed is None:  # pragma: no cover - excluded by pathway validation
        raise AssertionError("no level accepts the assessment; the pathway is not total")
    deciding = tuple(d for d, _, _ in ruled[-1].exceeded) if ruled else ()
    alternatives: list[Level] = []
    m = criteria[placed.code].maximum
    # A rating "sits at the limit" only where the level has one (SEVERE means no limit).
    # A recovery residence is itself the answer to an unsafe home: an environment
    # rating at its limit does not make the next clinical level an alternative.
    home = placed.setting is Setting.RECOVERY_RESIDENCE
    at_limit = any(
        r == m[d] and Risk.NONE < r < Risk.SEVERE and not (home and d is Dimension.ENVIRONMENT)
        for d, r in assessment.items()
    )
    if at_limit:
        for level in _clinical(levels[index + 1 :]):
            if criteria[level.code].fits(assessment):
                alternatives.append(level)
                break
    if assessment.environment >= Risk.MODERATE and placed.setting is not Setting.RESIDENTIAL:
        alternatives.extend(
            lv for lv in levels if lv.setting is Setting.RECOVERY_RESIDENCE and lv is not placed
        )
    safer: Level | None = None
    if assessment.environment >= Risk.MODERATE:
        better = attrs.evolve(assessment, environment=Risk.MILD)
        for level in _clinical(levels[:index]):
            if criteria[level.code].fits(better):
                safer = level
                break
    return Placement(
        assessment=assessment,
        level=placed,
        alternatives=tuple(alternatives),
        ruled_out=tuple(ruled),
        deciding=deciding,
        with_safer_home=safer,
    )


def _clinical(levels: Iterable[Level]) -> Iterator[Level]:
    return (lv for lv in levels if lv.setting is not Setting.RECOVERY_RESIDENCE)
