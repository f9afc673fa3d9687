"""FHIR as EHRs write it: foreign bundles in three shapes, Bulk Data NDJSON, code maps,
findings, and no patient data in any message."""

from __future__ import annotations

import json
import logging
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carepath import Assessment, Event, InteropError, Outcome, standard_pathway
from carepath.interop import (
    CodeMap,
    FhirImport,
    episodes_from_fhir_ndjson,
    from_fhir,
    read_fhir,
)

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
HSLOC = "https://www.cdc.gov/nhsn/cdaportal/terminology/codesystem/hsloc.html"
DISPO = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
LOINC = "http://loinc.org"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"

# Planted patient data: none of it may appear in any finding, error, repr or log.
PHI = ("Zebediah", "Quux", "1961-07-04", "078-05-1120", "42 Wallaby Way", "555-867-5309")


def _patient(pid: str = "pt-1") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {"system": "urn:oid:1.2.840.114350.1.1", "value": f"MRN-{pid}"},
            {"system": SSN_SYSTEM, "value": PHI[3]},
        ],
        "name": [{"family": PHI[1], "given": [PHI[0]]}],
        "birthDate": PHI[2],
        "address": [{"line": [PHI[4]], "city": "Springfield"}],
        "telecom": [{"system": "phone", "value": PHI[5]}],
    }


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _encounter(
    eid: str,
    start: str | None,
    end: str | None = None,
    *,
    status: str = "finished",
    cls: str = "IMP",
    types: list[dict[str, Any]] | None = None,
    episode: str | None = "EpisodeOfCare/eoc-1",
    disposition: str | None = None,
    r5: bool = False,
    patient: str = "pt-1",
    **extra: Any,
) -> dict[str, Any]:
    period = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": eid,
        "status": status,
        "class": [_coding(ACT, cls)] if r5 else {"system": ACT, "code": cls},
        "subject": {"reference": f"Patient/{patient}"},
        "actualPeriod" if r5 else "period": period,
        **extra,
    }
    if types:
        res["type"] = types
    if episode:
        res["episodeOfCare"] = [{"reference": episode}]
    if disposition:
        res["admission" if r5 else "hospitalization"] = {
            "dischargeDisposition": _coding(DISPO, disposition)
        }
    return res


def _vitals(at: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "hr-1",
        "status": "final",
        "code": _coding(LOINC, "8867-4"),
        "subject": {"reference": "Patient/pt-1"},
        "effectiveDateTime": at,
        "valueQuantity": {"value": 72, "unit": "/min"},
    }


def _phq9(at: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "phq-1",
        "status": "final",
        "code": _coding(LOINC, "44261-6"),
        "subject": {"reference": "Patient/pt-1"},
        "effectiveDateTime": at,
        "valueInteger": 14,
    }


def _bundle(kind: str, resources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    entries = []
    for r in resources:
        entry: dict[str, Any] = {
            "fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}",
            "resource": r,
        }
        if kind == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries, **extra}


def _clean_transaction() -> dict[str, Any]:
    """Shape 1: an R4 transaction as an EHR exports it, coded with public codes only."""
    return _bundle(
        "transaction",
        [
            _patient(),
            {
                "resourceType": "EpisodeOfCare",
                "id": "eoc-1",
                "status": "finished",
                "patient": {"reference": "Patient/pt-1"},
                "period": {
                    "start": "2026-01-05T09:00:00-05:00",
                    "end": "2026-02-20T10:00:00-05:00",
                },
            },
            _encounter(
                "enc-detox",
                "2026-01-05T09:00:00-05:00",
                "2026-01-09T11:00:00-05:00",
                types=[_coding(HCPCS, "H0011")],
            ),
            _encounter(
                "enc-res",
                "2026-01-09T11:00:00-05:00",
                "2026-01-30T10:00:00-05:00",
                cls="NONAC",
                types=[_coding(POS, "55")],
            ),
            _encounter(
                "enc-iop",
                "2026-01-30T10:00:00-05:00",
                "2026-02-20T10:00:00-05:00",
                cls="AMB",
                types=[_coding(HCPCS, "H0015"), _coding(POS, "57")],
                disposition="home",
            ),
            _vitals("2026-01-06T08:00:00-05:00"),
            _phq9("2026-01-06T08:00:00-05:00"),
        ],
    )


