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
    ├── TransitionRejected(CarepathError)              a guard or the pathway said no
    ├── PathwayError(CarepathError, ValueError)        a pathway definition with problems
    │   └── PathwayDefinitionError                     a pathway file or data with located problems
    ├── EpisodeLoadError(CarepathError, ValueError)    stored episode JSON that cannot be replayed
    │   └── PathwayMismatch                            JSON recorded under another pathway version
    ├── InvalidParameter(CarepathError, ValueError)    a simulation model parameter out of range
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
    """A pathway definition has problems; ``problems`` lists every one of them."""

    def __init__(self, *, pathway_id: str, problems: Sequence[str]) -> None:
        self.pathway_id = pathway_id
        self.problems: tuple[str, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"pathway {pathway_id!r} has {n} problem{'s' if n != 1 else ''}:\n{lines}")


@final
@attrs.frozen(kw_only=True)
class DefinitionProblem:
    """One problem in a pathway definition, with where it is.

    Attributes:
        message: What is wrong and what is expected, in words.
        path: The key path in the definition (``"levels[2].stay.maximum_days"``;
            empty for the document as a whole).
        file: The file it came from (empty for text or data given directly).
        line: The 1-based line in the file or text, where it can be found.
        column: The 1-based column, where the parser gives one.
    """

    message: str
    path: str = ""
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


class PathwayDefinitionError(PathwayError):
    """A pathway file or data is malformed or invalid; ``details`` locates every problem.

    ``problems`` holds the same problems as text (``"file.toml:12: levels[2].code: ..."``),
    as for any :class:`PathwayError`.
    """

    def __init__(
        self, *, details: Sequence[DefinitionProblem], pathway_id: str = "", source: str = ""
    ) -> None:
        self.details: tuple[DefinitionProblem, ...] = tuple(details)
        self.source = source
        super().__init__(pathway_id=pathway_id, problems=[str(d) for d in self.details])
        n = len(self.details)
        what = f"pathway {pathway_id!r}" if pathway_id else f"pathway definition {source or ''}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        self.args = (f"{what.rstrip()} has {n} problem{'s' if n != 1 else ''}:\n{lines}",)


class EpisodeLoadError(CarepathError, ValueError):
    """Stored episode JSON is malformed or does not replay through the pathway."""

    def __init__(
        self,
        *,
        problem: str,
        location: str = "",
        episode_id: str = "",
        reasons: Sequence[Reason] = (),
    ) -> None:
        self.problem = problem
        self.location = location
        self.episode_id = episode_id
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        """For an event that no longer replays: the guards' reasons, in plain words."""
        where = f" at {location}" if location else ""
        who = f" (episode {episode_id!r})" if episode_id else ""
        super().__init__(f"cannot load episode{who}{where}: {problem}")


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
    """A stored row cannot be read back: malformed JSON, a sequence number out of range,
    an unknown schema, or an event that does not replay through the pathway."""


class EpisodeNotFound(StoreError, LookupError):
    """The store holds no episode with the given id."""

    def __init__(self, *, episode_id: str) -> None:
        super().__init__(episode_id=episode_id, problem="no such episode in the store")
