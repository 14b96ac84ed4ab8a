"""The built ci-scale book in a real browser, offline: headless Chromium opens the background
chapter from a local HTTP server with every other host unresolvable, and the maps must draw.

Needs Chromium (Debian: ``apt-get install chromium chromium-driver``). Without one the tests
skip, except under CI (``CI=true``), where a missing browser fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from intercity import figures

pytestmark = pytest.mark.slow
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAGE = "book/01_background.html"
INSTALL = ("no headless Chromium found: install one (Debian/Ubuntu: `sudo apt-get install chromium "
           "chromium-driver`), or point INTERCITY_BROWSER to a Chrome/Chromium binary")


def find_browser() -> str | None:
    """``INTERCITY_BROWSER`` if set, else the first Chromium/Chrome on the PATH."""
    if os.environ.get("INTERCITY_BROWSER"):
        return os.environ["INTERCITY_BROWSER"]
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


@pytest.fixture(scope="session")
def browser() -> str:
    """The browser binary; resolved before the (slow) book build, so a skip costs nothing."""
    found = find_browser()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(INSTALL + " (required under CI)")
        pytest.skip(INSTALL)
    return found


@pytest.fixture(scope="module")
def served(staged, book_build):
    """The built HTML book on http://127.0.0.1:<free port>/ (a thread of this process)."""
    assert book_build.returncode == 0, book_build.stdout[-3000:] + book_build.stderr[-2000:]
    root = staged / "_build" / "html"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def chromium(browser: str, profile: Path, url: str, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    """Headless Chromium with a fresh profile and no network beyond 127.0.0.1."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--disable-default-apps", f"--user-data-dir={profile}",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--virtual-time-budget=20000", "--hide-scrollbars"]
    return subprocess.run([browser, *flags, *args, url], capture_output=True, text=True, timeout=timeout)


def background_ids() -> list[str]:
    return [f.id for f in figures.FIGURES if f.notebook == "01_background"]


def test_background_figures_draw_offline(browser, served, tmp_path):
    run = chromium(browser, tmp_path / "profile", f"{served}/{PAGE}", "--dump-dom")
    dom = run.stdout
    assert run.returncode == 0 and "</html>" in dom, run.stderr[-2000:]
    ids = background_ids()
    assert len(ids) >= 10
    for fig_id in ids:
        # the div with the figure's id was turned into a plot by plotly.js (class js-plotly-plot,
        # an svg.main-svg inside), so plotly.js loaded from the book and ran without the network
        start = dom.find(f'id="{fig_id}"')
        assert start >= 0, f"{fig_id}: no element with this id"
        tag = dom[dom.rfind("<", 0, start):dom.find(">", start)]
        assert "js-plotly-plot" in tag, f"{fig_id}: not drawn by plotly ({tag[:200]})"
        nxt = min([p for p in (dom.find(f'id="{i}"', start + 1) for i in ids) if p > 0] + [len(dom)])
        block = dom[start:nxt]
        assert 'class="main-svg"' in block, f"{fig_id}: no svg"
        if fig_id.startswith("map-"):
            fills = len(re.findall(r'class="js-fill"', block))
            assert fills >= 2, f"{fig_id}: {fills} filled polygon layers drawn"
    assert "Built on SYNTHETIC data" in dom or "Built on" in dom


def _png_pixels(path: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    return (np.asarray(img)[..., :3] * 255).round().astype(np.uint8)


def _count_near(pixels: np.ndarray, hex_color: str, tol: int = 6) -> int:
    rgb = np.array([int(hex_color[k:k + 2], 16) for k in (1, 3, 5)], dtype=int)
    return int((np.abs(pixels.astype(int) - rgb).max(axis=-1) <= tol).sum())


def test_background_screenshot_shows_the_maps(browser, served, tmp_path):
    shot = tmp_path / "background.png"
    run = chromium(browser, tmp_path / "profile", f"{served}/{PAGE}", f"--screenshot={shot}",
                   "--window-size=1280,2600")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    px = _png_pixels(shot)
    colours = np.unique(px.reshape(-1, 3), axis=0)
    assert len(colours) > 200, f"only {len(colours)} distinct colours: a blank page?"
    non_white = float((px.min(axis=-1) < 240).mean())
    assert non_white > 0.05, f"{non_white:.1%} of the page is not white"
    # the first map (cities by region) shows the region colours on screen
    drawn = {r: _count_near(px, c) for r, c in figures.REGION_COLORS.items()}
    assert sum(v > 200 for v in drawn.values()) >= 3, f"region colours on screen (pixels): {drawn}"
