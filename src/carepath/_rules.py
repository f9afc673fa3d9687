"""Rules: the moves a pathway allows, the standard rule set, and guards as data."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, final

import attrs

from ._assessment import Dimension, Risk
from ._checks import typed
from ._errors import InvalidArgument, InvalidEvent
from ._guards import (
    BUILTIN_GUARDS,
    Event,
    EventName,
    FitsCriteria,
    Guard,
    MaximumStay,
    MinimumStay,
    NeedsMoreCare,
    NoHigherNeed,
    PlacementMatches,
    RelapsePlacement,
    RiskAtMost,
)
from ._levels import INTAKE, Level, Outcome
from ._machine import trigger_name
from ._suggest import did_you_mean

__all__ = ["OUTCOME_OF", "Rule", "default_rules", "guard_data", "guard_params"]

OUTCOME_OF: Final[Mapping[Event, Outcome]] = {
    Event.COMPLETE: Outcome.COMPLETED,
    Event.DROP_OUT: Outcome.DROPPED_OUT,
    Event.TRANSFER_OUT: Outcome.TRANSFERRED_OUT,
}
_OUTCOME_VALUES: Final = frozenset(o.value for o in Outcome)


def _to_event(value: Event | EventName) -> Event:
    try:
        return Event(value)
    except ValueError:
        raise InvalidEvent(
            event=str(value),
            field="event",
            problem="unknown event; "
            + did_you_mean(value, (e.value for e in Event))
            + "allowed: "
            + ", ".join(e.value for e in Event),
        ) from None


def _guard_tuple(value: Iterable[Guard]) -> tuple[Guard, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(
            owner="Rule",
            field="guards",
            problem=f"expected a sequence of guards, got {type(value).__name__}",
        )
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class Rule:
    """One move the pathway allows: ``event`` from ``source`` to ``target``, if ``guards`` pass.

    ``source`` is ``"intake"`` or a level code; ``target`` is a level code or an
    outcome (``"completed"``, ``"dropped_out"``, ``"transferred_out"``). A rule
    whose target equals its source keeps the patient in place (reassess, relapse
    treated in place).

    >>> Rule(event=Event.STEP_DOWN, source="inpatient", target="iop",
    ...      guards=[MinimumStay(), FitsCriteria()])
    Rule(event=<Event.STEP_DOWN: 'step_down'>, source='inpatient', target='iop', guards=(MinimumStay(), FitsCriteria()))
    """  # noqa: E501

    event: Event = attrs.field(converter=_to_event)
    source: str = attrs.field(validator=typed(str))
    target: str = attrs.field(validator=typed(str))
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guard_tuple)

    @functools.cached_property
    def trigger(self) -> str:
        """The name of this rule's trigger on the compiled machine."""
        return trigger_name(self.event.value, self.target)


def default_rules(levels: Sequence[Level]) -> list[Rule]:
    """The standard rule set over any list of levels.

    Admit from intake to any level the assessment places in (or an alternative);
    step down to any less intensive level that fits, after the minimum stay (levels
    may be skipped); step up to any more intensive level that fits when the current
    one no longer does; relapse re-places the patient (in place while the level
    still fits, else up to the least intensive level that does); reassess at any
    time (staying past the maximum, or at a level that no longer fits, needs an
    override); complete after the minimum stay when no more intensive care is
    needed and withdrawal risk is at most mild; drop out or transfer out at any time.
    """
    fits, minimum, maximum = FitsCriteria(), MinimumStay(), MaximumStay()
    replaced = RelapsePlacement()
    # Withdrawal must have settled before an episode completes (matters for detox,
    # whose criteria accept every profile).
    settled = RiskAtMost(dimension=Dimension.WITHDRAWAL, risk=Risk.MILD)
    rules: list[Rule] = [Rule(event=Event.REASSESS, source=INTAKE, target=INTAKE)]
    for lv in levels:
        rules.append(
            Rule(
                event=Event.ADMIT, source=INTAKE, target=lv.code, guards=(fits, PlacementMatches())
            )
        )
    for out in (Event.DROP_OUT, Event.TRANSFER_OUT):
        rules.append(Rule(event=out, source=INTAKE, target=OUTCOME_OF[out].value))
    for lv in levels:
        c = lv.code
        for other in levels:
            if other.intensity < lv.intensity:
                rules.append(
                    Rule(event=Event.STEP_DOWN, source=c, target=other.code, guards=(minimum, fits))
                )
            elif other.intensity > lv.intensity:
                rules.append(
                    Rule(
                        event=Event.STEP_UP,
                        source=c,
                        target=other.code,
                        guards=(fits, NeedsMoreCare()),
                    )
                )
                rules.append(
                    Rule(event=Event.RELAPSE, source=c, target=other.code, guards=(fits, replaced))
                )
        rules.append(Rule(event=Event.RELAPSE, source=c, target=c, guards=(maximum, replaced)))
        rules.append(Rule(event=Event.REASSESS, source=c, target=c, guards=(fits, maximum)))
        rules.append(
            Rule(
                event=Event.COMPLETE,
                source=c,
                target=Outcome.COMPLETED.value,
                guards=(minimum, NoHigherNeed(), settled),
            )
        )
        for out in (Event.DROP_OUT, Event.TRANSFER_OUT):
            rules.append(Rule(event=out, source=c, target=OUTCOME_OF[out].value))
    return rules


_BUILTIN_GUARD_TYPES: Final = frozenset(BUILTIN_GUARDS)


def guard_params(guard: Guard) -> dict[str, Any] | None:
    """A guard's settings, so the content hash covers them (``None``: unreadable).

    From its attrs fields, else its ``params()`` method, else its instance
    ``__dict__`` (a plain class that keeps no settings has an empty one).
    """
    cls = type(guard)
    raw: Mapping[str, Any]
    if attrs.has(cls):
        raw = {f.name: getattr(guard, f.name) for f in attrs.fields(cls)}
    elif callable(params := getattr(guard, "params", None)):
        raw = dict(params())
    elif hasattr(guard, "__dict__"):
        raw = dict(vars(guard))
    else:
        slots = [s for c in cls.__mro__ for s in getattr(c, "__slots__", ()) if s != "__weakref__"]
        try:
            raw = {s: getattr(guard, s) for s in slots}
        except AttributeError:
            return None
    return {k: _plain(v) for k, v in raw.items()}


def _plain(value: object) -> object:
    """A guard setting as stable JSON data, for the content hash and ``to_dict``."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    return repr(value)


def guard_data(guard: Guard) -> dict[str, Any]:
    return {"kind": guard.kind, **(guard_params(guard) or {})}