def test_a_clean_transaction_with_public_codes_gives_the_episode() -> None:
    result = read_fhir(_clean_transaction(), standard_pathway())
    (episode,) = result.episodes["pt-1"]
    assert episode.id == "eoc-1"
    assert [(r.event, r.target) for r in episode.history] == [
        (Event.ADMIT, "detox"),
        (Event.STEP_DOWN, "inpatient"),
        (Event.STEP_DOWN, "iop"),
        (Event.COMPLETE, "completed"),
    ]
    assert episode.outcome is Outcome.COMPLETED
    assert [r.event_id for r in episode.history][:3] == [
        "Encounter/enc-detox",
        "Encounter/enc-res",
        "Encounter/enc-iop",
    ]
    assert result.findings == ()  # vitals and PHQ-9 are ignored without a finding
    assert result.counts["Observation"] == 2
    assert result.counts["stays"] == 3
    assert "3 stays into 1 episodes of 1 patients" in result.summary()
    assert from_fhir(json.dumps(_clean_transaction()), standard_pathway()) == episode


def _searchset() -> dict[str, Any]:
    """Shape 2: an R5 searchset page; one Encounter holds a transfer as two location
    periods and is still in progress."""
    return _bundle(
        "searchset",
        [
            _patient(),
            {"resourceType": "Location", "id": "RES", "type": [_coding(HSLOC, "9999-1")]},
            _encounter(
                "enc-1",
                "2026-03-01T08:00:00+00:00",
                status="in-progress",
                cls="IMP",
                r5=True,
                episode=None,
                location=[
                    {
                        "location": {"reference": "Location/DTX"},
                        "period": {
                            "start": "2026-03-01T08:00:00+00:00",
                            "end": "2026-03-04T12:00:00+00:00",
                        },
                    },
                    {
                        "location": {"reference": "Location/RES"},
                        "period": {"start": "2026-03-04T12:00:00+00:00"},
                    },
                ],
            ),
        ],
        link=[
            {"relation": "self", "url": "https://ehr.example/fhir/Encounter?patient=pt-1"},
            {"relation": "next", "url": "https://ehr.example/fhir/Encounter?page=2"},
        ],
    )


_SITE_TOML = """
# The site's units and codes
[locations]
"Location/DTX" = "detox"

[levels.hsloc]
"9999-1" = "inpatient"
"""


def test_a_searchset_with_location_periods_and_an_open_stay() -> None:
    site = CodeMap.from_toml(_SITE_TOML)
    result = read_fhir(_searchset(), standard_pathway(), code_map=site)
    (episode,) = result.episodes["pt-1"]
    assert [(r.event, r.target, r.at) for r in episode.history] == [
        (Event.ADMIT, "detox", datetime(2026, 3, 1, 8, tzinfo=UTC)),
        (Event.STEP_DOWN, "inpatient", datetime(2026, 3, 4, 12, tzinfo=UTC)),
    ]
    assert episode.is_open
    assert episode.state == "inpatient"
    assert [f.kind for f in result.findings] == ["partial-page"]
    # Without the site map the Encounter's codes (class IMP) place it nowhere: a finding
    # that names the codes, and an error rather than an empty episode.
    with pytest.raises(InteropError, match="add codes to the code map") as info:
        read_fhir(_searchset(), standard_pathway())
    assert "v3-ActCode|IMP" in str(info.value)


def _messy() -> dict[str, Any]:
    """Shape 3: a collection with an ED visit, a pre-admission, an entered-in-error
    Encounter, a date-only start, overlapping stays and a QuestionnaireResponse."""
    ratings = {"withdrawal": 3, "biomedical": 1, "emotional": 2, "readiness": 1, "relapse": 3}
    qr_items = [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in ratings.items()]
    qr_items.append(
        {
            "linkId": "group",
            "item": [{"linkId": "environment", "answer": [{"valueCoding": {"code": "2"}}]}],
        }
    )
    return _bundle(
        "collection",
        [
            _patient(),
            _encounter(
                "ed-1", "2026-02-27T22:00:00Z", "2026-02-28T03:00:00Z", cls="EMER", episode=None
            ),
            _encounter(
                "pre-1", "2026-02-28T10:00:00Z", cls="PRENC", status="planned", episode=None
            ),
            _encounter(
                "bad-1",
                "2026-03-01T00:00:00Z",
                "2026-03-02T00:00:00Z",
                status="entered-in-error",
                types=[_coding(HCPCS, "H0018")],
                episode=None,
            ),
            _encounter(
                "detox-1",
                "2026-03-01",
                "2026-03-05T17:00:00Z",
                types=[_coding(HCPCS, "H0011")],
                episode=None,
            ),
            _encounter(
                "res-1",
                "2026-03-05T15:00:00Z",
                "2026-03-30T12:00:00Z",
                cls="NONAC",
                types=[_coding(HCPCS, "H0018")],
                episode=None,
                disposition="aadvice",
            ),
            {
                "resourceType": "QuestionnaireResponse",
                "id": "qr-1",
                "status": "completed",
                "subject": {"reference": "Patient/pt-1"},
                "authored": "2026-02-28T15:00:00Z",
                "item": qr_items,
            },
            _phq9("2026-03-02T08:00:00Z"),
        ],
    )


