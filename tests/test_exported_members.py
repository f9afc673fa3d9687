"""carepath's public surface: __all__ lists exactly the public names; the import stays light."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import carepath
import carepath.levels

HEAVY = (
    "numpy",
    "pandas",
    "networkx",
    "plotly",
    "hypothesis",
    "rich",
    "click",
    "fhir",
    "dask",
    "sqlalchemy",
    "pyarrow",
    "hl7apy",
    "graphviz",
    "matplotlib",
    "psycopg",
)


def public_names(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }


def test_all_equals_the_public_names() -> None:
    assert set(carepath.__all__) == public_names(carepath)


def isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_without_duplicates() -> None:
    assert carepath.__all__ == sorted(carepath.__all__, key=isort_key)
    assert len(set(carepath.__all__)) == len(carepath.__all__)


def test_exported_names_are_defined_in_carepath() -> None:
    for name in carepath.__all__:
        value = getattr(carepath, name)
        module = getattr(value, "__module__", None)
        if module is not None and (inspect.isclass(value) or inspect.isfunction(value)):
            # public errors show as carepath.X in tracebacks (their __module__ is "carepath")
            assert module == "carepath" or module.startswith("carepath."), (name, module)


def test_levels_module_all() -> None:
    assert set(carepath.levels.__all__) == public_names(carepath.levels) - {
        "Criteria",
        "Level",
        "Setting",
        "StayRule",
        "Final",
        "Mapping",
        "MappingProxyType",
        "annotations",
    }
    assert carepath.levels.__all__ == sorted(carepath.levels.__all__, key=isort_key)


def test_version() -> None:
    assert isinstance(carepath.__version__, str)
    assert carepath.__version__


def test_import_carepath_imports_no_optional_dependency() -> None:
    code = (
        "import sys, json, carepath\n"
        "carepath.standard_pathway()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "carepath" in loaded
    assert "transitions" in loaded
    assert sorted(loaded & set(HEAVY)) == []
