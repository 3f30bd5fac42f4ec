"""The shared scenario table (tests/scenarios.py) run through ``ASGIMiddleware``, on
``http`` and ``websocket`` scopes."""

from __future__ import annotations

import copy
from typing import Any, Optional

import pytest

import trustproxy
import trustproxy._warn
from scenarios import SCENARIOS, Scenario, server_name
from trustproxy import ASGIMiddleware
from trustproxy.asgi import ORIGINAL_KEY, RESOLUTION_KEY

Scope = dict[str, Any]

PEER_PORT = 54321
PATH = "/index"
WS = {"http": "ws", "https": "wss"}


@pytest.fixture(autouse=True)
def _own_warning_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime warnings are rate-limited process-wide; give each test its own limiter so
    these tests neither exhaust nor depend on the shared one."""
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())


def wire(text: str) -> bytes:
    """Header bytes as sent: latin-1 when it fits, else UTF-8 (which the middleware then
    reads as latin-1 mojibake, never as digits or letters of an address)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def scope_for(scenario: Scenario, kind: str) -> Scope:
    """A scope as an ASGI server builds it: header lines in arrival order, names in
    lower case, values as bytes."""
    request = scenario.request
    headers = []
    if request.host is not None:
        headers.append((b"host", request.host.encode("latin-1")))
    for name, value in scenario.lines:
        headers.append((name.lower().encode("latin-1"), wire(value)))
    scope: Scope = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": WS[request.scheme] if kind == "websocket" else request.scheme,
        "path": request.prefix + PATH,
        "raw_path": (request.prefix + PATH).encode("latin-1"),
        "query_string": b"",
        "root_path": request.prefix,
        "headers": headers,
        "client": None if scenario.peer is None else (scenario.peer, PEER_PORT),
        "server": None if request.port is None else (request.server_name, request.port),
    }
    if kind == "http":
        scope["method"] = "GET"
    return scope


def expected_scope(scenario: Scenario, before: Scope) -> Scope:
    expected = scenario.expected
    request = scenario.request
    after = dict(before)
    if expected.forwarded:
        after["client"] = (expected.client, expected.client_port or 0)
    after["scheme"] = WS[expected.scheme] if before["type"] == "websocket" else expected.scheme
    host_changed = expected.host != request.host
    if host_changed:
        assert expected.host is not None
        others = [line for line in before["headers"] if line[0] != b"host"]
        after["headers"] = [(b"host", expected.host.encode("latin-1")), *others]
    if (host_changed or expected.port != request.port) and expected.port is not None:
        name = server_name(expected.host) if expected.host is not None else request.server_name
        after["server"] = (name.strip("[]"), expected.port)
    if expected.prefix != request.prefix:
        added = expected.prefix[: len(expected.prefix) - len(request.prefix)]
        after["root_path"] = expected.prefix
        after["path"] = added + before["path"]
        after["raw_path"] = added.encode("latin-1") + before["raw_path"]
    return after


class App:
    def __init__(self) -> None:
        self.scope: Optional[Scope] = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scope = scope


async def _receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def _send(message: dict[str, Any]) -> None:
    raise AssertionError(f"the middleware answered by itself: {message}")


def run(middleware: ASGIMiddleware, scope: Scope) -> Scope:
    """Step the coroutine by hand: nothing in it awaits anything real."""
    coroutine = middleware(scope, _receive, _send)
    with pytest.raises(StopIteration):
        coroutine.send(None)
    app = middleware.app
    assert isinstance(app, App) and app.scope is not None
    return app.scope


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.id) for s in SCENARIOS])
def test_scenario(scenario: Scenario, kind: str) -> None:
    middleware = ASGIMiddleware(App(), **scenario.config())
    before = scope_for(scenario, kind)
    pristine = copy.deepcopy(before)
    seen = run(middleware, before)
    assert before == pristine  # the server's scope is never edited
    triggered = any(name.lower() in middleware.resolver.trigger_names for name, _ in scenario.lines)
    if not triggered:
        assert seen is before
        return
    seen = dict(seen)
    resolution = seen.pop(RESOLUTION_KEY)
    assert seen.pop(ORIGINAL_KEY) is before
    assert isinstance(resolution, trustproxy.Resolution)
    assert resolution.status == scenario.expected.status, resolution.reason
    assert resolution.client == scenario.expected.client
    if scenario.expected.status != trustproxy.APPLIED:
        assert seen == before
    assert seen == expected_scope(scenario, before)
