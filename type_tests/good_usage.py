"""The typed face of carepath, checked by the main ``mypy --strict`` run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import assert_type

import carepath
from carepath import (
    Assessment,
    Criteria,
    Decision,
    Dimension,
    Episode,
    Event,
    EventRecord,
    Level,
    Outcome,
    Override,
    Pathway,
    Placement,
    Reason,
    Risk,
    Rule,
    TransitionRejected,
    place,
    standard_pathway,
)
from carepath.levels import DETOX, STANDARD_CRITERIA, STANDARD_LEVELS

t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)

pathway = standard_pathway()
assert_type(pathway, Pathway)
assert_type(pathway.levels, tuple[Level, ...])
assert_type(pathway.rules, tuple[Rule, ...])
assert_type(pathway.criteria, Mapping[str, Criteria])
assert_type(pathway.content_hash, str)
assert_type(pathway.level("iop"), Level)
assert_type(pathway.rule(Event.ADMIT, "intake", "iop"), Rule | None)
assert_type(pathway.problems(), list[str])
assert_type(pathway.validate(), None)
assert_type(STANDARD_LEVELS, tuple[Level, ...])
assert_type(STANDARD_CRITERIA, Mapping[str, Criteria])
assert_type(DETOX.code, str)

a = Assessment(withdrawal=3, relapse=Risk.MODERATE)
assert_type(a, Assessment)
assert_type(a.withdrawal, Risk)
assert_type(a[Dimension.RELAPSE], Risk)
assert_type(a.highest, tuple[Dimension, Risk])
assert_type(a.index, int)
assert_type(Assessment.from_index(42), Assessment)
assert_type(Assessment.from_mapping({"relapse": 2}), Assessment)
assert_type(Assessment.all_profiles(), Iterator[Assessment])
assert_type(a.as_dict(), dict[str, int])
assert_type(Risk.SEVERE.describe(), str)

placement = place(a)
assert_type(placement, Placement)
assert_type(place(a, pathway), Placement)
assert_type(placement.level, Level)
assert_type(placement.alternatives, tuple[Level, ...])
assert_type(placement.reasons, dict[Dimension, str])
assert_type(placement.explain(), str)

ep = pathway.start("patient-1", at=t0)
assert_type(ep, Episode)
assert_type(ep.id, str)
assert_type(ep.level, Level | None)
assert_type(ep.outcome, Outcome | None)
assert_type(ep.assessment, Assessment | None)
assert_type(ep.history, tuple[EventRecord, ...])
assert_type(ep.version, int)
assert_type(ep.days_in_level(t0), float)

override = Override(reason="team decision", by="dr-1")
assert_type(ep.admit("detox", at=t0, assessment=a, event_id="m1"), EventRecord)
assert_type(ep.admit(DETOX, at=t0, assessment=a), EventRecord)
later = t0 + timedelta(days=4)
assert_type(ep.step_down("iop", at=later, assessment=Assessment(), override=override), EventRecord)
assert_type(ep.step_up("php", at=later, assessment=a), EventRecord)
assert_type(ep.relapse(at=later), EventRecord)
assert_type(ep.reassess(a, at=later), EventRecord)
assert_type(ep.complete(at=later, override=override), EventRecord)
assert_type(ep.drop_out(at=later, reason="left"), EventRecord)
assert_type(ep.transfer_out(at=later), EventRecord)
assert_type(ep.readmit(at=later), Episode)

decision = ep.check(Event.STEP_DOWN, "iop", at=later)
assert_type(decision, Decision)
assert_type(decision.allowed, bool)
assert_type(decision.reasons, tuple[Reason, ...])
assert_type(ep.check("complete", at=later), Decision)
assert_type(ep.options(later), tuple[Decision, ...])

record = ep.history[0]
assert_type(record.event, Event)
assert_type(record.at, datetime)
assert_type(record.override, Override | None)
assert_type(record.reasons, tuple[Reason, ...])

assert_type(ep.to_json(), str)
assert_type(Episode.from_json(ep.to_json(), pathway), Episode)

try:
    ep.complete(at=later)
except TransitionRejected as exc:
    assert_type(exc.reasons, tuple[Reason, ...])
    assert_type(exc.overridable, bool)
except carepath.CarepathError as exc:
    assert_type(exc, carepath.CarepathError)
