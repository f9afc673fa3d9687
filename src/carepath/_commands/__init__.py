"""Command-line areas; each module defines ``register(group: click.Group) -> None``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TypeVar

import click

from carepath._errors import CarepathError
from carepath._pathway import Pathway, standard_pathway
from carepath.definitions import GuardFactory, load

PATHWAY_HELP = "A pathway definition file (.toml or .json); the standard pathway if omitted."

_F = TypeVar("_F", bound=Callable[..., object])


def _load_guards(
    ctx: click.Context, param: click.Parameter, spec: str | None
) -> Mapping[str, GuardFactory] | None:
    """Import ``module:name``, a mapping of custom guard kinds to factories.

    A click callback: click names the option in the errors.
    """
    if spec is None:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise click.BadParameter("expected MODULE:NAME, e.g. myprogramme.guards:GUARDS")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot import {spec}: {exc}") from None
    if not isinstance(found, Mapping):
        raise click.BadParameter(
            f"{spec} is a {type(found).__name__}, not a mapping of guard kinds to factories"
        )
    return found


def guards_option(*decls: str) -> Callable[[_F], _F]:
    """The shared ``--guards MODULE:NAME`` option; the command gets the mapping as ``guards``.

    ``decls`` replaces the option's name where a command already has a ``--guards``
    of its own (``carepath diagram``).
    """
    return click.option(
        *(decls or ("--guards",)),
        "guards",
        metavar="MODULE:NAME",
        default=None,
        callback=_load_guards,
        help="A mapping of custom guard kinds to factories, e.g. myprogramme.guards:GUARDS.",
    )


def load_pathway(path: str | None, guards: Mapping[str, GuardFactory] | None = None) -> Pathway:
    """The pathway in ``path`` (with custom ``guards``), or the standard one.

    Problems become a click error.
    """
    if path is None:
        return standard_pathway()
    try:
        return load(path, guards=guards)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
