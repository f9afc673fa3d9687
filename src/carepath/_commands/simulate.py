"""``carepath simulate``: run a cohort simulation with a progress bar and a summary table."""

from __future__ import annotations

import math

import click

from carepath._errors import CarepathError
from carepath._pathway import Pathway, standard_pathway

__all__ = ["register"]


def _fmt(x: object, digits: int = 2) -> str:
    if isinstance(x, float):
        return "-" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


@click.command("simulate")
@click.option("--patients", "-n", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Number of synthetic patients.")
@click.option("--days", "-d", type=click.IntRange(min=1, max=100_000), default=365,
              show_default=True, help="Horizon in days.")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=2**64 - 1), default=0,
              show_default=True, help="Random seed; the same seed gives identical tables.")
@click.option("--pathway", "pathway_file", type=click.Path(exists=True, dir_okay=False),
              help="A pathway definition file (.toml or .json); the standard pathway if "
              "omitted.")
@click.option("--out", "out", type=click.Path(file_okay=False),
              help="Write events.parquet, stays.parquet and metadata.json here.")
def simulate_command(
    patients: int, days: int, seed: int, pathway_file: str | None, out: str | None
) -> None:
    """Simulate a cohort through the pathway's own rules and print a summary."""
    try:
        from rich.console import Console  # noqa: PLC0415  # extras load on use
        from rich.progress import Progress  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        from carepath.sim import SimulationModel, simulate  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - exercised only without the extras
        raise click.ClickException(
            f"carepath simulate needs the 'sim' and 'cli' extras ({exc.name} is missing): "
            "pip install 'carepath[sim,cli]'"
        ) from None
    try:
        pathway: Pathway = (
            Pathway.from_file(pathway_file) if pathway_file else standard_pathway()
        )
        model = SimulationModel.default(pathway)
        console = Console()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"Simulating {patients:,} patients", total=patients)
            result = simulate(model, n=patients, seed=seed, days=days,
                              progress=lambda k: bar.advance(task, k))
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    s = result.summary()
    table = Table(title=f"{pathway.id} pathway: {patients:,} patients, {days} days, seed {seed}",
                  caption="LOS: median length of stay (days) of ended stays; compl / drop / "
                  "transf: shares of ended stays")
    for col in ("level", "ended", "LOS", "IQR", "compl", "drop", "transf", "days/pt"):
        table.add_column(col, justify="left" if col == "level" else "right")
    for code in s.outcomes.index:
        los, o = s.length_of_stay.loc[code], s.outcomes.loc[code]
        table.add_row(
            str(code), str(int(o["ended"])), _fmt(float(los["median"]), 0),
            f"{_fmt(float(los['q1']), 0)}-{_fmt(float(los['q3']), 0)}",
            _fmt(float(o["completed"])), _fmt(float(o["dropped_out"])),
            _fmt(float(o["transferred"])), _fmt(float(s.care.loc[code, "days_per_patient"]), 1),
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
        where = result.to_parquet(out)
        console.print(f"Wrote {len(result.events):,} events and {len(result.stays):,} stays "
                      f"to {where}")


def register(group: click.Group) -> None:
    """Add ``simulate`` to the ``carepath`` command group."""
    group.add_command(simulate_command)
