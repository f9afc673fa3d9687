"""Guards: the checks a transition must pass, each explaining itself in plain words.

A guard looks at a :class:`GuardContext` and returns the reasons it refuses
(an empty sequence means it passes). Built-in guards are frozen records that
can be written to and read from pathway files; custom guards implement the
:class:`Guard` protocol.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    ClassVar,
    Final,
    Literal,
    Protocol,
    TypeAlias,
    final,
    runtime_checkable,
)

import attrs

from ._assessment import Assessment, Dimension, Risk
from ._assessment import _risk as _rating
from ._criteria import excess_reason
from ._errors import InvalidArgument, InvalidAssessment
from ._levels import Level

if TYPE_CHECKING:
    from ._pathway import Pathway

__all__ = [
    "Decision",
    "Event",
    "FitsCriteria",
    "Guard",
    "GuardContext",
    "GuardFactory",
    "MaximumStay",
    "MinimumStay",
    "NeedsMoreCare",
    "NoHigherNeed",
    "Override",
    "PlacementMatches",
    "Reason",
    "RelapsePlacement",
    "RiskAtLeast",
    "RiskAtMost",
]

SECONDS_PER_DAY: Final = 86_400.0


DST_SLACK_DAYS: Final = 1 / 24
"""Slack the stay guards allow: one hour, the most a daylight-saving change shifts a clock."""


def stay_days(start: datetime, end: datetime) -> float:
    """Elapsed days from ``start`` to ``end`` (never negative).

    Elapsed time does not depend on how the times are written (any zone, or UTC
    after a round trip through a database). A week across a daylight-saving change
    is 6.96 or 7.04 elapsed days; the minimum- and maximum-stay guards allow one
    hour of slack (:data:`DST_SLACK_DAYS`), so Monday 09:00 to the next Monday
    09:00 local time meets a 7-day minimum.
    """
    return max((end - start).total_seconds() / SECONDS_PER_DAY, 0.0)


EventName: TypeAlias = Literal[
    "admit", "step_down", "step_up", "relapse", "reassess", "complete", "drop_out", "transfer_out"
]
"""An event named by its value; a typo is a type error."""


class Event(enum.StrEnum):
    """The events that move an episode."""

    ADMIT = "admit"
    STEP_DOWN = "step_down"
    STEP_UP = "step_up"
    RELAPSE = "relapse"
    REASSESS = "reassess"
    COMPLETE = "complete"
    DROP_OUT = "drop_out"
    TRANSFER_OUT = "transfer_out"


@final
@attrs.frozen(kw_only=True)
class Reason:
    """One reason a guard refused, in plain words.

    Attributes:
        kind: The guard kind that produced it (``"fits_criteria"``, ``"minimum_stay"``,
            ``"structure"``, ...).
        message: The reason as a sentence a clinician would say. It may carry
            ratings and lengths of stay, so it is left out of the repr (which ends up
            in logs); ``str(reason)`` and :meth:`Decision.explain` give it.
        overridable: Whether a clinician override may set it aside. Structural
            reasons (the pathway has no such move) never are.

    >>> Reason(kind="minimum_stay", message="stayed 2.0 days of the 7 required")
    Reason(kind='minimum_stay', overridable=True)
    """

    kind: str
    message: str = attrs.field(repr=False)
    overridable: bool = True

    def __str__(self) -> str:
        return self.message


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(
            owner="Override", field=attribute.name, problem="must be a non-empty string"
        )


@final
@attrs.frozen(kw_only=True)
class Override:
    """A clinician's recorded decision to set aside criteria and duration guards.

    An override never creates a move the pathway does not have.

    >>> Override(reason="family crisis; step-down delayed by team decision", by="dr-0042")
    Override(by='dr-0042')
    """

    reason: str = attrs.field(validator=_non_empty, repr=False)
    by: str = attrs.field(validator=_non_empty)


@final
@attrs.frozen(kw_only=True)
class Decision:
    """The answer to "may this event happen now?", with every reason if not.

    Attributes:
        event: The event asked about.
        source: The state the episode is in (``"intake"``, a level code, or an outcome).
        target: Where the event would lead.
        allowed: True when every guard passed (or was overridden).
        reasons: Every reason a guard refused; with an override, the reasons it set aside.
        overridden: True when an override set aside the reasons.
    """

    event: Event
    source: str
    target: str
    allowed: bool
    reasons: tuple[Reason, ...] = ()
    overridden: bool = False

    def __bool__(self) -> bool:
        return self.allowed

    def explain(self) -> str:
        """The decision in words."""
        head = f"{self.event.value} {self.source} -> {self.target}: "
        if self.allowed and not self.reasons:
            return head + "allowed"
        if self.allowed:
            return (
                head
                + "allowed by override, setting aside:\n"
                + "\n".join(f"  - {r.message}" for r in self.reasons)
            )
        return head + "refused:\n" + "\n".join(f"  - {r.message}" for r in self.reasons)


@final
class GuardContext:
    """What a guard sees: the move, the assessment it is judged on, and the clock."""

    __slots__ = ("assessment", "at", "entered_at", "event", "pathway", "source", "target")

    def __init__(
        self,
        *,
        event: Event,
        source: Level | None,
        target: Level | None,
        assessment: Assessment | None,
        at: datetime,
        entered_at: datetime | None,
        pathway: Pathway,
    ) -> None:
        self.event: Event = event
        self.source: Level | None = source
        """The level the patient is at (``None`` at intake)."""
        self.target: Level | None = target
        """The level the move leads to (``None`` for an outcome)."""
        self.assessment: Assessment | None = assessment
        """The assessment the event brings, else the latest on record (``None`` if none)."""
        self.at: datetime = at
        self.entered_at: datetime | None = entered_at
        """When the patient entered the source level (``None`` at intake)."""
        self.pathway: Pathway = pathway

    @classmethod
    def _of(
        cls,
        event: Event,
        source: Level | None,
        target: Level | None,
        assessment: Assessment | None,
        at: datetime,
        entered_at: datetime | None,
        pathway: Pathway,
    ) -> GuardContext:
        """The same as the constructor, positionally: an episode's event path builds one
        context per event, and keyword arguments cost about 0.2 us more there."""
        self = object.__new__(cls)
        self.event = event
        self.source = source
        self.target = target
        self.assessment = assessment
        self.at = at
        self.entered_at = entered_at
        self.pathway = pathway
        return self

    @property
    def days_in_level(self) -> float:
        """Days since the patient entered the source level (0 at intake); see
        :func:`stay_days`."""
        if self.entered_at is None:
            return 0.0
        return stay_days(self.entered_at, self.at)


@runtime_checkable
class Guard(Protocol):
    """The protocol every guard implements; register custom ones on a pathway's rules.

    ``kind`` names the guard in files and reasons; ``overridable`` says whether a
    clinician override may set it aside; ``check`` returns the reasons it refuses
    (empty when it passes) and must not change anything.
    """

    @property
    def kind(self) -> str: ...

    @property
    def overridable(self) -> bool: ...

    def check(self, ctx: GuardContext) -> Sequence[str]: ...


GuardFactory: TypeAlias = Callable[..., Guard]
"""Builds a custom guard from the parameters a file gives it (as keyword arguments).