def test_a_messy_collection_gives_the_stays_and_reports_what_it_decided() -> None:
    result = read_fhir(_messy(), standard_pathway())
    (episode,) = result.episodes["pt-1"]
    assert [(r.event, r.target, r.at) for r in episode.history] == [
        (Event.ADMIT, "detox", datetime(2026, 3, 1, tzinfo=UTC)),
        (Event.STEP_DOWN, "inpatient", datetime(2026, 3, 5, 15, tzinfo=UTC)),
        (Event.DROP_OUT, "dropped_out", datetime(2026, 3, 30, 12, tzinfo=UTC)),
    ]
    assert episode.history[0].assessment == Assessment(
        withdrawal=3, biomedical=1, emotional=2, readiness=1, relapse=3, environment=2
    )
    kinds = [(f.kind, f.resource) for f in result.findings]
    assert ("ignored", "Encounter/ed-1") in kinds
    assert ("ignored", "Encounter/pre-1") in kinds
    assert ("ignored", "Encounter/bad-1") in kinds
    assert ("date-only", "Encounter/detox-1") in kinds
    assert ("overlap", "Encounter/res-1") in kinds
    assert len(kinds) == 5


def test_an_unmapped_stay_is_a_finding_naming_its_codes_never_dropped_silently() -> None:
    data = _clean_transaction()
    data["entry"][3]["resource"]["type"] = [_coding("urn:oid:1.2.3.4", "RES-UNIT")]
    data["entry"][3]["resource"]["class"] = {"system": ACT, "code": "NONAC"}
    result = read_fhir(data, standard_pathway())
    (finding,) = [f for f in result.findings if f.kind == "unmapped"]
    assert finding.resource == "Encounter/enc-res"
    assert "urn:oid:1.2.3.4|RES-UNIT" in finding.codes
    # The same stay with the site's code added to the map is placed.
    site = CodeMap(levels={"urn:oid:1.2.3.4": {"RES-UNIT": "inpatient"}})
    assert read_fhir(data, standard_pathway(), code_map=site).counts["stays"] == 3


def test_cancelled_and_voided_stays_only_give_an_error_not_an_empty_episode() -> None:
    data = _bundle(
        "collection",
        [_patient(), _encounter("x", "2026-01-01T00:00:00Z", types=[_coding("urn:x", "Q")])],
    )
    with pytest.raises(InteropError) as info:
        from_fhir(data, standard_pathway())
    assert "urn:x|Q" in str(info.value)


def test_a_plain_list_of_resources_and_a_batch_response_are_read() -> None:
    resources = [e["resource"] for e in _clean_transaction()["entry"]]
    assert read_fhir(resources, standard_pathway()).counts["stays"] == 3
    batch = {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [{"response": {"status": "404"}}] + [{"resource": r} for r in resources],
    }
    assert len(read_fhir(batch, standard_pathway()).episodes["pt-1"]) == 1


