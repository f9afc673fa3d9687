"""``carepath store init|show|export|import|check``: the episode store on the command line."""

from __future__ import annotations

import sys
from collections.abc import Mapping

import click

from carepath._commands import guards_option, input_lines, load_pathway
from carepath._errors import CarepathError
from carepath._pathway import standard_pathway
from carepath.definitions import GuardFactory

__all__ = ["register"]

_URL_HELP = "sqlite:///file.db or postgresql+psycopg://user@host:port/database"


@click.group("store")
def store_group() -> None:
    """Episode stores in SQLite or PostgreSQL (needs the 'store' extra).

    URL is sqlite:///file.db (a file, no server) or
    postgresql+psycopg://user@host:port/database (also the 'postgres' extra).
    """


@store_group.command("init")
@click.argument("url", metavar="URL")
def init_command(url: str) -> None:
    """Create the store's tables at URL (or upgrade them); safe to run again."""
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra loads only when used

    try:
        with EpisodeStore.open(url) as store:
            click.echo(
                f"store ready at {store.url} (schema version {store.schema_version}, "
                f"{len(store.episodes())} episodes)"
            )
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None


@store_group.command("show")
@click.argument("url", metavar="URL")
@click.argument("episode_id", metavar="EPISODE")
@click.option(
    "--pathway",
    "pathway_file",
    type=click.Path(),
    help="Replay the episode through this pathway file (.toml or .json) and show "
    "its state and findings.",
)
@guards_option()
@click.option(
    "--replay", is_flag=True, help="Replay the episode through the standard pathway (or --pathway)."
)
def show_command(
    url: str,
    episode_id: str,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    replay: bool,
) -> None:
    """Print one stored episode: ids, events and, when replayed, findings.

    Prints ids, events, levels and times only; assessments, overrides and notes
    stay in the store.
    """
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra loads only when used

    try:
        with EpisodeStore.open(url, create=False) as store:
            data = store.data(episode_id)
            episode = (
                store.load(episode_id, load_pathway(pathway_file, guards))
                if replay or pathway_file is not None
                else None
            )
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    p = data["pathway"]
    click.echo(
        f"episode {data['id']} patient {data['patient_id']} pathway {p['id']}@"
        f"{p['version']} ({len(data['events'])} events)"
    )
    if data["previous_episode_id"]:
        click.echo(f"  readmission after episode {data['previous_episode_id']}")
    click.echo(f"  started {data['started_at']}")
    for seq, e in enumerate(data["events"], 1):
        flags = " fact" if e.get("fact") else ""
        flags += " override" if e.get("override") else ""
        click.echo(
            f"  {seq:>4}  {e['at']}  {e['event']:<12} {e['source']} -> {e['target']}  "
            f"[{e['event_id']}]{flags}"
        )
    if episode is not None:
        findings = episode.findings()
        click.echo(
            f"state {episode.state}; {len(findings)} finding{'s' if len(findings) != 1 else ''}"
        )
        for r in findings:
            click.echo(f"  [{r.event_id}] {r.event.value} {r.source} -> {r.target}:")
            for reason in r.reasons:
                click.echo(f"    - {reason.message}")


@store_group.command("export")
@click.argument("url", metavar="URL")
@click.option("--patient", "patient_id", help="Only this patient's episodes.")
def export_command(url: str, patient_id: str | None) -> None:
    """Print every episode as JSON lines (a backup; restore with 'carepath store import')."""
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra loads only when used

    try:
        with EpisodeStore.open(url, create=False) as store:
            count = store.export(sys.stdout, patient_id=patient_id)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"exported {count} episodes", err=True)


@store_group.command("import")
@click.argument("url", metavar="URL")
@click.argument("file", metavar="EPISODES.jsonl", type=click.Path(allow_dash=True))
def import_command(url: str, file: str) -> None:
    """Restore episodes from 'carepath store export' output or lines of episode JSON
    (- for standard input)."""
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra loads only when used

    lines = input_lines(file)  # opened before the store: a missing file changes nothing
    try:
        with EpisodeStore.open(url) as store:
            count = store.import_episodes(lines)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"imported {count} episodes")


@store_group.command("check")
@click.argument("url", metavar="URL")
@click.option(
    "--pathway",
    "pathway_files",
    multiple=True,
    type=click.Path(),
    help="Also replay the episodes recorded under this pathway file (repeatable); "
    "the standard pathway is always used.",
)
@guards_option()
def check_command(
    url: str, pathway_files: tuple[str, ...], guards: Mapping[str, GuardFactory] | None
) -> None:
    """Check the store's integrity; exit status 1 when a problem is found."""
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra loads only when used

    pathways = [standard_pathway(), *(load_pathway(f, guards) for f in pathway_files)]
    try:
        with EpisodeStore.open(url, create=False) as store:
            problems = store.check(pathways)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("store is sound")


def register(group: click.Group) -> None:
    """Add ``store`` to the ``carepath`` command group."""
    group.add_command(store_group)
