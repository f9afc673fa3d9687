"""Shared set-up of the service tests: a store with an episode, uvicorn on 127.0.0.1, tokens."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette

from carepath import Assessment, Pathway, standard_pathway
from carepath.interop import questionnaire_response
from carepath.interop._fhir import EPISODE_SYSTEM, LEVEL_SYSTEM
from carepath.store import EpisodeStore

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=3)
PATIENT = "p-1"
EPISODE = "ep-1"
ADMITTED = Assessment(emotional=3)  # places in PHP
IOP_PROFILE = Assessment(relapse=2, environment=2)  # places in IOP
ISSUER = "https://ehr.example.org"


def make_store(tmp: Path, pathway: Pathway | None = None) -> EpisodeStore:
    """A SQLite store holding episode ep-1 of patient p-1, in PHP since T0."""
    pathway = pathway or standard_pathway()
    store = EpisodeStore.open(f"sqlite:///{tmp / 'care.db'}")
    ep = pathway.start(PATIENT, at=T0, episode_id=EPISODE)
    ep.admit("php", at=T0, assessment=ADMITTED, event_id="adm-1")
    store.create(ep)
    return store


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 (a free port); yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def qr(a: Assessment, *, authored: datetime = T0 + timedelta(days=2)) -> dict[str, Any]:
    return questionnaire_response(a, patient=PATIENT, authored=authored, response_id="qr-1")


def bundle(*resources: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": dict(r)} for r in resources],
    }


def episode_of_care(episode_id: str = EPISODE) -> dict[str, Any]:
    return {
        "resourceType": "EpisodeOfCare",
        "id": "eoc-1",
        "status": "active",
        "identifier": [{"system": EPISODE_SYSTEM, "value": episode_id}],
        "patient": {"reference": f"Patient/{PATIENT}"},
    }


PATIENT_RESOURCE: dict[str, Any] = {
    "resourceType": "Patient",
    "id": PATIENT,
    "name": [{"family": "Doe", "given": ["Jane"]}],
    "birthDate": "1970-01-01",
}


def prefetch(a: Assessment) -> dict[str, Any]:
    return {
        "patient": PATIENT_RESOURCE,
        "assessment": bundle(qr(a)),
        "episode": bundle(episode_of_care()),
        "encounters": bundle(),
    }


def referral(level: str, order_id: str = "sr-1") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": LEVEL_SYSTEM, "code": level}]},
    }


def hook_request(
    hook: str, *, pre: Mapping[str, Any] | None = None, orders: tuple[Any, ...] = ()
) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/dr-1", "patientId": PATIENT}
    if hook != "patient-view":
        context["draftOrders"] = bundle(*orders)
    if hook == "order-select":
        context["selections"] = [f"ServiceRequest/{o['id']}" for o in orders[:1]]
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
    }
    if pre is not None:
        body["prefetch"] = dict(pre)
    return body


class Keys:
    """An EHR's signing key, its JWK Set, and a token factory (CDS Hooks JWTs)."""

    def __init__(self, kid: str = "ehr-key-1") -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=kid, alg="ES384", use="sig")
        self.jwks = {"keys": [jwk]}

    def token(self, aud: str, **changes: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": aud,
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self.kid, "typ": "JWT"}
        headers.update(changes.pop("headers", {}))
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm="ES384", headers=headers)
