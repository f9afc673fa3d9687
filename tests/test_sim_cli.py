"""``carepath simulate``: summary table, Parquet output, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("click")
pytest.importorskip("rich")

from click.testing import CliRunner  # noqa: E402  # after the extras check

from carepath import definitions, standard_pathway  # noqa: E402
from carepath.cli import main  # noqa: E402


def test_simulate_prints_a_summary_and_writes_parquet(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["simulate", "--patients", "120", "--days", "200", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "standard pathway: 120 patients, 200 days, seed 3" in result.output
    assert "detox" in result.output
    assert "Follow-up after detox / inpatient discharge" in result.output
    stays = pd.read_parquet(out / "stays")
    assert stays["patient"].nunique() == 120
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert (meta["seed"], meta["n"], meta["days"]) == (3, 120, 200)


def test_simulate_reads_a_pathway_file(tmp_path: Path) -> None:
    path = tmp_path / "standard.toml"
    path.write_text(definitions.dumps(standard_pathway()), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "-n", "30", "-d", "60", "--pathway", str(path)])
    assert result.exit_code == 0, result.output
    assert "30 patients, 60 days, seed 0" in result.output


def test_simulate_rejects_bad_options() -> None:
    result = CliRunner().invoke(main, ["simulate", "--patients", "0"])
    assert result.exit_code == 2
    assert "--patients" in result.output
