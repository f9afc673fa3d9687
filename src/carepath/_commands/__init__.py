"""Command-line areas; each module defines ``register(group: click.Group) -> None``."""

from __future__ import annotations

import click

from carepath._errors import CarepathError
from carepath._pathway import Pathway, standard_pathway

PATHWAY_HELP = "A pathway definition file (.toml or .json); the standard pathway if omitted."


def load_pathway(path: str | None) -> Pathway:
    """The pathway in ``path``, or the standard one; problems become a click error."""
    if path is None:
        return standard_pathway()
    try:
        return Pathway.from_file(path)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
