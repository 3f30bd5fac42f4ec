"""Each setup of the decision page (``docs/setup.md``, ``recipes.SETUPS``) does what its
diagram says: the configuration shown under it, given the request the diagram draws (the
last proxy's headers, from its address), gives the app the client the diagram names,
through the WSGI and the ASGI middleware; and the same forged headers sent by the client
itself, straight to the app, change nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from e2e.recipes import RECIPES, SETUPS, Setup
from trustproxy import ASGIMiddleware, WSGIMiddleware

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "setup.md").read_text()


def _headers(lines: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = [line.split(": ", 1) for line in lines]
    # The client's "(forged)" note is the diagram's, not part of the value.
    return [(name, value.replace("(forged)", "").strip()) for name, value in pairs]


def _peer(setup: Setup) -> Any:
    return next(n for n in reversed(setup.nodes) if not n.passthrough)


def wsgi_client(settings: dict[str, object], peer: str, headers: list[tuple[str, str]]) -> str:
    environ: dict[str, Any] = {
        "REMOTE_ADDR": peer, "REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "",
        "SERVER_NAME": "example.com", "SERVER_PORT": "8000", "HTTP_HOST": "example.com",
        "wsgi.url_scheme": "http",
    }  # fmt: skip
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: list[str] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(env["REMOTE_ADDR"])
        return []

    WSGIMiddleware(app, **settings)(environ, lambda *a: None)  # type: ignore[arg-type]
    return seen[0]


def asgi_client(settings: dict[str, object], peer: str, headers: list[tuple[str, str]]) -> str:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"",
        "headers": [(b"host", b"example.com")]
        + [(n.lower().encode(), v.encode()) for n, v in headers],
        "client": (peer, 40000), "server": ("example.com", 8000),
    }  # fmt: skip
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(ASGIMiddleware(app, **settings)(scope, receive, send))  # type: ignore[arg-type]
    return seen[0]


@pytest.mark.parametrize("setup", SETUPS, ids=[s.key for s in SETUPS])
@pytest.mark.parametrize("resolve", [wsgi_client, asgi_client], ids=["wsgi", "asgi"])
def test_setup_gives_the_client_its_diagram_names(setup: Setup, resolve: Any) -> None:
    settings = RECIPES[setup.recipe]
    peer = _peer(setup)
    assert resolve(settings, peer.address, _headers(peer.writes)) == setup.client
    # The client's own forgery, straight to the app: its peer is not trusted.
    client = setup.nodes[0]
    forged = _headers(client.writes)
    assert forged and "6.6.6.6" in forged[0][1]
    assert resolve(settings, client.address, forged) == client.address


@pytest.mark.parametrize("setup", SETUPS, ids=[s.key for s in SETUPS])
def test_decision_page_shows_each_setup_once(setup: Setup) -> None:
    # Its section: the anchor, the diagram, then the generated settings of its recipe.
    section = PAGE[PAGE.index(f"{{ #{setup.key} }}") :]
    section = section[: section.index("\n## ")]
    assert f"](img/setup-{setup.key}.svg)" in section
    assert re.findall(r"<!-- begin: settings ([\w-]+) -->", section) == [setup.recipe]
    assert f"]({setup.page}" in PAGE
