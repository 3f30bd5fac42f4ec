"""The built docs in a real headless browser: the decision page and its diagrams render.

The site is built (``test_docs_build.build_site``), served from a loopback port, and
opened in Debian's chromium; every host name but 127.0.0.1 resolves to nothing, so a page
that needed the internet would show it.  Screenshots of the decision page and of one
diagram are written to ``$TRUSTPROXY_ARTIFACTS`` (``scripts/test`` sets it to
``artifacts/`` and pytest's summary lists them, for CI to keep; default: a fresh
temporary folder).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from collections.abc import Iterator

import pytest

from e2e.recipes import SETUPS
from test_docs_build import build_site
from test_whoami_browser import CHROMEDRIVER, CHROMIUM, _require_browser, artifacts


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = build_site(tmp_path_factory.mktemp("docs"))
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_decision_page_and_diagrams_render_in_chromium(
    served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_browser()
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not look anything up
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    profile = tempfile.mkdtemp(prefix="trustproxy-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1400",
        # Nothing but the loopback server resolves: a page needing the internet breaks.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    out = artifacts()
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(f"{served}/setup/")
        title = driver.title
        heading = driver.find_element(By.CSS_SELECTOR, "article h1").text
        rows = driver.find_elements(By.CSS_SELECTOR, "article table tbody tr")
        assert driver.save_screenshot(str(out / "docs-setup.png"))
        images = {}
        for setup in SETUPS:
            image = driver.find_element(By.CSS_SELECTOR, f'img[src$="setup-{setup.key}.svg"]')
            images[setup.key] = driver.execute_script(
                "const i = arguments[0]; const r = i.getBoundingClientRect();"
                "return [i.complete, i.naturalWidth, i.naturalHeight, r.width, r.height];",
                image,
            )
        first = driver.find_element(By.CSS_SELECTOR, 'img[src$="setup-same-host.svg"]')
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", first)
        assert first.screenshot(str(out / "docs-diagram-same-host.png"))
        # The Flask / Django / FastAPI tabs of the first case: one visible at a time.
        tabs = [
            label.get_attribute("textContent")
            for label in driver.find_elements(By.CSS_SELECTOR, "#same-host ~ .tabbed-set label")
        ]
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    assert title.startswith("Which configuration?")
    assert heading.startswith("Which configuration do I need?")
    assert len(rows) == len(SETUPS)  # one row per way the app is reached
    for key, (complete, natural_w, natural_h, width, height) in images.items():
        # Loaded (an SVG that failed to load or parse has no natural size) and drawn at a
        # readable size, not squeezed to an icon.
        assert complete and natural_w > 500 and natural_h > 150, (key, images[key])
        assert width > 500 and height > 120, (key, images[key])
    assert [(t or "").strip() for t in tabs[:3]] == ["Flask", "Django", "FastAPI, Starlette"]
    for name in ("docs-setup.png", "docs-diagram-same-host.png"):
        assert (out / name).stat().st_size > 10_000, name
