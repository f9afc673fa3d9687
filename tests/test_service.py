"""The CDS Hooks service, run under uvicorn on 127.0.0.1 and called over real HTTP (httpx)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from _service_support import (
    ADMITTED,
    EPISODE,
    ISSUER,
    NOW,
    PATIENT,
    PATIENT_RESOURCE,
    Keys,
    bundle,
    episode_of_care,
    hook_request,
    make_store,
    prefetch,
    qr,
    referral,
    serve,
)
from carepath import Assessment, DiscrepancyReason, standard_pathway
from carepath.cli import main
from carepath.service import (
    DISCREPANCY_REASON_SYSTEM,
    PREFETCH,
    JwtCheck,
    create_app,
    feedback_event_id,
)
from carepath.store import EpisodeStore

IOP_PROFILE = Assessment(relapse=2, environment=2)  # fits IOP
OUTPATIENT_PROFILE = Assessment()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EpisodeStore]:
    s = make_store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def url(store: EpisodeStore) -> Iterator[str]:
    app = create_app(
        store, standard_pathway(), insecure_dev=True, clock=lambda: NOW, max_body=64 * 1024
    )
    with serve(app) as base:
        yield base


def _cards_rows(store: EpisodeStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("select count(*) from carepath_cds_cards")).scalar() or 0)


def _post(url: str, path: str, body: Any, **kw: Any) -> httpx.Response:
    return httpx.post(f"{url}/cds-services/{path}", json=body, timeout=30, **kw)


def test_discovery_lists_three_services_with_the_prefetch_templates(url: str) -> None:
    r = httpx.get(f"{url}/cds-services", timeout=30)
    assert r.status_code == 200
    services = {s["id"]: s for s in r.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select", "order-sign"}
    for s in services.values():
        assert s["prefetch"] == dict(PREFETCH)
        assert set(s["prefetch"]) == {"patient", "assessment", "episode", "encounters"}
        assert s["description"]
    assert "{{context.patientId}}" in PREFETCH["assessment"]


def test_patient_view_card_when_the_placement_differs(url: str, store: EpisodeStore) -> None:
    r = _post(url, "carepath-placement", hook_request("patient-view", pre=prefetch(IOP_PROFILE)))
    assert r.status_code == 200, r.text
    (card,) = r.json()["cards"]
    pathway = standard_pathway()
    placement = pathway.place(IOP_PROFILE)
    assert placement.level.code == "iop"
    assert card["indicator"] == "info"  # PHP and IOP are next to each other
    assert "Intensive outpatient" in card["summary"] or placement.level.name in card["summary"]
    assert len(card["summary"]) < 140
    for line in placement.explain().splitlines():
        assert line in card["detail"]
    # the move to IOP would be refused now: PHP's minimum stay is not met after 3 days
    decision = store.load(EPISODE, pathway).check(
        "step_down", "iop", at=NOW, assessment=IOP_PROFILE
    )
    assert not decision.allowed
    for reason in decision.reasons:
        assert reason.message in card["detail"]
    deadline = time.monotonic() + 10  # card rows are written behind the answer
    while _cards_rows(store) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _cards_rows(store) == 1


def test_patient_view_warns_when_levels_are_far_apart(url: str) -> None:
    r = _post(
        url, "carepath-placement", hook_request("patient-view", pre=prefetch(OUTPATIENT_PROFILE))
    )
    (card,) = r.json()["cards"]
    assert card["indicator"] == "warning"


def test_patient_view_no_card_when_the_placement_matches(url: str, store: EpisodeStore) -> None:
    r = _post(url, "carepath-placement", hook_request("patient-view", pre=prefetch(ADMITTED)))
    assert r.status_code == 200
    assert r.json() == {"cards": []}
    assert _cards_rows(store) == 0


def test_order_sign_card_with_reasons_suggestion_and_override_reasons(url: str) -> None:
    order = referral("inpatient")
    body = hook_request("order-sign", pre=prefetch(IOP_PROFILE), orders=(order,))
    r = _post(url, "carepath-referral-sign", body)
    assert r.status_code == 200, r.text
    (card,) = r.json()["cards"]
    placement = standard_pathway().place(IOP_PROFILE)
    assert card["indicator"] == "warning"  # inpatient is two levels above IOP
    for line in placement.explain().splitlines():
        assert line in card["detail"]
    assert card["selectionBehavior"] == "at-most-one"
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == "sr-1"
    codes = {c["code"] for c in action["resource"]["code"]["coding"]}
    assert "iop" in codes
    assert card["overrideReasons"] == [
        {"system": DISCREPANCY_REASON_SYSTEM, "code": r.value, "display": r.display}
        for r in DiscrepancyReason
    ]


def test_order_sign_card_when_a_guard_refuses_the_indicated_level(url: str) -> None:
    """IOP is indicated and ordered, but PHP's minimum stay is not met: a warning card."""
    body = hook_request("order-sign", pre=prefetch(IOP_PROFILE), orders=(referral("iop"),))
    (card,) = _post(url, "carepath-referral-sign", body).json()["cards"]
    assert card["indicator"] == "warning"
    assert "refused" in card["summary"]
    assert "suggestions" not in card
    assert "minimum" in card["detail"] or "days" in card["detail"]


