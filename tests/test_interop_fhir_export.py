"""FHIR export a server keeps right: official JSON schemas (R4, R4B, R5), corrections as
entered-in-error, generated narrative, one ASAM level per stay, and exact round trips,
also through a simulated FHIR server."""

from __future__ import annotations

import functools
import gzip
import json
import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepath import Assessment, Episode, standard_pathway
from carepath.interop import from_fhir, to_fhir, to_fhir_json
from carepath.interop._fhir import ASAM3_SYSTEM, ASAM4_SYSTEM
from carepath.testing import episodes
from support import T0

pytest.importorskip("fhir.resources")
jsonschema = pytest.importorskip("jsonschema")

VERSIONS = ("R4", "R4B", "R5")
SCHEMAS = Path(__file__).resolve().parent / "fhir_schemas"
_FEW = settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@functools.cache
def _validator(version: str) -> Any:
    schema = json.loads(
        gzip.decompress((SCHEMAS / f"{version.lower()}.schema.json.gz").read_bytes())
    )
    return jsonschema.Draft6Validator(schema)


def _schema_errors(data: object, version: str) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:120]}"
        for e in _validator(version).iter_errors(data)
    ]


def _episode(episode_id: str = "ep-1", *, with_php: bool = True) -> Episode:
    """Detox, residential (unless corrected away), IOP; a note with a non-breaking space."""
    ep = standard_pathway().start("patient-1", at=T0, episode_id=episode_id)
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="A01-1")
    if with_php:
        ep.record("step_down", "inpatient", at=T0 + timedelta(days=4), event_id="A02-1")
    ep.record(
        "step_down",
        "iop",
        at=T0 + timedelta(days=20),
        event_id="A02-2",
        note="moved\u00a0to IOP",
        assessment=Assessment(relapse=2),
    )
    return ep


@pytest.mark.parametrize("version", VERSIONS)
def test_exports_pass_the_official_json_schema(version: str) -> None:
    """Every bundle shape carepath writes is valid against the FHIR JSON schema of its
    version (vendored from the HL7 core packages, CC0): transaction, collection, a
    correction with entered-in-error entries, and a free-text note with a non-breaking
    space (refused by R4/R4B's string pattern when written as a plain string)."""
    ep = _episode()
    for text in (
        to_fhir_json(ep, version),  # type: ignore[arg-type]  # each version in turn
        to_fhir_json(ep, version, bundle_type="collection"),  # type: ignore[arg-type]
        to_fhir_json(_episode(with_php=False), version, replaces=ep),  # type: ignore[arg-type]
    ):
        assert _schema_errors(json.loads(text), version) == []


@pytest.mark.parametrize("version", ["R4", "R4B"])
def test_the_schema_check_can_fail(version: str) -> None:
    """A string with a non-breaking space and an unknown status are refused: the check
    is not vacuous."""
    data = json.loads(to_fhir_json(_episode(), version))  # type: ignore[arg-type]
    data["entry"][1]["resource"]["status"] = "bogus"
    data["entry"][0]["resource"]["type"][0]["text"] = "a\u00a0b"
    errors = _schema_errors(data, version)
    assert errors


def test_a_correction_marks_the_stays_that_no_longer_exist_entered_in_error() -> None:
    before = _episode()
    after = _episode(with_php=False)  # the transfer to residential care was cancelled
    bundle = json.loads(to_fhir_json(after, "R4", replaces=before))
    encounters = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
    ]
    statuses = {enc["identifier"][0]["value"]: enc["status"] for enc in encounters}
    assert statuses == {
        "ep-1:A01-1": "finished",
        "ep-1:A02-2": "in-progress",
        "ep-1:A02-1": "entered-in-error",
    }
    gone = next(e for e in bundle["entry"] if e["resource"]["status"] == "entered-in-error")
    assert gone["request"]["url"].startswith("Encounter?identifier=")  # the same PUT target
    assert from_fhir(bundle, standard_pathway()) == after
    with pytest.raises(Exception, match="replaces episode"):
        to_fhir(after, replaces=_episode("other"))


def test_narrative_ids_and_codes_only_and_one_asam_level_per_stay() -> None:
    bundle = json.loads(to_fhir_json(_episode(), "R4B"))
    for entry in bundle["entry"]:
        div = entry["resource"]["text"]["div"]
        assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        assert not re.search(r"\d{4}-\d{2}-\d{2}", div)  # no dates of service
        assert "patient-1" not in div
    encounters = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
    ]
    asam = [
        [(c["system"], c["code"]) for c in enc["serviceType"]["coding"] if "asam" in c["system"]]
        for enc in encounters
    ]
    assert asam == [
        [(ASAM3_SYSTEM, "3.7-WM")],  # detox: the WM level, no bare 3.7
        [(ASAM3_SYSTEM, "3.1"), (ASAM4_SYSTEM, "3.1")],
        [(ASAM3_SYSTEM, "2.1"), (ASAM4_SYSTEM, "2.1")],
    ]
    assert [enc["type"][0]["coding"][0]["code"] for enc in encounters] == [
        "H0011",
        "H0018",
        "H0015",
    ]
    assert encounters[0]["subject"]["identifier"]["system"].endswith("/identifier/patient")


def _server_round_trip(data: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """What a FHIR server gives back: its own ids and absolute fullUrls, references
    rewritten to them, meta added, a searchset in any order."""
    text = json.dumps(data)
    urls: dict[str, str] = {}
    for n, entry in enumerate(data["entry"]):
        urls[entry["fullUrl"]] = f"{entry['resource']['resourceType']}/srv-{n}"
    for old, new in urls.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    out = json.loads(text)
    entries = []
    for entry in out["entry"]:
        res = entry["resource"]
        kind, rid = entry["fullUrl"].split("/")
        res["id"] = rid
        res["meta"] = {"versionId": "3", "lastUpdated": "2026-06-01T00:00:00Z"}
        entries.append(
            {
                "fullUrl": f"https://fhir.example.org/r4/{kind}/{rid}",
                "resource": res,
                "search": {"mode": "match"},
            }
        )
    rnd.shuffle(entries)
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


@pytest.mark.parametrize("version", VERSIONS)
@_FEW
@given(episode=episodes(max_events=8), seed=st.integers(0, 2**32 - 1))
def test_round_trip_is_exact_also_through_a_fhir_server(
    version: str, episode: Episode, seed: int
) -> None:
    """For any episode and each version, from_fhir(to_fhir(e)) == e, and so after a
    server rewrote ids and references, added meta and shuffled the entries."""
    text = to_fhir_json(episode, version)  # type: ignore[arg-type]
    assert from_fhir(text, episode.pathway) == episode
    served = _server_round_trip(json.loads(text), random.Random(seed))
    assert from_fhir(served, episode.pathway) == episode


def test_the_model_and_the_json_export_hold_the_same_episode() -> None:
    ep = _episode()
    for version in VERSIONS:
        model = to_fhir(ep, version)  # type: ignore[call-overload]  # each version in turn
        text = to_fhir_json(ep, version)  # type: ignore[arg-type]
        assert len(json.loads(text)["entry"]) == len(model.entry)
        assert from_fhir(model, ep.pathway) == from_fhir(text, ep.pathway) == ep
