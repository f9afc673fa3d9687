"""The example notebooks run headless, top to bottom, without errors.

Run here with nbclient, so plain ``pytest`` covers them; ``pytest --nbmake
examples/*.ipynb`` runs them the same way.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
_NEEDS: dict[str, str] = {
    "simulating_a_cohort": "carepath.sim",
    "economic_evaluation": "carepath.econ",
    "fitting_to_records": "carepath.sim",
}


def test_the_notebooks_are_there() -> None:
    assert {p.stem for p in NOTEBOOKS} >= {
        "economic_evaluation",
        "exploring_step_down_sequences",
        "simulating_a_cohort",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell runs without error in under 30 seconds."""
    needs = _NEEDS.get(path.stem)
    if needs is not None and importlib.util.find_spec(needs) is None:
        pytest.skip(f"{path.name} needs {needs}, which is not importable yet")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's migration warning
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    nbclient.NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    ).execute()
    assert time.perf_counter() - started < 30
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert errors == []
    assert os.environ["JUPYTER_PLATFORM_DIRS"] == "1"
