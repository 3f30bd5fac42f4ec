"""``WSGIMiddleware`` beyond the scenario table (tests/test_scenarios.py runs the table)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

import builders
import trustproxy
from trustproxy import WSGIMiddleware
from trustproxy.wsgi import ORIGINAL_KEY, RESOLUTION_KEY

Environ = dict[str, Any]


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


def test_no_forwarding_header_passes_environ_untouched() -> None:
    app = App()
    environ = builders.environ("127.0.0.1", [("User-Agent", "x")])
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
