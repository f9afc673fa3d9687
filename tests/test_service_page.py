"""The placement page, driven in real headless Chromium (Debian's, through Playwright).

The app runs under uvicorn on 127.0.0.1; the browser fills the six ratings, presses
Place, and must see the placement, every reason and the pathway diagram. The
screenshot is kept as ``tests/artifacts/placement_page.png`` (gitignored).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from _service_support import make_store, serve
from carepath import Assessment, standard_pathway
from carepath.service import create_app

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian package 'chromium'; make system-deps)",
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    store = make_store(tmp_path)
    app = create_app(store, standard_pathway(), insecure_dev=True)
    with serve(app) as url:
        yield url
    store.close()


def test_fill_the_form_and_see_the_placement_and_reasons(base: str) -> None:
    ratings = {"withdrawal": 1, "emotional": 3, "relapse": 2, "environment": 2}
    placement = standard_pathway().place(Assessment(**ratings))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "placement_page.png"
    shot.unlink(missing_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.goto(f"{base}/placement")
            assert page.locator("#placement").count() == 0
            for name, value in ratings.items():
                page.select_option(f"select#{name}", str(value))
            page.click("#place")
            page.wait_for_selector("#placement")
            assert page.inner_text("#level") == f"Placement: {placement.level.name}"
            shown = [li.inner_text() for li in page.locator("#reasons li").all()]
            assert shown == placement.explain().splitlines()[1:]
            assert shown  # a placement above outpatient always has reasons
            if placement.alternatives:
                alternatives = page.inner_text("#alternatives")
                for alt in placement.alternatives:
                    assert alt.name in alternatives
            # the form keeps what was chosen
            assert page.input_value("select#emotional") == "3"
            # the pathway diagram: graphviz SVG when dot is installed, else Mermaid text
            assert page.locator("#pathway svg, #pathway .mermaid, #pathway pre").count() > 0
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.is_file()
    assert shot.stat().st_size > 10_000
