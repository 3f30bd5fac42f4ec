"""The other app servers of the matrix behind real nginx and HAProxy: granian (its ASGI and
its WSGI interface), waitress, daphne, and aiohttp with trustproxy.aiohttp.

Lean on purpose (test_xforwarded.py runs every proxy in front of gunicorn, uvicorn and
hypercorn): each server runs its docs command (``servers.COMMANDS``, shown in
docs/frameworks.md) behind the two proxies, with the ``single`` recipe's settings, and is
held to the same outcome: the client, scheme, Host, port and prefix the proxy wrote, over
http and https, under the prefix, and never a forged one.  Then what its access log
shows, and whether it turns ``X_Forwarded_For`` into the forwarding header.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .lab import fetch
from .proxies import KINDS, Running
from .recipes import RECIPES
from .servers import OTHERS, AppServers, command
from .test_xforwarded import FORGED

SETTINGS = RECIPES["single"]
PROXIES = ("nginx", "haproxy")

#: What each server's access log names for a request through a proxy: the client, the
#: proxy (the server logs from its own connection; docs/frameworks.md says so), or no
#: access log at all (waitress writes none).
ACCESS_LOG = {
    "granian-asgi": "proxy",
    "granian-wsgi": "proxy",
    "waitress": None,
    "daphne": "proxy",
    "aiohttp": "client",  # trustproxy.aiohttp.AccessLogger
}
#: Servers that turn a client's ``X_Forwarded_For`` into the X-Forwarded-For the app
#: reads (the later line of the two names wins): granian's WSGI interface.
MERGES_UNDERSCORES = {"granian-wsgi"}


@pytest.fixture(scope="module", params=OTHERS)
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def app(server: str, app_servers: AppServers) -> str:
    return app_servers.get(server, SETTINGS)


@pytest.fixture(scope="module", params=PROXIES)
def front(
    request: pytest.FixtureRequest, lab: Path, certs: dict[str, Path], app: str
) -> Iterator[Running]:
    running = KINDS[request.param].start(lab, app, certs)
    try:
        yield running
    finally:
        running.stop()


def test_through_the_proxy(front: Running, server: str) -> None:
    port, tls_port = front.ports.port, front.ports.tls_port
    seen = fetch(front.url("/echo"), source="127.0.0.5").json
    assert seen["server"] == server
    got = (seen["status"], seen["client"], seen["scheme"], seen["host"], seen["port"])
    assert got == ("applied", "127.0.0.5", "http", f"127.0.0.1:{port}", port), seen
    assert (seen["peer"], seen["url"]) == ("127.0.0.1", f"http://127.0.0.1:{port}/echo")

    seen = fetch(front.tls_url("/echo"), source="127.0.0.6").json
    got = (seen["status"], seen["client"], seen["scheme"], seen["host"], seen["port"])
    assert got == ("applied", "127.0.0.6", "https", f"localhost:{tls_port}", tls_port), seen
    assert seen["server_scheme"] == "http"

    base = f"https://localhost:{tls_port}"
    seen = fetch(front.tls_url("/app/echo"), source="127.0.0.7").json
    assert (seen["prefix"], seen["url"]) == ("/app", f"{base}/app/echo"), seen
    reply = fetch(front.tls_url("/app/go-external"), source="127.0.0.7")
    assert (reply.status, reply.header("Location")) == (302, f"{base}/app/echo")
    reply = fetch(front.tls_url("/app/go"), source="127.0.0.7")
    assert (reply.status, reply.header("Location")) == (302, "/app/echo")


def test_forged_headers_through_the_proxy(front: Running, server: str) -> None:
    port = front.ports.port
    for param in FORGED:
        forged = param.values[0]
        seen = fetch(front.url("/echo"), forged, source="127.0.0.8").json
        got = (seen["client"], seen["scheme"], seen["host"], seen["port"], seen["prefix"])
        assert got == ("127.0.0.8", "http", f"127.0.0.1:{port}", port, ""), (param.id, seen)


def test_access_log(front: Running, server: str, app_servers: AppServers) -> None:
    """One request for ``/health`` through the proxy from 127.0.0.9; the line the server
    logged for it.  Some servers log off the request path, so the log is first let
    settle, and the new line waited for (briefly).  ``/health`` is otherwise asked for
    only by the readiness check, straight from 127.0.0.1, before any test.
    """

    def health_lines() -> list[str]:
        text = app_servers.log(server, SETTINGS)
        return [line for line in text.splitlines() if "GET /health" in line]

    time.sleep(0.3)
    before = len(health_lines())
    assert fetch(front.url("/health"), source="127.0.0.9").status == 200
    deadline = time.monotonic() + 3
    while len(health_lines()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    lines = health_lines()[before:]
    shows = ACCESS_LOG[server]
    if shows is None:
        assert lines == []
        return
    assert len(lines) == 1, lines
    addresses = re.findall(r"\b127\.0\.0\.\d\b", lines[0])
    assert addresses[:1] == (["127.0.0.9"] if shows == "client" else ["127.0.0.1"]), lines


def test_underscore_alias_straight_to_the_server(app: str, server: str) -> None:
    """``X_Forwarded_For`` from a *trusted* peer (127.0.0.1), straight to the server.

    waitress drops header names with ``_``; daphne, granian's ASGI interface and aiohttp
    keep the name as sent, which trustproxy never reads.  granian's WSGI interface maps
    it to ``HTTP_X_FORWARDED_FOR`` (the later of the two lines wins): a client that can
    reach it from a trusted address names its own client.  Behind nginx (which drops such
    names) or HAProxy (whose own X-Forwarded-For line comes last, so it wins) the client
    cannot (test_underscore_alias_through_the_proxy).
    """
    seen = fetch(f"http://{app}/echo", [("X_Forwarded_For", "7.7.7.7")], source="127.0.0.1").json
    if server in MERGES_UNDERSCORES:
        assert (seen["status"], seen["client"]) == ("applied", "7.7.7.7"), seen
    else:
        assert (seen["status"], seen["client"]) == (None, "127.0.0.1"), seen
        assert seen["raw"]["x-forwarded-for"] is None, seen


def test_underscore_alias_through_the_proxy(front: Running, server: str) -> None:
    for lines in (
        [("X_Forwarded_For", "7.7.7.7")],
        [("X-Forwarded-For", "6.6.6.6"), ("X_Forwarded_For", "7.7.7.7")],
    ):
        seen = fetch(front.url("/echo"), lines, source="127.0.0.5").json
        assert (seen["status"], seen["client"]) == ("applied", "127.0.0.5"), (lines, seen)


def test_docs_show_the_commands() -> None:
    """docs/frameworks.md shows each command the tests run, with the docs' port and the
    recipe modules of docs/recipes/."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "frameworks.md").read_text()
    apps = {"asgi": "asgi_server_app:app", "wsgi": "wsgi_server_app:app",
            "aiohttp": "aiohttp_app.py"}  # fmt: skip
    for server in OTHERS:
        assert f"`{command(server, 8000, apps)}`" in doc, server
