"""FHIR export and import: exact round trips, valid bundles, clear errors, and a fuzz test."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepath import (
    Assessment,
    CarepathError,
    Episode,
    Event,
    InteropError,
    InvalidEvent,
    Override,
    Pathway,
    TransitionRejected,
    default_rules,
    standard_pathway,
)
from carepath.interop import LEVEL_CODES, OUTCOME_CODES, codes_for, from_fhir, to_fhir
from carepath.interop._fhir import EXT_EVENT, LEVEL_SYSTEM, bundle_data
from carepath.levels import STANDARD_CRITERIA, STANDARD_LEVELS
from carepath.testing import assessments as assessment_strategy
from carepath.testing import aware_datetimes, episodes, overrides

pytest.importorskip("fhir.resources")

VERSIONS = ("R4B", "R5")
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
_MOVES = {Event.ADMIT, Event.STEP_DOWN, Event.STEP_UP}
# Hypothesis examples cost a bundle validation each (tens of milliseconds).
_FEW = settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])


def _typical() -> Episode:
    """Detox, inpatient, IOP under an override, a recorded step up to PHP, then drop out."""
    ep = standard_pathway().start("patient-7", at=T0, episode_id="ep-7")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3, relapse=2))
    ep.step_down(
        "inpatient",
        at=T0 + timedelta(days=5),
        assessment=Assessment(withdrawal=1, relapse=3, environment=3),
    )
    ep.step_down(
        "iop",
        at=T0 + timedelta(days=6),
        assessment=Assessment(relapse=2, emotional=2),
        override=Override(reason="bed shortage", by="dr-1"),
    )
    ep.record(Event.STEP_UP, "php", at=T0 + timedelta(days=20), event_id="MSG-20", note="")
    ep.drop_out(at=T0 + timedelta(days=30), reason="stopped attending")
    return ep


def _resources(bundle: Any, kind: str) -> list[Any]:
    return [e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == kind]


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_IDS = _TEXT.filter(lambda s: bool(s.strip()))


@st.composite
def rich_episodes(draw: st.DrawFn) -> Episode:
    """Episodes mixing checked events (some overridden) with recorded facts, notes of any
    text (empty, whitespace-only), caller event ids and a previous-episode link."""
    pathway = standard_pathway()
    start = draw(aware_datetimes(max_value=datetime(2090, 1, 1)))  # noqa: DTZ001
    ep = pathway.start(draw(_IDS), at=start, episode_id=draw(_IDS))
    if draw(st.booleans()):
        ep.previous_episode_id = draw(_IDS)
    at = start
    for _ in range(draw(st.integers(0, 8))):
        if not ep.is_open:
            break
        rule = draw(st.sampled_from(pathway.rules_from(ep.state)))
        at = at + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
        a = draw(st.none() | assessment_strategy())
        level = rule.target if rule.event in _MOVES else None
        event_id = draw(st.none() | _IDS)
        try:
            if draw(st.booleans()):
                ep.record(
                    rule.event,
                    level,
                    at=at,
                    assessment=a,
                    event_id=event_id,
                    note=draw(st.none() | _TEXT),
                )
            elif rule.event is Event.DROP_OUT:
                ep.drop_out(at=at, reason=draw(st.none() | _TEXT), event_id=event_id)
            elif rule.event is Event.TRANSFER_OUT:
                ep.transfer_out(at=at, event_id=event_id)
            else:
                o = draw(st.none() | overrides())
                if rule.event in _MOVES:
                    move = {
                        Event.ADMIT: ep.admit,
                        Event.STEP_DOWN: ep.step_down,
                        Event.STEP_UP: ep.step_up,
                    }[rule.event]
                    move(rule.target, at=at, assessment=a, override=o, event_id=event_id)
                elif rule.event is Event.RELAPSE:
                    ep.relapse(at=at, assessment=a, override=o, event_id=event_id)
                elif rule.event is Event.REASSESS:
                    ep.reassess(a or Assessment(), at=at, override=o, event_id=event_id)
                else:
                    ep.complete(at=at, assessment=a, override=o, event_id=event_id)
        except (TransitionRejected, InvalidEvent):
            continue
    return ep


# -- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@_FEW
@given(episode=episodes(max_events=8))
def test_fhir_export_then_import_gives_an_equal_episode(version: str, episode: Episode) -> None:
    """For any episode, from_fhir(to_fhir(episode)) == episode, through JSON text."""
    bundle = to_fhir(episode, "R5" if version == "R5" else "R4B")
    back = from_fhir(bundle.model_dump_json(), episode.pathway)
    assert back == episode


@pytest.mark.parametrize("version", VERSIONS)
@_FEW
@given(episode=rich_episodes())
def test_facts_notes_and_links_survive_the_fhir_round_trip(version: str, episode: Episode) -> None:
    """Facts with findings, notes of any text, caller ids and the previous-episode link
    come back exactly; the model itself is accepted as input too."""
    bundle = to_fhir(episode, "R5" if version == "R5" else "R4B")
    assert from_fhir(bundle, episode.pathway) == episode
    assert from_fhir(bundle.model_dump_json(), episode.pathway).findings() == episode.findings()


@pytest.mark.parametrize("version", VERSIONS)
def test_a_typical_episode_round_trips_and_keeps_ids(version: str) -> None:
    ep = _typical()
    bundle = to_fhir(ep, "R5" if version == "R5" else "R4B")
    back = from_fhir(json.loads(bundle.model_dump_json()), standard_pathway())
    assert back == ep
    assert [r.event_id for r in back.history] == ["ep-7:1", "ep-7:2", "ep-7:3", "MSG-20", "ep-7:5"]
    assert back.history[3].note == ""  # an empty note is not a valid FHIR string, yet survives
    assert back.history[2].override == Override(reason="bed shortage", by="dr-1")


# -- what the bundle holds ----------------------------------------------------------------------


def test_r4b_bundle_parses_with_fhir_resources_and_holds_the_expected_resources() -> None:
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415  # optional extra

    bundle = Bundle.model_validate_json(to_fhir(_typical(), "R4B").model_dump_json())
    assert bundle.type == "transaction"
    (eoc,) = _resources(bundle, "EpisodeOfCare")
    encounters = _resources(bundle, "Encounter")
    observations = _resources(bundle, "Observation")
    assert eoc.status == "finished"
    assert [h.status for h in eoc.statusHistory] == ["planned", "active", "finished"]
    assert [e.class_fhir.code for e in encounters] == ["ACUTE", "NONAC", "AMB", "AMB"]
    assert [e.serviceType.coding[0].code for e in encounters] == [
        "detox",
        "inpatient",
        "iop",
        "php",
    ]
    assert encounters[0].serviceType.coding[0].system == LEVEL_SYSTEM
    assert {c.code for c in encounters[2].serviceType.coding[1:]} == {"2.1"}
    assert [e.status for e in encounters] == ["finished"] * 4
    assert encounters[-1].hospitalization.dischargeDisposition.coding[0].code == "aadvice"
    assert encounters[0].hospitalization is None
    assert encounters[0].period.end == encounters[1].period.start
    assert len(observations) == 3 * 6  # three assessments, six dimensions each
    assert {o.valueInteger for o in observations} <= {0, 1, 2, 3, 4}
    assert all(e.request is not None and e.request.method == "PUT" for e in bundle.entry or [])
    events = [x for x in eoc.extension if x.url == EXT_EVENT]
    assert len(events) == 5
    # The override's reason and the reasons it set aside stay readable in the bundle.
    third = {x.url: x for x in events[2].extension}
    assert third["override"].extension[0].valueString == "bed shortage"
    assert any(x.url == "reason" for x in events[2].extension)


def test_r5_bundle_uses_r5_shapes() -> None:
    from fhir.resources.bundle import Bundle  # noqa: PLC0415  # optional extra

    ep = _typical()
    ep_open = standard_pathway().start("patient-8", at=T0, episode_id="ep-8")
    ep_open.admit("detox", at=T0, assessment=Assessment(withdrawal=4))
    bundle = Bundle.model_validate_json(to_fhir(ep, "R5").model_dump_json())
    encounters = _resources(bundle, "Encounter")
    assert encounters[0].class_fhir[0].coding[0].code == "ACUTE"
    assert encounters[0].serviceType[0].concept.coding[0].code == "detox"
    assert encounters[0].actualPeriod.start == T0
    assert [e.status for e in encounters] == ["completed"] * 4
    assert encounters[-1].admission.dischargeDisposition.coding[0].code == "aadvice"
    (open_enc,) = _resources(to_fhir(ep_open, "R5"), "Encounter")
    assert open_enc.status == "in-progress"
    assert open_enc.actualPeriod.end is None
    assert _resources(to_fhir(ep_open, "R5"), "EpisodeOfCare")[0].status == "active"


def test_episode_status_follows_the_episode() -> None:
    p = standard_pathway()
    planned = p.start("p", at=T0, episode_id="e1")
    cancelled = p.start("p", at=T0, episode_id="e2")
    cancelled.drop_out(at=T0 + timedelta(hours=1))
    for ep, status in ((planned, "planned"), (cancelled, "cancelled")):
        (eoc,) = _resources(to_fhir(ep), "EpisodeOfCare")
        assert eoc.status == status
        assert from_fhir(to_fhir(ep), p) == ep


def test_collection_bundles_and_patient_references() -> None:
    bundle = to_fhir(
        _typical(),
        bundle_type="collection",
        patient_reference="Patient/42",
        patient_system="urn:oid:1.2.3",
    )
    assert bundle.type == "collection"
    assert all(e.request is None for e in bundle.entry or [])
    (eoc,) = _resources(bundle, "EpisodeOfCare")
    assert eoc.patient.reference == "Patient/42"
    assert eoc.patient.identifier.system == "urn:oid:1.2.3"
    assert from_fhir(bundle, standard_pathway()) == _typical()


def test_the_code_table_covers_every_standard_level_and_outcome() -> None:
    assert set(LEVEL_CODES) == {lv.code for lv in STANDARD_LEVELS}
    for lv in STANDARD_LEVELS:
        row = codes_for(lv)
        assert row is LEVEL_CODES[lv.code]
        assert (row.asam3, row.asam4) == (lv.asam3, lv.asam4)
    assert {c.disposition for c in OUTCOME_CODES.values()} == {"home", "aadvice", "other-hcf"}


def test_levels_of_a_custom_pathway_get_codes_from_their_setting() -> None:
    import attrs  # noqa: PLC0415

    from carepath.levels import DETOX, PHP  # noqa: PLC0415

    assert codes_for(attrs.evolve(DETOX, code="wm_hospital", asam3=())).act_code == "ACUTE"
    assert codes_for(attrs.evolve(PHP, code="day_programme")).place_of_service == "52"


# -- errors -------------------------------------------------------------------------------------


def _data(version: str = "R4B") -> dict[str, Any]:
    return bundle_data(_typical(), "R5" if version == "R5" else "R4B")


def _entry(data: dict[str, Any], kind: str, n: int = 0) -> dict[str, Any]:
    found = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]
    resource: dict[str, Any] = found[n]
    return resource


def _error(data: object, pathway: Pathway | None = None) -> InteropError:
    with pytest.raises(InteropError) as info:
        from_fhir(data, pathway or standard_pathway())
    return info.value


def test_text_that_is_not_json_is_refused() -> None:
    err = _error("{not json")
    assert err.resource == "Bundle"
    assert "invalid JSON" in str(err)
    assert err.field == "line 1 column 2"


def test_a_resource_that_is_not_a_bundle_is_refused() -> None:
    err = _error({"resourceType": "Patient"})
    assert err.resource == "Bundle"
    assert isinstance(err, ValueError)


def test_an_unknown_resource_type_is_refused() -> None:
    data = _data()
    data["entry"][1]["resource"]["resourceType"] = "Nonsense"
    assert _error(data).resource == "Bundle"


def test_invalid_fhir_names_the_resource_and_field() -> None:
    data = _data()
    del _entry(data, "Encounter")["class"]
    err = _error(data)
    assert err.resource.startswith("Encounter (Bundle.entry[1])")
    assert err.field == "class"


def test_a_rating_out_of_range_names_the_observation() -> None:
    data = _data("R5")
    _entry(data, "Observation", 2)["valueInteger"] = 7
    err = _error(data)
    assert err.resource.startswith("Observation")
    assert err.field == "valueInteger"
    assert err.standard == "FHIR R5"


def test_a_move_the_pathway_forbids_is_refused_naming_the_event() -> None:
    data = _data()
    eoc = _entry(data, "EpisodeOfCare")
    events = [x for x in eoc["extension"] if x["url"] == EXT_EVENT]
    for sub in events[2]["extension"]:  # inpatient -> iop becomes a step "down" to detox
        if sub["url"] == "target":
            sub["valueCode"] = "detox"
    err = _error(data)
    assert err.resource.startswith("EpisodeOfCare")
    assert err.field == "extension[3]"
    assert "ep-7:3" in err.problem
    assert "does not replay" in err.problem
    assert err.reasons  # the pathway's reasons travel with the error


def test_a_bundle_from_another_pathway_version_is_refused() -> None:
    other = Pathway(
        id="other",
        version="2",
        levels=STANDARD_LEVELS,
        criteria=STANDARD_CRITERIA,
        rules=default_rules(STANDARD_LEVELS),
    )
    err = _error(_data(), other)
    assert "pathway" in err.field
    assert "content hash" in err.problem


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: _entry(d, "EpisodeOfCare").update(status="active"), "status"),
        (
            lambda d: _entry(d, "Encounter", 1)["period"].update(end="2027-01-01T00:00:00Z"),
            "period.end",
        ),
        (lambda d: _entry(d, "EpisodeOfCare").pop("period"), "period"),
        (lambda d: _entry(d, "EpisodeOfCare").pop("identifier"), "identifier"),
        (lambda d: _entry(d, "Observation", 0).pop("extension"), "extension"),
        (
            lambda d: _entry(d, "Encounter", 2)["serviceType"]["coding"][0].update(code="php"),
            "serviceType",
        ),
    ],
)
def test_inconsistent_bundles_name_the_field(edit: Any, field: str) -> None:
    data = _data()
    edit(data)
    assert _error(data).field == field


def test_a_bundle_needs_exactly_one_episode_of_care() -> None:
    data = _data()
    data["entry"].append(copy.deepcopy(data["entry"][0]))
    err = _error(data)
    assert "exactly one EpisodeOfCare" in err.problem


def test_unsupported_versions_are_refused() -> None:
    with pytest.raises(InteropError, match="R4B"):
        to_fhir(_typical(), "STU3")  # type: ignore[call-overload]  # deliberate mistake
    with pytest.raises(InteropError, match="R4B"):
        from_fhir(_data(), standard_pathway(), version="DSTU2")  # type: ignore[arg-type]


def test_errors_carry_no_patient_data() -> None:
    """A bad bundle's error names ids at most: no notes, override reasons or ratings."""
    data = _data()
    _entry(data, "EpisodeOfCare")["patient"] = {"display": "Jane Doe"}
    err = _error(data)
    assert "Jane" not in str(err)
    assert "stopped attending" not in str(err)


