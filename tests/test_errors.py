"""The error hierarchy, structured data on errors, and no patient data in messages."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

import carepath
from carepath import (
    Assessment,
    CarepathError,
    Episode,
    EpisodeLoadError,
    InvalidAssessment,
    InvalidEvent,
    Override,
    PathwayError,
    PathwayMismatch,
    Reason,
    TransitionRejected,
    standard_pathway,
)
from support import T0

DROP_REASON = "relapsed after eviction; says partner is violent"
OVERRIDE_REASON = "HIV+ and homeless; team keeps patient in residential"


def public_errors() -> list[type[BaseException]]:
    return [
        obj
        for name in carepath.__all__
        if inspect.isclass(obj := getattr(carepath, name)) and issubclass(obj, BaseException)
    ]


def test_every_public_error_derives_from_carepath_error() -> None:
    errors = public_errors()
    assert set(errors) >= {
        CarepathError,
        InvalidAssessment,
        InvalidEvent,
        TransitionRejected,
        PathwayError,
        EpisodeLoadError,
        PathwayMismatch,
    }
    for err in errors:
        assert issubclass(err, CarepathError), err
    assert CarepathError.__bases__ == (Exception,)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (InvalidAssessment, ValueError),
        (InvalidEvent, ValueError),
        (PathwayError, ValueError),
        (EpisodeLoadError, ValueError),
        (PathwayMismatch, ValueError),
    ],
)
def test_builtin_mixins(error: type[CarepathError], builtin: type[Exception]) -> None:
    assert issubclass(error, builtin)


def test_transition_rejected_is_not_a_value_error() -> None:
    assert not issubclass(TransitionRejected, ValueError)
    assert issubclass(PathwayMismatch, EpisodeLoadError)


def test_the_hierarchy_is_drawn_in_the_errors_module() -> None:
    doc = sys.modules["carepath._errors"].__doc__ or ""  # __module__ is "carepath" for display
    for err in public_errors():
        assert err.__name__ in doc


def test_errors_carry_keyword_only_structured_data() -> None:
    e1 = InvalidAssessment(field="relapse", problem="rating 9 is out of range")
    assert (e1.field, e1.problem) == ("relapse", "rating 9 is out of range")
    assert str(e1) == "assessment field 'relapse': rating 9 is out of range"
    e2 = InvalidEvent(event="admit", field="at", problem="naive datetime", episode_id="ep-1")
    assert str(e2) == "admit on episode 'ep-1': at: naive datetime"
    e3 = TransitionRejected(
        event="step_down",
        source="php",
        target="iop",
        episode_id="ep-1",
        reasons=[
            Reason(kind="minimum_stay", message="too soon"),
            Reason(kind="structure", message="no", overridable=False),
        ],
    )
    assert str(e3) == (
        "step_down from php to iop refused for episode 'ep-1': 2 reasons "
        "(minimum_stay, structure); see .reasons or .explain()"
    )
    assert e3.explain() == "step_down from php to iop refused:\n  - too soon\n  - no"
    assert not e3.overridable
    e4 = PathwayError(pathway_id="p", problems=["a", "b"])
    assert str(e4) == "pathway 'p' has 2 problems:\n  - a\n  - b"
    e5 = EpisodeLoadError(problem="missing", location="events[0].at", episode_id="ep-1")
    assert str(e5) == "cannot load episode (episode 'ep-1') at events[0].at: missing"
    for cls in (
        InvalidAssessment,
        InvalidEvent,
        TransitionRejected,
        PathwayError,
        EpisodeLoadError,
        PathwayMismatch,
    ):
        params = inspect.signature(cls.__init__).parameters.values()
        assert all(p.kind is not p.POSITIONAL_OR_KEYWORD for p in params if p.name != "self")


def _collect_texts() -> list[str]:
    """Provoke every kind of error around episodes that hold sensitive free text."""
    p = standard_pathway()
    override = Override(reason=OVERRIDE_REASON, by="dr-7")
    ep = p.start("pt-9", at=T0, episode_id="ep-9")
    ep.admit("inpatient", at=T0, assessment=Assessment(), override=override)
    texts = [repr(ep), repr(ep.history), repr(override), str(ep.history[0])]
    texts += [repr(d) for d in ep.options(T0 + timedelta(days=1))]
    texts += [d.explain() for d in ep.options(T0 + timedelta(days=1))]
    ep.drop_out(at=T0 + timedelta(days=2), reason=DROP_REASON)
    texts += [repr(ep), repr(ep.history)]
    attempts: list[Callable[[], object]] = [
        lambda: ep.drop_out(at=T0 + timedelta(days=3), reason=DROP_REASON),
        lambda: ep.drop_out(at=T0, reason=DROP_REASON),
        lambda: ep.complete(at=T0 + timedelta(days=3), override=override),
        lambda: ep.reassess(
            Assessment(),
            at=T0 + timedelta(days=3),
            override=override,
            event_id=ep.history[-1].event_id,
        ),
        lambda: ep.readmit(at=T0),
        lambda: p.start("pt-9", at=T0, previous=p.start("pt-9", at=T0)),
    ]
    data = ep.to_dict()
    data["events"][1]["at"] = "2025-01-01T00:00:00+00:00"
    attempts.append(lambda: Episode.from_dict(data, p))
    data2 = ep.to_dict()
    data2["events"][0]["override"] = None
    attempts.append(lambda: Episode.from_dict(data2, p))
    for attempt in attempts:
        with pytest.raises(CarepathError) as info:
            attempt()
        texts += [str(info.value), repr(info.value)]
    return texts


def test_no_free_text_patient_data_in_any_message_or_repr() -> None:
    texts = _collect_texts()
    assert len(texts) > 20
    for text in texts:
        for secret in (DROP_REASON, OVERRIDE_REASON, "eviction", "violent", "HIV", "homeless"):
            assert secret not in text, text


def test_decision_reprs_name_guard_kinds_not_their_words() -> None:
    """A decision's reasons carry ratings and lengths of stay: ``explain()`` says them,
    the repr (what ``log.info("%r", decision)`` writes) names the guard kinds only."""
    ep = standard_pathway().start("pt-9", at=T0, episode_id="ep-9")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3, relapse=3, environment=3))
    decision = ep.check("step_down", "iop", at=T0 + timedelta(days=1))
    assert not decision.allowed
    assert decision.reasons
    text = repr(decision)
    for reason in decision.reasons:
        assert reason.kind in text
        assert reason.message not in text
        assert reason.message in decision.explain()
        assert str(reason) == reason.message


def test_messages_name_only_the_ids_given() -> None:
    ep = standard_pathway().start("pt-9", at=T0, episode_id="ep-9")
    with pytest.raises(TransitionRejected) as info:
        ep.admit("iop", at=T0, assessment=Assessment(withdrawal=3))
    text = str(info.value)
    assert "'ep-9'" in text
    assert "pt-9" not in text  # the episode id identifies it; the patient id is not needed


def test_errors_are_catchable_as_carepath_error() -> None:
    with pytest.raises(CarepathError):
        Assessment(withdrawal=5)
    with pytest.raises(CarepathError):
        standard_pathway().start("pt", at=datetime(2026, 1, 1))  # noqa: DTZ001  # naive
    with pytest.raises(CarepathError):
        Episode.from_json("{", standard_pathway())
    with pytest.raises(CarepathError):
        standard_pathway().start("pt", at=T0).relapse(at=T0)


def test_lookups_with_bad_arguments_raise_carepath_errors() -> None:
    """Public lookups given a code, an unknown level or the wrong type answer with a
    carepath error naming what is wrong, never a raw AttributeError or KeyError."""
    p = standard_pathway()
    assert p.criteria_for("detox") is p.criteria_for(p.level("detox"))
    with pytest.raises(carepath.InvalidEvent, match="'nowhere' is not a level"):
        p.criteria_for("nowhere")
    a = Assessment(withdrawal=3)
    assert p.relapse_target("iop", a) is p.relapse_target(p.level("iop"), a)
    with pytest.raises(carepath.InvalidArgument, match="expected an Assessment"):
        p.relapse_target("iop", {"withdrawal": 3})  # type: ignore[arg-type]
    with pytest.raises(carepath.InvalidAssessment, match=r"'bogus'.*not a dimension"):
        Assessment()["bogus"]  # type: ignore[index]
    with pytest.raises(carepath.InvalidArgument, match="expected a Pathway"):
        carepath.place(a, "standard")  # type: ignore[arg-type]
    text = p.start("pt-1", at=T0).to_json()
    with pytest.raises(carepath.InvalidArgument, match="expected a Pathway"):
        carepath.Episode.from_json(text, None)  # type: ignore[arg-type]
