"""``carepath paths`` and ``carepath diagram``: explore a pathway from the command line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import click

from carepath import explore
from carepath._commands import PATHWAY_HELP, guards_option, load_pathway
from carepath._errors import CarepathError
from carepath.definitions import GuardFactory

__all__ = ["register"]


@click.command("paths")
@click.option(
    "--from",
    "start",
    default="intake",
    show_default=True,
    help='Where to start: "intake" or a level code.',
)
@click.option(
    "--to",
    "end",
    default="completed",
    show_default=True,
    help='Where to end: a level code or an outcome ("completed", "dropped_out", '
    '"transferred_out").',
)
@click.option("--pathway", "pathway_file", type=click.Path(), help=PATHWAY_HELP)
@guards_option()
@click.option(
    "--max-steps", type=click.IntRange(min=1), default=None, help="At most this many moves."
)
@click.option(
    "--loops",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Returns to an already visited level allowed (needs --max-steps).",
)
@click.option(
    "--event",
    "events",
    multiple=True,
    help="Only moves by this event (repeatable), e.g. --event step_down --event complete.",
)
def paths_command(
    start: str,
    end: str,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    max_steps: int | None,
    loops: int,
    events: tuple[str, ...],
) -> None:
    """List the sequences of levels from one state to another, shortest first."""
    pathway = load_pathway(pathway_file, guards)
    try:
        found = explore.paths(
            pathway, start, end, max_steps=max_steps, loops=loops, events=events or None
        )
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    for p in found:
        click.echo(" -> ".join(p))
    click.echo(f"{len(found)} path{'s' if len(found) != 1 else ''} from {start} to {end}", err=True)


@click.command("diagram")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
    help="Mermaid text, graphviz dot source, or SVG (needs graphviz's dot program).",
)
@click.option("--pathway", "pathway_file", type=click.Path(), help=PATHWAY_HELP)
# --guards is taken: it shows the guards on the edges.
@guards_option("--guard-kinds")
@click.option("--guards", "show_guards", is_flag=True, help="Show each rule's guards on its edge.")
@click.option("--direction", type=click.Choice(["TD", "LR"]), default="TD", show_default=True)
@click.option(
    "--detail",
    type=click.Choice(["summary", "full"]),
    default="summary",
    show_default=True,
    help="summary: levels ranked by intensity, parallel rules and shared exits merged; "
    "full: every rule.",
)
def diagram_command(
    fmt: str,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    show_guards: bool,
    direction: str,
    detail: Literal["summary", "full"],
) -> None:
    """Print a diagram of the pathway."""
    pathway = load_pathway(pathway_file, guards)
    if fmt == "mermaid":
        click.echo(
            explore.to_mermaid(pathway, guards=show_guards, direction=direction, detail=detail),
            nl=False,
        )
        return
    from carepath.explore._diagrams import dot_available  # noqa: PLC0415  # only when needed

    try:
        graph = explore.to_graphviz(pathway, guards=show_guards, direction=direction, detail=detail)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "dot":
        click.echo(graph.source, nl=False)
        return
    if not dot_available():
        raise click.ClickException(
            "--format svg needs graphviz's 'dot' program (Debian: apt-get install graphviz); "
            "--format dot prints the source without it"
        )
    svg: bytes = graph.pipe(format="svg")
    click.echo(svg.decode("utf-8"), nl=False)


def register(group: click.Group) -> None:
    """Add ``paths`` and ``diagram`` to the ``carepath`` command group."""
    group.add_command(paths_command)
    group.add_command(diagram_command)