def test_order_sign_no_card_for_an_allowed_referral_to_the_indicated_level(url: str) -> None:
    body = hook_request("order-sign", pre=prefetch(ADMITTED), orders=(referral("php"),))
    assert _post(url, "carepath-referral-sign", body).json() == {"cards": []}


def test_order_select_looks_only_at_the_selected_orders(url: str) -> None:
    orders = (referral("php", "sr-1"), referral("inpatient", "sr-2"))
    body = hook_request("order-select", pre=prefetch(ADMITTED), orders=orders)
    assert _post(url, "carepath-referral-select", body).json() == {"cards": []}
    body["context"]["selections"] = ["ServiceRequest/sr-2"]
    (card,) = _post(url, "carepath-referral-select", body).json()["cards"]
    assert card["suggestions"][0]["actions"][0]["resource"]["id"] == "sr-2"


# -- without prefetch: a stub FHIR server -------------------------------------------------------


class StubFhir:
    """A FHIR server on 127.0.0.1 that answers the service's four queries."""

    def __init__(self, assessment: Assessment) -> None:
        self.assessment = assessment
        self.seen: list[tuple[str, str, str | None]] = []
        self.app = Starlette(routes=[Route("/fhir/{path:path}", self.answer)])

    async def answer(self, request: Request) -> Response:
        path = request.path_params["path"]
        self.seen.append((path, str(request.url.query), request.headers.get("authorization")))
        if path == f"Patient/{PATIENT}":
            return JSONResponse(PATIENT_RESOURCE)
        if path == "QuestionnaireResponse":
            return JSONResponse(bundle(qr(self.assessment)))
        if path == "EpisodeOfCare":
            return JSONResponse(bundle(episode_of_care()))
        if path == "Encounter":
            return JSONResponse(bundle())
        return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)


def test_missing_prefetch_is_fetched_from_the_fhir_server(url: str) -> None:
    stub = StubFhir(IOP_PROFILE)
    with serve(stub.app) as fhir:
        body = hook_request("order-sign", pre=None, orders=(referral("inpatient"),))
        body["fhirServer"] = f"{fhir}/fhir"
        body["fhirAuthorization"] = {
            "access_token": "opaque-token-1",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read",
            "subject": "carepath",
        }
        r = _post(url, "carepath-referral-sign", body)
    assert r.status_code == 200, r.text
    (card,) = r.json()["cards"]
    assert card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "iop"
    assert sorted(p for p, _, _ in stub.seen) == [
        "Encounter",
        "EpisodeOfCare",
        "Patient/p-1",
        "QuestionnaireResponse",
    ]
    assert {auth for _, _, auth in stub.seen} == {"Bearer opaque-token-1"}
    queries = {p: q for p, q, _ in stub.seen}
    assert "patient=p-1" in queries["EpisodeOfCare"]
    assert "date=ge2025-12-05" in queries["Encounter"]  # today() - 90 days, by the clock


def test_only_the_missing_keys_are_fetched(url: str) -> None:
    stub = StubFhir(OUTPATIENT_PROFILE)
    with serve(stub.app) as fhir:
        pre = prefetch(IOP_PROFILE)
        del pre["encounters"]
        body = hook_request("patient-view", pre=pre)
        body["fhirServer"] = f"{fhir}/fhir"
        r = _post(url, "carepath-placement", body)
    assert r.status_code == 200, r.text
    assert [p for p, _, _ in stub.seen] == ["Encounter"]
    assert r.json()["cards"][0]["indicator"] == "info"  # IOP from the prefetch, not the stub


