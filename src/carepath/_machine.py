"""The one module that imports transitions.

A pathway compiles onto a single :class:`transitions.Machine` with one
stand-in model (a flyweight): an episode's event points the stand-in at the
episode's state, fires the trigger, and reads the new state back. The cost
per event and per episode does not depend on how many episodes exist
(ARCHITECTURE.md, "No machine per patient"). A lock makes the shared stand-in
thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any, final

from transitions import Machine

__all__ = ["Engine", "trigger_name"]


def trigger_name(event: str, target: str) -> str:
    """The machine trigger for ``event`` into ``target`` (one per destination)."""
    return f"{event}__{target}"


@final
class _Cursor:
    """The stand-in model; ``state`` is pointed at an episode's state per event."""

    __slots__ = ("__dict__",)  # transitions sets attributes on its models

    def __init__(self) -> None:
        self.state = ""


@final
class Engine:
    """A pathway's compiled machine: states, typed triggers, no auto transitions."""

    __slots__ = ("_cursor", "_events", "_lock", "machine")

    def __init__(self, states: Sequence[str], moves: Iterable[tuple[str, str, str]]) -> None:
        """Compile ``moves`` given as ``(trigger, source, dest)`` over ``states``."""
        self._cursor = _Cursor()
        # No model is bound: triggers are fired on the stand-in directly, so transitions
        # neither decorates it nor logs a warning per trigger it could not bind.
        self.machine = Machine(
            model=None,
            states=list(states),
            initial=states[0],
            transitions=[
                {"trigger": trigger, "source": source, "dest": dest}
                for trigger, source, dest in moves
            ],
            auto_transitions=False,
            model_override=True,
            ignore_invalid_triggers=False,
        )
        self._events: dict[str, Any] = dict(self.machine.events)
        self._lock = threading.Lock()

    def fire(self, trigger: str, source: str) -> str:
        """Fire ``trigger`` from ``source`` and return the state the machine lands in.

        Raises transitions' ``MachineError`` when the machine has no such move; the
        caller checks the structure first so that never happens in normal use.
        """
        event = self._events[trigger]
        with self._lock:
            cursor = self._cursor
            cursor.state = source
            event.trigger(cursor)
            result: str = cursor.state
        return result

    def has(self, trigger: str, source: str) -> bool:
        """True when the machine has ``trigger`` from ``source``."""
        event = self._events.get(trigger)
        return event is not None and source in event.transitions
