"""Hooks: on_enter, on_exit and after run once per recorded event, after it is recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from carepath import (
    Assessment,
    Episode,
    EventRecord,
    InvalidArgument,
    Pathway,
    UnknownLevel,
    definitions,
    standard_pathway,
)

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
DETOX = Assessment(withdrawal=3, relapse=2)
SETTLED = Assessment(relapse=2)


def fresh() -> Pathway:
    """A pathway object of its own (hooks live on the object, not on its content)."""
    return definitions.loads(definitions.dumps(standard_pathway()))


def test_hooks_see_the_event_already_recorded_in_order_exit_enter_after() -> None:
    p = fresh()
    seen: list[tuple[str, str, int, str]] = []

    def note(kind: str) -> Callable[[Episode, EventRecord], None]:
        def hook(ep: Episode, rec: EventRecord) -> None:
            seen.append((kind, rec.event.value, ep.version, ep.state))

        return hook

    p.on_exit("intake", note("exit intake"))
    p.on_enter("detox", note("enter detox"))
    p.after("admit", note("after admit"))
    p.on_exit("detox", note("exit detox"))
    p.on_enter("iop", note("enter iop"))
    ep = p.start("pt-1", at=T0)
    ep.admit("detox", at=T0, assessment=DETOX)
    assert seen == [
        ("exit intake", "admit", 1, "detox"),
        ("enter detox", "admit", 1, "detox"),
        ("after admit", "admit", 1, "detox"),
    ]
    seen.clear()
    ep.reassess(at=T0 + timedelta(days=1), assessment=DETOX)  # stays in place
    assert seen == []
    ep.step_down("iop", at=T0 + timedelta(days=5), assessment=SETTLED)
    assert seen == [("exit detox", "step_down", 3, "iop"), ("enter iop", "step_down", 3, "iop")]


def test_after_runs_for_events_that_keep_the_episode_in_place() -> None:
    p = fresh()
    records: list[EventRecord] = []
    p.after("reassess", lambda ep, rec: records.append(rec))
    ep = p.start("pt-1", at=T0)
    ep.admit("detox", at=T0, assessment=DETOX)
    rec = ep.reassess(at=T0 + timedelta(days=1), assessment=DETOX)
    assert records == [rec]


def test_no_hook_runs_on_load_on_a_retry_or_on_a_refused_event() -> None:
    p = fresh()
    calls: list[str] = []
    p.after("admit", lambda ep, rec: calls.append(rec.event_id))
    ep = p.start("pt-1", at=T0)
    ep.admit("detox", at=T0, assessment=DETOX, event_id="msg-1")
    ep.admit("detox", at=T0, assessment=DETOX, event_id="msg-1")  # a retried feed: no-op
    Episode.from_json(ep.to_json(), p)  # replaying stored events notifies nobody
    other = p.start("pt-2", at=T0)
    with pytest.raises(Exception, match="refused"):
        other.admit("outpatient", at=T0, assessment=DETOX)
    assert calls == ["msg-1"]


def test_an_exception_from_a_hook_reaches_the_caller_and_the_event_stays_recorded() -> None:
    p = fresh()

    def fail(ep: Episode, rec: EventRecord) -> None:
        raise RuntimeError("bed management is down")

    p.on_enter("detox", fail)
    ep = p.start("pt-1", at=T0)
    with pytest.raises(RuntimeError, match="bed management"):
        ep.admit("detox", at=T0, assessment=DETOX)
    assert ep.state == "detox"
    assert ep.version == 1


def test_unregister_removes_only_that_hook() -> None:
    p = fresh()
    calls: list[str] = []
    remove_a = p.on_enter("detox", lambda ep, rec: calls.append("a"))
    p.on_enter("detox", lambda ep, rec: calls.append("b"))
    remove_a()
    remove_a()  # twice is harmless
    p.start("pt-1", at=T0).admit("detox", at=T0, assessment=DETOX)
    assert calls == ["b"]


def test_hooks_belong_to_the_pathway_object_they_were_registered_on() -> None:
    p, q = fresh(), fresh()
    calls: list[str] = []
    p.on_enter("detox", lambda ep, rec: calls.append(ep.patient_id))
    q.start("pt-q", at=T0).admit("detox", at=T0, assessment=DETOX)
    p.start("pt-p", at=T0).admit("detox", at=T0, assessment=DETOX)
    assert calls == ["pt-p"]


def test_outcomes_can_be_entered() -> None:
    p = fresh()
    ended: list[str] = []
    p.on_enter("dropped_out", lambda ep, rec: ended.append(ep.id))
    ep = p.start("pt-1", at=T0, episode_id="ep-1")
    ep.drop_out(at=T0)
    assert ended == ["ep-1"]


def test_unknown_states_and_events_and_non_callables_are_refused() -> None:
    p = fresh()
    with pytest.raises(UnknownLevel, match="did you mean 'detox'"):
        p.on_enter("detx", lambda ep, rec: None)
    with pytest.raises(InvalidArgument, match="not an event"):
        p.after("discharge", lambda ep, rec: None)  # type: ignore[arg-type]  # the mistake
    with pytest.raises(InvalidArgument, match="callable"):
        p.on_exit("detox", "notify")  # type: ignore[arg-type]  # the mistake under test
