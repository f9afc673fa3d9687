"""The layered house: the core imports no higher layer; moved names warn and still work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from carepath import Pathway, definitions, explore, standard_pathway

STANDARD = standard_pathway()


def _fresh(code: str) -> str:
    """Run ``code`` in a new interpreter and return what it prints."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


def test_import_carepath_loads_no_higher_layer_than_definitions() -> None:
    loaded = _fresh(
        "import sys, carepath; "
        "print(sorted(m for m in sys.modules if m.startswith('carepath.') and "
        "m.split('.')[1] in ('explore', 'sim', 'interop', 'store', 'cli', '_commands')))"
    )
    assert loaded == "[]"


def test_notebook_display_is_found_through_the_explore_plug_in() -> None:
    """A pathway shown before anything imported explore still renders as explore draws it."""
    out = _fresh(
        "import sys, carepath; "
        "html = carepath.standard_pathway()._repr_html_(); "
        "print('carepath.explore' in sys.modules, html.startswith('<pre>'))"
    )
    assert out == "True False"


def test_definitions_dump_and_load_round_trip_a_file(tmp_path: Path) -> None:
    for name in ("p.toml", "p.json"):
        definitions.dump(STANDARD, tmp_path / name)
        assert definitions.load(tmp_path / name) == STANDARD
    assert definitions.dumps(STANDARD, "json").startswith("{")
    assert definitions.loads(definitions.dumps(STANDARD, "json"), "json") == STANDARD


def test_definitions_refuse_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        definitions.dumps(STANDARD, "yaml")  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(ValueError, match="format"):
        definitions.loads("", "yaml")  # type: ignore[arg-type]  # the mistake under test


TOML = definitions.dumps(STANDARD)
JSON = definitions.dumps(STANDARD, "json")

# (alias call, the same call by its new name, the name the warning must give)
ALIASES: list[tuple[Callable[[], Any], Callable[[], Any], str]] = [
    (lambda: Pathway.from_toml(TOML), lambda: definitions.loads(TOML), "definitions.loads"),
    (
        lambda: Pathway.from_json(JSON),
        lambda: definitions.loads(JSON, "json"),
        "definitions.loads",
    ),
    (
        lambda: Pathway.from_dict(definitions.to_dict(STANDARD)),
        lambda: definitions.from_dict(definitions.to_dict(STANDARD)),
        "definitions.from_dict",
    ),
    (STANDARD.to_dict, lambda: definitions.to_dict(STANDARD), "definitions.to_dict"),
    (
        lambda: STANDARD.to_toml(compact=True),
        lambda: definitions.dumps(STANDARD, compact=True),
        "definitions.dumps",
    ),
    (STANDARD.to_json, lambda: definitions.dumps(STANDARD, "json"), "definitions.dumps"),
    (
        lambda: STANDARD.paths("iop", "completed", max_steps=2),
        lambda: explore.paths(STANDARD, "iop", "completed", max_steps=2),
        "explore.paths",
    ),
    (
        lambda: STANDARD.shortest_path("intake", "completed"),
        lambda: explore.shortest_path(STANDARD, "intake", "completed"),
        "explore.shortest_path",
    ),
    (
        lambda: STANDARD.to_mermaid(direction="LR"),
        lambda: explore.to_mermaid(STANDARD, direction="LR"),
        "explore.to_mermaid",
    ),
    (
        lambda: sorted(STANDARD.to_networkx().edges),
        lambda: sorted(explore.to_networkx(STANDARD).edges),
        "explore.to_networkx",
    ),
]


@pytest.mark.parametrize(("old", "new", "named"), ALIASES)
def test_each_deprecated_alias_warns_naming_its_replacement_and_gives_the_same(
    old: Callable[[], Any], new: Callable[[], Any], named: str
) -> None:
    with pytest.warns(DeprecationWarning, match=named.replace(".", r"\.")):
        got = old()
    assert got == new()


def test_from_file_alias_warns_and_reads_the_file(tmp_path: Path) -> None:
    definitions.dump(STANDARD, tmp_path / "p.toml")
    with pytest.warns(DeprecationWarning, match=r"definitions\.load\(path\)"):
        assert Pathway.from_file(tmp_path / "p.toml") == STANDARD


def test_to_graphviz_alias_warns() -> None:
    pytest.importorskip("graphviz")
    with pytest.warns(DeprecationWarning, match=r"explore\.to_graphviz"):
        graph = STANDARD.to_graphviz()
    assert graph.source == explore.to_graphviz(STANDARD).source


def test_problems_and_validate_aliases_warn_and_report_nothing_for_a_built_pathway() -> None:
    with pytest.warns(DeprecationWarning, match="PathwayError"):
        assert STANDARD.problems() == []
    with pytest.warns(DeprecationWarning, match="PathwayError"):
        STANDARD.validate()