def test_r5_dispositions_and_patient_identifiers() -> None:
    data = _clean_transaction()
    for e in data["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Encounter":
            r["class"] = [{"coding": [r["class"]]}]
            r["actualPeriod"] = r.pop("period")
            if "hospitalization" in r:
                r["admission"] = r.pop("hospitalization")
                r["admission"]["dischargeDisposition"] = _coding(DISPO, "other-hcf")
    site = CodeMap(patient_system="urn:oid:1.2.840.114350.1.1")
    result = read_fhir(data, standard_pathway(), code_map=site)
    (episode,) = result.episodes["MRN-pt-1"]
    assert episode.outcome is Outcome.TRANSFERRED_OUT


def test_code_map_toml_errors_name_the_table() -> None:
    with pytest.raises(InteropError, match="not a code-map table"):
        CodeMap.from_toml("[levelz]\n")
    with pytest.raises(InteropError, match="not valid TOML"):
        CodeMap.from_toml("levels = [")
    m = CodeMap.from_toml('\ufeff[levels.pos]\n"99" = "iop"\n')
    assert m.level_for([(POS, "99")]) == "iop"


def test_no_patient_data_reaches_findings_errors_reprs_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Patient name, birth date, SSN, address and phone are planted in the Patient and in
    codes an error or finding could quote; none of them is repeated anywhere."""
    data = _messy()
    data["entry"].append(
        {
            "resource": _encounter(
                "x-2",
                "2026-04-01T00:00:00Z",
                types=[_coding(SSN_SYSTEM, PHI[3]), _coding("urn:x", PHI[5])],
                disposition=PHI[2],
                episode=None,
            )
        }
    )
    result = read_fhir(data, standard_pathway())
    texts = [repr(result), result.summary(), *(str(f) for f in result.findings)]
    texts += [repr(f) for f in result.findings]
    only_bad = _bundle("collection", [_patient(), data["entry"][-1]["resource"]])
    with caplog.at_level(logging.DEBUG, logger="carepath"), pytest.raises(InteropError) as info:
        from_fhir(only_bad, standard_pathway())
    texts += [str(info.value), repr(info.value), caplog.text]
    with caplog.at_level(logging.DEBUG, logger="carepath"):
        from_fhir(_messy(), standard_pathway())
    texts.append(caplog.text)
    for text in texts:
        for secret in PHI:
            assert secret not in text


# -- Bulk Data NDJSON --------------------------------------------------------------------------


def _ndjson_lines(patients: int) -> Iterator[str]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(patients):
        pid = f"p{i}"
        yield json.dumps(_patient(pid))
        start = t0 + timedelta(hours=i)
        mid = start + timedelta(days=4)
        yield json.dumps(
            _encounter(
                f"e{i}a",
                start.isoformat(),
                mid.isoformat(),
                types=[_coding(HCPCS, "H0011")],
                episode=None,
                patient=pid,
            )
        )
        yield json.dumps(
            _encounter(
                f"e{i}b",
                mid.isoformat(),
                (mid + timedelta(days=20)).isoformat(),
                types=[_coding(POS, "55")],
                episode=None,
                patient=pid,
                disposition="home",
            )
        )


def test_bulk_ndjson_files_stream_into_each_patients_episodes(tmp_path: Any) -> None:
    enc = tmp_path / "Encounter.ndjson"
    pat = tmp_path / "Patient.ndjson"
    lines = list(_ndjson_lines(3))
    pat.write_text("\ufeff" + "\n".join(lines[0::3]) + "\n", encoding="utf-8")
    enc.write_text("\n".join(lines[1::3] + lines[2::3]) + "\n\n", encoding="utf-8")
    result = episodes_from_fhir_ndjson([enc, str(pat)], standard_pathway())
    assert set(result.episodes) == {"p0", "p1", "p2"}
    assert all(eps[0].outcome is Outcome.COMPLETED for eps in result.episodes.values())
    assert result.counts == {"Patient": 3, "Encounter": 6, "stays": 6}
    bad = tmp_path / "Bad.ndjson"
    bad.write_bytes(lines[0].encode() + b"\n{not json\n")
    with pytest.raises(InteropError, match=r"Bad.ndjson: line 2 column 2: invalid JSON"):
        episodes_from_fhir_ndjson([bad], standard_pathway())
    with pytest.raises(InteropError, match="max_line_bytes"):
        episodes_from_fhir_ndjson([enc], standard_pathway(), max_line_bytes=100)


def test_ten_thousand_patients_stream_in_bounded_memory() -> None:
    """The NDJSON of 10,000 patients is never held whole: beyond the episodes it returns,
    the import's peak memory stays well below the size of the text it read."""
    size = 0
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def lines() -> Iterator[str]:
        nonlocal size
        for i in range(10_000):
            for res in (
                _patient(f"p{i}"),
                _encounter(
                    f"e{i}",
                    (t0 + timedelta(minutes=i)).isoformat(),
                    status="in-progress",
                    types=[_coding(HCPCS, "H0015")],
                    episode=None,
                    patient=f"p{i}",
                ),
            ):
                line = json.dumps(res)
                size += len(line)
                yield line

    tracemalloc.start()
    try:
        result: FhirImport = episodes_from_fhir_ndjson(lines(), standard_pathway())
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.episodes) == 10_000
    assert peak - kept < size / 2, (peak, kept, size)


# -- the shipped examples and the command line -------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "data"
_EXAMPLE_PHI = ("Alex", "Example", "1980-01-01", "000-00-0000", "555-0100", "1 Example Street")


