"""The built docs site, checked as a reader meets it (after ``make docs``).

``make test`` builds the site before it runs the tests; run alone, these tests use the
site in ``.venv/site`` (or ``CAREPATH_SITE_DIR``) and skip when there is none. A site
built from older code fails here: the cohort notebook's counts must be what the current
code produces, and no page may show a diagram as raw Mermaid text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from _browser import colour_pixels, dom, screenshot, serve
from carepath import explore

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("CAREPATH_SITE_DIR", ROOT / ".venv" / "site"))
_RAW_MERMAID = re.compile(
    r'class="[^"]*(?:\bmermaid\b|language-mermaid|jp-Mermaid)[^"]*"', re.IGNORECASE
)


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built docs site in {SITE} (run make docs)")
    return SITE


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("index.html") if "assets" not in p.parts)


def test_no_page_shows_a_diagram_as_raw_mermaid_text(site: Path) -> None:
    offenders = [
        str(p.relative_to(site))
        for p in _pages(site)
        if _RAW_MERMAID.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_diagrams_section_shows_drawn_diagrams(site: Path) -> None:
    html = (site / "exploring" / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="diagrams"') :]
    section = section[: section.index("<h2")]
    figures = re.findall(r'<figure class="carepath-diagram"[^>]*>\s*<svg', section)
    assert len(figures) >= 2


def test_the_notebook_pages_draw_their_diagrams_as_svg(site: Path) -> None:
    html = (site / "notebooks" / "exploring_step_down_sequences" / "index.html").read_text(
        encoding="utf-8"
    )
    assert 'class="carepath-diagram"' in html  # the pathway's own picture (inline SVG)
    assert 'data-mime-type="image/svg+xml"' in html  # the graphviz cell's output
    assert not re.search(r"class=\"[^\"]*jp-Mermaid", html)  # no Mermaid cell left to draw


def test_the_cohort_notebook_page_shows_what_the_code_produces_now(site: Path) -> None:
    """The counts on the built page equal a fresh run of the notebook's own cell."""
    html = (site / "notebooks" / "simulating_a_cohort" / "index.html").read_text(encoding="utf-8")
    shown = re.search(r"(\d+) episodes, (\d+) stays .*?, (\d+) events\.", html)
    assert shown is not None, "the cohort page shows no result summary"
    code = (
        "import json\nfrom carepath.sim import SimulationModel, simulate\n"
        "r = simulate(SimulationModel.default(), n=500, seed=2026)\n"
        "ev = r.events\n"
        "print(json.dumps([int((ev.event == 'admit').sum()), len(r.stays), len(ev)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert [int(x) for x in shown.groups()] == json.loads(done.stdout)


def test_the_diagrams_render_in_a_browser_with_six_level_colours(site: Path) -> None:
    with serve(site) as url:
        html = dom(url + "exploring/")
        # the whole page in one tall window (a #fragment leaves headless screenshots blank)
        png = screenshot(url + "exploring/", "site_exploring", height=9000)
    assert "flowchart TD" not in re.sub(r"<pre.*?</pre>", "", html, flags=re.DOTALL)
    pixels = colour_pixels(png, list(explore.OKABE_ITO[:6]))
    assert all(n > 200 for n in pixels.values()), pixels


def test_the_api_pages_show_links_not_sphinx_roles(site: Path) -> None:
    roles = re.compile(r":(?:class|meth|func|attr|mod|data|exc):`")
    pages = sorted((site / "reference").rglob("index.html"))
    assert pages
    offenders = [str(p.relative_to(site)) for p in pages if roles.search(p.read_text("utf-8"))]
    assert offenders == []
    episode = (site / "reference" / "episode" / "index.html").read_text(encoding="utf-8")
    assert 'href="../errors/#carepath.TransitionRejected"' in episode
    assert "Episode()" not in episode
    levels = (site / "reference" / "levels" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", levels)
    assert re.search(r"Level\(\s*\*,\s*code: str,\s*name: str", text)  # not Level()


def test_wide_blocks_scroll_inside_the_page(site: Path) -> None:
    css = (site / "stylesheets" / "carepath.css").read_text(encoding="utf-8")
    assert "overflow-x: auto" in css
    assert 'href="../stylesheets/carepath.css"' in (site / "exploring" / "index.html").read_text(
        encoding="utf-8"
    )