An attrs class implementing :class:`~carepath.Guard` is its own factory; its
fields are then written back out by :func:`carepath.definitions.to_dict`, so the
pathway round-trips.
"""


_PASS: Final[tuple[str, ...]] = ()


def _no_assessment(level: Level) -> tuple[str, ...]:
    return (f"no assessment on record: {level.name}'s criteria cannot be checked without one",)


@final
@attrs.frozen
class FitsCriteria:
    """The target level's criteria accept the assessment (every rating within its limits)."""

    kind: ClassVar[str] = "fits_criteria"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        target = ctx.target
        if target is None:
            return _PASS
        a = ctx.assessment
        if a is None:
            return _no_assessment(target)
        c = ctx.pathway.criteria_for(target)
        if c.fits(a):
            return _PASS
        return [excess_reason(target, d, r, m) for d, r, m in c.exceeded(a)]


@final
@attrs.frozen
class PlacementMatches:
    """The target is where the assessment places the patient, or one of its alternatives.

    Keeps admissions to the least intensive level that is safe. A target that does
    not fit at all is left to :class:`FitsCriteria` to explain.
    """

    kind: ClassVar[str] = "placement"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        target, a = ctx.target, ctx.assessment
        if target is None or a is None:
            return _PASS
        pathway = ctx.pathway
        if not pathway.criteria_for(target).fits(a):
            return _PASS
        p = pathway.place(a)
        if p.level is target or target in p.alternatives:
            return _PASS
        return (
            f"the assessment places the patient in {p.level.name}; {target.name} is more "
            "intensive than the ratings need",
        )


@final
@attrs.frozen
class NeedsMoreCare:
    """The source level no longer fits the assessment: the reason to step up."""

    kind: ClassVar[str] = "needs_more_care"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        source, a = ctx.source, ctx.assessment
        if source is None:
            return _PASS
        if a is None:
            return _no_assessment(source)
        if ctx.pathway.criteria_for(source).fits(a):
            return (
                f"the assessment still fits {source.name}: no rating exceeds its limits, "
                "so a step up is not indicated",
            )
        return _PASS


