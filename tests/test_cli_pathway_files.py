"""Every command that reads a pathway file: custom guards (``--guards``) and plain text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

pytest.importorskip("rich")

from click.testing import CliRunner  # after the extras check

from carepath import definitions, standard_pathway
from carepath.cli import main

CUSTOM_RULES = (
    'rules = { base = "default", add = [{ event = "complete", source = "iop", '
    'target = "completed", guards = ["always"] }] }'
)
HL7 = "MSH|^~\\&|A|B|C|D|202601050900||ADT^A01^ADT_A01|M1|P|2.5\rPID|1||P1\rPV1|1|I||||||||IOP\r"


def _write(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = definitions.dumps(standard_pathway(), compact=True)
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def custom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pathway file with the custom guard kind of tests/_cli_guards.py."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    return _write(tmp_path, "custom.toml", ('rules = "default"', CUSTOM_RULES))


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_that_reads_a_pathway_file_takes_custom_guards() -> None:
    """One option, one loader: a command with --pathway also has the shared guards option."""
    from carepath._commands import _load_guards  # noqa: PLC0415  # the option's callback

    reading = 0
    for name, command in _commands(main):
        params = {p.name: p for p in command.params}
        if not {"pathway_file", "pathway_files"} & params.keys() and name != "validate":
            continue
        reading += 1
        guards = params.get("guards")
        assert guards is not None, f"carepath {name} has no --guards MODULE:NAME"
        assert guards.callback is _load_guards, name
    assert reading >= 8  # validate, simulate, paths, diagram, fhir x2, hl7 replay, store x2


def _invocations(tmp_path: Path, custom: Path) -> dict[str, list[str]]:
    messages = tmp_path / "visit.hl7"
    messages.write_text(HL7, encoding="utf-8")
    return {
        "paths": ["paths", "--pathway", str(custom), "--from", "iop", "--max-steps", "1"],
        "diagram": ["diagram", "--pathway", str(custom)],
        "hl7 replay": ["hl7", "replay", str(messages), "--pathway", str(custom)],
    }


@pytest.mark.parametrize("command", ["paths", "diagram", "hl7 replay"])
def test_custom_guards_reach_the_pathway_file(command: str, custom: Path, tmp_path: Path) -> None:
    if command == "hl7 replay":
        pytest.importorskip("hl7apy")
    args = _invocations(tmp_path, custom)[command]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "unknown guard kind 'always'" in result.output
    option = "--guard-kinds" if command == "diagram" else "--guards"
    result = CliRunner().invoke(main, [*args, option, "_cli_guards:GUARDS"])
    assert result.exit_code == 0, result.output
    if command == "paths":
        assert "iop -> completed" in result.output


def test_simulate_with_custom_guards_on_the_reference_engine(custom: Path) -> None:
    pytest.importorskip("pandas")
    args = ["simulate", "-n", "20", "-d", "40", "--engine", "reference", "--pathway", str(custom)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "unknown guard kind 'always'" in result.output
    result = CliRunner().invoke(main, [*args, "--guards", "_cli_guards:GUARDS"])
    assert result.exit_code == 0, result.output
    assert "standard pathway: 20 patients, 40 days, seed 0" in result.output


def test_store_check_with_custom_guards(custom: Path, tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'care.db'}"
    assert CliRunner().invoke(main, ["store", "init", url]).exit_code == 0
    args = ["store", "check", url, "--pathway", str(custom)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "unknown guard kind 'always'" in result.output
    result = CliRunner().invoke(main, [*args, "--guards", "_cli_guards:GUARDS"])
    assert result.exit_code == 0, result.output
    assert "store is sound" in result.output


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nomodule", "expected MODULE:NAME"),
        ("nomodule_xyz:GUARDS", "cannot import"),
        ("_cli_guards:Always", "not a mapping of guard kinds"),
    ],
)
def test_bad_guards_are_usage_errors_naming_the_option(
    spec: str, message: str, custom: Path
) -> None:
    result = CliRunner().invoke(main, ["paths", "--pathway", str(custom), "--guards", spec])
    assert result.exit_code == 2
    assert message in result.output
    assert "--guards" in result.output
    result = CliRunner().invoke(main, ["diagram", "--guard-kinds", spec])
    assert result.exit_code == 2
    assert message in result.output
    assert "--guard-kinds" in result.output


# -- text from a pathway file is never rich markup -----------------------------------------------


def test_show_prints_names_with_brackets_as_they_are(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "markup.toml",
        ('name = "Standard addiction-care continuum"', 'name = "[/]Standard continuum"'),
        ('name = "Outpatient"', 'name = "OP [step]"'),  # short: no wrapping
        ('name = "Sober living"', 'name = "SL [b]"'),
    )
    result = CliRunner().invoke(main, ["show", str(f)])
    assert result.exit_code == 0, result.output
    assert "[/]Standard continuum" in result.output
    assert "OP [step]" in result.output
    assert "SL [b]" in result.output


def test_simulate_prints_an_id_with_brackets_as_it_is(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    f = _write(tmp_path, "markup.toml", ('id = "standard"', 'id = "prog[/]"'))
    out = tmp_path / "run[b]"
    result = CliRunner().invoke(
        main, ["simulate", "-n", "20", "-d", "40", "--pathway", str(f), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "prog[/] pathway: 20 patients" in result.output
    assert "run[b]" in result.output.replace("\n", "")


def test_simulate_help_states_the_real_default_block() -> None:
    pytest.importorskip("pandas")
    from carepath._commands.simulate import _FAST_CHUNK, _REFERENCE_CHUNK  # noqa: PLC0415
    from carepath.sim._simulate import _FAST_CHUNK as SIM_FAST_CHUNK  # noqa: PLC0415

    assert _FAST_CHUNK == SIM_FAST_CHUNK
    assert _REFERENCE_CHUNK == 2_000  # the literal in carepath.sim's simulate
    result = CliRunner().invoke(main, ["simulate", "--help"], terminal_width=200)
    assert f"default {SIM_FAST_CHUNK:,} fast, 2,000 reference" in result.output