_SECRET = "Jane-Doe-1980-01-01"


def _set_event_part(data: dict[str, Any], url: str, key: str, value: object) -> None:
    event = next(x for x in _entry(data, "EpisodeOfCare")["extension"] if x["url"] == EXT_EVENT)
    next(sub for sub in event["extension"] if sub["url"] == url)[key] = value


def _set_pathway_part(data: dict[str, Any], url: str, value: str) -> None:
    ext = next(
        x for x in _entry(data, "EpisodeOfCare")["extension"] if x["url"].endswith("/pathway")
    )
    next(sub for sub in ext["extension"] if sub["url"] == url)["valueString"] = value


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: _entry(d, "EpisodeOfCare").update(status=_SECRET), "status"),
        (lambda d: _entry(d, "EpisodeOfCare").update({_SECRET: 1}), ""),
        (lambda d: _entry(d, "Encounter")["period"].update({_SECRET: "x"}), "period"),
        (lambda d: _entry(d, "Encounter").update(resourceType=_SECRET), ""),
        (
            lambda d: _set_pathway_part(d, "contentHash", _SECRET),
            "extension(https://carepath.dev/fhir/StructureDefinition/pathway)",
        ),
        (
            lambda d: _set_event_part(d, "target", "valueCode", _SECRET),
            "extension[1].extension(target)",
        ),
        (
            lambda d: _set_event_part(d, "source", "valueCode", _SECRET),
            "extension[1].extension(source)",
        ),
        (
            lambda d: _set_event_part(d, "event", "valueCode", _SECRET),
            "extension[1].extension(event)",
        ),
    ],
)
def test_errors_name_the_field_and_never_echo_what_the_sender_wrote(edit: Any, field: str) -> None:
    """A bad status, an unknown element, a foreign pathway or a made-up code is refused by
    naming the field; the sender's text (which may be patient data) is not repeated."""
    data = _data()
    edit(data)
    err = _error(data)
    assert err.field == field
    assert _SECRET not in str(err)
    assert "Jane" not in str(err)


