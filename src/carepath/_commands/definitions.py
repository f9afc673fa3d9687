"""``carepath validate``, ``carepath show`` and ``carepath schema``: pathway definitions.

Exit codes of ``validate``: 0 when every file is valid, 1 when any file has
problems (each listed as ``file:line: key.path: message``), 2 for a usage error
(click's own, e.g. a missing file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from carepath._commands import guards_option, read_input
from carepath._errors import PathwayDefinitionError
from carepath.definitions import GuardFactory, catalogs, definition_schema, load, load_catalog

__all__ = ["register"]


def _console() -> Console:
    # No file: rich writes to whatever sys.stdout is at print time (CliRunner swaps it);
    # no colour codes when that is not a terminal.
    return Console(highlight=False, soft_wrap=False, width=120)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@guards_option()
def validate(files: tuple[Path, ...], guards: Mapping[str, GuardFactory] | None) -> None:
    """Check pathway definition files (TOML or JSON); list every problem with its line."""
    bad = 0
    for path in files:
        read_input(str(path))  # unreadable, empty or not UTF-8: one line, exit status 2
        try:
            p = load(path, guards=guards)
        except PathwayDefinitionError as exc:
            bad += 1
            n = len(exc.details)
            click.echo(f"{path}: invalid, {n} problem{'s' if n != 1 else ''}:")
            for d in exc.details:
                click.echo(f"  {d}")
        else:
            click.echo(
                f"{path}: ok: pathway {p.id!r} version {p.version!r}, "
                f"{len(p.levels)} levels, {len(p.rules)} rules, "
                f"content hash {p.content_hash[:12]}"
            )
    if bad:
        raise SystemExit(1)


@click.command()
@click.argument("source", metavar="FILE|CATALOG")
@guards_option()
def show(source: str, guards: Mapping[str, GuardFactory] | None) -> None:
    """Show a pathway file or shipped catalog: its levels, criteria and rules.

    Text from the file is printed as it is, never read as rich markup.
    """
    known = catalogs()
    try:
        if Path(source).exists() or (source not in known and Path(source).suffix):
            read_input(source)  # a directory, unreadable, empty or not UTF-8: exit status 2
            p = load(source, guards=guards)
            about = ""
        elif source in known:
            p = load_catalog(source)
            about = known[source]
        else:
            raise click.BadParameter(
                f"{source!r} is neither a file nor a catalog; catalogs: " + ", ".join(known),
                param_hint="FILE|CATALOG",
            )
    except PathwayDefinitionError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    out = _console()
    out.print(
        Text.assemble(
            (p.name, "bold"),
            f"  (id {p.id!r}, version {p.version!r}, content hash {p.content_hash[:12]})",
        )
    )
    if about:
        out.print(Text(about), soft_wrap=True)
    levels = Table(title="Levels, least intensive first")
    levels.add_column("code", no_wrap=True)
    for col in ("name", "setting", "hours/week", "stay (days)", "ASAM 3", "ASAM 4"):
        levels.add_column(col)
    for lv in p.levels:
        low, high = lv.hours_per_week
        hours = f"{low:g}+" if high is None else f"{low:g}" if high == low else f"{low:g}-{high:g}"
        setting = lv.setting.value + (", medical" if lv.medically_monitored else "")
        levels.add_row(
            *_plain(
                lv.code,
                lv.name,
                setting,
                hours,
                lv.stay.describe(),
                ", ".join(lv.asam3),
                ", ".join(lv.asam4),
            )
        )
    out.print(levels)
    criteria = Table(title="Criteria: the most risk each level can manage (4 = no limit)")
    criteria.add_column("level")
    dims = list(p.criteria_for(p.levels[0]).as_dict())
    for d in dims:
        criteria.add_column(Text(d), justify="right")
    for lv in p.levels:
        c = p.criteria_for(lv).as_dict()
        criteria.add_row(*_plain(lv.code, *(str(c[d]) for d in dims)))
    out.print(criteria)
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for r in p.to_canonical()["rules"]:
        g = ", ".join(_guard_text(x) for x in r["guards"])
        grouped.setdefault((r["event"], r["source"], g), []).append(r["target"])
    rules = Table(title="Rules")
    for col in ("event", "from", "to", "guards"):
        rules.add_column(col)
    for (event, source_state, g), targets in grouped.items():
        rules.add_row(*_plain(event, source_state, ", ".join(targets), g or "-"))
    out.print(rules)


def _plain(*cells: str) -> list[Text]:
    """Table cells shown as they are: a name like "Outpatient [step down]" is not markup."""
    return [Text(c) for c in cells]


def _guard_text(g: Mapping[str, object]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in g.items() if k != "kind")
    return f"{g['kind']}({params})" if params else str(g["kind"])


@click.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of pathway definition files."""
    click.echo(json.dumps(definition_schema(), indent=2))


def register(group: click.Group) -> None:
    """Add the definition commands to the ``carepath`` group."""
    group.add_command(validate)
    group.add_command(show)
    group.add_command(schema)
