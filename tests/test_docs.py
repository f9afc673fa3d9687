"""Every Python code block in the README and the docs runs, and every doctest passes.

Blocks in one page share a namespace and run in order, so a page reads like a
session. A ```` ```text title="Output" ```` block that directly follows a Python
block must equal what that block printed, so the shown output cannot drift
from what carepath says.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import importlib.util
import io
import pkgutil
import re
import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

import carepath

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
_FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>.*)$")


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    info: str
    code: str
    line: int

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def is_output(self) -> bool:
        return self.language == "text" and 'title="Output"' in self.info


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, ticks, info = m["indent"], m["ticks"], m["info"].strip()
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != ticks:
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        out.append(Block(info=info, code="\n".join(body) + "\n", line=start))
        i += 1
    return out


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_the_block_reader_pairs_code_with_output() -> None:
    """The reader finds fences, their language and the output blocks that follow."""
    page = '# t\n\n```python\nprint(1)\n```\n\n```text title="Output"\n1\n```\n\n```bash\nx\n```\n'
    found = blocks(page)
    assert [b.language for b in found] == ["python", "text", "bash"]
    assert found[1].is_output
    assert found[0].code == "print(1)\n"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_python_blocks_run(page: Path) -> None:
    """Every ```python block of the page runs, in order, in one shared namespace."""
    found = blocks(page.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for i, block in enumerate(found):
        if block.language != "python":
            continue
        where = f"{page.relative_to(ROOT)}:{block.line}"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block.code, where, "exec"), namespace)  # the docs' own code
        following = found[i + 1] if i + 1 < len(found) else None
        if following is not None and following.is_output:
            assert _normalise(printed.getvalue()) == _normalise(following.code), (
                f"the output shown after the block at {where} differs from what it prints"
            )


def _hook(name: str) -> Any:
    """A module of docs/hooks/, loaded from its file."""
    path = ROOT / "docs" / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_hooks_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DIAGRAM_PAGES = [
    p
    for p in PAGES
    if any(b.info == "python diagram" for b in blocks(p.read_text(encoding="utf-8")))
]


@pytest.mark.parametrize(
    "page", DIAGRAM_PAGES, ids=[p.relative_to(ROOT).as_posix() for p in DIAGRAM_PAGES]
)
def test_diagram_blocks_draw_a_picture(page: Path) -> None:
    """Each ```python diagram block gives a graph that graphviz draws as SVG (at build time)."""
    if shutil.which("dot") is None:
        pytest.skip("graphviz's 'dot' program is not installed (make system-deps)")
    hook = _hook("diagrams")
    found = [b for b in blocks(page.read_text(encoding="utf-8")) if b.info == "python diagram"]
    assert found
    for block in found:
        svg = hook.diagram_svg(block.code, f"{page.name}:{block.line}")
        assert svg.startswith("<svg")
        assert "<!--" not in svg
        assert "\n\n" not in svg  # a blank line would end the raw HTML block in Markdown


def test_the_diagram_hook_shows_the_code_then_the_picture() -> None:
    if shutil.which("dot") is None:
        pytest.skip("graphviz's 'dot' program is not installed (make system-deps)")
    hook = _hook("diagrams")

    class Page:
        class file:  # stands in for mkdocs' File
            src_uri = "x.md"

    page = (
        "# t\n\n```python diagram\nimport carepath\nfrom carepath import explore\n"
        "explore.to_graphviz(carepath.standard_pathway())\n```\n"
    )
    out = hook.on_page_markdown(page, page=Page())
    assert "```python\nimport carepath\n" in out
    assert '<figure class="carepath-diagram">\n<svg' in out
    with pytest.raises(ValueError, match="must end in an expression"):
        hook.on_page_markdown("```python diagram\nx = 1\n```\n", page=Page())


def _modules() -> list[str]:
    names = ["carepath"]
    for info in pkgutil.walk_packages(carepath.__path__, prefix="carepath."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_doctests(name: str) -> None:
    """The ``>>>`` examples in every carepath module's docstrings pass."""
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] == "carepath":
            raise  # our own module is missing or broken: a failure, not a skip
        pytest.skip(f"{name} needs an extra that is not installed: {exc}")
    except SystemExit as exc:  # the command line exits when its extra is missing
        pytest.skip(f"{name} needs an extra that is not installed: {exc}")
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def _api_pages() -> Any:
    spec = importlib.util.spec_from_file_location(
        "docs_api_pages", ROOT / "docs/hooks/api_pages.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sphinx_roles_become_cross_reference_links() -> None:
    """The API pages link ``:class:`` and ``:meth:`` roles; an unknown name stays code."""
    griffe = pytest.importorskip("griffe")
    hook = _hook("api_pages")
    package = griffe.load("carepath", search_paths=[str(ROOT / "src")])
    episode = package["Episode"].final_target
    assert hook.rewrite_roles(":class:`~carepath.TransitionRejected`", episode, package) == (
        "[`TransitionRejected`][carepath.TransitionRejected]"
    )
    assert hook.rewrite_roles(":meth:`Pathway.start`", episode, package) == (
        "[`Pathway.start()`][carepath.Pathway.start]"
    )
    assert hook.rewrite_roles(":attr:`history`", episode, package) == (
        "[`history`][carepath._episode.Episode.history]"
    )
    assert hook.rewrite_roles(":func:`no_such_thing`", episode, package) == "`no_such_thing()`"


def test_attrs_classes_get_their_real_signature() -> None:
    griffe = pytest.importorskip("griffe")
    hook = _hook("api_pages")
    package = griffe.load("carepath", search_paths=[str(ROOT / "src")])
    init = hook._attrs_init(package["Level"].final_target)
    assert init is not None
    names = [p.name for p in init.parameters]
    assert names[:4] == ["self", "code", "name", "intensity"]
    assert str(init.parameters["code"].kind.value) == "keyword-only"
    assert hook._attrs_init(package["Episode"].final_target) is None  # not an attrs class
