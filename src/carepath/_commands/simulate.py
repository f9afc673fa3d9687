"""``carepath simulate``: run a cohort simulation with a progress bar and a summary table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

import click

from carepath._commands import PATHWAY_HELP, guards_option, load_pathway
from carepath._errors import CarepathError
from carepath.definitions import GuardFactory

__all__ = ["register"]

# carepath.sim's defaults (its _FAST_CHUNK and the reference engine's block), written
# here because the help must not import numpy; a test keeps them equal.
_FAST_CHUNK: Final = 250_000
_REFERENCE_CHUNK: Final = 2_000


def _fmt(x: object, digits: int = 2) -> str:
    if isinstance(x, float):
        return "-" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


@click.command("simulate")
@click.option(
    "--patients",
    "-n",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Number of synthetic patients.",
)
@click.option(
    "--days",
    "-d",
    type=click.IntRange(min=1, max=100_000),
    default=365,
    show_default=True,
    help="Horizon in days.",
)
@click.option(
    "--seed",
    "-s",
    type=click.IntRange(min=0, max=2**64 - 1),
    default=0,
    show_default=True,
    help="Random seed; the same seed gives identical tables.",
)
@click.option("--pathway", "pathway_file", type=click.Path(), help=PATHWAY_HELP)
@guards_option()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="Stream the tables to Parquet parts here (events/part-*.parquet, "
    "stays/part-*.parquet, one per block) with metadata.json.",
)
@click.option(
    "--engine",
    type=click.Choice(["fast", "reference"]),
    default=None,
    help="Simulation engine (same results); fast unless the pathway has custom "
    "guards without an array form.",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes; blocks of patients run in parallel.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help=f"Patients per block (default {_FAST_CHUNK:,} fast, "
    f"{_REFERENCE_CHUNK:,} reference; smaller with --workers so that "
    "every worker gets a block).",
)
def simulate_command(  # one option each
    patients: int,
    days: int,
    seed: int,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    out: str | None,
    engine: str | None,
    workers: int,
    chunk_size: int | None,
) -> None:
    """Simulate a cohort through the pathway's own rules and print a summary."""
    try:
        from rich.console import Console  # noqa: PLC0415  # extras load on use
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Table  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        from carepath.sim import SimulationModel, simulate  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - exercised only without the extras
        raise click.ClickException(
            f"carepath simulate needs the 'sim' and 'cli' extras ({exc.name} is missing): "
            "pip install 'carepath[sim,cli]'"
        ) from None
    pathway = load_pathway(pathway_file, guards)
    try:
        model = SimulationModel.default(pathway)
        console = Console()
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"Simulating {patients:,} patients", total=patients)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = simulate(
                model,
                n=patients,
                seed=seed,
                days=days,
                progress=advance,
                engine="reference" if engine == "reference" else None,
                workers=workers,
                chunk_size=chunk_size,
                out=out,
            )
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    s = result.summary()
    # Text, not markup: the id comes from the pathway file, e.g. "prog[/]".
    table = Table(
        title=Text(f"{pathway.id} pathway: {patients:,} patients, {days} days, seed {seed}"),
        caption="LOS: median length of stay (days) of ended stays; compl / drop / "
        "transf: shares of ended stays",
    )
    for col in ("level", "ended", "LOS", "IQR", "compl", "drop", "transf", "days/pt"):
        table.add_column(col, justify="left" if col == "level" else "right")
    for code in s.outcomes.index:
        los, o = s.length_of_stay.loc[code], s.outcomes.loc[code]
        table.add_row(
            Text(str(code)),
            str(int(o["ended"])),
            _fmt(float(los["median"]), 0),
            f"{_fmt(float(los['q1']), 0)}-{_fmt(float(los['q3']), 0)}",
            _fmt(float(o["completed"])),
            _fmt(float(o["dropped_out"])),
            _fmt(float(o["transferred"])),
            _fmt(float(s.care.loc[code, "days_per_patient"]), 1),
        )
    console.print(table)
    c, r = s.continuation["share"], s.readmissions["share"]
    console.print(
        f"Follow-up after detox / inpatient discharge: {_fmt(float(c[14]))} within 14 days, "
        f"{_fmt(float(c[30]))} within 30 days. Readmission: {_fmt(float(r[30]))} within "
        f"30 days, {_fmt(float(r[90]))} within 90. Relapses per patient: "
        f"{_fmt(s.relapses_per_patient)}."
    )
    if out is not None:
        console.print(
            Text(
                f"Wrote Parquet parts (events/, stays/) and metadata.json to {out} "
                f"({result.metadata['engine']} engine)"
            )
        )


def register(group: click.Group) -> None:
    """Add ``simulate`` to the ``carepath`` command group."""
    group.add_command(simulate_command)
