"""``carepath fhir export|import`` and ``carepath hl7 replay``: EHR formats on the command line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from carepath._commands import PATHWAY_HELP, guards_option, load_pathway, read_input
from carepath._episode import Episode
from carepath._errors import CarepathError
from carepath.definitions import GuardFactory

__all__ = ["register"]


def _print_episode(episode: Episode) -> None:
    """The history, one line per event, then the findings (ids, events and times only)."""
    after = (
        f", follows episode {episode.previous_episode_id}" if episode.previous_episode_id else ""
    )
    click.echo(
        f"episode {episode.id} patient {episode.patient_id} state {episode.state} "
        f"({episode.version} events{after})"
    )
    for r in episode.history:
        flags = " fact" if r.fact else ""
        flags += " override" if r.override is not None else ""
        click.echo(
            f"  {r.seq:>3}  {r.at.isoformat()}  {r.event.value:<12} {r.source} -> "
            f"{r.target}  [{r.event_id}]{flags}"
        )
        if r.fact and r.note and r.note.startswith("HL7 v2 ADT^"):
            # The reader's explanations: stitching decisions and its own findings.
            for part in r.note.splitlines()[1:]:
                click.echo(f"         {part}")
    findings = episode.findings()
    click.echo(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}")
    for r in findings:
        click.echo(f"  [{r.event_id}] {r.event.value} {r.source} -> {r.target}:")
        for reason in r.reasons:
            click.echo(f"    - {reason.message}")


@click.group("fhir")
def fhir_group() -> None:
    """Episodes as FHIR bundles (needs the 'fhir' extra)."""


@fhir_group.command("export")
@click.argument("episode_file", metavar="EPISODE.json", type=click.Path(allow_dash=True))
@click.option(
    "--version",
    "version",
    type=click.Choice(["R4", "R4B", "R5"]),
    default="R4B",
    show_default=True,
    help="The FHIR version of the bundle.",
)
@click.option("--pathway", "pathway_file", type=click.Path(), help=PATHWAY_HELP)
@guards_option()
@click.option(
    "--collection",
    is_flag=True,
    help="A collection bundle instead of a transaction of conditional PUTs.",
)
def export_command(
    episode_file: str,
    version: str,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    collection: bool,
) -> None:
    """Print the episode in EPISODE.json (carepath's episode JSON) as a FHIR bundle."""
    from carepath.interop import to_fhir_json  # noqa: PLC0415  # the extra loads only when used

    source = read_input(episode_file)
    pathway = load_pathway(pathway_file, guards)
    try:
        episode = Episode.from_json(source, pathway)
        text = to_fhir_json(
            episode,
            "R5" if version == "R5" else "R4" if version == "R4" else "R4B",
            bundle_type="collection" if collection else "transaction",
            indent=2,
        )
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)


@fhir_group.command("import")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option("--pathway", "pathway_file", type=click.Path(), help=PATHWAY_HELP)
@guards_option()
@click.option(
    "--code-map",
    "code_map_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A site code map (TOML): which codes mean which level; the shipped map is the default.",
)
@click.option(
    "--tz",
    "zone",
    default="UTC",
    show_default=True,
    help="Time zone of date-only times (midnight) and times without an offset.",
)
@click.option("--json", "as_json", is_flag=True, help="Print each episode's JSON, one a line.")
def import_command(
    files: tuple[str, ...],
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    code_map_file: str | None,
    zone: str,
    as_json: bool,
) -> None:
    """Read episodes from FHIR: a bundle 'carepath fhir export' wrote (printed as the
    episode's JSON), or FHIR an EHR wrote - a bundle of any type, a list of resources, or a
    Bulk Data export (*.ndjson files, streamed) - printed as a summary of what was mapped,
    ignored and found, and one line per episode (--json: the episodes' JSON).
    '-' reads one JSON document from standard input."""
    from carepath.interop import (  # noqa: PLC0415  # the extra loads only when used
        CodeMap,
        episodes_from_fhir_ndjson,
        from_fhir,
        read_fhir,
    )
    from carepath.interop._fhir_read import is_carepath_bundle, parse_json  # noqa: PLC0415

    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {zone!r}", param_hint="--tz") from None
    pathway = load_pathway(pathway_file, guards)
    try:
        code_map = CodeMap.load(code_map_file) if code_map_file else CodeMap()
        if any(f.endswith(".ndjson") for f in files) or len(files) > 1:
            result = episodes_from_fhir_ndjson(files, pathway, code_map=code_map, tz=tz)
        else:
            raw = read_input(files[0]).encode("utf-8")
            data = parse_json(raw, what=Path(files[0]).name, max_bytes=len(raw) + 1)
            if is_carepath_bundle(data):
                click.echo(from_fhir(data, pathway).to_json(indent=2))
                return
            result = read_fhir(data, pathway, code_map=code_map, tz=tz)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    lines = [result.summary()]
    lines += [
        f"  {f}" + (f" [codes: {', '.join(f.codes)}]" if f.codes else "") for f in result.findings
    ]
    for line in lines:
        click.echo(line, err=as_json or not result.episodes)  # stdout: the episodes only
    if not result.episodes:
        raise click.ClickException("no episode: no Encounter in the input is a stay at a level")
    for episodes in result.episodes.values():
        for ep in episodes:
            if as_json:
                click.echo(ep.to_json())
            else:
                click.echo(
                    f"patient {ep.patient_id} episode {ep.id}: {ep.state} "
                    f"({ep.version} events, {len(ep.findings())} guard findings)"
                )


@click.group("hl7")
def hl7_group() -> None:
    """HL7 v2 ADT feeds (needs the 'hl7' extra)."""


@hl7_group.command("replay")
@click.argument("messages_file", metavar="MESSAGES.hl7", type=click.File("rb"))
@click.option(
    "--pathway", "pathway_file", type=click.Path(exists=True, dir_okay=False), help=PATHWAY_HELP
)
@guards_option()
@click.option(
    "--tz",
    "zone",
    default="UTC",
    show_default=True,
    help="Time zone of timestamps without an offset (an IANA name).",
)
@click.option(
    "--level-map",
    "level_map_file",
    type=click.Path(exists=True, dir_okay=False),
    help="The site's level map (TOML): PV1 codes to levels, PV1-36 codes to outcomes, "
    "the PID-3 identifier type.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the episode's JSON instead (a JSON list when the feed holds several).",
)
def replay_command(
    messages_file: BinaryIO,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    zone: str,
    level_map_file: str | None,
    as_json: bool,
) -> None:
    """Read an ADT feed (MESSAGES.hl7, or - for standard input) into courses of
    treatment; print each episode's history, its explained links and its findings."""
    from carepath.interop import LevelMap, episodes_from_hl7v2  # noqa: PLC0415  # lazily

    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {zone!r}", param_hint="--tz") from None
    pathway = load_pathway(pathway_file, guards)
    try:
        level_map = LevelMap.from_toml(read_input(level_map_file)) if level_map_file else None
        episodes = episodes_from_hl7v2(messages_file.read(), pathway, level_map=level_map, tz=tz)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        if len(episodes) == 1:
            click.echo(episodes[0].to_json(indent=2))
        else:
            click.echo(json.dumps([e.to_dict() for e in episodes], indent=2, ensure_ascii=False))
        return
    for number, episode in enumerate(episodes, 1):
        if len(episodes) > 1:
            click.echo(f"course {number} of {len(episodes)}:")
        _print_episode(episode)


def register(group: click.Group) -> None:
    """Add ``fhir`` and ``hl7`` to the ``carepath`` command group."""
    group.add_command(fhir_group)
    group.add_command(hl7_group)
