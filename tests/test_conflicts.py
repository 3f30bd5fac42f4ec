"""Both header families read, beyond the scenario table (its rows are ``both/*`` and
``strict/*`` in tests/scenarios/, run by tests/test_scenarios.py): the conflict reason,
the hop trail, configuration, and the exact 400 answers of the WSGI middleware."""

from __future__ import annotations

from typing import Any, Optional

import pytest

import builders
import trustproxy
from trustproxy import APPLIED, ConfigError, Resolver

PEER = "127.0.0.1"
BOTH = ("forwarded", "x-forwarded")
ALL_FIELDS = ("for", "proto", "host", "port", "prefix")


def resolve(lines: list[tuple[str, str]], *, peer: str = PEER, **kwargs: Any) -> Any:
    kwargs.setdefault("fields", ALL_FIELDS)
    resolver = Resolver(trusted="loopback, 10.0.0.0/8", headers=BOTH, **kwargs)
    return resolver.resolve(peer, lines, scheme="http", host="origin.test", port=80)


def test_conflict_reason_names_both_clients() -> None:
    result = resolve([("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "1.2.3.5")])
    assert result.reason == (
        "Forwarded and X-Forwarded-For name different clients (1.2.3.4 and 1.2.3.5)"
    )


def test_port_and_prefix_come_from_x_forwarded() -> None:
    result = resolve(
        [
            ("Forwarded", "for=1.2.3.4;proto=https;host=example.com"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Port", "8443"),
            ("X-Forwarded-Prefix", "/app"),
        ]
    )
    assert result.status == APPLIED
    assert (result.scheme, result.host, result.port, result.prefix) == (
        "https",
        "example.com:8443",
        8443,
        "/app",
    )
    assert set(result.applied) == {"for", "proto", "host", "port", "prefix"}


def test_empty_forwarded_leaves_the_client_to_x_forwarded() -> None:
    result = resolve([("Forwarded", " , "), ("X-Forwarded-For", "6.6.6.6, 1.2.3.4")])
    assert (result.status, result.client) == (APPLIED, "1.2.3.4")
    assert [hop.text for hop in result.hops] == [PEER, "1.2.3.4"]
    assert [hop.text for hop in result.proxies] == [PEER]


def test_tuple_order_does_not_matter() -> None:
    a = Resolver(headers=("x-forwarded", "forwarded"))
    b = Resolver(headers=["Forwarded", "X-Forwarded"])
    assert a.header_names == b.header_names
    assert a.header_names[0] == "forwarded"
    assert "x-forwarded-for" in a.trigger_names and "forwarded" in a.trigger_names


def test_unknown_family_in_tuple() -> None:
    with pytest.raises(ConfigError):
        Resolver(headers=("forwarded", "x-forwarded", "x-real-ip"))


# -- WSGI: 400 and strict mode -----------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.called = False
        self.status: Optional[str] = None
        self.headers: list[tuple[str, str]] = []

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.called = True
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]

    def start_response(self, status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        self.status = status
        self.headers = headers


def call(
    environ_headers: dict[str, str], peer: str = PEER, **kwargs: Any
) -> tuple[Recorder, bytes]:
    recorder = Recorder()
    middleware = trustproxy.WSGIMiddleware(recorder.app, **kwargs)
    environ = {**builders.environ(peer, host="origin.test"), **environ_headers}
    body = b"".join(middleware(environ, recorder.start_response))  # type: ignore[arg-type]
    return recorder, body


def test_wsgi_conflict_is_400_and_the_app_is_not_called() -> None:
    recorder, body = call(
        {"HTTP_FORWARDED": "for=1.2.3.4", "HTTP_X_FORWARDED_FOR": "1.2.3.5"}, headers=BOTH
    )
    assert not recorder.called
    assert recorder.status == "400 Bad Request"
    assert body == b"Bad Request: conflicting forwarding headers\n"
    assert dict(recorder.headers) == {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": str(len(body)),
    }


UNRESOLVED_HEADERS = {"HTTP_X_FORWARDED_FOR": "unknown"}


def test_wsgi_strict_answers_400_for_unresolved() -> None:
    recorder, body = call(UNRESOLVED_HEADERS, strict=True)
    assert not recorder.called
    assert recorder.status == "400 Bad Request"
    assert body == b"Bad Request: the forwarding headers could not be resolved\n"