def test_no_prefetch_and_no_fhir_server_is_a_clear_412(url: str, store: EpisodeStore) -> None:
    r = _post(url, "carepath-placement", hook_request("patient-view", pre=None))
    assert r.status_code == 412
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["prefetch.patient"]
    assert "fhirServer" in outcome["issue"][0]["diagnostics"]
    assert _cards_rows(store) == 0


def test_an_unreachable_fhir_server_is_a_412(url: str) -> None:
    body = hook_request("patient-view", pre=None)
    body["fhirServer"] = "http://127.0.0.1:9/fhir"  # discard port: nothing listens
    r = _post(url, "carepath-placement", body)
    assert r.status_code == 412
    assert r.json()["issue"][0]["code"] == "transient"


# -- feedback -----------------------------------------------------------------------------------


def _order_card(url: str) -> dict[str, Any]:
    body = hook_request("order-sign", pre=prefetch(IOP_PROFILE), orders=(referral("inpatient"),))
    card: dict[str, Any] = _post(url, "carepath-referral-sign", body).json()["cards"][0]
    return card


def _overridden(card: str, reason: str = "not-available") -> dict[str, Any]:
    return {
        "feedback": [
            {
                "card": card,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"system": DISCREPANCY_REASON_SYSTEM, "code": reason},
                    "userComment": "Jane Doe prefers the inpatient unit near home",
                },
                "outcomeTimestamp": "2026-03-05T10:00:00Z",
            }
        ]
    }


def test_feedback_lands_in_the_history_once(url: str, store: EpisodeStore) -> None:
    card = _order_card(url)
    pathway = standard_pathway()
    before = store.load(EPISODE, pathway).version
    for _ in range(3):  # retried feedback is a no-op
        r = _post(url, "carepath-referral-sign/feedback", _overridden(card["uuid"]))
        assert r.status_code == 200, r.text
    ep = store.load(EPISODE, pathway)
    assert ep.version == before + 1
    record = ep.history[-1]
    assert record.event_id == feedback_event_id(card["uuid"])
    assert record.fact
    assert record.assessment == ADMITTED  # the latest assessment, unchanged
    assert record.note is not None
    assert "overridden" in record.note
    assert "reason not-available" in record.note
    assert "ordered inpatient" in record.note
    assert "indicated iop" in record.note
    assert "Jane" not in record.note  # the free-text comment is not kept
    assert ep.level is not None
    assert ep.level.code == "php"


def test_conflicting_feedback_is_refused_and_writes_nothing(url: str, store: EpisodeStore) -> None:
    card = _order_card(url)["uuid"]
    assert _post(url, "carepath-referral-sign/feedback", _overridden(card)).status_code == 200
    version = store.version(EPISODE)
    r = _post(url, "carepath-referral-sign/feedback", _overridden(card, "payer"))
    assert r.status_code == 409
    assert store.version(EPISODE) == version


def test_accepted_feedback_and_unknown_cards(url: str, store: EpisodeStore) -> None:
    card = _order_card(url)
    accepted = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-03-05T10:00:00Z",
            }
        ]
    }
    assert _post(url, "carepath-referral-sign/feedback", accepted).status_code == 200
    note = store.load(EPISODE, standard_pathway()).history[-1].note
    assert note is not None
    assert "accepted" in note
    unknown = _overridden("00000000-0000-4000-8000-000000000000")
    version = store.version(EPISODE)
    r = _post(url, "carepath-referral-sign/feedback", unknown)
    assert r.status_code == 404
    assert store.version(EPISODE) == version


def test_a_reason_outside_the_list_is_refused(url: str, store: EpisodeStore) -> None:
    card = _order_card(url)["uuid"]
    version = store.version(EPISODE)
    r = _post(url, "carepath-referral-sign/feedback", _overridden(card, "because"))
    assert r.status_code == 400
    assert r.json()["issue"][0]["expression"] == ["feedback[0].overrideReason.reason.code"]
    assert store.version(EPISODE) == version


# -- malformed and oversized requests -----------------------------------------------------------


SECRET = "Jane Doe 1970-01-01"


