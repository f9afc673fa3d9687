"""Every script in examples/ runs, and the demo tells the story it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def run(script: Path, *args: str) -> str:
    """Run ``script`` in a fresh interpreter and return what it printed."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stderr}"
    assert done.stderr == "", f"{script.name} wrote to stderr:\n{done.stderr}"
    return done.stdout


@cache
def demo_output() -> str:
    return run(ROOT / "examples" / "demo.py")


def test_there_are_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"demo.py", "custom_pathway.py", "placement_table.py"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    """Each example exits cleanly and prints something."""
    assert run(script).strip()


def test_demo_is_deterministic() -> None:
    """Times are explicit, so two runs print the same thing (ids are given, not random)."""
    assert run(ROOT / "examples" / "demo.py") == demo_output()


def test_demo_walks_detox_inpatient_iop_relapse_step_up_outpatient_completed() -> None:
    """The demo's history is the realistic course the issue asks for, in order."""
    out = demo_output()
    history = out.split("\nHistory\n", 1)[1].split("\nJSON round trip\n", 1)[0]
    moves = [line.split()[3:] for line in history.splitlines() if line.strip()[:1].isdigit()]
    assert [m[0] for m in moves] == [
        "admit",
        "reassess",
        "step_down",
        "step_down",
        "relapse",
        "step_up",
        "step_down",
        "reassess",
        "step_down",
        "complete",
    ]
    path = [m[-1] for m in moves]
    assert path == [
        "detox",
        "detox",
        "inpatient",
        "iop",
        "iop",
        "php",
        "iop",
        "iop",
        "outpatient",
        "completed",
    ]
    assert "Episode ended: completed" in out


def test_demo_prints_each_placement_on_one_line_and_every_reason_on_request() -> None:
    out = demo_output()
    assert "  Placement: Withdrawal management (detox) — deciding rating: withdrawal 3\n" in out
    assert "Not Outpatient:" not in out
    full = run(ROOT / "examples" / "demo.py", "--explain")
    assert "Placement: Withdrawal management (detox).\n" in full
    assert "the deciding rating is withdrawal risk 3 (significant)" in full
    assert "Not Outpatient: withdrawal risk 3 (significant) exceeds" in full


def test_demo_cohort_tables_have_titles_units_and_plain_names() -> None:
    out = demo_output().split("A simulated cohort on the same pathway and rules", 1)[1]
    assert "2,000 synthetic patients followed for 365 days" in out
    assert "How stays ended, per level (share of the level's ended stays)" in out
    assert "stays ended" in out
    assert "dropped_out" not in out  # plain words, not column codes
    assert re.search(r"detox +420 +66\.0% +21\.0% +13\.1%", out)
    assert "Follow-up after a detox or inpatient discharge" in out
    assert "median days" in out
    assert ".000" not in out  # no false decimals


def test_demo_prints_decisions_and_their_reasons() -> None:
    out = demo_output()
    assert "Decision: step_down detox -> inpatient: allowed" in out
    assert "Decision: step_up iop -> php: allowed" in out
    assert "Decision: complete outpatient -> completed: allowed" in out
    assert "Options now (judged on the latest assessment):" in out
    assert "[refused] step_down -> iop (2 reasons)" in out
    assert "care intensifies where the patient is" in out


def test_demo_prints_one_rejected_step_down_with_every_reason() -> None:
    out = demo_output()
    assert out.count("REFUSED:") == 1
    block = out.split("REFUSED:", 1)[1].split("Nothing changed", 1)[0]
    assert "step_down from inpatient to iop" in block
    assert "[minimum_stay]" in block
    assert block.count("[fits_criteria]") == 2
    assert "minimum stay is 7 days" in block
    assert "relapse potential 3 (significant) exceeds" in " ".join(block.split())
    assert "still at Inpatient / residential, episode version 3" in out


def test_demo_round_trips_through_json() -> None:
    out = demo_output()
    assert "Replayed through the pathway; equal to the original: True" in out
    assert "state='completed' version=10" in " ".join(out.split())


def test_custom_pathway_example_reports_guard_and_validation_problems() -> None:
    out = run(ROOT / "examples" / "custom_pathway.py")
    assert "[school_day]" in out
    assert "under an override recorded by 'clin-07'" in out
    assert "share intensity 1" in out
    assert "unknown target level 'teen_php'" in out


def test_placement_table_places_each_profile() -> None:
    out = run(ROOT / "examples" / "placement_table.py")
    table = out.split("\n\n", 1)[0].splitlines()[2:]
    placed = [line[43:].split()[6] for line in table]  # after the name and six ratings
    assert placed == ["outpatient", "sober_living", "iop", "php", "inpatient", "detox"]
