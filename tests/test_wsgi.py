"""The shared scenario table (tests/scenarios.py) run through ``WSGIMiddleware``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

import pytest

import trustproxy
from scenarios import SCENARIOS, Scenario, server_name
from trustproxy import WSGIMiddleware
from trustproxy.wsgi import ORIGINAL_KEY, RESOLUTION_KEY

Environ = dict[str, Any]

#: The environ keys the middleware may rewrite.
REWRITTEN = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
)

ORIGINAL_REMOTE_PORT = "54321"


def environ_for(scenario: Scenario) -> Environ:
    """An environ as a WSGI server builds it: repeated header lines joined with ","
    (PEP 3333 / CGI), header names upper-cased with "-" -> "_"."""
    request = scenario.request
    environ: Environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/index",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_PORT": ORIGINAL_REMOTE_PORT,
        "wsgi.url_scheme": request.scheme,
        "SERVER_NAME": request.server_name,
        "SCRIPT_NAME": request.prefix,
    }
    if scenario.peer is not None:  # a UNIX socket peer has no REMOTE_ADDR
        environ["REMOTE_ADDR"] = scenario.peer
    if request.host is not None:
        environ["HTTP_HOST"] = request.host
    if request.port is not None:
        environ["SERVER_PORT"] = str(request.port)
    for name, value in scenario.lines:
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class App:
    """Records the environ it was called with."""

    def __init__(self) -> None:
        self.environ: Optional[Environ] = None

    def __call__(self, environ: Environ, start_response: Any) -> Iterable[bytes]:
        self.environ = environ
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def call(middleware: WSGIMiddleware, environ: Environ) -> Environ:
    app = middleware.app
    assert isinstance(app, App)
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    body = middleware(environ, start_response)
    assert list(body) == [b"ok"]
    assert statuses == ["200 OK"]
    assert app.environ is not None
    return app.environ


def expected_environ(scenario: Scenario, before: Environ) -> Environ:
    expected = scenario.expected
    after = dict(before)
    if expected.forwarded:
        after["REMOTE_ADDR"] = expected.client
        if expected.client_port is not None:
            after["REMOTE_PORT"] = str(expected.client_port)
    after["wsgi.url_scheme"] = expected.scheme
    if expected.host != scenario.request.host:
        assert expected.host is not None
        after["HTTP_HOST"] = expected.host
        after["SERVER_NAME"] = server_name(expected.host)
    if expected.port != scenario.request.port:
        after["SERVER_PORT"] = str(expected.port)
    after["SCRIPT_NAME"] = expected.prefix
    return after


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.id) for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    middleware = WSGIMiddleware(App(), **scenario.config())
    before = environ_for(scenario)
    seen = call(middleware, dict(before))
    triggered = any(name.lower() in middleware.resolver.trigger_names for name, _ in scenario.lines)
    if not triggered:
        # No forwarding header the middleware reads: passed on untouched, no keys.
        assert seen == before
        return
    resolution = seen.pop(RESOLUTION_KEY)
    original = seen.pop(ORIGINAL_KEY)
    assert isinstance(resolution, trustproxy.Resolution)
    assert resolution.status == scenario.expected.status, resolution.reason
    assert original == {key: before.get(key) for key in REWRITTEN}
    if scenario.expected.status != trustproxy.APPLIED:
        # Untrusted peer or unresolved: the environ is unchanged but for our two keys.
        assert seen == before
    assert seen == expected_environ(scenario, before)


def test_no_forwarding_header_passes_environ_untouched() -> None:
    app = App()
    environ: Environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "app.example",
        "SERVER_NAME": "app.example",
        "SERVER_PORT": "80",
        "SCRIPT_NAME": "",
        "HTTP_USER_AGENT": "x",
    }
    before = dict(environ)
    seen = call(WSGIMiddleware(app, fields=tuple(trustproxy.Resolver().fields)), environ)
    assert seen is environ
    assert seen == before
    assert RESOLUTION_KEY not in seen
    assert ORIGINAL_KEY not in seen


def test_field_header_alone_triggers_only_when_its_field_is_on() -> None:
    environ: Environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PREFIX": "/app"}
    off = call(WSGIMiddleware(App()), dict(environ))
    assert RESOLUTION_KEY not in off
    on = call(WSGIMiddleware(App(), fields=("prefix",)), dict(environ))
    assert on[RESOLUTION_KEY].status == trustproxy.APPLIED
    assert on["SCRIPT_NAME"] == "/app"
    assert on[ORIGINAL_KEY]["SCRIPT_NAME"] is None


def test_unparseable_server_port_is_kept() -> None:
    environ: Environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PORT": "http",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
    }
    seen = call(WSGIMiddleware(App()), environ)
    assert seen["REMOTE_ADDR"] == "203.0.113.9"
    assert seen["SERVER_PORT"] == "http"