@pytest.mark.parametrize(
    ("content", "ctype", "status", "field"),
    [
        (b"{not json", "application/json", 400, None),
        (b'{"hook": "patient-view", "hook": "order-sign"}', "application/json", 400, None),
        (b'{"hook": "patient-view"}', "text/plain", 415, "Content-Type"),
        (b"[1, 2, 3]", "application/json", 400, ""),
    ],
)
def test_malformed_requests_are_a_clear_4xx_and_write_nothing(
    url: str, store: EpisodeStore, content: bytes, ctype: str, status: int, field: str | None
) -> None:
    r = httpx.post(
        f"{url}/cds-services/carepath-placement",
        content=content,
        headers={"content-type": ctype},
        timeout=30,
    )
    assert r.status_code == status
    assert r.json()["resourceType"] == "OperationOutcome"
    if field:
        assert r.json()["issue"][0]["expression"] == [field]
    assert _cards_rows(store) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["context"].pop("patientId"), "context.patientId"),
        (lambda b: b.update(hookInstance=SECRET), "hookInstance"),
        (lambda b: b.update(hook="order-sign"), "hook"),
        (lambda b: b["context"].update(patientId={"name": SECRET}), "context.patientId"),
        (
            lambda b: b.update(
                fhirServer="http://127.0.0.1:9/fhir", fhirAuthorization={"access_token": SECRET}
            ),
            "fhirAuthorization",
        ),
        (lambda b: b.update(fhirAuthorization={"access_token": SECRET}), "fhirServer"),
    ],
)
def test_requests_breaking_the_schema_name_the_field_not_the_value(
    url: str, store: EpisodeStore, change: Any, field: str
) -> None:
    body = hook_request("patient-view", pre=prefetch(IOP_PROFILE))
    change(body)
    r = _post(url, "carepath-placement", body)
    assert r.status_code == 400
    issue = r.json()["issue"][0]
    assert issue["expression"][0].startswith(field)
    assert SECRET not in r.text
    assert _cards_rows(store) == 0


def test_a_bad_questionnaire_response_names_the_item(url: str, store: EpisodeStore) -> None:
    pre = prefetch(IOP_PROFILE)
    pre["assessment"]["entry"][0]["resource"]["item"][2]["answer"] = [{"valueString": SECRET}]
    r = _post(url, "carepath-placement", hook_request("patient-view", pre=pre))
    assert r.status_code == 400
    assert "linkId=emotional" in r.json()["issue"][0]["expression"][0]
    assert SECRET not in r.text


def test_oversized_requests_are_413_and_write_nothing(url: str, store: EpisodeStore) -> None:
    body = hook_request("patient-view", pre=prefetch(IOP_PROFILE))
    body["prefetch"]["padding"] = "x" * (70 * 1024)
    r = _post(url, "carepath-placement", body)
    assert r.status_code == 413
    assert r.json()["issue"][0]["code"] == "too-costly"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"hook": "patient-view", "pad": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    r = httpx.post(
        f"{url}/cds-services/carepath-placement",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413
    assert _cards_rows(store) == 0


def test_unknown_service_is_404(url: str) -> None:
    r = _post(url, "nope", hook_request("patient-view", pre=prefetch(IOP_PROFILE)))
    assert r.status_code == 404


def test_logs_carry_ids_only(
    url: str, store: EpisodeStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="carepath.service")
    body = hook_request("order-sign", pre=prefetch(IOP_PROFILE), orders=(referral("inpatient"),))
    card = _post(url, "carepath-referral-sign", body).json()["cards"][0]["uuid"]
    _post(url, "carepath-referral-sign/feedback", _overridden(card))
    bad = hook_request("patient-view", pre=prefetch(IOP_PROFILE))
    bad["context"]["patientId"] = {"name": SECRET}
    _post(url, "carepath-placement", bad)
    text = caplog.text
    assert body["hookInstance"] in text
    assert card in text
    assert EPISODE in text
    for phi in ("Jane", "Doe", "1970", "prefers"):
        assert phi not in text


# -- tokens -------------------------------------------------------------------------------------


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def secure(store: EpisodeStore, keys: Keys) -> Iterator[str]:
    check = JwtCheck(jwks=keys.jwks, issuers=[ISSUER])
    app = create_app(store, standard_pathway(), token_check=check, clock=lambda: NOW)
    with serve(app) as base:
        yield base


def test_a_valid_token_is_accepted_once(secure: str, keys: Keys) -> None:
    endpoint = f"{secure}/cds-services/carepath-placement"
    token = keys.token(endpoint)
    body = hook_request("patient-view", pre=prefetch(IOP_PROFILE))
    r = httpx.post(endpoint, json=body, headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.post(endpoint, json=body, headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 401
    assert "replay" in r.json()["issue"][0]["diagnostics"]
    discovery = f"{secure}/cds-services"
    r = httpx.get(discovery, headers={"authorization": f"Bearer {keys.token(discovery)}"})
    assert r.status_code == 200


def _hs256(aud: str) -> str:
    import jwt  # noqa: PLC0415

    now = int(time.time())
    claims = {"iss": ISSUER, "aud": aud, "exp": now + 60, "iat": now, "jti": "x"}
    return jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": "ehr-key-1"})


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda k, e: None, "no bearer token"),
        (lambda k, e: "Basic abc", "Bearer"),
        (lambda k, e: "Bearer not-a-jwt", "not a JWT"),
        (lambda k, e: "Bearer " + Keys("other-key").token(e), "kid"),
        (lambda k, e: "Bearer " + Keys(k.kid).token(e), "not valid"),
        (lambda k, e: "Bearer " + k.token(e + "-other"), "aud"),
        (lambda k, e: "Bearer " + k.token(e, iss="https://evil.example"), "iss"),
        (lambda k, e: "Bearer " + k.token(e, exp=1_000, iat=900), "expired"),
        (lambda k, e: "Bearer " + k.token(e, jti=None), "jti"),
        (lambda k, e: "Bearer " + k.token(e, headers={"typ": "JOSE"}), "typ"),
        (lambda k, e: "Bearer " + _hs256(e), "alg"),
    ],
)
def test_missing_or_bad_tokens_are_401_and_write_nothing(
    secure: str, keys: Keys, store: EpisodeStore, make: Any, problem: str
) -> None:
    endpoint = f"{secure}/cds-services/carepath-placement"
    auth = make(keys, endpoint)
    headers = {} if auth is None else {"authorization": auth}
    body = hook_request("patient-view", pre=prefetch(IOP_PROFILE))
    r = httpx.post(endpoint, json=body, headers=headers, timeout=30)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert problem in r.json()["issue"][0]["diagnostics"]
    assert _cards_rows(store) == 0


