"""The pictures, looked at as a person would: rendered in headless Chromium.

Each test draws a picture the way a reader meets it (a notebook's HTML, a plotly page),
takes a screenshot (kept in ``tests/artifacts/``) and checks what can be checked from
the pixels and the DOM: six distinct level colours, a readable default pathway picture
with no more edges than the merged rules, a Sankey whose nodes appear once and whose
labels do not overlap.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from _browser import colour_pixels, dom, page, screenshot
from carepath import explore, standard_pathway

pytest.importorskip("plotly")
pytest.importorskip("PIL")

LEVEL_COLOURS = list(explore.OKABE_ITO[:6])
NEEDS_DOT = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's 'dot' program is not installed (Debian package 'graphviz')",
)


def _html(body: str) -> str:
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


@NEEDS_DOT
def test_the_pathway_picture_shows_six_level_colours_and_merged_edges() -> None:
    pathway = standard_pathway()
    url = page(_html(pathway._repr_html_()), "pathway_summary")
    png = screenshot(url, "pathway_summary", width=1200, height=1300)
    pixels = colour_pixels(png, LEVEL_COLOURS)
    assert all(n > 300 for n in pixels.values()), pixels  # each level's colour, clearly
    html = dom(url)
    edges = len(re.findall(r'<g id="edge\d+" class="edge"', html))
    merged = len({(r.source, r.target) for r in pathway.rules if r.source != r.target})
    assert 0 < edges <= 16 < merged  # adjacent steps both ways, one admission, grouped exits
    assert "mermaid" not in html


@NEEDS_DOT
def test_the_full_picture_keeps_every_pair_of_states() -> None:
    pathway = standard_pathway()
    svg = explore.to_graphviz(pathway, detail="full").pipe(format="svg").decode()
    url = page(_html(svg), "pathway_full")
    screenshot(url, "pathway_full", width=1800, height=900)
    edges = len(re.findall(r'class="edge"', dom(url)))
    assert edges == len({(r.source, r.target) for r in pathway.rules})


def _cohort() -> object:
    sim = pytest.importorskip("carepath.sim")
    return sim.simulate(sim.SimulationModel.default(), n=500, seed=2026)


def test_occupancy_draws_each_level_in_its_own_colour() -> None:
    fig = explore.occupancy(_cohort())  # type: ignore[arg-type]  # a SimulationResult
    url = page(fig.to_html(include_plotlyjs=True, full_html=True), "occupancy")
    pixels = colour_pixels(screenshot(url, "occupancy"), LEVEL_COLOURS)
    assert all(n > 200 for n in pixels.values()), pixels


_LABEL_CHECK = """
<pre id="carepath-check"></pre>
<script>
window.addEventListener("load", () => setTimeout(() => {
  const boxes = [...document.querySelectorAll(".sankey .node-label")].map(
    (t) => { const b = t.getBoundingClientRect();
             return {text: t.textContent, l: b.left, r: b.right, t: b.top, b: b.bottom}; });
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const p = boxes[i], q = boxes[j];
    if (p.l < q.r && q.l < p.r && p.t < q.b && q.t < p.b) overlaps.push([p.text, q.text]);
  }
  document.getElementById("carepath-check").textContent =
    JSON.stringify({labels: boxes.map((b) => b.text), overlaps});
}, 1500));
</script>
"""


def test_the_sankey_shows_each_state_once_without_overlapping_labels() -> None:
    fig = explore.sankey(_cohort())  # type: ignore[arg-type]  # a SimulationResult
    html = fig.to_html(include_plotlyjs=True, full_html=True).replace(
        "</body>", _LABEL_CHECK + "</body>"
    )
    url = page(html, "sankey")
    png = screenshot(url, "sankey")
    pixels = colour_pixels(png, LEVEL_COLOURS)
    assert all(n > 50 for n in pixels.values()), pixels
    found = re.search(r'<pre id="carepath-check">(.*?)</pre>', dom(url), re.DOTALL)
    assert found is not None
    assert found[1], "the label check did not run"
    check = json.loads(found[1].replace("&quot;", '"').replace("&amp;", "&"))
    labels = check["labels"]
    assert len(labels) == len(set(labels)) >= 9  # intake, six levels, outcomes: once each
    assert check["overlaps"] == []


@NEEDS_DOT
def test_the_notebook_exported_by_nbconvert_shows_its_diagrams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """nbconvert's HTML of the executed notebook draws the diagrams (no Mermaid to load)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    examples = Path(__file__).resolve().parent.parent / "examples"
    nb = nbformat.read(examples / "exploring_step_down_sequences.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(examples)}}
    ).execute()
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert not re.search(r'class="[^"]*jp-Mermaid', html)
    assert 'data-mime-type="image/svg+xml"' in html
    url = page(html, "notebook_nbconvert")
    pixels = colour_pixels(screenshot(url, "notebook_nbconvert", height=4000), LEVEL_COLOURS)
    assert all(n > 300 for n in pixels.values()), pixels
