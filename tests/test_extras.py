"""A missing optional extra says what needs it and the exact install line.

Each case runs in a fresh interpreter in which the extra's packages cannot be
imported (an import hook refuses them, as a core-only install would), so the
message is the one a user without the extra really sees.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from carepath import MissingExtra
from carepath._extras import EXTRAS, install_line, require

_BLOCK = """
import importlib.abc, sys

BLOCKED = {blocked!r}

class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Refuse())
"""

_T0 = "from datetime import UTC, datetime\nT0 = datetime(2026, 3, 2, 9, tzinfo=UTC)\n"

CASES: dict[str, tuple[tuple[str, ...], str]] = {
    "sim": (("numpy", "pandas", "pyarrow"), "import carepath.sim"),
    "fast": (
        ("numba",),
        "import os\nos.environ['CAREPATH_NUMBA'] = 'require'\n"
        "from carepath.sim import SimulationModel, simulate\n"
        "simulate(SimulationModel.default(), n=10, seed=1, days=30)",
    ),
    "fhir": (
        ("fhir",),
        _T0 + "from carepath import standard_pathway\nfrom carepath.interop import to_fhir\n"
        "ep = standard_pathway().start('p-1', at=T0)\nto_fhir(ep)",
    ),
    "store": (("sqlalchemy",), "import carepath.store"),
    "service": (("starlette",), "import carepath.service"),
    "postgres": (
        ("psycopg", "psycopg2"),
        "from carepath.store import EpisodeStore\n"
        "EpisodeStore.open('postgresql+psycopg://nobody@127.0.0.1:1/none')",
    ),
    "viz": (
        ("plotly", "graphviz", "matplotlib"),
        "from carepath import explore, standard_pathway\nexplore.to_graphviz(standard_pathway())",
    ),
}


def _run(blocked: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    script = _BLOCK.format(blocked=set(blocked)) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("extra", sorted(CASES))
def test_a_missing_extra_prints_its_install_line(extra: str) -> None:
    """The error names the extra, what needs it and ``pip install 'carepath[extra]'``."""
    blocked, code = CASES[extra]
    done = _run(blocked, code)
    assert done.returncode != 0, done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("carepath.MissingExtra: "), done.stderr
    assert last.endswith(install_line(extra)), last
    assert "needs the" in last
    assert f"'{extra}' extra" in last


def test_the_command_line_without_its_extra_says_how_to_install_it() -> None:
    done = _run(("click", "rich"), "import carepath.cli")
    assert done.returncode == 1
    assert done.stderr.strip().endswith(install_line("cli")), done.stderr


def test_the_core_imports_with_every_extra_missing() -> None:
    """``import carepath`` (and a placement) needs none of the extras."""
    blocked = ("numpy", "pandas", "pyarrow", "numba", "hl7apy", "fhir", "sqlalchemy")
    done = _run(
        (*blocked, "psycopg", "plotly", "graphviz", "matplotlib", "click", "rich", "dask"),
        "import carepath\nprint(carepath.place(carepath.Assessment(withdrawal=3)).level.code)",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "detox"


def test_require_imports_what_is_there_and_names_what_is_not() -> None:
    assert require("json", extra="sim", needed_for="x").__name__ == "json"
    with pytest.raises(MissingExtra) as info:
        require("carepath_no_such_module", extra="hl7", needed_for="HL7 v2 import")
    assert info.value.name == "carepath_no_such_module"
    assert isinstance(info.value, ImportError)
    assert str(info.value) == (
        "HL7 v2 import needs the 'hl7' extra (carepath_no_such_module is not installed): "
        "pip install 'carepath[hl7]'"
    )


def test_every_extra_of_the_package_is_described() -> None:
    """The table of extras matches pyproject's optional dependencies (``all`` aside)."""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    declared = set(tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"])
    assert set(EXTRAS) == declared - {"all"}
