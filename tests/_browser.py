"""Headless Chromium for the picture tests: screenshots kept as artifacts, DOM after scripts.

Debian's ``chromium`` (``make system-deps`` installs it), started with no network of its
own (--disable-background-networking and friends) and a fresh profile each time, on
files or on a server at 127.0.0.1. Screenshots go to ``tests/artifacts/`` (gitignored)
so a person can look at what the tests saw.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=8000",
)


def chromium() -> str:
    """The Chromium program, or skip the test saying how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "headless Chromium is not installed (Debian package 'chromium'; make system-deps)"
        )
    return found


def _run(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="carepath-chromium-") as profile:
        return subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )


def screenshot(url: str, name: str, *, width: int = 1200, height: int = 900) -> Path:
    """A PNG of ``url`` as Chromium draws it, kept as ``tests/artifacts/NAME.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    out.unlink(missing_ok=True)
    _run(url, f"--window-size={width},{height}", f"--screenshot={out}")
    assert out.is_file(), f"Chromium wrote no screenshot of {url}"
    return out


def dom(url: str) -> str:
    """The page's DOM after its scripts ran (HTML text)."""
    return _run(url, "--dump-dom").stdout


def page(html: str, name: str) -> str:
    """Write ``html`` to ``tests/artifacts/NAME.html`` and return its file URL."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) while the block runs; yields the URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the base's name
        pass


def colour_pixels(png: Path, colours: list[str], *, tolerance: int = 6) -> dict[str, int]:
    """How many pixels of ``png`` have each colour (``#rrggbb``), within ``tolerance``."""
    from PIL import Image  # noqa: PLC0415  # Pillow comes with matplotlib (extra 'viz')

    image = Image.open(png).convert("RGB")
    wanted = {c: tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in colours}
    counts = dict.fromkeys(colours, 0)
    for (r, g, b), n in _histogram(image):
        for name, (wr, wg, wb) in wanted.items():
            if abs(r - wr) <= tolerance and abs(g - wg) <= tolerance and abs(b - wb) <= tolerance:
                counts[name] += n
    return counts


def _histogram(image: Any) -> list[tuple[tuple[int, int, int], int]]:
    colours = image.getcolors(maxcolors=1 << 24)
    return [(rgb, n) for n, rgb in colours]
