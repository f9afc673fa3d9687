"""Episode JSON: the one reader of stored episodes (the episode, the store and FHIR use it).

Loading replays every stored event through the pathway (an episode that no longer
fits its rules is reported, not silently accepted); every problem names where it
is (``events[3].note``) and, for an event, its index (:class:`~carepath.EpisodeLoadError`).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ._assessment import Assessment, Dimension
from ._errors import (
    CarepathError,
    EpisodeLoadError,
    InvalidArgument,
    PathwayMismatch,
    TransitionRejected,
)
from ._guards import Event, Override
from ._textio import is_quotable, show

if TYPE_CHECKING:
    from ._episode import Episode, EventRecord
    from ._pathway import Pathway

__all__ = ["FORMAT", "FORMAT_VERSION", "MOVES_TO_LEVEL", "load", "record_data"]

FORMAT: Final = "carepath.episode"
FORMAT_VERSION: Final = 1
MOVES_TO_LEVEL: Final = frozenset({Event.ADMIT, Event.STEP_DOWN, Event.STEP_UP})
_DIMENSION_KEYS: Final = tuple(d.value for d in Dimension)


def load(data: object, pathway: Pathway) -> Episode:
    """An episode from its JSON data, replayed through ``pathway``."""
    r = _Reader(data, "")
    if r.text("format") != FORMAT:
        raise EpisodeLoadError(problem=f"'format' must be {FORMAT!r}", location="format")
    version = r.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise EpisodeLoadError(
            problem=f"unsupported format_version; this carepath reads {FORMAT_VERSION}",
            location="format_version",
        )
    episode_id = r.text("id")
    shown_id = _shown_id(episode_id)  # errors quote sender values only when well-formed
    r.episode_id = shown_id
    p = _Reader(r.get("pathway"), shown_id, "pathway")
    recorded_hash = p.text("content_hash")
    if recorded_hash != pathway.content_hash:
        raise PathwayMismatch(
            episode_id=shown_id,
            recorded=f"{show(p.text('id'), kind='id')} version {show(p.text('version'))}",
            recorded_hash=recorded_hash,
            given=f"{pathway.id!r} version {pathway.version!r}",
            given_hash=pathway.content_hash,
        )
    previous = r.get("previous_episode_id")
    if previous is not None and not isinstance(previous, str):
        raise EpisodeLoadError(
            problem="expected a string or null",
            location="previous_episode_id",
            episode_id=shown_id,
        )
    started = r.time("started_at")
    patient_id = r.text("patient_id")  # outside the try: keeps the error's location
    try:
        ep = pathway.start(patient_id, at=started, episode_id=episode_id)
    except CarepathError as exc:
        raise EpisodeLoadError(problem=_problem(exc), episode_id=shown_id) from None
    ep.previous_episode_id = previous
    events = r.get("events")
    if not isinstance(events, list):
        raise EpisodeLoadError(problem="expected a list", location="events", episode_id=shown_id)
    for i, item in enumerate(events):
        at = f"events[{i}]"
        try:
            _replay(ep, _Reader(item, shown_id, at))
        except EpisodeLoadError as exc:
            raise exc.in_event(i, at) from exc.__cause__
    return ep


def _replay(self: Episode, r: _Reader) -> None:
    event_id = r.text("event_id")
    where = f"{r.location} (event id {show(event_id, kind='id')})"
    try:
        ev = Event(r.text("event"))
    except ValueError:
        raise EpisodeLoadError(
            problem="unknown event", location=f"{r.location}.event", episode_id=r.episode_id
        ) from None
    target = r.text("target")
    source = r.text("source")
    if source != self._state:
        raise EpisodeLoadError(
            problem=f"recorded source {show(source)} but the episode is at {self._state!r}",
            location=f"{r.location}.source",
            episode_id=r.episode_id,
        )
    at = r.time("at")
    raw_a = r.get("assessment")
    assessment: Assessment | None = None
    if raw_a is not None:
        try:
            assessment = _stored_assessment(raw_a)
        except CarepathError as exc:
            raise EpisodeLoadError(
                problem=_problem(exc),
                location=f"{r.location}.assessment",
                episode_id=r.episode_id,
            ) from None
    raw_o = r.get("override")
    override: Override | None = None
    if raw_o is not None:
        o = _Reader(raw_o, self.id, f"{r.location}.override")
        # Read outside the try: EpisodeLoadError is a ValueError, and its location matters.
        reason, by = o.text("reason"), o.text("by")
        try:
            override = Override(reason=reason, by=by)
        except ValueError as exc:
            raise EpisodeLoadError(
                problem=_problem(exc), location=o.location, episode_id=r.episode_id
            ) from None
    note = r.get("note")
    if note is not None and not isinstance(note, str):
        raise EpisodeLoadError(
            problem="expected a string or null",
            location=f"{r.location}.note",
            episode_id=r.episode_id,
        )
    if self._ids is not None and event_id in self._ids:
        raise EpisodeLoadError(
            problem="the event id appears twice in the history",
            location=where,
            episode_id=r.episode_id,
        )
    fact = r.data.get("fact", False)
    if not isinstance(fact, bool):
        raise EpisodeLoadError(
            problem="expected true or false",
            location=f"{r.location}.fact",
            episode_id=r.episode_id,
        )
    if fact and override is not None:
        raise EpisodeLoadError(
            problem="a recorded fact carries no override",
            location=f"{r.location}.override",
            episode_id=r.episode_id,
        )
    # A recorded fact may have named its relapse destination; a live relapse's is
    # re-computed and must match what was stored (checked below).
    relapse_named = fact and ev is Event.RELAPSE
    level = target if ev in MOVES_TO_LEVEL or relapse_named else None
    try:
        record = self._apply(
            ev, level, at, assessment, override, event_id, note=note, fact=fact, replay=True
        )
    except TransitionRejected as exc:
        raise EpisodeLoadError(
            problem="the event does not replay through the pathway (refused by "
            + ", ".join(dict.fromkeys(x.kind for x in exc.reasons))
            + "; see .reasons)",
            location=where,
            episode_id=r.episode_id,
            reasons=exc.reasons,
        ) from None
    except CarepathError as exc:
        raise EpisodeLoadError(
            problem=_problem(exc), location=where, episode_id=r.episode_id
        ) from None
    if record.target != target:
        raise EpisodeLoadError(
            problem=f"recorded target {show(target)} but the pathway leads to {record.target!r}",
            location=where,
            episode_id=r.episode_id,
        )


@functools.lru_cache(maxsize=4096)
def _cached_assessment(ratings: tuple[object, ...]) -> Assessment:
    return Assessment(**dict(zip(_DIMENSION_KEYS, ratings, strict=True)))  # type: ignore[arg-type]


def _stored_assessment(raw: object) -> Assessment:
    """An assessment from stored JSON; the common exact shape is served from a cache."""
    if isinstance(raw, dict) and len(raw) == len(_DIMENSION_KEYS):
        try:
            ratings = tuple(raw[k] for k in _DIMENSION_KEYS)
        except KeyError:
            pass
        else:
            if all(type(v) is int for v in ratings):
                return _cached_assessment(ratings)
    return Assessment.from_mapping(raw)  # type: ignore[arg-type]  # checked by from_mapping


def record_data(r: EventRecord) -> dict[str, Any]:
    return {
        "event_id": r.event_id,
        "event": r.event.value,
        "source": r.source,
        "target": r.target,
        "at": r.at.isoformat(),
        "assessment": r.assessment.as_dict() if r.assessment is not None else None,
        "override": {"reason": r.override.reason, "by": r.override.by} if r.override else None,
        "note": r.note,
        "fact": r.fact,
    }


def _shown_id(episode_id: str) -> str:
    """The id of an episode read from JSON as its errors may show it ("" when it is not
    a well-formed id: it could be anything a sender put there)."""
    return episode_id if is_quotable(episode_id, kind="id") else ""


def _problem(exc: Exception) -> str:
    """An inner error's problem without the episode id it names (the id is named once,
    by the EpisodeLoadError, when it may be shown)."""
    if isinstance(exc, InvalidArgument):
        return str(exc)  # "Owner.field: problem": names no episode
    problem = getattr(exc, "problem", None)
    if isinstance(problem, str):
        field = getattr(exc, "field", "")
        return f"{field}: {problem}" if isinstance(field, str) and field else problem
    return str(exc)


class _Reader:
    """Reads fields from loaded JSON, naming the location of every problem."""

    __slots__ = ("data", "episode_id", "location")

    def __init__(self, data: object, episode_id: str, location: str = "") -> None:
        if not isinstance(data, dict):
            raise EpisodeLoadError(
                problem=f"expected an object, got {type(data).__name__}",
                location=location or "top level",
                episode_id=episode_id,
            )
        self.data: dict[str, object] = data
        self.episode_id = episode_id
        self.location = location

    def _where(self, key: str) -> str:
        return f"{self.location}.{key}" if self.location else key

    def get(self, key: str) -> object:
        if key not in self.data:
            raise EpisodeLoadError(
                problem="missing", location=self._where(key), episode_id=self.episode_id
            )
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise EpisodeLoadError(
                problem=f"expected a string, got {type(value).__name__}",
                location=self._where(key),
                episode_id=self.episode_id,
            )
        return value

    def time(self, key: str) -> datetime:
        text = self.text(key)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise EpisodeLoadError(
                problem="not an ISO 8601 date-time",
                location=self._where(key),
                episode_id=self.episode_id,
            ) from None
        if value.tzinfo is None:
            raise EpisodeLoadError(
                problem="date-time without a UTC offset",
                location=self._where(key),
                episode_id=self.episode_id,
            )
        return value