@final
@attrs.frozen
class NoHigherNeed:
    """The assessment does not call for a more intensive level than the current one."""

    kind: ClassVar[str] = "no_higher_need"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        source, a = ctx.source, ctx.assessment
        if source is None or a is None:
            return _PASS
        if ctx.pathway.criteria_for(source).fits(a):
            return _PASS
        p = ctx.pathway.place(a)
        return (
            f"the assessment places the patient in {p.level.name}, more intensive than "
            f"{source.name}: "
            + "; ".join(
                excess_reason(source, d, r, m)
                for d, r, m in ctx.pathway.criteria_for(source).exceeded(a)
            ),
        )


def _days(x: float, *, up: bool = False) -> str:
    # ``up`` rounds up to a tenth, so a refusal never reads "0.0 days to go".
    shown = math.ceil(x * 10) / 10 if up else round(x, 1)
    return f"{shown:.1f} day{'s' if shown != 1 else ''}"


@final
@attrs.frozen
class MinimumStay:
    """The patient has spent at least the source level's minimum stay there."""

    kind: ClassVar[str] = "minimum_stay"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        source = ctx.source
        if source is None:
            return _PASS
        need = source.stay.minimum_days
        have = ctx.days_in_level
        if have + DST_SLACK_DAYS >= need:
            return _PASS
        return (
            f"{source.name}'s minimum stay is {need} days; the patient has been there "
            f"{_days(have)} ({_days(need - DST_SLACK_DAYS - have, up=True)} to go)",
        )


@final
@attrs.frozen
class MaximumStay:
    """The patient has not stayed past the source level's maximum (continued-stay review)."""

    kind: ClassVar[str] = "maximum_stay"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        source = ctx.source
        if source is None or source.stay.maximum_days is None:
            return _PASS
        limit = source.stay.maximum_days
        have = ctx.days_in_level
        if have <= limit + DST_SLACK_DAYS:
            return _PASS
        return (
            f"{source.name}'s maximum stay of {limit} days is exceeded ({_days(have)}); "
            "a continued stay needs a recorded override",
        )


def _check_dimension(instance: object, attribute: attrs.Attribute[Dimension], v: object) -> None:
    if not isinstance(v, Dimension):
        raise InvalidArgument(
            owner=type(instance).__name__,
            field=attribute.name,
            problem=f"expected a Dimension, got {type(v).__name__}",
        )


def _risk(value: Risk | int) -> Risk:
    try:
        return _rating("risk", value)
    except InvalidAssessment as exc:
        raise InvalidArgument(owner="guard", field="risk", problem=exc.problem) from None


@final
@attrs.frozen(kw_only=True)
class RiskAtMost:
    """The rating on one dimension is at most ``risk`` (e.g. withdrawal at most 1)."""

    kind: ClassVar[str] = "risk_at_most"
    overridable: ClassVar[bool] = True
    dimension: Dimension = attrs.field(validator=_check_dimension)
    risk: Risk = attrs.field(converter=_risk)

    def check(self, ctx: GuardContext) -> Sequence[str]:
        a = ctx.assessment
        if a is None:
            return (f"no assessment on record: {self.dimension.label} cannot be checked",)
        r = a[self.dimension]
        if r <= self.risk:
            return _PASS
        return (f"{self.dimension.label} {r.describe()} is above {self.risk.describe()}",)


@final
@attrs.frozen(kw_only=True)
class RiskAtLeast:
    """The rating on one dimension is at least ``risk``."""

    kind: ClassVar[str] = "risk_at_least"
    overridable: ClassVar[bool] = True
    dimension: Dimension = attrs.field(validator=_check_dimension)
    risk: Risk = attrs.field(converter=_risk)

    def check(self, ctx: GuardContext) -> Sequence[str]:
        a = ctx.assessment
        if a is None:
            return (f"no assessment on record: {self.dimension.label} cannot be checked",)
        r = a[self.dimension]
        if r >= self.risk:
            return _PASS
        return (f"{self.dimension.label} {r.describe()} is below {self.risk.describe()}",)


@final
@attrs.frozen
class RelapsePlacement:
    """A relapse lands where the assessment re-places the patient.

    In place while the current level can still manage every rating, else the least
    intensive more intensive level that can (:meth:`Pathway.relapse_target`). A live
    :meth:`Episode.relapse` always goes there; the guard audits relapses whose
    destination was given, such as facts recorded from an EHR feed.
    """

    kind: ClassVar[str] = "relapse_placement"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        source, target, a = ctx.source, ctx.target, ctx.assessment
        if source is None or target is None or a is None:
            return _PASS
        expected = ctx.pathway.relapse_target(source, a)
        if expected is target:
            return _PASS
        return (f"the assessment re-places the patient in {expected.name}, not {target.name}",)


BUILTIN_GUARDS: Final[tuple[type[Guard], ...]] = (
    FitsCriteria,
    PlacementMatches,
    NeedsMoreCare,
    NoHigherNeed,
    RelapsePlacement,
    MinimumStay,
    MaximumStay,
    RiskAtMost,
    RiskAtLeast,
)
