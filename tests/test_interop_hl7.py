"""HL7 v2 ADT replay: realistic feeds, cancels, retries, order, time zones, errors, fuzz."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepath import CarepathError, Episode, Event, InteropError, Outcome, standard_pathway
from carepath.interop import LevelMap, from_fhir, from_hl7v2, to_fhir
from carepath.interop._hl7_reader import unescape

_STRUCTURE = {
    "A01": "ADT_A01",
    "A02": "ADT_A02",
    "A03": "ADT_A03",
    "A04": "ADT_A01",
    "A08": "ADT_A01",
    "A11": "ADT_A09",
    "A12": "ADT_A12",
    "A13": "ADT_A01",
    "A31": "ADT_A05",
}
CHICAGO = ZoneInfo("America/Chicago")


def adt(
    trigger: str,
    control_id: str,
    at: str,
    *,
    patient_class: str = "I",
    location: str = "",
    service: str = "",
    disposition: str = "",
    patient: str = "MRN0042",
    visit: str = "V9001",
    sent: str | None = None,
    version: str = "2.5",
) -> str:
    """One ADT message, segments ending in CR. ``sent`` (MSH-7) defaults to ``at``."""
    pv1 = [""] * 37
    pv1[0], pv1[1], pv1[2], pv1[3] = "PV1", "1", patient_class, location
    pv1[10], pv1[19], pv1[36] = service, visit, disposition
    segments = [
        f"MSH|^~\\&|EHR|CLINIC|CAREPATH|CLINIC|{sent or at}||ADT^{trigger}^"
        f"{_STRUCTURE[trigger]}|{control_id}|P|{version}",
        f"EVN|{trigger}|{at}",
        f"PID|1||{patient}^^^CLINIC^MR||DOE^JANE||19800101|F",
        "|".join(pv1).rstrip("|"),
    ]
    return "\r".join(segments) + "\r"


def _feed() -> list[str]:
    """A realistic visit: detox, residential, a PHP transfer entered in error and cancelled,
    an update that changes nothing, IOP (arriving out of order), a retried message, and a
    discharge home."""
    return [
        adt("A01", "MSG001", "202601050900", service="DETOX", location="DTX^101^A"),
        adt("A02", "MSG002", "202601090800", service="RES", location="RES^12^B"),
        adt("A08", "MSG003", "202601100800", service="RES", location="RES^14^A"),
        adt("A02", "MSG006", "202601300900", patient_class="O", service="IOP"),  # early
        adt("A02", "MSG004", "202601200900", patient_class="O", service="PHP"),
        adt("A12", "MSG005", "202601201000", patient_class="I", service="RES"),
        adt("A02", "MSG002", "202601090800", service="RES", location="RES^12^B"),  # retry
        adt("A03", "MSG007", "202603200900", patient_class="O", service="IOP", disposition="01"),
    ]


def test_a_realistic_feed_replays_into_an_episode_with_findings() -> None:
    ep = from_hl7v2("".join(_feed()), standard_pathway(), tz=CHICAGO)
    assert isinstance(ep, Episode)
    assert ep.id == "V9001"
    assert ep.patient_id == "MRN0042"
    assert [(r.event_id, r.event, r.target) for r in ep.history] == [
        ("MSG001", Event.ADMIT, "detox"),
        ("MSG002", Event.STEP_DOWN, "inpatient"),
        ("MSG006", Event.STEP_DOWN, "iop"),
        ("MSG007", Event.COMPLETE, "completed"),
    ]
    assert all(r.fact for r in ep.history)
    assert ep.outcome is Outcome.COMPLETED
    assert ep.history[0].at == datetime(2026, 1, 5, 9, tzinfo=CHICAGO)
    # No assessment arrives by ADT: every move is recorded, each objection kept for audit.
    findings = ep.findings()
    assert [r.event_id for r in findings][:3] == ["MSG001", "MSG002", "MSG006"]
    assert any("no assessment on record" in x.message for x in findings[0].reasons)


def test_the_message_order_does_not_matter_and_retries_are_no_ops() -> None:
    feed = _feed()
    forward = from_hl7v2(feed, standard_pathway(), tz=CHICAGO)
    backward = from_hl7v2(list(reversed(feed)), standard_pathway(), tz=CHICAGO)
    doubled = from_hl7v2(feed + feed, standard_pathway(), tz=CHICAGO)
    assert forward == backward == doubled


def test_event_time_comes_from_evn_then_msh_and_offsets_win_over_tz() -> None:
    msgs = [
        adt("A01", "M1", "202601050900-0500", service="DETOX", sent="202601051200"),
        adt("A03", "M2", "20260112", service="DETOX", disposition="07"),
    ]
    ep = from_hl7v2(msgs, standard_pathway(), tz=timezone(timedelta(hours=2)))
    assert ep.history[0].at == datetime(2026, 1, 5, 14, tzinfo=UTC)
    assert ep.history[1].at == datetime(2026, 1, 11, 22, tzinfo=UTC)
    assert ep.outcome is Outcome.DROPPED_OUT
    no_evn = adt("A01", "M3", "202601050900", service="IOP").replace("EVN|A01|202601050900\r", "")
    assert from_hl7v2(no_evn, standard_pathway()).started_at == datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_cancel_admit_and_cancel_discharge_undo_their_events() -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="PHP"),
        adt("A11", "M2", "202601050930"),
        adt("A04", "M3", "202601051000", patient_class="O", service="IOP"),
        adt("A03", "M4", "202603010900", patient_class="O", service="IOP", disposition="01"),
        adt("A13", "M5", "202603011000"),
        adt("A03", "M6", "202603050900", patient_class="O", service="IOP", disposition="07"),
    ]
    ep = from_hl7v2(msgs, standard_pathway())
    assert [(r.event_id, r.target) for r in ep.history] == [("M3", "iop"), ("M6", "dropped_out")]


def test_a_cancelled_message_leaves_no_trace_not_even_in_the_start_time() -> None:
    """The episode starts at the earliest message that stays, not at a cancelled one, and
    its id (without PV1-19) is that message's control id."""
    msgs = [
        adt("A01", "M1", "202601010900", service="DETOX", visit=""),
        adt("A11", "M2", "202601010930", visit=""),
        adt("A01", "M3", "202601050900", service="DETOX", visit=""),
    ]
    ep = from_hl7v2(msgs, standard_pathway())
    assert [r.event_id for r in ep.history] == ["M3"]
    assert ep.started_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert ep.id == "M3"
    # When the cancels leave nothing, the earliest message still dates the (empty) episode.
    empty = from_hl7v2(msgs[:2], standard_pathway())
    assert empty.history == ()
    assert empty.started_at == datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_a_cancel_sorts_after_a_message_with_the_same_time_whatever_the_arrival() -> None:
    msgs = [
        adt("A12", "M3", "202601060900"),  # arrives first, same event time as M2
        adt("A01", "M1", "202601050900", service="DETOX"),
        adt("A02", "M2", "202601060900", service="RES"),
    ]
    ep = from_hl7v2(msgs, standard_pathway())
    assert [r.event_id for r in ep.history] == ["M1"]
    assert from_hl7v2(list(reversed(msgs)), standard_pathway()) == ep


