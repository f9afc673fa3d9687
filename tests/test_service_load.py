"""A bounded load test on 127.0.0.1: concurrent clients calling order-sign and feedback.

Zero 5xx, and every card's feedback lands in its episode's history exactly once,
however the calls interleave (feedback is sent twice per card, concurrently).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from _service_support import (
    ADMITTED,
    NOW,
    T0,
    bundle,
    episode_of_care,
    hook_request,
    make_store,
    prefetch,
    referral,
    serve,
)
from carepath import Assessment, standard_pathway
from carepath.service import DISCREPANCY_REASON_SYSTEM, create_app, feedback_event_id

CLIENTS = 16
ROUNDS = 6
EPISODES = 4
IOP_PROFILE = Assessment(relapse=2, environment=2)


def test_concurrent_order_sign_and_feedback(tmp_path: Path) -> None:
    pathway = standard_pathway()
    store = make_store(tmp_path, pathway)
    for n in range(2, EPISODES + 1):
        ep = pathway.start(f"p-{n}", at=T0, episode_id=f"ep-{n}")
        ep.admit("php", at=T0, assessment=ADMITTED, event_id="adm-1")
        store.create(ep)
    app = create_app(store, pathway, insecure_dev=True, clock=lambda: NOW)
    statuses: list[int] = []
    issued: dict[str, list[str]] = {f"ep-{n}": [] for n in range(1, EPISODES + 1)}

    async def client(i: int, base: str) -> None:
        n = i % EPISODES + 1
        pre = prefetch(IOP_PROFILE)
        pre["episode"] = bundle(episode_of_care(f"ep-{n}"))
        pre["patient"] = {"resourceType": "Patient", "id": f"p-{n}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for _ in range(ROUNDS):
                body: dict[str, Any] = hook_request(
                    "order-sign", pre=pre, orders=(referral("inpatient"),)
                )
                body["context"]["patientId"] = f"p-{n}"
                r = await http.post("/cds-services/carepath-referral-sign", json=body)
                statuses.append(r.status_code)
                card = r.json()["cards"][0]["uuid"]
                issued[f"ep-{n}"].append(card)
                feedback = {
                    "feedback": [
                        {
                            "card": card,
                            "outcome": "overridden",
                            "overrideReason": {
                                "reason": {"system": DISCREPANCY_REASON_SYSTEM, "code": "payer"}
                            },
                            "outcomeTimestamp": "2026-03-05T10:00:00Z",
                        }
                    ]
                }
                twice = await asyncio.gather(
                    http.post("/cds-services/carepath-referral-sign/feedback", json=feedback),
                    http.post("/cds-services/carepath-referral-sign/feedback", json=feedback),
                )
                statuses.extend(t.status_code for t in twice)

    async def run(base: str) -> None:
        await asyncio.wait_for(
            asyncio.gather(*(client(i, base) for i in range(CLIENTS))), timeout=240
        )

    with serve(app) as base:
        asyncio.run(run(base))

    assert len(statuses) == CLIENTS * ROUNDS * 3
    assert set(statuses) == {200}
    for episode_id, cards in issued.items():
        history = store.load(episode_id, pathway).history
        feedback_ids = [r.event_id for r in history if r.event_id.startswith("cds-feedback-")]
        assert len(feedback_ids) == len(set(feedback_ids))  # none duplicated
        assert sorted(feedback_ids) == sorted(feedback_event_id(c) for c in cards)  # none lost
    store.close()