def test_the_example_bundle_imports_with_the_example_site_map() -> None:
    site = CodeMap.load(EXAMPLES / "site_code_map.toml")
    data = json.loads((EXAMPLES / "fhir_ehr_bundle.json").read_text(encoding="utf-8"))
    result = read_fhir(data, standard_pathway(), code_map=site)
    (episode,) = result.episodes["E1001"]
    assert [(r.event, r.target) for r in episode.history] == [
        (Event.ADMIT, "detox"),
        (Event.STEP_DOWN, "inpatient"),
        (Event.STEP_DOWN, "iop"),
        (Event.COMPLETE, "completed"),
    ]
    assert episode.history[0].assessment is not None  # from the QuestionnaireResponse
    assert [(f.kind, f.resource) for f in result.findings] == [("ignored", "Encounter/ed-12345")]
    # Without the site map, the inpatient Encounter's codes are named as the ones to add.
    plain = read_fhir(data, standard_pathway())
    (unmapped,) = [f for f in plain.findings if f.kind == "unmapped"]
    assert any(c.endswith("|SUD-INPT") for c in unmapped.codes)


def test_fhir_import_on_the_command_line_turns_a_bulk_export_into_episodes() -> None:
    from click.testing import CliRunner  # noqa: PLC0415  # the cli extra

    from carepath.cli import main  # noqa: PLC0415

    files = sorted(str(p) for p in (EXAMPLES / "fhir_bulk").glob("*.ndjson"))
    args = ["fhir", "import", "--code-map", str(EXAMPLES / "site_code_map.toml"), *files]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "mapped: 9 stays into 3 episodes of 3 patients" in result.output
    assert "findings: 3 ignored" in result.output
    assert "patient E1002 episode eoc-12346: completed" in result.output
    as_json = CliRunner().invoke(main, [*args, "--json"])
    assert as_json.exit_code == 0
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [line["patient_id"] for line in lines] == ["E1001", "E1002", "E1003"]
    for text in (result.output, as_json.output):
        for secret in _EXAMPLE_PHI:
            assert secret not in text
    missing = CliRunner().invoke(main, ["fhir", "import", str(EXAMPLES / "fhir_ehr_bundle.json")])
    assert missing.exit_code == 0
    assert "unmapped" in missing.output


def test_fhir_text_with_a_bom_duplicate_keys_or_bytes_that_are_not_utf8() -> None:
    """One rule for every FHIR reader: a BOM is stripped, a duplicate key and non-UTF-8
    bytes are refused naming the key or the byte offset, never echoing the text."""
    pathway = standard_pathway()
    text = json.dumps(_clean_transaction())
    assert read_fhir("\ufeff" + text, pathway).counts["stays"] == 3
    assert read_fhir(b"\xef\xbb\xbf" + text.encode(), pathway).counts["stays"] == 3
    twice = text.replace('"type": "transaction"', '"type": "transaction", "type": "batch"', 1)
    with pytest.raises(InteropError, match="duplicate key 'type'"):
        read_fhir(twice, pathway)
    latin1 = text.encode().replace(PHI[4].encode(), "42 Wallaby Wäy".encode("latin-1"))
    with pytest.raises(InteropError, match="byte") as info:
        from_fhir(latin1, pathway)
    assert "Wallaby" not in str(info.value)
    with pytest.raises(InteropError, match="max_bytes"):
        read_fhir(text, pathway, max_bytes=1000)


def test_encounters_without_an_episode_of_care_are_stitched_by_the_shared_policy() -> None:
    """Two stays two months apart are two episodes (the second linked to the first), with
    a finding that says which rule fired; a wider continuity window makes them one."""
    from carepath.interop import Stitching  # noqa: PLC0415

    data = [
        _patient(),
        _encounter(
            "a",
            "2026-01-01T00:00:00Z",
            "2026-01-05T00:00:00Z",
            types=[_coding(HCPCS, "H0011")],
            episode=None,
            disposition="home",
        ),
        _encounter(
            "b",
            "2026-03-05T00:00:00Z",
            "2026-03-25T00:00:00Z",
            types=[_coding(POS, "55")],
            episode=None,
            disposition="home",
        ),
    ]
    result = read_fhir(data, standard_pathway())
    first, second = result.episodes["pt-1"]
    assert second.previous_episode_id == first.id
    (finding,) = result.findings
    assert finding.kind == "new-episode"
    assert "continuity_days=14" in finding.message
    wide = read_fhir(data, standard_pathway(), stitching=Stitching(continuity_days=90))
    (one,) = wide.episodes["pt-1"]
    assert [r.target for r in one.history] == ["detox", "inpatient", "completed"]
