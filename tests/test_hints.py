"""Runtime hints (issue 14 §2): a configuration that works but is not what the deployment
needs is named in the log, once per cause and rate-limited like the warnings, and only
the first forwarded requests of a middleware are examined."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import builders
import trustproxy._warn
from test_asgi import Recorder, make_scope, run
from trustproxy import ASGIMiddleware, WSGIMiddleware
from trustproxy._hints import CHECKS
from trustproxy._warn import Limiter


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with nothing logged yet (the limiter is process-wide)."""
    monkeypatch.setattr(trustproxy._warn, "_default", Limiter())
    yield


def wsgi(middleware: WSGIMiddleware, peer: str, headers: list[tuple[str, str]]) -> None:
    list(middleware(builders.environ(peer, headers), lambda *a: None))


def app(environ: Any, start_response: Any) -> list[bytes]:
    return []


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "trustproxy"]


def test_unapplied_prefix_names_fields(caplog: pytest.LogCaptureFixture) -> None:
    middleware = WSGIMiddleware(app, trusted="127.0.0.1")
    headers = [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Prefix", "/app")]
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        for _ in range(3):
            wsgi(middleware, "127.0.0.1", headers)
    assert lines(caplog) == [
        "the trusted proxy 127.0.0.1 sends X-Forwarded-Prefix, which fields does not apply"
        " (fields=['for', 'proto']): if the app should see it, configure"
        " fields=['for', 'proto', 'prefix']"
    ]


def test_unapplied_fields_asgi_and_both_families(caplog: pytest.LogCaptureFixture) -> None:
    middleware = ASGIMiddleware(Recorder(), fields="for", headers=("forwarded", "x-forwarded"))
    scope = make_scope(
        [(b"forwarded", b"for=203.0.113.9"), (b"x-forwarded-for", b"203.0.113.9"),
         (b"x-forwarded-host", b"app.example"), (b"x-forwarded-port", b"443")],
        client=("127.0.0.1", 5000),
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        run(middleware, scope)
    assert lines(caplog) == [
        "the trusted proxy 127.0.0.1 sends X-Forwarded-Host, X-Forwarded-Port, which fields"
        " does not apply (fields=['for']): if the app should see it, configure"
        " fields=['for', 'host', 'port']"
    ]


def test_no_hint_when_silent_or_untrusted(caplog: pytest.LogCaptureFixture) -> None:
    middleware = WSGIMiddleware(app, trusted="127.0.0.1", fields="for,proto,prefix")
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        wsgi(
            middleware, "127.0.0.1", [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Prefix", "/a")]
        )
        wsgi(middleware, "127.0.0.1", [("X-Forwarded-For", "1.2.3.4")])
    assert lines(caplog) == []
    # From a stranger the prefix means nothing: the untrusted-peer warning, no field hint.
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        wsgi(
            WSGIMiddleware(app),
            "8.8.8.8",
            [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Host", "h")],
        )
    assert [line.split(",")[0] for line in lines(caplog)] == ["forwarding headers from 8.8.8.8"]


def test_only_the_first_requests_are_watched(caplog: pytest.LogCaptureFixture) -> None:
    middleware = WSGIMiddleware(app)
    for _ in range(CHECKS):
        wsgi(middleware, "127.0.0.1", [("X-Forwarded-For", "1.2.3.4")])
    assert middleware._watch.left == 0  # from here on: one attribute test per request
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        wsgi(middleware, "127.0.0.1", [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Host", "h")])
    assert lines(caplog) == []


SERVER_APPLIED = (
    "forwarding headers from 203.0.113.9 were ignored: 203.0.113.9 is not a trusted proxy,"
    " but it is also the rightmost forwarded address, so the server (or an outer"
    " trustproxy) already replaced the proxy's address with the client's before trustproxy"
    " ran; uvicorn does this for peers in --forwarded-allow-ips (default 127.0.0.1): run it"
    " with --no-proxy-headers (under gunicorn's uvicorn worker, gunicorn's"
    " forwarded_allow_ips is what uvicorn trusts); do not add 203.0.113.9 to trusted"
)


@pytest.mark.parametrize("xff", ["203.0.113.9", "6.6.6.6, 203.0.113.9", "6.6.6.6,203.0.113.9:4711"])
def test_peer_rewritten_by_the_server(xff: str, caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn with proxy headers on: the peer trustproxy sees is the client, which is
    also the rightmost X-Forwarded-For item.  The old warning said to trust it."""
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        run(ASGIMiddleware(Recorder()), make_scope([(b"x-forwarded-for", xff.encode())],
                                                   client=("203.0.113.9", 0)))  # fmt: skip
    assert lines(caplog) == [SERVER_APPLIED]


def test_single_address_header_too(caplog: pytest.LogCaptureFixture) -> None:
    middleware = WSGIMiddleware(app, headers="x-real-ip")
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        wsgi(middleware, "203.0.113.9", [("X-Real-IP", "203.0.113.9")])
    assert lines(caplog) == [SERVER_APPLIED]


def test_applied_twice(caplog: pytest.LogCaptureFixture) -> None:
    inner = WSGIMiddleware(app, trusted="private")
    outer = WSGIMiddleware(inner, trusted="127.0.0.1")
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        wsgi(outer, "127.0.0.1", [("X-Forwarded-For", "10.1.1.1")])
    assert lines(caplog) == [
        "trustproxy ran twice on one request (WSGIMiddleware saw 'trustproxy.resolution'"
        " already set): it is wrapped twice, or used as Django middleware and around the"
        " application; the second one sees the client as its peer. Keep one."
    ]


def test_applied_twice_asgi(caplog: pytest.LogCaptureFixture) -> None:
    outer = ASGIMiddleware(ASGIMiddleware(Recorder(), trusted="private"), trusted="127.0.0.1")
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        run(outer, make_scope([(b"x-forwarded-for", b"10.1.1.1")], client=("127.0.0.1", 1)))
    assert [line.split(" (")[0] for line in lines(caplog)] == [
        "trustproxy ran twice on one request"
    ]


@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
@pytest.mark.parametrize("family", ["x-forwarded", ["x-forwarded", "forwarded"]])
def test_server_applied_is_named_with_required_headers(
    family: Any, adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The required headers' values follow the forwarding ones: the X-Forwarded-For
    position the warning reads must not move with them (five forwarding values plus one
    required header once looked like the six of both families)."""
    options = {"trusted": "10.0.0.1", "headers": family, "require_headers": {"X-Origin": "s"}}
    headers = [("X-Forwarded-For", "203.0.113.7, 198.51.100.4"), ("X-Forwarded-Proto", "https")]
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        if adapter == "wsgi":
            wsgi(WSGIMiddleware(app, **options), "198.51.100.4", headers)
        else:
            lines_bytes = [(n.lower().encode(), v.encode()) for n, v in headers]
            scope = make_scope(lines_bytes, client=("198.51.100.4", 5000))
            run(ASGIMiddleware(Recorder(), **options), scope)
    (found,) = lines(caplog)
    assert "already replaced the proxy's address with the client's" in found, found
