"""Both header families read: agreement, conflicts (400) and strict mode."""

from __future__ import annotations

from typing import Any, Optional

import pytest

import trustproxy
from trustproxy import APPLIED, CONFLICT, UNRESOLVED, UNTRUSTED_PEER, ConfigError, Resolver

PEER = "127.0.0.1"
BOTH = ("forwarded", "x-forwarded")
ALL_FIELDS = ("for", "proto", "host", "port", "prefix")


def resolve(lines: list[tuple[str, str]], *, peer: str = PEER, **kwargs: Any) -> Any:
    kwargs.setdefault("fields", ALL_FIELDS)
    resolver = Resolver(trusted="loopback, 10.0.0.0/8", headers=BOTH, **kwargs)
    return resolver.resolve(peer, lines, scheme="http", host="origin.test", port=80)


# (header lines, status, client, scheme, host)
ROWS = [
    pytest.param(
        [("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "1.2.3.4")],
        APPLIED, "1.2.3.4", "http", "origin.test", id="same-client",
    ),
    pytest.param(
        [("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "1.2.3.5")],
        CONFLICT, PEER, "http", "origin.test", id="different-clients",
    ),
    pytest.param(
        [("Forwarded", "for=6.6.6.6, for=10.0.0.1"), ("X-Forwarded-For", "1.2.3.4, 10.0.0.1")],
        CONFLICT, PEER, "http", "origin.test", id="different-clients-behind-two-proxies",
    ),
    pytest.param(
        [("Forwarded", 'for="1.2.3.4:5000"'), ("X-Forwarded-For", "1.2.3.4")],
        APPLIED, "1.2.3.4", "http", "origin.test", id="ports-do-not-matter",
    ),
    pytest.param(
        [("Forwarded", 'for="[2001:db8::1]"'), ("X-Forwarded-For", "2001:DB8:0::1")],
        APPLIED, "2001:db8::1", "http", "origin.test", id="canonical-addresses-compared",
    ),
    pytest.param(
        [
            ("Forwarded", "for=1.2.3.4;proto=https"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Proto", "http"),
        ],
        CONFLICT, PEER, "http", "origin.test", id="schemes-contradict",
    ),
    pytest.param(
        [
            ("Forwarded", "for=1.2.3.4;proto=HTTPS"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Proto", "https"),
        ],
        APPLIED, "1.2.3.4", "https", "origin.test", id="schemes-agree-any-case",
    ),
    pytest.param(
        [("Forwarded", "for=1.2.3.4;proto=https"), ("X-Forwarded-Proto", "http")],
        CONFLICT, PEER, "http", "origin.test", id="schemes-contradict-without-xff",
    ),
    pytest.param(
        [
            ("Forwarded", "for=1.2.3.4;host=a.example"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Host", "b.example"),
        ],
        CONFLICT, PEER, "http", "origin.test", id="hosts-contradict",
    ),
    pytest.param(
        [
            ("Forwarded", "for=1.2.3.4;host=A.example"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Host", "a.example"),
        ],
        APPLIED, "1.2.3.4", "http", "A.example", id="hosts-agree-any-case",
    ),
    pytest.param(
        [("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "1.2.3.4"),
         ("X-Forwarded-Proto", "https")],
        APPLIED, "1.2.3.4", "https", "origin.test", id="scheme-only-in-x-forwarded",
    ),
    pytest.param(
        [("Forwarded", "for=1.2.3.4;proto=https")],
        APPLIED, "1.2.3.4", "https", "origin.test", id="only-forwarded",
    ),
    pytest.param(
        [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "https")],
        APPLIED, "1.2.3.4", "https", "origin.test", id="only-x-forwarded",
    ),
    pytest.param(
        [("Forwarded", "for=unknown"), ("X-Forwarded-For", "1.2.3.4")],
        UNRESOLVED, PEER, "http", "origin.test", id="forwarded-unresolved",
    ),
    pytest.param(
        [("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "junk")],
        UNRESOLVED, PEER, "http", "origin.test", id="x-forwarded-unresolved",
    ),
    pytest.param(
        # The proxy writes X-Forwarded-For only and passes on a client's Forwarded: the
        # forgery names another client and is caught.
        [("Forwarded", "for=10.0.0.5;proto=https"), ("X-Forwarded-For", "203.0.113.7")],
        CONFLICT, PEER, "http", "origin.test", id="forged-forwarded-caught",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "status", "client", "scheme", "host"), ROWS)
def test_both_families(
    lines: list[tuple[str, str]], status: str, client: str, scheme: str, host: str
) -> None:
    result = resolve(lines)
    assert (result.status, result.client, result.scheme, result.host) == (
        status,
        client,
        scheme,
        host,
    )
    if status == CONFLICT:
        assert result.applied == ()
        assert "disagree" in result.reason or "different clients" in result.reason


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


def test_untrusted_peer_is_not_a_conflict() -> None:
    result = resolve([("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "1.2.3.5")], peer="6.6.6.6")
    assert result.status == UNTRUSTED_PEER


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
    environ: dict[str, Any] = {
        "REMOTE_ADDR": peer,
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "origin.test",
        "SERVER_PORT": "80",
        **environ_headers,
    }
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


def test_wsgi_scheme_conflict_is_400() -> None:
    recorder, _ = call(
        {"HTTP_FORWARDED": "for=1.2.3.4;proto=https", "HTTP_X_FORWARDED_PROTO": "http"},
        headers=BOTH,
    )
    assert (recorder.called, recorder.status) == (False, "400 Bad Request")


def test_wsgi_agreeing_headers_go_through() -> None:
    recorder, body = call(
        {"HTTP_FORWARDED": "for=1.2.3.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, headers=BOTH
    )
    assert (recorder.called, recorder.status, body) == (True, "200 OK", b"app")


UNRESOLVED_HEADERS = {"HTTP_X_FORWARDED_FOR": "unknown"}


def test_wsgi_unresolved_passes_on_by_default() -> None:
    recorder, body = call(UNRESOLVED_HEADERS)
    assert (recorder.called, body) == (True, b"app")


def test_wsgi_strict_answers_400_for_unresolved() -> None:
    recorder, body = call(UNRESOLVED_HEADERS, strict=True)
    assert not recorder.called
    assert recorder.status == "400 Bad Request"
    assert body == b"Bad Request: the forwarding headers could not be resolved\n"


@pytest.mark.parametrize(
    ("environ_headers", "peer"),
    [
        pytest.param({"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, PEER, id="applied"),
        pytest.param(UNRESOLVED_HEADERS, "6.6.6.6", id="untrusted-peer"),
        pytest.param({}, PEER, id="no-headers"),
    ],
)
def test_wsgi_strict_lets_resolvable_requests_through(
    environ_headers: dict[str, str], peer: str
) -> None:
    recorder, body = call(environ_headers, peer, strict=True)
    assert (recorder.called, body) == (True, b"app")


def test_wsgi_strict_forwarded() -> None:
    recorder, _ = call({"HTTP_FORWARDED": 'for="_hidden"'}, headers="forwarded", strict=True)
    assert (recorder.called, recorder.status) == (False, "400 Bad Request")


def test_x_forwarded_values_align_with_the_forwarded_client_without_xff() -> None:
    result = resolve(
        [("Forwarded", "for=1.2.3.4, for=10.0.0.1"), ("X-Forwarded-Proto", "https, http")]
    )
    assert (result.status, result.client, result.scheme) == (APPLIED, "1.2.3.4", "https")
