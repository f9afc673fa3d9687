"""Errors raised by carepath.

Every error carepath raises derives from :class:`CarepathError`. Subclasses
carry structured, keyword-only data and build their message from it; messages
name what was wrong and where, and never contain patient data beyond the ids
the caller supplied::

    CarepathError(Exception)
    ├── InvalidArgument(CarepathError, ValueError, TypeError)
    │                                                  a bad field of a level, stay rule, rule,
    │                                                  guard or override
    ├── InvalidAssessment(CarepathError, ValueError)   a rating out of range or of the wrong type
    ├── InvalidEvent(CarepathError, ValueError)        a bad argument to an event (time, level, id)
    │   └── UnknownLevel(InvalidEvent, LookupError)    a level the pathway does not have
    ├── TransitionRejected(CarepathError)              a guard or the pathway said no
    ├── PathwayError(CarepathError, ValueError)        a pathway definition with problems
    │   └── PathwayDefinitionError                     a pathway file or data with located problems
    ├── EpisodeLoadError(CarepathError, ValueError)    stored episode JSON that cannot be replayed
    │   └── PathwayMismatch                            JSON recorded under another pathway version
    ├── InvalidParameter(CarepathError, ValueError)    a simulation model parameter out of range
    ├── ExploreError(CarepathError, ValueError)        a bad argument to an exploration function
    ├── InteropError(CarepathError, ValueError)        FHIR or HL7 v2 input carepath cannot read
    ├── MissingExtra(CarepathError, ImportError)       an optional extra is not installed; says
    │                                                  pip install 'carepath[EXTRA]'
    └── StoreError(CarepathError)                      a store cannot be opened, read or written
        ├── ConcurrencyConflict                        an append built on a stale version
        ├── CorruptRecord                              a stored row that cannot be read back
        └── EpisodeNotFound(StoreError, LookupError)   no episode with that id in the store
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, final

import attrs

from ._problems import Problem, format_path

if TYPE_CHECKING:
    from ._guards import Reason


class CarepathError(Exception):
    """Base class of every error carepath raises."""


class InvalidArgument(CarepathError, ValueError, TypeError):
    """A field of a public record (Level, StayRule, Rule, a guard, Override) is unusable.

    A ``ValueError`` and a ``TypeError`` too, so code catching either still works.
    """

    def __init__(self, *, owner: str, field: str, problem: str) -> None:
        self.owner = owner
        self.field = field
        self.problem = problem
        super().__init__(f"{owner}.{field}: {problem}")


class InvalidAssessment(CarepathError, ValueError):
    """An assessment rating is missing, out of range (0-4) or of the wrong type."""

    def __init__(self, *, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"assessment field {field!r}: {problem}")


class InvalidEvent(CarepathError, ValueError):
    """An argument to an event is unusable: naive or out-of-order time, unknown level, ...

    Nothing is changed when this is raised.
    """

    def __init__(self, *, event: str, field: str, problem: str, episode_id: str = "") -> None:
        self.event = event
        self.field = field
        self.problem = problem
        self.episode_id = episode_id
        where = f" on episode {episode_id!r}" if episode_id else ""
        super().__init__(f"{event}{where}: {field}: {problem}")


class UnknownLevel(InvalidEvent, LookupError):
    """A level the pathway does not have was asked for; names it and lists the known ones.

    A ``LookupError`` (as a missing key is), and an :class:`InvalidEvent` for code that
    caught that before.

    Attributes:
        level: The code asked for (a short description when it was not a string).
        pathway_id: The pathway asked.
        known: The pathway's level codes, least intensive first.
    """

    def __init__(
        self, *, level: str, pathway_id: str, known: Sequence[str], hint: str = ""
    ) -> None:
        self.level = level
        self.pathway_id = pathway_id
        self.known: tuple[str, ...] = tuple(known)
        problem = f"{level} is not a level of pathway {pathway_id!r}; {hint}known: " + ", ".join(
            self.known
        )
        super().__init__(event="lookup", field="level", problem=problem)
        self.args = (problem,)


class TransitionRejected(CarepathError):
    """An event was refused; ``reasons`` lists every failed guard in plain words.

    The episode is left exactly as it was.
    """

    def __init__(
        self, *, event: str, source: str, target: str, episode_id: str, reasons: Sequence[Reason]
    ) -> None:
        self.event = event
        self.source = source
        self.target = target
        self.episode_id = episode_id
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        # The message names guard kinds only: the reasons' words carry ratings and
        # lengths of stay, which are patient data, and messages end up in logs.
        kinds = ", ".join(dict.fromkeys(r.kind for r in self.reasons))
        n = len(self.reasons)
        super().__init__(
            f"{event} from {source} to {target} refused for episode {episode_id!r}: "
            f"{n} reason{'s' if n != 1 else ''} ({kinds}); see .reasons or .explain()"
        )

    def explain(self) -> str:
        """Every reason in plain words (clinical detail: show it to clinicians, not logs)."""
        head = f"{self.event} from {self.source} to {self.target} refused:"
        return "\n".join([head, *(f"  - {r.message}" for r in self.reasons)])

    @property
    def overridable(self) -> bool:
        """True when a clinician override would let the event through."""
        return all(r.overridable for r in self.reasons)


class PathwayError(CarepathError, ValueError):
    """A pathway definition has problems; ``problems`` lists every one as a :class:`Problem`."""

    def __init__(self, *, pathway_id: str, problems: Sequence[Problem | str]) -> None:
        self.pathway_id = pathway_id
        self.problems: tuple[Problem, ...] = tuple(
            p if isinstance(p, Problem) else Problem(code="pathway_invalid", message=str(p))
            for p in problems
        )
        super().__init__(_render(f"pathway {pathway_id!r}", self.problems))


def _render(what: str, problems: Sequence[Problem]) -> str:
    n = len(problems)
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{what} has {n} problem{'s' if n != 1 else ''}:\n{lines}"


def _where_text(d: DefinitionProblem) -> str:
    return format_path(d.where)


@final
@attrs.frozen(kw_only=True)
class DefinitionProblem(Problem):
    """One problem in a pathway definition, with where it is (a :class:`Problem`).

    Attributes:
        code: Stable identifier of the kind of problem; see docs/errors.md.
        message: What is wrong and what is expected, in words.
        where: The key path in the definition as a tuple (``("levels", 2, "stay")``).
        path: The same key path as text (``"levels[2].stay.maximum_days"``;
            empty for the document as a whole).
        file: The file it came from (empty for text or data given directly).
        line: The 1-based line in the file or text, where it can be found.
        column: The 1-based column, where the parser gives one.
    """

    code: str = "definition_invalid"
    path: str = attrs.field(
        default=attrs.Factory(_where_text, takes_self=True),
        validator=attrs.validators.instance_of(str),
    )
    file: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file or "<definition>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"

    def to_dict(self) -> dict[str, str | int]:
        """The record as JSON-ready data, with its file, line and column where known."""
        out = super().to_dict()
        if self.path and "where" not in out:
            out["where"] = self.path
        for key in ("file", "line", "column"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        return out


class PathwayDefinitionError(PathwayError):
    """A pathway file or data is malformed or invalid; every problem located.

    ``problems`` and ``details`` hold the same :class:`DefinitionProblem` records
    (``details`` is the older name), each with its code, key path and line.
    """

    def __init__(
        self, *, details: Sequence[DefinitionProblem], pathway_id: str = "", source: str = ""
    ) -> None:
        self.details: tuple[DefinitionProblem, ...] = tuple(details)
        self.source = source
        super().__init__(pathway_id=pathway_id, problems=self.details)
        what = f"pathway {pathway_id!r}" if pathway_id else f"pathway definition {source or ''}"
        self.args = (_render(what.rstrip(), self.details),)


class EpisodeLoadError(CarepathError, ValueError):
    """Stored episode JSON is malformed or does not replay through the pathway.

    Attributes:
        problem: What is wrong, in words.
        location: Where, as text (``"events[3].note"``; empty for the whole document).
        episode_id: The episode's id, once it is known.
        event_index: The index of the event concerned in ``events``, if one is.
        event_field: Where within that event (``"note"``; empty for the event as a whole).
        code: Stable identifier of the kind of problem (see docs/errors.md).
        reasons: For an event that no longer replays, the guards' reasons.
        problems: The same as one :class:`Problem` record.
    """

    def __init__(
        self,
        *,
        problem: str,
        location: str = "",
        episode_id: str = "",
        reasons: Sequence[Reason] = (),
        code: str = "",
        event_index: int | None = None,
        event_field: str = "",
    ) -> None:
        self.problem = problem
        self.location = location
        self.episode_id = episode_id
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        self.code = code or ("event_refused" if self.reasons else "episode_invalid")
        self.event_index = event_index
        self.event_field = event_field
        where = f" at {location}" if location else ""
        who = f" (episode {episode_id!r})" if episode_id else ""
        super().__init__(f"cannot load episode{who}{where}: {problem}")

    def in_event(self, index: int, prefix: str) -> EpisodeLoadError:
        """This error, marked as about ``events[index]`` whose location starts ``prefix``."""
        self.event_index = index
        rest = self.location[len(prefix) :] if self.location.startswith(prefix) else ""
        self.event_field = rest.lstrip(".").strip()
        return self

    @property
    def problems(self) -> tuple[Problem, ...]:
        """The problem as a record: code, where (``("events", i, ...)``), message."""
        where: tuple[str | int, ...] = ()
        if self.event_index is not None:
            where = ("events", self.event_index)
            if self.event_field and not self.event_field.startswith("("):
                where = (*where, *self.event_field.split("."))
        elif self.location and self.location != "top level":
            where = (self.location,)
        return (
            Problem(
                code=self.code,
                where=where,
                message=self.problem,
                event_index=self.event_index,
            ),
        )


class PathwayMismatch(EpisodeLoadError):
    """Episode JSON was recorded under a pathway whose content hash differs."""

    def __init__(
        self, *, episode_id: str, recorded: str, recorded_hash: str, given: str, given_hash: str
    ) -> None:
        self.recorded_hash = recorded_hash
        self.given_hash = given_hash
        super().__init__(
            episode_id=episode_id,
            location="pathway",
            code="pathway_mismatch",
            problem=(
                f"recorded under pathway {recorded} (content hash {recorded_hash[:12]}…) "
                f"but given {given} (content hash {given_hash[:12]}…); "
                "pass the pathway the episode was recorded under"
            ),
        )


class InvalidParameter(CarepathError, ValueError):
    """A simulation model parameter is unusable; ``parameter`` names it (``"drop_out[iop]"``)."""

    def __init__(self, *, parameter: str, problem: str) -> None:
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"simulation parameter {parameter!r}: {problem}")


class ExploreError(CarepathError, ValueError):
    """A bad argument to an exploration function (an unknown state, an unsupported figure)."""

    def __init__(self, *, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class InteropError(CarepathError, ValueError):
    """FHIR or HL7 v2 input that cannot become an episode (or an episode that cannot be
    exported); names the standard, the resource or message, and the field.

    Attributes:
        standard: ``"FHIR R4B"``, ``"FHIR R5"`` or ``"HL7 v2"``.
        resource: The resource or message (``"Encounter urn:uuid:..."``,
            ``"message 'MSG00042' (ADT^A02)"``).
        field: The field (``"period.start"``, ``"PV1-3"``); empty for the whole resource.
        problem: What is wrong and what is allowed.
        reasons: For a move the pathway does not have, the pathway's reasons.
    """

    def __init__(
        self,
        *,
        standard: str,
        resource: str,
        field: str = "",
        problem: str,
        reasons: Sequence[Reason] = (),
    ) -> None:
        self.standard = standard
        self.resource = resource
        self.field = field
        self.problem = problem
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        where = f" {field}:" if field else ""
        super().__init__(f"{standard} {resource}:{where} {problem}")


class StoreError(CarepathError):
    """An episode store cannot be opened, read or written (:mod:`carepath.store`).

    Attributes:
        problem: What went wrong, in words (never row contents).
        episode_id: The episode concerned, if any.
        seq: The event's sequence number in the episode, if one is concerned.
    """

    def __init__(self, *, problem: str, episode_id: str = "", seq: int | None = None) -> None:
        self.problem = problem
        self.episode_id = episode_id
        self.seq = seq
        where = f" episode {episode_id!r}" if episode_id else ""
        if seq is not None:
            where += f" seq {seq}"
        super().__init__(f"episode store:{where}{':' if where else ''} {problem}")


class ConcurrencyConflict(StoreError):
    """An append was built on a version of the episode that is no longer the latest.

    Nothing was written. Load the episode again and redo the change
    (:meth:`carepath.store.EpisodeStore.apply` does this for you).
    """

    def __init__(
        self,
        *,
        episode_id: str,
        expected_version: int | None,
        actual_version: int,
        problem: str = "",
    ) -> None:
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            episode_id=episode_id,
            problem=problem
            or (
                f"expected version {expected_version} but the stored episode is at version "
                f"{actual_version}; reload it and apply the change again"
            ),
        )


class CorruptRecord(StoreError):
    """A stored row cannot be read back: malformed JSON, nested too deeply, the wrong
    shape, a payload that does not match its digest, a sequence number out of range, an
    unknown schema, or an event that does not replay through the pathway.

    Attributes:
        table: The table of the row (``"carepath_events"``), or for an import the line
            (``"line 3: events"``); empty when no row is concerned.
    """

    def __init__(
        self, *, problem: str, episode_id: str = "", seq: int | None = None, table: str = ""
    ) -> None:
        super().__init__(
            problem=f"{table}: {problem}" if table else problem, episode_id=episode_id, seq=seq
        )
        self.table = table
        self.problem = problem


class EpisodeNotFound(StoreError, LookupError):
    """The store holds no episode with the given id."""

    def __init__(self, *, episode_id: str) -> None:
        super().__init__(episode_id=episode_id, problem="no such episode in the store")