def test_a_cancel_transfer_after_a_discharge_is_refused_naming_the_messages() -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="DETOX"),
        adt("A02", "M2", "202601060900", service="RES"),
        adt("A03", "M3", "202601100900", service="RES", disposition="01"),
        adt("A12", "M4", "202601110900", service="RES"),
    ]
    err = _error(msgs)
    assert "'M4'" in err.resource
    assert "'M2'" in err.problem
    assert "'M3'" in err.problem
    assert "A13" in err.problem
    # Cancelling the discharge first makes the transfer cancellable.
    ok = from_hl7v2(
        [*msgs[:3], adt("A13", "M5", "202601101000"), adt("A12", "M6", "202601110900")],
        standard_pathway(),
    )
    assert [r.event_id for r in ok.history] == ["M1"]


def test_an_update_or_transfer_naming_only_the_current_patient_class_moves_no_one() -> None:
    """PV1-2 alone (no PV1-3 or PV1-10 match) is the class of the current level: a
    demographic A08 or a bed move, never a step to the class's default level."""
    msgs = [
        adt("A01", "M1", "202601050900", service="DETOX"),
        adt("A08", "M2", "202601060900", patient_class="I"),
        adt("A02", "M3", "202601070900", patient_class="I", location="DTX^2"),
        adt("A02", "M4", "202601100900", patient_class="O", service="IOP"),
        adt("A08", "M5", "202601110900", patient_class="O"),
    ]
    ep = from_hl7v2(msgs, standard_pathway())
    assert [(r.event_id, r.target) for r in ep.history] == [("M1", "detox"), ("M4", "iop")]
    # Another class alone is a guess: refused by default, naming what to add to the map ...
    guess = [*msgs, adt("A02", "M6", "202601200900", patient_class="I", location="W3^1")]
    refused = _error(guess)
    assert refused.field == "PV1-3/PV1-10"
    assert "'W3'" in refused.problem
    assert "LevelMap.locations" in refused.problem
    # ... and with the fallback an inpatient transfer from IOP goes to inpatient, noted.
    moved = from_hl7v2(guess, standard_pathway(), LevelMap(patient_class_fallback=True))
    assert "guessed from the patient class" in (moved.history[-1].note or "")
    assert [(r.event_id, r.event, r.target) for r in moved.history][-1] == (
        "M6",
        Event.STEP_UP,
        "inpatient",
    )