def test_an_unknown_status_is_refused_naming_the_allowed_ones() -> None:
    data = _data()
    _entry(data, "EpisodeOfCare")["status"] = "paused"
    err = _error(data)
    assert err.field == "status"
    assert "allowed: planned, waitlist, active, onhold, finished" in err.problem
    assert "paused" not in str(err)


# -- fuzz ---------------------------------------------------------------------------------------

_BASE = bundle_data(_typical(), "R4B")
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


_ALL_PATHS = _paths(_BASE)[1:]


@_FEW
@given(
    st.lists(st.tuples(st.sampled_from(_ALL_PATHS), st.booleans(), _JSON), min_size=1, max_size=3)
)
def test_fuzzed_bundles_give_an_episode_or_a_carepath_error(
    edits: list[tuple[tuple[Any, ...], bool, object]],
) -> None:
    """Deleting or replacing any part of a valid bundle never leaks a raw exception."""
    data = copy.deepcopy(_BASE)
    for path, delete, value in edits:
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        episode = from_fhir(data, standard_pathway())
    except CarepathError:
        return
    assert isinstance(episode, Episode)


@settings(max_examples=30)
@given(st.text(max_size=200) | st.binary(max_size=50))
def test_arbitrary_text_gives_a_carepath_error(text: str | bytes) -> None:
    with pytest.raises(CarepathError):
        from_fhir(text, standard_pathway())


def test_the_code_table_in_the_docs_matches_the_module() -> None:
    """docs/interop.md shows LEVEL_CODES row by row; the two cannot drift apart."""
    from pathlib import Path  # noqa: PLC0415

    page = (Path(__file__).resolve().parent.parent / "docs" / "interop.md").read_text(
        encoding="utf-8"
    )
    rows = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in LEVEL_CODES:
            rows[cells[0]] = cells
    assert set(rows) == set(LEVEL_CODES)
    for code, row in LEVEL_CODES.items():
        assert rows[code] == [
            code,
            f"{row.act_code} ({row.act_display})",
            f"{row.place_of_service} {row.place_of_service_display}",
            ", ".join(row.asam3),
            ", ".join(row.asam4),
            row.patient_class,
            ", ".join(row.services),
        ]
