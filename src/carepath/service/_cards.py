"""CDS Hooks cards from library results: placements, decisions and the reason list.

Nothing here decides anything clinical: the placement comes from
:meth:`Pathway.place`, the verdict on a move from :meth:`Episode.check`; this module
only words them as cards.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from carepath._criteria import Placement
from carepath._guards import Decision, Event
from carepath._levels import Level
from carepath._pathway import Pathway
from carepath._reasons import DiscrepancyReason
from carepath.interop._codes import CAREPATH_FHIR, codes_for
from carepath.interop._fhir import ASAM3_SYSTEM, ASAM4_SYSTEM, LEVEL_SYSTEM

__all__ = [
    "DISCREPANCY_REASON_SYSTEM",
    "CardFacts",
    "level_concept",
    "levels_in",
    "move_event",
    "order_card",
    "override_reasons",
    "patient_view_card",
]

DISCREPANCY_REASON_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/discrepancy-reason"
"""Code system of :class:`~carepath.DiscrepancyReason` (the cards' ``overrideReasons``)."""

_SOURCE: Final = {
    "label": "carepath level-of-care placement",
    "topic": {
        "system": f"{CAREPATH_FHIR}/CodeSystem/cds-topic",
        "code": "level-of-care",
        "display": "Level of care",
    },
}
_SUMMARY_MAX: Final = 139


@attrs.frozen(kw_only=True)
class CardFacts:
    """What the service remembers about a card it issued, for its feedback (ids only)."""

    card: str
    service: str
    hook: str
    hook_instance: str
    patient_id: str
    episode_id: str | None
    current: str | None
    indicated: str | None
    ordered: str | None


def override_reasons() -> list[dict[str, str]]:
    """The documented reason list as CDS Hooks Codings (``card.overrideReasons``)."""
    return [
        {"system": DISCREPANCY_REASON_SYSTEM, "code": r.value, "display": r.display}
        for r in DiscrepancyReason
    ]


def level_concept(level: Level) -> dict[str, Any]:
    """A CodeableConcept naming ``level``: carepath's code, then its ASAM level numbers."""
    codes = codes_for(level)
    coding = [{"system": LEVEL_SYSTEM, "code": level.code, "display": level.name}]
    coding += [{"system": ASAM4_SYSTEM, "code": n} for n in codes.asam4]
    coding += [{"system": ASAM3_SYSTEM, "code": n} for n in codes.asam3]
    return {"coding": coding, "text": level.name}


def _rank(pathway: Pathway, level: Level) -> int:
    """The level's place in the pathway, least intensive first."""
    return pathway.levels.index(pathway.level(level.code))


def move_event(pathway: Pathway, current: Level | None, target: Level) -> Event | None:
    """The event that moves a patient from ``current`` to ``target`` (``None``: no move)."""
    if current is None:
        return Event.ADMIT
    if target.code == current.code:
        return None
    return Event.STEP_UP if _rank(pathway, target) > _rank(pathway, current) else Event.STEP_DOWN


def _distance(pathway: Pathway, a: Level, b: Level) -> int:
    return abs(_rank(pathway, a) - _rank(pathway, b))


def _summary(text: str) -> str:
    return text if len(text) <= _SUMMARY_MAX else text[: _SUMMARY_MAX - 1] + "…"


def _ratings(placement: Placement) -> str:
    return ", ".join(f"{d.label} {r.describe()}" for d, r in placement.assessment.items())


def _placement_lines(placement: Placement) -> list[str]:
    return [f"- {line}" for line in placement.explain().splitlines()]


def _decision_lines(decision: Decision) -> list[str]:
    if decision.allowed and not decision.reasons:
        return ["The move is allowed now."]
    return ["The move would be refused now:"] + [f"- {r.message}" for r in decision.reasons]


def patient_view_card(
    pathway: Pathway,
    placement: Placement,
    current: Level | None,
    decision: Decision | None,
) -> dict[str, Any] | None:
    """The patient-view card, or ``None`` when the placement matches the current level.

    ``info`` when the levels are next to each other (or there is no current level),
    ``warning`` when they are two or more levels apart. ``decision`` is the verdict on
    moving to the placement now, when there is an episode to move.
    """
    placed = placement.level
    if current is not None and current.code == placed.code:
        return None
    lines = [f"**Latest assessment:** {_ratings(placement)}.", ""]
    if current is None:
        summary = f"Assessment indicates {placed.name}"
        indicator = "info"
        lines.insert(0, f"**Indicated level:** {placed.name}. No current level on record.")
    else:
        far = _distance(pathway, current, placed)
        indicator = "warning" if far >= 2 else "info"
        direction = "more" if move_event(pathway, current, placed) is Event.STEP_UP else "less"
        summary = f"Assessment indicates {placed.name}; patient is in {current.name}"
        lines.insert(
            0,
            f"**Current level:** {current.name}. **Indicated level:** {placed.name} "
            f"({far} level{'s' if far != 1 else ''} {direction} intensive).",
        )
    lines += ["**Why:**", *_placement_lines(placement)]
    if decision is not None:
        lines += ["", f"**Moving to {placed.name}:** " + _decision_lines(decision)[0]]
        lines += _decision_lines(decision)[1:]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "detail": "\n".join(lines),
        "indicator": indicator,
        "source": _SOURCE,
    }


