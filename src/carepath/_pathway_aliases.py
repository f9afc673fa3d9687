"""The deprecated members of :class:`~carepath.Pathway`, kept for one release.

Files moved to :mod:`carepath.definitions`, pictures and paths to
:mod:`carepath.explore`; each alias warns naming its replacement and forwards
to it, looking the higher layer up by name (:func:`carepath._deprecated.upper`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from . import _deprecated
from ._assessment import Assessment
from ._guards import Event, GuardFactory
from ._levels import Level, Outcome

if TYPE_CHECKING:
    from os import PathLike

    from ._episode import Episode
    from ._pathway import Pathway

__all__ = ["PathwayAliases"]


class PathwayAliases:
    """Deprecated members of :class:`~carepath.Pathway` (a base class with no state)."""

    __slots__ = ()

    # -- deprecated aliases: files live in carepath.definitions, pictures in carepath.explore --

    @classmethod
    def from_file(
        cls, path: str | PathLike[str], *, guards: Mapping[str, GuardFactory] | None = None
    ) -> Pathway:
        """Deprecated: use :func:`carepath.definitions.load`."""
        _deprecated.warn("Pathway.from_file(path)", "carepath.definitions.load(path)")
        result: Pathway = _deprecated.upper("carepath.definitions").load(path, guards=guards)
        return result

    @classmethod
    def from_toml(
        cls, text: str, *, guards: Mapping[str, GuardFactory] | None = None, file: str = ""
    ) -> Pathway:
        """Deprecated: use :func:`carepath.definitions.loads`."""
        _deprecated.warn("Pathway.from_toml(text)", "carepath.definitions.loads(text)")
        result: Pathway = _deprecated.upper("carepath.definitions").loads(
            text, "toml", guards=guards, file=file
        )
        return result

    @classmethod
    def from_json(
        cls, text: str | bytes, *, guards: Mapping[str, GuardFactory] | None = None, file: str = ""
    ) -> Pathway:
        """Deprecated: use ``carepath.definitions.loads(text, "json")``."""
        _deprecated.warn("Pathway.from_json(text)", 'carepath.definitions.loads(text, "json")')
        result: Pathway = _deprecated.upper("carepath.definitions").loads(
            text, "json", guards=guards, file=file
        )
        return result

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, guards: Mapping[str, GuardFactory] | None = None
    ) -> Pathway:
        """Deprecated: use :func:`carepath.definitions.from_dict`."""
        _deprecated.warn("Pathway.from_dict(data)", "carepath.definitions.from_dict(data)")
        result: Pathway = _deprecated.upper("carepath.definitions").from_dict(data, guards=guards)
        return result

    def to_dict(self, *, compact: bool = False) -> dict[str, Any]:
        """Deprecated: use :func:`carepath.definitions.to_dict`."""
        _deprecated.warn("Pathway.to_dict()", "carepath.definitions.to_dict(pathway)")
        result: dict[str, Any] = _deprecated.upper("carepath.definitions").to_dict(
            self, compact=compact
        )
        return result

    def to_toml(self, *, compact: bool = False) -> str:
        """Deprecated: use :func:`carepath.definitions.dumps`."""
        _deprecated.warn("Pathway.to_toml()", "carepath.definitions.dumps(pathway)")
        result: str = _deprecated.upper("carepath.definitions").dumps(self, compact=compact)
        return result

    def to_json(self, *, compact: bool = False, indent: int | None = 2) -> str:
        """Deprecated: use ``carepath.definitions.dumps(pathway, "json")``."""
        _deprecated.warn("Pathway.to_json()", 'carepath.definitions.dumps(pathway, "json")')
        result: str = _deprecated.upper("carepath.definitions").dumps(
            self, "json", compact=compact, indent=indent
        )
        return result

    def paths(
        self,
        start: str | Level,
        end: str | Level | Outcome,
        *,
        max_steps: int | None = None,
        loops: int = 0,
        events: Iterable[Event | str] | None = None,
        assessments: Assessment | Sequence[Assessment] | None = None,
    ) -> list[tuple[str, ...]]:
        """Deprecated: use :func:`carepath.explore.paths`."""
        _deprecated.warn("Pathway.paths(...)", "carepath.explore.paths(pathway, ...)")
        result: list[tuple[str, ...]] = _deprecated.upper("carepath.explore").paths(
            self,
            start,
            end,
            max_steps=max_steps,
            loops=loops,
            events=events,
            assessments=assessments,
        )
        return result

    def shortest_path(
        self,
        start: str | Level,
        end: str | Level | Outcome,
        *,
        events: Iterable[Event | str] | None = None,
        assessments: Assessment | Sequence[Assessment] | None = None,
    ) -> tuple[str, ...] | None:
        """Deprecated: use :func:`carepath.explore.shortest_path`."""
        _deprecated.warn(
            "Pathway.shortest_path(...)", "carepath.explore.shortest_path(pathway, ...)"
        )
        result: tuple[str, ...] | None = _deprecated.upper("carepath.explore").shortest_path(
            self, start, end, events=events, assessments=assessments
        )
        return result

    def to_networkx(self) -> Any:
        """Deprecated: use :func:`carepath.explore.to_networkx`."""
        _deprecated.warn("Pathway.to_networkx()", "carepath.explore.to_networkx(pathway)")
        return _deprecated.upper("carepath.explore").to_networkx(self)

    def to_mermaid(
        self,
        *,
        guards: bool = False,
        episode: Episode | None = None,
        events: Iterable[Event | str] | None = None,
        direction: str = "TD",
        detail: Literal["summary", "full"] = "summary",
    ) -> str:
        """Deprecated: use :func:`carepath.explore.to_mermaid`."""
        _deprecated.warn("Pathway.to_mermaid()", "carepath.explore.to_mermaid(pathway)")
        result: str = _deprecated.upper("carepath.explore").to_mermaid(
            self, guards=guards, episode=episode, events=events, direction=direction, detail=detail
        )
        return result

    def to_graphviz(
        self,
        *,
        guards: bool = False,
        episode: Episode | None = None,
        events: Iterable[Event | str] | None = None,
        direction: str = "TD",
        detail: Literal["summary", "full"] = "summary",
    ) -> Any:
        """Deprecated: use :func:`carepath.explore.to_graphviz`."""
        _deprecated.warn("Pathway.to_graphviz()", "carepath.explore.to_graphviz(pathway)")
        return _deprecated.upper("carepath.explore").to_graphviz(
            self, guards=guards, episode=episode, events=events, direction=direction, detail=detail
        )
