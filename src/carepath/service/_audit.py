"""The cards the service issued, and clinicians' feedback on them, in the episode store.

One table of the service's own, ``carepath_cds_cards``, sits beside the store's
tables in the same database: one row per card (ids and level codes only), which
the feedback endpoint needs to know the card's episode. Feedback is written twice:
on the card's row, and into the episode's history as an audited record (a
reassessment fact that keeps the latest assessment unchanged, with event id
``cds-feedback-<card uuid>`` and a note holding the structured feedback), so a
retried feedback is a no-op.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from carepath._episode import Episode
from carepath._errors import CarepathError, EpisodeNotFound, TransitionRejected
from carepath._guards import Event
from carepath._pathway import Pathway
from carepath._reasons import DiscrepancyReason
from carepath.store import EpisodeStore

from ._cards import DISCREPANCY_REASON_SYSTEM, CardFacts
from ._errors import ServiceError

__all__ = ["Audit", "Feedback", "feedback_event_id"]

log: Final = logging.getLogger("carepath.service")
_metadata: Final = sa.MetaData()
cards: Final = sa.Table(
    "carepath_cds_cards",
    _metadata,
    sa.Column("card", sa.String, primary_key=True),
    sa.Column("service", sa.String, nullable=False),
    sa.Column("hook", sa.String, nullable=False),
    sa.Column("hook_instance", sa.String, nullable=False),
    sa.Column("patient_id", sa.String, nullable=False),
    sa.Column("episode_id", sa.String, nullable=True),
    sa.Column("current", sa.String, nullable=True),
    sa.Column("indicated", sa.String, nullable=True),
    sa.Column("ordered", sa.String, nullable=True),
    sa.Column("issued_at", sa.String, nullable=False),
    sa.Column("outcome", sa.String, nullable=True),
    sa.Column("reason", sa.String, nullable=True),
    sa.Column("outcome_at", sa.String, nullable=True),
)
_SAFE_CODE: Final = re.compile(r"^[A-Za-z0-9\-._:]{1,64}$")
_SAFE_SYSTEM: Final = re.compile(r"^https?://[A-Za-z0-9\-._~:/%]{1,200}$")


def feedback_event_id(card: str) -> str:
    """The history event id of the feedback on ``card`` (what makes it idempotent)."""
    return f"cds-feedback-{card}"


@attrs.frozen(kw_only=True)
class Feedback:
    """One feedback item, checked: the card, the outcome, a short reason code, the time."""

    card: str
    outcome: str
    reason: str | None
    at: datetime

    @classmethod
    def read(cls, item: dict[str, Any], index: int) -> Feedback:
        """From a schema-checked feedback item; the free-text ``userComment`` is dropped."""
        card = str(item["card"]).removeprefix("urn:uuid:").lower()
        try:
            at = datetime.fromisoformat(str(item["outcomeTimestamp"]).replace("Z", "+00:00"))
        except ValueError:
            raise ServiceError(
                status=400,
                code="invalid",
                field=f"feedback[{index}].outcomeTimestamp",
                problem="not a date and time (RFC 3339, e.g. 2026-03-05T10:00:00Z)",
            ) from None
        reason: str | None = None
        override = item.get("overrideReason")
        coding = override.get("reason") if isinstance(override, dict) else None
        if isinstance(coding, dict):
            system, code = str(coding["system"]), str(coding["code"])
            where = f"feedback[{index}].overrideReason.reason"
            if system == DISCREPANCY_REASON_SYSTEM:
                try:
                    reason = DiscrepancyReason(code).value
                except ValueError:
                    raise ServiceError(
                        status=400,
                        code="invalid",
                        field=f"{where}.code",
                        problem="not a code of the reason list; allowed: "
                        + ", ".join(r.value for r in DiscrepancyReason),
                    ) from None
            elif _SAFE_SYSTEM.match(system) and _SAFE_CODE.match(code):
                reason = f"{system}|{code}"  # a client's own reason list, kept as a code
            else:
                raise ServiceError(
                    status=400,
                    code="invalid",
                    field=where,
                    problem="a reason from another list must be a short code and an http(s) "
                    "system URL",
                )
        if item["outcome"] == "accepted":
            reason = None
        return cls(card=card, outcome=str(item["outcome"]), reason=reason, at=at.astimezone(UTC))

    def note(self, facts: CardFacts) -> str:
        """The history note: the structured feedback, ids and codes only."""
        parts = [
            f"cds-hooks feedback: card {self.card} {self.outcome}",
            f"reason {self.reason}" if self.reason else "",
            f"hook {facts.hook} service {facts.service}",
            f"ordered {facts.ordered}" if facts.ordered else "",
            f"indicated {facts.indicated}" if facts.indicated else "",
            f"current {facts.current}" if facts.current else "",
            f"at {self.at.isoformat()}",
        ]
        return "; ".join(p for p in parts if p)


class Audit:
    """The service's card table in the store's database, and feedback written to history.

    Card rows are written behind the answers: :meth:`issued` queues them and a
    background thread writes each batch in one transaction (at most ``delay``
    seconds later), so a burst of hooks costs one durable commit, not one each.
    Feedback first writes whatever is queued. A card issued in the last ``delay``
    seconds before the process dies cannot take feedback (it is answered 404).
    """

    def __init__(self, store: EpisodeStore, pathway: Pathway, *, delay: float = 0.25) -> None:
        self._store = store
        self._pathway = pathway
        self._delay = delay
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards _pending
        self._flushing = threading.Lock()  # one batch written at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # runs while rows are queued
        with self._write() as conn:
            _metadata.create_all(conn)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._store.engine.connect() as conn:
                # The store's SQLite set-up takes the write lock up front for writers.
                conn.execution_options(carepath_write=True)
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise ServiceError(
                status=503,
                code="transient",
                problem=f"the store cannot be written ({type(exc).__name__})",
            ) from None

    def issued(self, facts: list[CardFacts], at: datetime) -> None:
        """Queue the rows of the cards just issued (written within ``delay`` seconds)."""
        if not facts:
            return
        stamp = at.astimezone(UTC).isoformat()
        rows = [{**attrs.asdict(f), "issued_at": stamp} for f in facts]
        with self._lock:
            self._pending.extend(rows)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="carepath-cards", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        """Write the queued card rows now (one transaction)."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                with self._write() as conn:
                    conn.execute(cards.insert(), batch)
            except ServiceError:
                with self._lock:  # keep them for the next try
                    self._pending[:0] = batch
                raise

    def _run(self) -> None:
        """Write queued rows every ``delay`` seconds; end once nothing is queued."""
        while True:
            self._wake.wait(self._delay)
            try:
                self.flush()
            except ServiceError as exc:
                log.warning("card rows not written yet: %s", exc.problem)
            with self._lock:
                if not self._pending or self._stop.is_set():
                    self._thread = None
                    return

    def close(self) -> None:
        """Write what is queued and stop the background writer."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(10)
        self.flush()

    def _facts(self, conn: Connection, card: str) -> tuple[CardFacts, tuple[Any, ...]] | None:
        row = conn.execute(sa.select(cards).where(cards.c.card == card)).one_or_none()
        if row is None:
            return None
        names = [f.name for f in attrs.fields(CardFacts)]
        facts = CardFacts(**{n: getattr(row, n) for n in names})
        return facts, (row.outcome, row.reason)

    def record(self, items: list[Feedback]) -> list[str]:
        """Write feedback: all items are checked first, then each is recorded.

        Returns the episode ids written to. A repeat of recorded feedback changes
        nothing; different feedback on a card that already has some is refused.

        Raises:
            ServiceError: 404 for an unknown card, 409 for conflicting feedback.
        """
        claims: list[tuple[Feedback, CardFacts]] = []
        self.flush()
        with self._write() as conn:
            for i, fb in enumerate(items):
                found = self._facts(conn, fb.card)
                if found is None:
                    raise ServiceError(
                        status=404,
                        code="not-found",
                        field=f"feedback[{i}].card",
                        problem=f"card {fb.card} was not issued by this service",
                    )
                facts, (outcome, reason) = found
                if outcome is not None and (outcome, reason) != (fb.outcome, fb.reason):
                    raise ServiceError(
                        status=409,
                        code="conflict",
                        field=f"feedback[{i}]",
                        problem=f"card {fb.card} already has different feedback ({outcome})",
                    )
                claims.append((fb, facts))
            for fb, _ in claims:
                conn.execute(
                    cards.update()
                    .where(cards.c.card == fb.card, cards.c.outcome.is_(None))
                    .values(outcome=fb.outcome, reason=fb.reason, outcome_at=fb.at.isoformat())
                )
        written: list[str] = []
        for fb, facts in claims:
            if facts.episode_id is not None and self._history(fb, facts):
                written.append(facts.episode_id)
        return written

    def _history(self, fb: Feedback, facts: CardFacts) -> bool:
        assert facts.episode_id is not None
        event_id = feedback_event_id(fb.card)

        def add(episode: Episode) -> None:
            if any(r.event_id == event_id for r in episode.history):
                return
            episode.record(
                Event.REASSESS,
                at=max(fb.at, episode.last_at),
                assessment=episode.assessment,
                event_id=event_id,
                note=fb.note(facts),
            )

        try:
            self._store.apply(facts.episode_id, self._pathway, add)
        except TransitionRejected:
            return False  # the episode has ended: the card's row keeps the feedback
        except EpisodeNotFound:
            return False
        except CarepathError as exc:
            raise ServiceError(
                status=503 if isinstance(exc, sa.exc.SQLAlchemyError) else 500,
                code="exception",
                problem=f"the feedback could not be written to episode {facts.episode_id} "
                f"({type(exc).__name__})",
            ) from None
        return True

    def card(self, card: str) -> dict[str, Any] | None:
        """The card's row (ids, codes and the feedback), for tests and audits."""
        self.flush()
        with self._store.engine.connect() as conn:
            row = conn.execute(sa.select(cards).where(cards.c.card == card)).one_or_none()
        return None if row is None else dict(row._mapping)