def order_card(
    pathway: Pathway,
    *,
    ordered: Level,
    order: Mapping[str, Any],
    placement: Placement | None,
    decision: Decision | None,
) -> dict[str, Any] | None:
    """The card on a referral (ServiceRequest) to ``ordered``, or ``None`` when it is fine.

    A card when the ordered level differs from the placement or when ``decision``
    (the verdict on the move to the ordered level) refuses it; every reason goes in
    ``detail``. When the placement differs, a suggestion swaps the order for the
    indicated level. ``warning`` when a guard refuses or the levels are two or more
    apart, else ``info``.
    """
    differs = placement is not None and placement.level.code != ordered.code
    refused = decision is not None and not decision.allowed
    if not differs and not refused:
        return None
    lines: list[str] = [f"**Ordered level:** {ordered.name}."]
    summary = f"Referral to {ordered.name}"
    indicator = "warning" if refused else "info"
    if placement is not None:
        placed = placement.level
        lines[0] += f" **Indicated level:** {placed.name}."
        lines += ["", f"**Latest assessment:** {_ratings(placement)}."]
        if differs:
            far = _distance(pathway, ordered, placed)
            if far >= 2:
                indicator = "warning"
            summary += f": the latest assessment indicates {placed.name}"
        lines += ["", "**Why:**", *_placement_lines(placement)]
    else:
        lines += ["", "No assessment on record: the placement cannot be checked."]
    if decision is not None:
        lines += ["", f"**The referral as a {decision.event.value.replace('_', ' ')}:** "]
        lines[-1] += _decision_lines(decision)[0]
        lines += _decision_lines(decision)[1:]
        if refused and not differs:
            summary += ": the move would be refused now"
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "detail": "\n".join(lines),
        "indicator": indicator,
        "source": _SOURCE,
        "overrideReasons": override_reasons(),
    }
    if differs and placement is not None:
        card["suggestions"] = [_swap(order, placement.level)]
        card["selectionBehavior"] = "at-most-one"
    return card


def _swap(order: Mapping[str, Any], level: Level) -> dict[str, Any]:
    """A suggestion that updates the draft ServiceRequest to refer to ``level``."""
    new = copy.deepcopy(dict(order))
    concept = level_concept(level)
    old = order.get("code")
    # R5 ServiceRequest.code is a CodeableReference; R4B a CodeableConcept.
    new["code"] = {"concept": concept} if isinstance(old, Mapping) and "concept" in old else concept
    return {
        "label": f"Refer to {level.name} instead",
        "uuid": str(uuid.uuid4()),
        "isRecommended": True,
        "actions": [
            {
                "type": "update",
                "description": f"Change the referral to {level.name}, the indicated level",
                "resource": new,
            }
        ],
    }


def levels_in(pathway: Pathway, concept: object) -> Sequence[Level]:
    """The pathway's levels a CodeableConcept (or R5 CodeableReference) names.

    carepath level codes first; ASAM level numbers (3rd or 4th edition) otherwise.
    """
    if isinstance(concept, Mapping) and isinstance(concept.get("concept"), Mapping):
        concept = concept["concept"]
    if not isinstance(concept, Mapping):
        return ()
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return ()
    by_code = {lv.code: lv for lv in pathway.levels}
    found: list[Level] = []
    for c in codings:
        if isinstance(c, Mapping) and c.get("system") == LEVEL_SYSTEM:
            lv = by_code.get(str(c.get("code")))
            if lv is not None and lv not in found:
                found.append(lv)
    if found:
        return found
    for c in codings:
        if not isinstance(c, Mapping):
            continue
        code = c.get("code")
        for lv in pathway.levels:
            numbers = {ASAM3_SYSTEM: lv.asam3, ASAM4_SYSTEM: lv.asam4}.get(str(c.get("system")))
            if numbers and code in numbers and lv not in found:
                found.append(lv)
    return found
