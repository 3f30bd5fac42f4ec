"""The ``whoami`` page in a real headless browser (Debian's chromium + chromium-driver).

The browser sends a forged-looking X-Forwarded-For through the DevTools protocol, the page
is rendered, a screenshot is kept under ``$TRUSTPROXY_ARTIFACTS`` and the resolved client is read
from the rendered DOM.  ``scripts/test`` installs the browser; in CI a missing browser
fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from trustproxy import Resolver
from trustproxy._whoami import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def artifacts() -> Path:
    """Where screenshots go: ``$TRUSTPROXY_ARTIFACTS`` (``scripts/test`` sets it to the
    checkout's ``artifacts/`` and lists what is there at the end, for CI to keep), else a
    fresh temporary folder, so a local run leaves nothing behind in the tree."""
    folder = os.environ.get("TRUSTPROXY_ARTIFACTS") or tempfile.mkdtemp(prefix="trustproxy-")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        message = f"missing {', '.join(missing)}: run scripts/test to install them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def port() -> Iterator[int]:
    server = make_server(Resolver(trusted="loopback"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_page_renders_in_chromium_and_shows_the_resolved_client(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_browser()
    # The system chromedriver and chromium are named below; Selenium Manager must not
    # look anything up on the network.
    monkeypatch.setenv("SE_OFFLINE", "true")
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
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1100,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.setExtraHTTPHeaders",
            {
                "headers": {
                    "X-Forwarded-For": "6.6.6.6, 203.0.113.9",
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-Prefix": "/app",
                    "X-Forwarded-Port": "443",
                }
            },
        )
        driver.get(f"http://127.0.0.1:{port}/")
        client = driver.find_element(By.ID, "client").text
        status = driver.find_element(By.ID, "status").text
        suggestion = driver.find_element(By.ID, "suggestion").text
        forms = {
            key: driver.find_element(By.ID, f"form-{key}").text
            for key in ("wsgi", "asgi", "django", "proxyfix", "uvicorn", "gunicorn")
        }
        chain = driver.find_element(By.ID, "chain").text
        flags = driver.find_element(By.ID, "flags").text
        title = driver.title
        shot = artifacts() / "whoami.png"
        assert driver.save_screenshot(str(shot))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    assert title == "trustproxy whoami"
    assert client == "203.0.113.9"
    assert status == "applied"
    assert suggestion.startswith("2 proxies seen: 127.0.0.1, 203.0.113.9")
    # The complete suggestion, as rendered: every form, the chain, the short-list flag.
    # 203.0.113.9 is public (a CDN's, a cloud balancer's): the hop count is preferred.
    keywords = "trusted='*', hops=2, fields=['for', 'proto', 'port', 'prefix']"
    assert forms["wsgi"] == f"app = trustproxy.WSGIMiddleware(app, {keywords})"
    assert forms["asgi"] == f"app = trustproxy.ASGIMiddleware(app, {keywords})"
    assert "TRUSTPROXY = {'trusted': '*', 'hops': 2, 'fields': [" in forms["django"]
    assert forms["proxyfix"].startswith(
        "app.wsgi_app = trustproxy.ProxyFix(app.wsgi_app, x_for=2, x_proto=1, x_host=0,"
        " x_port=1, x_prefix=1, trusted='*')"
    )
    assert forms["uvicorn"] == "uvicorn main:app --no-proxy-headers"
    assert forms["gunicorn"] == "gunicorn --forwarded-allow-ips='*' app:app"
    assert chain.splitlines()[0] == "client 6.6.6.6 (public)"
    assert "proxy 127.0.0.1 (loopback: this same machine)" in chain
    assert "X-Forwarded-Proto has 1 item for 2 proxies" in flags
    assert shot.stat().st_size > 10_000
