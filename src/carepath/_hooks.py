"""Hooks: integrators' code called after an event is recorded (on_enter, on_exit, after).

A pathway keeps no hooks until one is registered, and an episode's event then costs
one attribute check more; with hooks, the cost is a dictionary look-up per kind of
hook, whatever the number of live episodes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias, final

if TYPE_CHECKING:
    from ._episode import Episode, EventRecord

__all__ = ["Hook", "Hooks", "Unregister"]


class Hook(Protocol):
    """A hook: called with the episode and the event just recorded on it."""

    def __call__(self, episode: Episode, record: EventRecord, /) -> None: ...


Unregister: TypeAlias = Callable[[], None]
"""Call it to remove the hook it was returned for."""


@final
class Hooks:
    """The hooks registered on one pathway, by state entered, state left and event."""

    __slots__ = ("_after", "_enter", "_exit", "_lock")

    def __init__(self) -> None:
        self._enter: dict[str, tuple[Hook, ...]] = {}
        self._exit: dict[str, tuple[Hook, ...]] = {}
        self._after: dict[str, tuple[Hook, ...]] = {}
        self._lock = threading.Lock()

    def add(self, kind: str, key: str, fn: Hook) -> Unregister:
        """Register ``fn``; tuples are replaced, never changed, so a running event is safe."""
        table = {"enter": self._enter, "exit": self._exit, "after": self._after}[kind]
        with self._lock:
            table[key] = (*table.get(key, ()), fn)

        def unregister() -> None:
            with self._lock:
                left = list(table.get(key, ()))
                if fn in left:
                    left.remove(fn)
                if left:
                    table[key] = tuple(left)
                else:
                    table.pop(key, None)

        return unregister

    def run(self, episode: Episode, record: EventRecord) -> None:
        """Call the hooks for ``record``: exit from its source, enter into its target, after."""
        if record.source != record.target:
            for fn in self._exit.get(record.source, ()):
                fn(episode, record)
            for fn in self._enter.get(record.target, ()):
                fn(episode, record)
        for fn in self._after.get(record.event.value, ()):
            fn(episode, record)
