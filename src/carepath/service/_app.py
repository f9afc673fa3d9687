"""The CDS Hooks service as a Starlette app: routes, limits, checks; no clinical logic.

Each handler reads and checks the request, gathers the FHIR data, asks the library
(:meth:`Pathway.place`, :meth:`Episode.check`) and words the answer as cards
(:mod:`carepath.service._cards`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs
import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from carepath._criteria import Placement
from carepath._episode import Episode
from carepath._errors import CarepathError, EpisodeNotFound, InteropError, InvalidArgument
from carepath._levels import Outcome
from carepath._pathway import Pathway
from carepath.interop._questionnaire import strict_json
from carepath.store import EpisodeStore

from ._audit import Audit, Feedback
from ._auth import TokenCheck
from ._cards import CardFacts, levels_in, move_event, order_card, patient_view_card
from ._errors import ServiceError, operation_outcome
from ._page import placement_page
from ._prefetch import PREFETCH, HookData, gather, read_data
from ._schemas import FEEDBACK_SCHEMA, hook_request_schema, validate

__all__ = ["SERVICES", "Service", "create_app"]

log: Final = logging.getLogger("carepath.service")

MAX_BODY: Final = 1_048_576
"""Default largest request body, in bytes (1 MiB)."""


@attrs.frozen(kw_only=True)
class Service:
    """One CDS Service the app offers (an entry of the discovery document)."""

    id: str
    hook: str
    title: str
    description: str


SERVICES: Final = (
    Service(
        id="carepath-placement",
        hook="patient-view",
        title="Level-of-care placement",
        description="Shows the level of care the latest six-dimension assessment indicates, "
        "with every reason, when it differs from the patient's current level.",
    ),
    Service(
        id="carepath-referral-select",
        hook="order-select",
        title="Level-of-care referral check (on selection)",
        description="Checks a selected referral (ServiceRequest) to a level of care against "
        "the latest assessment's placement and the pathway's rules.",
    ),
    Service(
        id="carepath-referral-sign",
        hook="order-sign",
        title="Level-of-care referral check (on signing)",
        description="Checks a referral (ServiceRequest) to a level of care before it is "
        "signed: the placement of the latest assessment and the pathway's rules.",
    ),
)
"""The services in the discovery document."""

_OUTCOMES: Final = frozenset(o.value for o in Outcome)
_CACHED_EPISODES: Final = 4096
_JSON_TYPES: Final = frozenset({"application/json", "application/fhir+json"})


def _discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": s.hook,
                "title": s.title,
                "description": s.description,
                "id": s.id,
                "prefetch": dict(PREFETCH),
                "usageRequirements": "The assessment is the carepath six-dimension "
                "Questionnaire (carepath fhir questionnaire); referrals name a level by "
                "carepath level code or ASAM level number.",
            }
            for s in SERVICES
        ]
    }


class _Hooks:
    """The app's state and its handlers."""

    def __init__(
        self,
        store: EpisodeStore,
        pathway: Pathway,
        token_check: TokenCheck | None,
        max_body: int,
        clock: Callable[[], datetime],
        client: httpx.AsyncClient | None,
        fresh: float,
    ) -> None:
        self.store = store
        self.pathway = pathway
        self.check = token_check
        self.max_body = max_body
        self.clock = clock
        self.client = client or httpx.AsyncClient(follow_redirects=False)
        self.audit = Audit(store, pathway)
        self.by_id = {s.id: s for s in SERVICES}
        self.schemas = {s.hook: hook_request_schema(s.hook) for s in SERVICES}
        self.episodes: dict[str, tuple[Episode, float]] = {}
        self.fresh = fresh
        self.episodes_lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------

    def authorize(self, request: Request) -> None:
        if self.check is None:
            return
        audience = str(request.url.replace(query="", fragment=""))
        self.check(request.headers.get("authorization"), audience=audience)

    async def body(self, request: Request) -> object:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in _JSON_TYPES:
            raise ServiceError(
                status=415,
                code="not-supported",
                field="Content-Type",
                problem="send the request as application/json",
            )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            raise ServiceError(
                status=413, code="too-costly", problem=f"the body is over {self.max_body} bytes"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise ServiceError(
                    status=413,
                    code="too-costly",
                    problem=f"the body is over {self.max_body} bytes",
                )
            chunks.append(chunk)
        data, problem = strict_json(b"".join(chunks))
        if problem is not None:
            raise ServiceError(status=400, code="invalid", problem=problem)
        return data

    def service(self, request: Request) -> Service:
        found = self.by_id.get(request.path_params["service"])
        if found is None:
            raise ServiceError(
                status=404,
                code="not-found",
                problem="no such CDS Service; the services are "
                + ", ".join(s.id for s in SERVICES),
            )
        return found

    # -- endpoints -----------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        self.authorize(request)
        return JSONResponse(_discovery())

    async def hook(self, request: Request) -> Response:
        service = self.service(request)
        self.authorize(request)
        body = await self.body(request)
        validate(body, self.schemas[service.hook])
        assert isinstance(body, dict)
        now = self.clock()
        data = await gather(body, self.client, now.date())
        cards, facts = await run_in_threadpool(self.evaluate, service, body, data, now)
        log.info(
            "%s service=%s instance=%s patient=%s episode=%s cards=%d",
            service.hook,
            service.id,
            body["hookInstance"],
            body["context"]["patientId"],
            facts[0].episode_id if facts else "-",
            len(cards),
        )
        return JSONResponse({"cards": cards})

    async def feedback(self, request: Request) -> Response:
        service = self.service(request)
        self.authorize(request)
        body = await self.body(request)
        validate(body, FEEDBACK_SCHEMA)
        assert isinstance(body, dict)
        items = [Feedback.read(item, i) for i, item in enumerate(body["feedback"])]
        written = await run_in_threadpool(self.audit.record, items)
        self.forget(written)
        log.info(
            "feedback service=%s cards=%s episodes=%s",
            service.id,
            ",".join(f.card for f in items),
            ",".join(written) or "-",
        )
        return Response(status_code=200)

    async def page(self, request: Request) -> Response:
        html = await run_in_threadpool(placement_page, self.pathway, dict(request.query_params))
        return HTMLResponse(html)

    # -- the library calls ---------------------------------------------------------------------

    def load(self, episode_id: str) -> Episode:
        """The stored episode; a cached replay while the stored version is unchanged.

        The store is append-only, so an episode's version names its whole history.
        The version is read again at most every ``fresh`` seconds (0: every call).
        """
        now = time.monotonic()
        cached = self.episodes.get(episode_id)
        if cached is not None and now - cached[1] < self.fresh:
            return cached[0]
        version = self.store.version(episode_id)
        if cached is not None and cached[0].version == version:
            episode = cached[0]
        else:
            episode = self.store.load(episode_id, self.pathway)
        with self.episodes_lock:
            self.episodes.pop(episode_id, None)
            self.episodes[episode_id] = (episode, now)
            while len(self.episodes) > _CACHED_EPISODES:
                del self.episodes[next(iter(self.episodes))]
        return episode

    def forget(self, episode_ids: list[str]) -> None:
        """Drop cached episodes this service has just written to."""
        with self.episodes_lock:
            for episode_id in episode_ids:
                self.episodes.pop(episode_id, None)

    def episode_for(self, patient_id: str, hd: HookData) -> Episode | None:
        episode_id = hd.episode_id
        if episode_id is None:
            open_ = [
                e for e in self.store.episodes(patient_id=patient_id) if e.state not in _OUTCOMES
            ]
            if not open_:
                return None
            episode_id = max(open_, key=lambda e: e.started_at).id
        try:
            episode = self.load(episode_id)
        except EpisodeNotFound:
            return None
        if episode.patient_id != patient_id:
            raise ServiceError(
                status=409,
                code="conflict",
                field="prefetch.episode",
                problem=f"episode {episode_id} belongs to another patient id",
            )
        return episode if episode.is_open else None

    def evaluate(
        self, service: Service, body: Mapping[str, Any], data: Mapping[str, Any], now: datetime
    ) -> tuple[list[dict[str, Any]], list[CardFacts]]:
        context = body["context"]
        patient_id = str(context["patientId"])
        try:
            hd = read_data(data, self.pathway, patient_id)
        except InteropError as exc:
            raise ServiceError(
                status=400,
                code="invalid",
                field="prefetch.assessment" + (f".{exc.field}" if exc.field else ""),
                problem=exc.problem,
            ) from None
        episode = self.episode_for(patient_id, hd)
        assessment = hd.assessment or (episode.assessment if episode is not None else None)
        placement: Placement | None = None if assessment is None else self.pathway.place(assessment)
        at = now if episode is None else max(now, episode.last_at)
        # Without a stored episode, the checks run on a throwaway one at intake.
        probe = episode if episode is not None else self.pathway.start(patient_id, at=at)
        current = probe.level or hd.encounter_level
        cards: list[dict[str, Any]] = []
        facts: list[CardFacts] = []

        def keep(card: dict[str, Any] | None, ordered: str | None) -> None:
            if card is None:
                return
            cards.append(card)
            facts.append(
                CardFacts(
                    card=card["uuid"],
                    service=service.id,
                    hook=service.hook,
                    hook_instance=str(body["hookInstance"]),
                    patient_id=patient_id,
                    episode_id=None if episode is None else episode.id,
                    current=None if current is None else current.code,
                    indicated=None if placement is None else placement.level.code,
                    ordered=ordered,
                )
            )

        if service.hook == "patient-view":
            if placement is not None:
                event = move_event(self.pathway, probe.level, placement.level)
                decision = (
                    None
                    if event is None or episode is None
                    else probe.check(event, placement.level, at=at, assessment=assessment)
                )
                keep(patient_view_card(self.pathway, placement, current, decision), None)
        else:
            selected = None
            if service.hook == "order-select":
                selected = {str(s).removeprefix("ServiceRequest/") for s in context["selections"]}
            for entry in context["draftOrders"].get("entry") or ():
                order = entry.get("resource") or {}
                if order.get("resourceType") != "ServiceRequest":
                    continue
                if selected is not None and str(order.get("id")) not in selected:
                    continue
                found = levels_in(self.pathway, order.get("code"))
                if not found:
                    continue
                ordered = found[0]
                event = move_event(self.pathway, probe.level, ordered)
                decision = (
                    None
                    if event is None
                    else probe.check(event, ordered, at=at, assessment=assessment)
                )
                card = order_card(
                    self.pathway,
                    ordered=ordered,
                    order=order,
                    placement=placement,
                    decision=decision,
                )
                keep(card, ordered.code)
        self.audit.issued(facts, now)
        return cards, facts


def _guarded(
    handler: Callable[[Request], Any],
) -> Callable[[Request], Any]:
    async def run(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except ServiceError as exc:
            log.info(
                "refused %s %s: HTTP %d %s", request.method, request.url.path, exc.status, exc.code
            )
            headers = (
                {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 else None
            )
            return JSONResponse(operation_outcome(exc), status_code=exc.status, headers=headers)
        except CarepathError as exc:
            log.warning("failed %s %s: %s", request.method, request.url.path, type(exc).__name__)
            err = ServiceError(status=409, code="processing", problem=type(exc).__name__)
            return JSONResponse(operation_outcome(err), status_code=409)
        except Exception as exc:
            # Only the type reaches the log: an exception's text may carry data.
            log.error("error %s %s: %s", request.method, request.url.path, type(exc).__name__)
            err = ServiceError(status=500, code="exception", problem="internal error")
            return JSONResponse(operation_outcome(err), status_code=500)
        return response

    return run


def create_app(
    store: EpisodeStore,
    pathway: Pathway,
    *,
    token_check: TokenCheck | None = None,
    insecure_dev: bool = False,
    max_body: int = MAX_BODY,
    clock: Callable[[], datetime] | None = None,
    fhir_client: httpx.AsyncClient | None = None,
    episode_fresh: float = 1.0,
) -> Starlette:
    """The CDS Hooks service (and placement page) as an ASGI app.

    Args:
        store: Where episodes are read and feedback is written.
        pathway: The pathway whose rules place patients and check moves.
        token_check: Checks each call's bearer token (e.g. :class:`JwtCheck`).
        insecure_dev: Accept calls without any token check. Required, and only
            allowed, when ``token_check`` is ``None``: for local development only.
        max_body: The largest request body accepted, in bytes.
        clock: The time hooks are judged at (timezone-aware); the wall clock by default.
        fhir_client: The httpx client for FHIR servers (one is made when omitted).
        episode_fresh: Seconds a stored episode read for a hook may be reused without
            asking the store whether it changed (0: ask on every hook). A change made
            by another writer shows in cards within this time; feedback written by
            this service shows at once.

    Routes: ``GET /cds-services`` (discovery), ``POST /cds-services/{id}`` (a hook),
    ``POST /cds-services/{id}/feedback``, ``GET /placement`` (the placement page).
    """
    if token_check is None and not insecure_dev:
        raise InvalidArgument(
            owner="create_app",
            field="token_check",
            problem="give a token check (e.g. JwtCheck), or insecure_dev=True for local "
            "development without one",
        )
    if token_check is not None and insecure_dev:
        raise InvalidArgument(
            owner="create_app", field="insecure_dev", problem="cannot be used with a token check"
        )
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1024:
        raise InvalidArgument(
            owner="create_app", field="max_body", problem="must be a whole number >= 1024"
        )
    if isinstance(episode_fresh, bool) or not isinstance(episode_fresh, int | float):
        raise InvalidArgument(
            owner="create_app", field="episode_fresh", problem="must be a number of seconds"
        )
    if not 0 <= episode_fresh <= 60:
        raise InvalidArgument(
            owner="create_app", field="episode_fresh", problem="must be between 0 and 60 seconds"
        )
    hooks = _Hooks(
        store,
        pathway,
        token_check,
        max_body,
        clock or (lambda: datetime.now(UTC)),
        fhir_client,
        float(episode_fresh),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(hooks.audit.close)
        if fhir_client is None:  # ours to close
            await hooks.client.aclose()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/cds-services", _guarded(hooks.discovery), methods=["GET"]),
            Route("/cds-services/{service}", _guarded(hooks.hook), methods=["POST"]),
            Route("/cds-services/{service}/feedback", _guarded(hooks.feedback), methods=["POST"]),
            Route("/placement", _guarded(hooks.page), methods=["GET"]),
        ],
    )
    app.state.hooks = hooks
    return app