@pytest.mark.parametrize(
    "version",
    ["2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8", "2.8.1", "2.8.2"],
)
def test_every_hl7_version_hl7apy_ships_replays(version: str) -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="DETOX", version=version),
        adt("A02", "M2", "202601090800", service="RES", version=version),
        adt("A03", "M3", "202601200900", service="RES", disposition="07", version=version),
    ]
    ep = from_hl7v2(msgs, standard_pathway())
    assert [(r.event_id, r.target) for r in ep.history] == [
        ("M1", "detox"),
        ("M2", "inpatient"),
        ("M3", "dropped_out"),
    ]


def test_an_unsupported_hl7_version_is_refused() -> None:
    err = _error(adt("A01", "M1", "202601050900", service="DETOX", version="2.9"))
    assert "not a parseable" in err.problem


def test_field_values_are_unescaped() -> None:
    ep = from_hl7v2(
        adt("A01", "M\\F\\1", "202601050900", service="DETOX", patient="MRN\\T\\7"),
        standard_pathway(),
    )
    assert ep.history[0].event_id == "M|1"
    assert ep.patient_id == "MRN&7"
    chars = {"FIELD": "|", "COMPONENT": "^", "SUBCOMPONENT": "&", "REPETITION": "~", "ESCAPE": "\\"}
    assert unescape(r"a\S\b\R\c\E\d\X4142\e\H\f\N\g\.br\h", chars) == "a^b~c\\dABefgh"
    assert unescape(r"\Q\ and a lone \ stay", chars) == r"\Q\ and a lone \ stay"
    assert unescape("no escapes", {}) == "no escapes"


@pytest.mark.parametrize(
    ("disposition", "outcome"),
    [
        ("01", Outcome.COMPLETED),
        ("", Outcome.COMPLETED),
        ("07", Outcome.DROPPED_OUT),
        ("02", Outcome.TRANSFERRED_OUT),
        ("aadvice", Outcome.DROPPED_OUT),
        ("other-hcf", Outcome.TRANSFERRED_OUT),
    ],
)
def test_discharge_dispositions_map_to_outcomes(disposition: str, outcome: Outcome) -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="IOP"),
        adt("A03", "M2", "202603050900", service="IOP", disposition=disposition),
    ]
    assert from_hl7v2(msgs, standard_pathway()).outcome is outcome


def test_a_level_map_reads_locations_services_and_patient_classes() -> None:
    level_map = LevelMap(
        locations={"DTX": "detox"},
        services={"SUD-IOP": "iop"},
        patient_classes={"I": "inpatient"},
        patient_class_fallback=True,
    )
    msgs = [
        adt("A01", "M1", "202601050900", location="dtx^1^A", service="SUD-IOP"),
        adt("A02", "M2", "202601100900", service="SUD-IOP"),
        adt("A02", "M3", "202601200900", service="UNKNOWN"),
        adt("A02", "M4", "202601210900", service="SUD-IOP", location="DTX^2"),
    ]
    ep = from_hl7v2(msgs, standard_pathway(), level_map)
    assert [(r.event, r.target) for r in ep.history] == [
        (Event.ADMIT, "detox"),
        (Event.STEP_DOWN, "iop"),
        (Event.STEP_UP, "inpatient"),
        (Event.STEP_UP, "detox"),
    ]


def test_a_bed_move_within_a_level_and_unrelated_messages_change_nothing() -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="RES", location="RES^1"),
        adt("A02", "M2", "202601060900", service="RES", location="RES^2"),
        adt("A31", "M3", "202601070900"),
        adt("A08", "M4", "202601080900", service="", patient_class=""),
    ]
    ep = from_hl7v2(msgs, standard_pathway())
    assert [r.event_id for r in ep.history] == ["M1"]


def test_fhir_export_of_a_replayed_feed_round_trips() -> None:
    ep = from_hl7v2(_feed(), standard_pathway(), tz=CHICAGO)
    assert from_fhir(to_fhir(ep, "R5"), standard_pathway()) == ep


# -- errors -------------------------------------------------------------------------------------