def test_the_app_needs_a_token_check_or_insecure_dev(store: EpisodeStore) -> None:
    from carepath import InvalidArgument  # noqa: PLC0415

    with pytest.raises(InvalidArgument, match="insecure_dev"):
        create_app(store, standard_pathway())


def test_serve_refuses_to_run_unauthenticated_or_off_loopback(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'x.db'}"
    r = runner.invoke(main, ["serve", "--store", db])
    assert r.exit_code == 2
    assert "--insecure-dev" in r.output
    r = runner.invoke(main, ["serve", "--store", db, "--insecure-dev", "--host", "0.0.0.0"])
    assert r.exit_code == 2
    assert "loopback" in r.output


def test_placement_page_over_http(url: str) -> None:
    r = httpx.get(f"{url}/placement", params={"withdrawal": "3", "relapse": "2"}, timeout=30)
    assert r.status_code == 200
    placement = standard_pathway().place(Assessment(withdrawal=3, relapse=2))
    assert f"Placement: {placement.level.name}" in r.text
    assert 'option value="3" selected' in r.text
    r = httpx.get(f"{url}/placement", params={"withdrawal": "9"}, timeout=30)
    assert r.status_code == 400
    assert r.json()["issue"][0]["expression"] == ["withdrawal"]


def test_an_impossible_feedback_time_is_400(url: str, store: EpisodeStore) -> None:
    card = _order_card(url)["uuid"]
    body = _overridden(card)
    body["feedback"][0]["outcomeTimestamp"] = "2026-02-30T10:00:00Z"
    version = store.version(EPISODE)
    r = _post(url, "carepath-referral-sign/feedback", body)
    assert r.status_code == 400
    assert r.json()["issue"][0]["expression"] == ["feedback[0].outcomeTimestamp"]
    assert store.version(EPISODE) == version


def test_changes_by_other_writers_show_within_the_freshness_window(
    store: EpisodeStore,
) -> None:
    """With ``episode_fresh=0`` every hook asks the store; a fact recorded by another
    writer (an HL7 feed, say) changes the very next card."""
    pathway = standard_pathway()
    app = create_app(store, pathway, insecure_dev=True, clock=lambda: NOW, episode_fresh=0)
    body = hook_request("patient-view", pre=prefetch(ADMITTED))
    with serve(app) as base:
        assert _post(base, "carepath-placement", body).json() == {"cards": []}

        def moved(ep: Any) -> None:
            ep.record("step_down", "iop", at=NOW - timedelta(days=1), event_id="hl7-7")

        store.apply(EPISODE, pathway, moved)
        body = hook_request("patient-view", pre=prefetch(ADMITTED))
        (card,) = _post(base, "carepath-placement", body).json()["cards"]
    assert "Intensive outpatient" in card["detail"]
    assert card["indicator"] == "info"
