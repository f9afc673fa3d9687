"""``carepath validate``, ``carepath show`` and ``carepath schema`` (extra ``cli``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest

pytest.importorskip("click")
pytest.importorskip("rich")

from click.testing import CliRunner  # after the extras check

from carepath import definition_schema, definitions, standard_pathway
from carepath.cli import main

BAD: Final = """\
id = "bad"
version = "1"

[[levels]]
code = "home"
name = "Home care"
setting = "ambulatory"
stay = { minimum_days = 10, typical_days = 20, maximum_days = 3 }

[criteria]
home = { withdrawal = 1 }
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_accepts_valid_files(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "std.toml"
    good.write_text(definitions.dumps(standard_pathway(), compact=True), encoding="utf-8")
    as_json = tmp_path / "std.json"
    as_json.write_text(definitions.dumps(standard_pathway(), "json"), encoding="utf-8")
    result = runner.invoke(main, ["validate", str(good), str(as_json)])
    assert result.exit_code == 0, result.output
    assert f"{good}: ok: pathway 'standard' version '1', 6 levels" in result.output
    assert standard_pathway().content_hash[:12] in result.output


def test_validate_lists_every_problem_with_file_line_and_key(
    runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(definitions.dumps(standard_pathway()), encoding="utf-8")
    result = runner.invoke(main, ["validate", str(good), str(bad)])
    assert result.exit_code == 1, result.output
    assert f"{bad}: invalid, 3 problems:" in result.output
    assert (
        f"{bad}:8: levels[0].stay.maximum_days: maximum stay 3 days is below the minimum 10"
    ) in result.output
    assert (
        f"{bad}:8: levels[0].stay.maximum_days: maximum stay 3 days is below the typical 20"
    ) in result.output
    assert f"{bad}:11: criteria.home: no level accepts every assessment" in result.output
    assert f"{good}: ok" in result.output


def test_validate_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["validate"]).exit_code == 2
    assert runner.invoke(main, ["validate", str(tmp_path / "missing.toml")]).exit_code == 2
    good = tmp_path / "std.toml"
    good.write_text(definitions.dumps(standard_pathway()), encoding="utf-8")
    result = runner.invoke(main, ["validate", "--guards", "nomodule", str(good)])
    assert result.exit_code == 2
    assert "expected MODULE:NAME" in result.output


def test_validate_with_custom_guards(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    text = definitions.dumps(standard_pathway(), compact=True).replace(
        'rules = "default"',
        'rules = { base = "default", add = [{ event = "complete", source = "iop", '
        'target = "completed", guards = ["always"] }] }',
    )
    f = tmp_path / "custom.toml"
    f.write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["validate", str(f)])
    assert result.exit_code == 1
    assert "unknown guard kind 'always'" in result.output
    result = runner.invoke(main, ["validate", "--guards", "_cli_guards:GUARDS", str(f)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["standard", "asam3", "asam4", "adolescent"])
def test_show_catalog(runner: CliRunner, name: str) -> None:
    result = runner.invoke(main, ["show", name])
    assert result.exit_code == 0, result.output
    for heading in ("Levels, least intensive first", "Criteria", "Rules"):
        assert heading in result.output
    assert "carepath's own heuristics" in result.output
    assert "\x1b[" not in result.output  # no colour codes when not on a terminal


def test_show_file_and_unknown_source(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "std.toml"
    f.write_text(definitions.dumps(standard_pathway()), encoding="utf-8")
    result = runner.invoke(main, ["show", str(f)])
    assert result.exit_code == 0, result.output
    assert "detox" in result.output
    assert "minimum_stay, fits_criteria" in result.output
    result = runner.invoke(main, ["show", "asam5"])
    assert result.exit_code == 2
    assert "neither a file nor a catalog" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    result = runner.invoke(main, ["show", str(bad)])
    assert result.exit_code == 1
    assert "maximum stay 3 days is below the minimum 10" in result.output


def test_schema_prints_the_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == definition_schema()
