"""Episode JSON: exact round trips, pathway identity, and errors that name their location."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from carepath import (
    Assessment,
    Criteria,
    Episode,
    EpisodeLoadError,
    Override,
    Pathway,
    PathwayMismatch,
    default_rules,
    standard_pathway,
)
from carepath.levels import STANDARD_CRITERIA, STANDARD_LEVELS

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PLUS2 = timezone(timedelta(hours=2))
MINUS0530 = timezone(-timedelta(hours=5, minutes=30))
OVERRIDE = Override(reason="bed shortage; team decision", by="dr-0042")


def day(n: float, tz: timezone = UTC) -> datetime:
    return (T0 + timedelta(days=n)).astimezone(tz)


def full_episode() -> Episode:
    """Detox -> inpatient -> IOP, a relapse and step-up, then outpatient -> completed."""
    ep = standard_pathway().start("pt-77", at=T0, episode_id="ep-77")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3, relapse=3), event_id="A01-1")
    ep.step_down("inpatient", at=day(4, PLUS2), assessment=Assessment(relapse=3))
    ep.step_down("iop", at=day(20, MINUS0530), assessment=Assessment(relapse=2, environment=2))
    ep.relapse(at=day(30), assessment=Assessment(relapse=3))
    ep.reassess(Assessment(relapse=3), at=day(31), event_id="note-9")
    ep.step_down("iop", at=day(33), assessment=Assessment(relapse=2), override=OVERRIDE)
    ep.step_down("outpatient", at=day(80), assessment=Assessment(relapse=1))
    ep.complete(at=day(120, PLUS2))
    return ep


def dropped_episode() -> Episode:
    ep = standard_pathway().start("pt-78", at=T0, episode_id="ep-78")
    ep.admit("iop", at=T0, assessment=Assessment(relapse=2))
    ep.drop_out(at=day(3), reason="stopped coming")
    return ep


def load(data: object) -> Episode:
    return Episode.from_json(json.dumps(data), standard_pathway())


def mutated(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(full_episode().to_dict())
    change(data)
    return data


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [full_episode, dropped_episode])
def test_round_trip_is_exact(make: Callable[[], Episode]) -> None:
    ep = make()
    text = ep.to_json()
    back = Episode.from_json(text, standard_pathway())
    assert back == ep
    assert back.history == ep.history
    assert back.to_json() == text
    assert back.version == ep.version
    assert back.state == ep.state
    assert back.assessment == ep.assessment
    assert back.previous_episode_id == ep.previous_episode_id


def test_round_trip_keeps_offsets_overrides_and_notes() -> None:
    ep = full_episode()
    back = Episode.from_json(ep.to_json(indent=2), standard_pathway())
    offsets = [r.at.utcoffset() for r in back.history]
    assert offsets == [r.at.utcoffset() for r in ep.history]
    assert timedelta(hours=2) in offsets
    assert -timedelta(hours=5, minutes=30) in offsets
    overridden = [r for r in back.history if r.override is not None]
    assert len(overridden) == 1
    assert overridden[0].override == OVERRIDE
    assert overridden[0].override.reason == OVERRIDE.reason
    assert overridden[0].reasons == next(r for r in ep.history if r.override).reasons
    assert [r.event_id for r in back.history] == [r.event_id for r in ep.history]
    assert (
        dropped_episode().history[-1].note
        == Episode.from_json(dropped_episode().to_json(), standard_pathway()).history[-1].note
        == "stopped coming"
    )


def test_round_trip_of_a_readmission_and_an_empty_episode() -> None:
    first = dropped_episode()
    second = first.readmit(at=day(10), episode_id="ep-79")
    back = Episode.from_json(second.to_json(), standard_pathway())
    assert back == second
    assert back.previous_episode_id == "ep-78"
    assert back.history == ()


def test_to_dict_shape() -> None:
    data = dropped_episode().to_dict()
    assert data["format"] == "carepath.episode"
    assert data["format_version"] == 1
    assert data["pathway"] == {
        "id": "standard",
        "version": "1",
        "content_hash": standard_pathway().content_hash,
    }
    assert data["started_at"] == "2026-01-05T09:00:00+00:00"
    expected = {
        "event_id": "ep-78:1",
        "event": "admit",
        "source": "intake",
        "target": "iop",
        "at": "2026-01-05T09:00:00+00:00",
        "assessment": {
            "withdrawal": 0,
            "biomedical": 0,
            "emotional": 0,
            "readiness": 0,
            "relapse": 2,
            "environment": 0,
        },
        "override": None,
        "note": None,
    }
    assert {k: v for k, v in data["events"][0].items() if k in expected} == expected
    assert data["events"][1]["note"] == "stopped coming"
    assert json.loads(dropped_episode().to_json()) == data


def test_from_json_accepts_bytes() -> None:
    ep = full_episode()
    assert Episode.from_json(ep.to_json().encode(), standard_pathway()) == ep


def test_episodes_with_different_histories_differ() -> None:
    a, b = dropped_episode(), dropped_episode()
    assert a == b
    c = standard_pathway().start("pt-78", at=T0, episode_id="ep-78")
    c.admit("iop", at=T0, assessment=Assessment(relapse=2))
    assert a != c
    c.drop_out(at=day(3), reason="another reason")
    assert a != c
    assert a != "ep-77"


# -- pathway identity ------------------------------------------------------------------------


def test_pathway_mismatch_names_both_pathways() -> None:
    ep = full_episode()
    criteria = {**STANDARD_CRITERIA, "iop": Criteria(withdrawal=1, relapse=3)}
    other = Pathway(
        id="standard",
        version="2",
        levels=STANDARD_LEVELS,
        criteria=criteria,
        rules=default_rules(STANDARD_LEVELS),
    )
    with pytest.raises(PathwayMismatch) as info:
        Episode.from_json(ep.to_json(), other)
    err = info.value
    assert isinstance(err, EpisodeLoadError)
    assert err.recorded_hash == standard_pathway().content_hash
    assert err.given_hash == other.content_hash
    assert err.episode_id == "ep-77"
    assert err.location == "pathway"
    text = str(err)
    assert "'standard' version '1'" in text
    assert "'standard' version '2'" in text
    assert standard_pathway().content_hash[:12] in text
    assert other.content_hash[:12] in text


def test_a_tampered_content_hash_is_a_mismatch() -> None:
    data = mutated(lambda d: d["pathway"].update(content_hash="0" * 64))
    with pytest.raises(PathwayMismatch, match="000000000000"):
        load(data)


# -- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "{", "not json", "[1, 2", b"\xff\xfe"])
def test_malformed_json(text: str | bytes) -> None:
    with pytest.raises(EpisodeLoadError, match="not valid JSON"):
        Episode.from_json(text, standard_pathway())


@pytest.mark.parametrize("data", [[], "episode", 3, None])
def test_top_level_must_be_an_object(data: object) -> None:
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    assert info.value.location == "top level"


def _delete(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        target: Any = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _set(value: object, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        target: Any = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "location", "problem"),
    [
        (_delete("format"), "format", "missing"),
        (_set("other.format", "format"), "format", "'format' must be"),
        (_set(2, "format_version"), "format_version", "unsupported format_version"),
        (_delete("id"), "id", "missing"),
        (_set(7, "id"), "id", "expected a string, got int"),
        (_delete("pathway"), "pathway", "missing"),
        (_set([], "pathway"), "pathway", "expected an object, got list"),
        (_delete("pathway", "content_hash"), "pathway.content_hash", "missing"),
        (_delete("patient_id"), "patient_id", "missing"),
        (_set(None, "patient_id"), "patient_id", "expected a string, got NoneType"),
        (_set(3, "previous_episode_id"), "previous_episode_id", "expected a string or null"),
        (_delete("started_at"), "started_at", "missing"),
        (_set("yesterday", "started_at"), "started_at", "not an ISO 8601 date-time"),
        (_set("2026-01-05T09:00:00", "started_at"), "started_at", "without a UTC offset"),
        (_delete("events"), "events", "missing"),
        (_set({}, "events"), "events", "expected a list"),
        (_set("admit", "events", 1), "events[1]", "expected an object, got str"),
        (_delete("events", 2, "at"), "events[2].at", "missing"),
        (_set("2026-01-25", "events", 2, "at"), "events[2].at", "without a UTC offset"),
        (_set("soon", "events", 2, "at"), "events[2].at", "not an ISO 8601 date-time"),
        (_set(1234, "events", 2, "at"), "events[2].at", "expected a string, got int"),
        (_delete("events", 3, "event_id"), "events[3].event_id", "missing"),
        (_set("discharge", "events", 3, "event"), "events[3].event", "unknown event"),
        (_delete("events", 3, "target"), "events[3].target", "missing"),
        (_delete("events", 3, "assessment"), "events[3].assessment", "missing"),
        (
            _set({"cravings": 2}, "events", 3, "assessment"),
            "events[3].assessment",
            "unknown dimension",
        ),
        (_set({"relapse": 9}, "events", 3, "assessment"), "events[3].assessment", "out of range"),
        (_set({"relapse": "3"}, "events", 3, "assessment"), "events[3].assessment", "got str"),
        (_set({"by": "dr-1"}, "events", 5, "override"), "events[5].override.reason", "missing"),
        (
            _set({"reason": "", "by": "dr-1"}, "events", 5, "override"),
            "events[5].override",
            "Override.reason: must be a non-empty string",
        ),
        (
            _set(["x"], "events", 5, "override"),
            "events[5].override",
            "expected an object, got list",
        ),
        (_set(5, "events", 5, "note"), "events[5].note", "expected a string or null"),
    ],
)
def test_load_errors_name_the_location(
    change: Callable[[dict[str, Any]], None], location: str, problem: str
) -> None:
    with pytest.raises(EpisodeLoadError) as info:
        load(mutated(change))
    err = info.value
    assert err.location == location
    assert problem in err.problem
    assert f" at {location}: " in str(err)
    assert not isinstance(err, PathwayMismatch)


def test_load_errors_name_the_episode() -> None:
    with pytest.raises(EpisodeLoadError) as info:
        load(mutated(_delete("events", 2, "at")))
    assert info.value.episode_id == "ep-77"
    assert "(episode 'ep-77')" in str(info.value)


# -- illegal sequences -----------------------------------------------------------------------


def test_an_illegal_sequence_is_refused_with_the_reasons() -> None:
    # move the step-down out of detox to the day after admission
    data = mutated(_set(day(1).isoformat(), "events", 1, "at"))
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    err = info.value
    assert err.location.startswith("events[1] (event id ")
    assert "does not replay through the pathway (refused by minimum_stay" in err.problem
    assert any("minimum stay is 3 days" in r.message for r in err.reasons)
    assert "minimum stay is 3 days" not in str(err)  # lengths of stay stay out of messages


def test_a_move_the_pathway_lacks_is_refused() -> None:
    data = mutated(_set("step_up", "events", 1, "event"))
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    assert info.value.location.startswith("events[1]")
    assert "refused by structure" in info.value.problem
    assert any("the pathway has no step_up move" in r.message for r in info.value.reasons)


def test_a_recorded_target_the_pathway_does_not_lead_to_is_refused() -> None:
    # the relapse (events[3]) re-places the patient in inpatient care, not PHP
    data = mutated(_set("php", "events", 3, "target"))
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    assert info.value.location.startswith("events[3]")
    assert "recorded target 'php' but the pathway leads to 'inpatient'" in info.value.problem


def test_events_out_of_time_order_are_refused() -> None:
    data = mutated(_set(day(2).isoformat(), "events", 3, "at"))
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    assert info.value.location.startswith("events[3]")
    assert "is earlier than the episode's latest event" in info.value.problem


def test_an_event_after_the_outcome_is_refused() -> None:
    def add(d: dict[str, Any]) -> None:
        last = d["events"][-1]
        extra = dict(last, event_id="late", at=day(200).isoformat(), source=last["target"])
        d["events"].append(extra)

    with pytest.raises(EpisodeLoadError) as info:
        load(mutated(add))
    assert info.value.location == "events[8] (event id 'late')"
    assert any("the episode has ended (completed)" in r.message for r in info.value.reasons)


def test_a_tampered_source_is_refused() -> None:
    data = mutated(_set("php", "events", 2, "source"))
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    assert info.value.location == "events[2].source"
    assert "recorded source 'php'" in info.value.problem


def test_a_boolean_format_version_is_refused() -> None:
    def flip(d: dict[str, Any]) -> None:
        d["format_version"] = True

    with pytest.raises(EpisodeLoadError) as info:
        load(mutated(flip))
    assert info.value.location == "format_version"


def test_duplicate_event_ids_in_stored_json_are_refused() -> None:
    def dup(d: dict[str, Any]) -> None:
        d["events"][4]["event_id"] = "A01-1"

    with pytest.raises(EpisodeLoadError) as info:
        load(mutated(dup))
    assert info.value.location == "events[4] (event id 'A01-1')"
    assert info.value.problem == "the event id appears twice in the history"


def test_an_override_in_json_is_replayed_as_an_override() -> None:
    # without its override, the early step-down from inpatient no longer replays
    data = mutated(_set(None, "events", 5, "override"))
    with pytest.raises(EpisodeLoadError) as info:
        load(data)
    assert info.value.location.startswith("events[5]")
    assert "refused by minimum_stay" in info.value.problem


def test_load_error_messages_carry_no_notes_or_override_reasons() -> None:
    texts = []
    for change in (
        _set(5, "events", 5, "note"),
        _set(None, "events", 5, "override"),
        _set("x", "events", 5, "at"),
        _set("php", "events", 3, "target"),
    ):
        with pytest.raises(EpisodeLoadError) as info:
            load(mutated(change))
        texts.append(str(info.value))
    drop = dropped_episode().to_dict()
    drop["events"].append(dict(drop["events"][-1], event_id="again"))
    with pytest.raises(EpisodeLoadError) as info:
        load(drop)
    texts.append(str(info.value))
    for text in texts:
        assert OVERRIDE.reason not in text
        assert "bed shortage" not in text
        assert "stopped coming" not in text


def test_deeply_nested_json_is_a_load_error_not_a_recursion_error() -> None:
    with pytest.raises(EpisodeLoadError, match="nested deeper than the limit"):
        Episode.from_json("[" * 100_000 + "]" * 100_000, standard_pathway())
