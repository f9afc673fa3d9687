"""The ``carepath`` command line (extra ``cli``: click and rich).

Each area of the library registers its commands from a module in
``carepath._commands``; this module only assembles the group.
"""

from __future__ import annotations

import importlib
import sys

from ._extras import MissingExtra

try:
    import click
except ImportError as _missing:  # pragma: no cover - exercised only without the extra
    raise SystemExit(
        str(MissingExtra(extra="cli", needed_for="the carepath command line", module="click"))
    ) from _missing

from . import __version__

__all__ = ["main"]

# Modules in carepath._commands that define a ``register(group)`` function.
_AREAS: tuple[str, ...] = ("explore", "definitions", "interop", "simulate", "store", "serve")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="carepath")
def main() -> None:
    """carepath: levels of addiction care as a typed state machine."""


def _register() -> None:
    for area in _AREAS:
        module = importlib.import_module(f"carepath._commands.{area}")
        module.register(main)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