def _error(messages: object, **kwargs: object) -> InteropError:
    with pytest.raises(InteropError) as info:
        from_hl7v2(messages, standard_pathway(), **kwargs)  # type: ignore[arg-type]
    return info.value


def test_a_move_the_pathway_lacks_names_the_message_and_the_move() -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="IOP"),
        adt("A03", "M2", "202601060900", service="IOP"),
        adt("A02", "M3", "202601070900", service="RES"),
    ]
    err = _error(msgs)
    assert "'M3'" in err.resource
    assert "step_up" in err.problem
    assert "completed" in err.problem
    assert err.reasons
    assert not err.reasons[0].overridable


def test_a_second_admission_is_a_move_the_pathway_lacks() -> None:
    err = _error(
        [
            adt("A01", "M1", "202601050900", service="IOP"),
            adt("A01", "M2", "202601060900", service="PHP"),
        ]
    )
    assert "'M2'" in err.resource
    assert "admit" in err.problem


@pytest.mark.parametrize(
    ("messages", "field"),
    [
        ("", ""),
        ("garbage", "MSH"),
        ("PID|1||X\rMSH|^~\\&|A", "MSH"),
        (adt("A01", "", "202601050900", service="IOP"), "MSH-10"),
        (adt("A01", "M1", "2026-01-05", service="IOP"), "EVN-2"),
        (adt("A01", "M1", "202613450900", service="IOP"), "EVN-2"),
        (adt("A01", "M1", "202601050900", service="NOPE", patient_class="X"), "PV1-3/PV1-10"),
        (adt("A01", "M1", "202601050900", patient_class="I"), "PV1-3/PV1-10"),
        (adt("A01", "M1", "202601050900", service="IOP", patient=""), "PID-3"),
        (
            [
                adt("A01", "M1", "202601050900", service="IOP"),
                adt("A02", "M2", "202601060900", service="PHP", patient="MRN0099"),
            ],
            "PID-3",
        ),
        (
            [
                adt("A01", "M1", "202601050900", service="IOP"),
                adt("A02", "M2", "202601060900", service="PHP", visit="V2"),
            ],
            "PV1-19",
        ),
        (
            [
                adt("A01", "M1", "202601050900", service="IOP"),
                adt("A02", "M1", "202601060900", service="PHP"),
            ],
            "MSH-10",
        ),
        (42, ""),
        ([b"\xff\xfe"], "MSH"),
    ],
)
def test_malformed_input_gives_an_interop_error_naming_the_field(
    messages: object, field: str
) -> None:
    err = _error(messages)
    assert err.field == field
    assert err.standard == "HL7 v2"
    assert "JANE" not in str(err)  # no patient names in errors


def test_a_cancel_with_nothing_to_cancel_is_refused() -> None:
    err = _error(
        [adt("A01", "M1", "202601050900", service="IOP"), adt("A12", "M2", "202601060900")]
    )
    assert "'M2'" in err.resource
    assert "transfer" in err.problem


def test_unparseable_messages_never_leak_parser_exceptions() -> None:
    err = _error("MSH|^~\\&|A|B|C|D|20260105||ADT^A01|M1|P|9.9\rPV1|1|I")
    assert err.resource == "message #1"
    assert "not a parseable" in err.problem


def test_level_map_validation() -> None:
    with pytest.raises(InteropError, match="level codes"):
        LevelMap(services={"IOP": 3})  # type: ignore[dict-item]  # deliberate mistake
    with pytest.raises(InteropError, match="not an outcome"):
        LevelMap(dispositions={"20": "died"})
    err = _error(
        adt("A01", "M1", "202601050900", service="IOP"),
        level_map=LevelMap(services={"IOP": "day_clinic"}),
    )
    assert "day_clinic" in err.problem


# -- fuzz ---------------------------------------------------------------------------------------

_VALID = "".join(_feed()[:3])


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_VALID)),
            st.integers(0, 6),
            st.text(alphabet="|^~\\&\r\nMSHPV1EA0123 ", max_size=6),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_feeds_give_an_episode_or_a_carepath_error(
    edits: list[tuple[int, int, str]],
) -> None:
    """Cutting and splicing characters anywhere in a valid feed never leaks a raw exception."""
    text = _VALID
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    try:
        ep = from_hl7v2(text, standard_pathway())
    except CarepathError:
        return
    assert isinstance(ep, Episode)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120).map(lambda s: "MSH|^~\\&|" + s) | st.text(max_size=60))
def test_arbitrary_text_gives_an_episode_or_a_carepath_error(text: str) -> None:
    with contextlib.suppress(CarepathError):
        assert isinstance(from_hl7v2(text, standard_pathway()), Episode)
