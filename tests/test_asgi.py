"""ASGIMiddleware: scope handling, scope types, WebSocket, lifespan, repeated lines,
UNIX peers, the originals, root_path, strict mode."""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any, Optional

import pytest

import builders
import trustproxy
import trustproxy._warn
from trustproxy.asgi import ORIGINAL_KEY, RESOLUTION_KEY, ASGIMiddleware, current

Scope = dict[str, Any]


@pytest.fixture(autouse=True)
def _own_warning_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime warnings are rate-limited process-wide; give each test its own limiter so
    these tests neither exhaust nor depend on the shared one."""
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())


def make_scope(
    headers: list[tuple[bytes, bytes]],
    *,
    kind: str = "http",
    client: Optional[tuple[str, int]] = ("127.0.0.1", 5000),
    scheme: Optional[str] = None,
    root_path: str = "",
    path: str = "/users",
) -> Scope:
    """A scope from tests/builders.py: Host ``app.internal:8000``, server
    ``("10.1.1.1", 8000)``; the header lines are given as the server's bytes."""
    scope = builders.scope(
        None if client is None else client[0],
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
        host="app.internal:8000",
        port=8000,
        prefix=root_path,
        name="10.1.1.1",
        peer_port=5000 if client is None else client[1],
        path=path,
        kind=kind,
    )
    if scheme is not None:
        scope["scheme"] = scheme
    scope["state"] = {}
    return scope


class Recorder:
    """An ASGI app that keeps the scope it was called with and the current() value."""

    def __init__(self) -> None:
        self.scope: Optional[Scope] = None
        self.current: Optional[Any] = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scope = scope
        self.current = current.get()


async def _receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


def run(middleware: Any, scope: Scope) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, _receive, send))
    return sent


def call(scope: Scope, **options: Any) -> tuple[Scope, Recorder]:
    app = Recorder()
    run(ASGIMiddleware(app, **options), scope)
    assert app.scope is not None
    return app.scope, app


XFF = b"x-forwarded-for"
XFP = b"x-forwarded-proto"


def test_new_scope_and_caller_scope_untouched() -> None:
    scope = make_scope([(XFF, b"203.0.113.9:4711"), (XFP, b"https")])
    before = copy.deepcopy(scope)
    seen, _ = call(scope)
    assert seen is not scope
    assert scope == before
    assert seen["client"] == ("203.0.113.9", 4711)
    assert seen["scheme"] == "https"
    # Shallow: the values the middleware does not change are the same objects.
    assert seen["state"] is scope["state"]
    assert seen["asgi"] is scope["asgi"]


def test_client_port_is_zero_when_the_item_has_none() -> None:
    seen, _ = call(make_scope([(XFF, b"203.0.113.9")]))
    assert seen["client"] == ("203.0.113.9", 0)


def test_no_forwarding_header_passes_the_server_scope() -> None:
    scope = make_scope([(b"accept", b"*/*")])
    seen, app = call(scope)
    assert seen is scope
    assert RESOLUTION_KEY not in seen and ORIGINAL_KEY not in seen
    assert app.current is None


@pytest.mark.parametrize("kind", ["lifespan", "something-new"])
def test_other_scope_types_pass_through(kind: str) -> None:
    scope: Scope = {"type": kind, "asgi": {"version": "3.0"}}
    before = dict(scope)
    seen, _ = call(scope)
    assert seen is scope and scope == before


def test_untrusted_peer_changes_nothing() -> None:
    scope = make_scope([(XFF, b"203.0.113.9"), (XFP, b"https")], client=("198.51.100.7", 1))
    seen, _ = call(scope)
    assert seen["client"] == ("198.51.100.7", 1)
    assert seen["scheme"] == "http"
    assert seen[RESOLUTION_KEY].status == trustproxy.UNTRUSTED_PEER


@pytest.mark.parametrize(
    ("proto", "scheme"),
    [
        pytest.param(b"https", "wss", id="https-wss"),
        pytest.param(b"http", "ws", id="http-ws"),
        pytest.param(b"HTTPS", "wss", id="case-insensitive"),
    ],
)
def test_websocket_scheme(proto: bytes, scheme: str) -> None:
    seen, _ = call(make_scope([(XFF, b"203.0.113.9"), (XFP, proto)], kind="websocket"))
    assert seen["scheme"] == scheme
    assert seen["client"] == ("203.0.113.9", 0)


@pytest.mark.parametrize(
    ("kind", "scheme", "lines", "expected"),
    [
        pytest.param("websocket", "ws", [(XFP, b"wss")], "wss", id="xfp-wss-on-websocket"),
        pytest.param("websocket", "wss", [(XFP, b"ws")], "ws", id="xfp-ws-on-websocket"),
        pytest.param("websocket", "ws", [(XFP, b"WSS")], "wss", id="xfp-wss-any-case"),
        pytest.param("http", "http", [(XFP, b"wss")], "https", id="xfp-wss-on-http"),
        pytest.param("http", "https", [(XFP, b"ws")], "http", id="xfp-ws-on-http"),
        pytest.param(
            "websocket", "ws", [(b"forwarded", b"for=203.0.113.9;proto=wss")], "wss",
            id="forwarded-proto-wss-on-websocket",
        ),
        pytest.param(
            "http", "http", [(b"forwarded", b"for=203.0.113.9;proto=wss")], "https",
            id="forwarded-proto-wss-on-http",
        ),
    ],
)  # fmt: skip
def test_websocket_spellings_of_the_scheme(
    kind: str, scheme: str, lines: list[tuple[bytes, bytes]], expected: str
) -> None:
    """issue 10 §16: Traefik writes X-Forwarded-Proto ws/wss on upgrades; they are the
    WebSocket spellings of http/https (RFC 6455 §3), written as the scope type wants."""
    headers = "forwarded" if lines[0][0] == b"forwarded" else "x-forwarded"
    scope = make_scope([(XFF, b"203.0.113.9"), *lines], kind=kind, scheme=scheme)
    seen, _ = call(scope, headers=headers, fields="for,proto")
    assert seen["scheme"] == expected
    assert seen[RESOLUTION_KEY].ignored == ()


def test_websocket_wss_to_http() -> None:
    scope = make_scope([(XFF, b"203.0.113.9"), (XFP, b"http")], kind="websocket", scheme="wss")
    seen, _ = call(scope)
    assert seen["scheme"] == "ws"


def test_repeated_lines_are_joined_in_order() -> None:
    scope = make_scope([(XFF, b"203.0.113.9, 10.0.0.2"), (b"accept", b"*/*"), (XFF, b"10.0.0.1")])
    seen, _ = call(scope, trusted=["loopback", "10.0.0.0/8"])
    assert seen["client"] == ("203.0.113.9", 0)
    assert [hop.text for hop in seen[RESOLUTION_KEY].hops] == [
        "127.0.0.1", "10.0.0.1", "10.0.0.2", "203.0.113.9",
    ]  # fmt: skip


def test_header_names_compare_without_case() -> None:
    seen, _ = call(
        make_scope([(b"X-Forwarded-For", b"203.0.113.9"), (b"X-FORWARDED-PROTO", b"https")])
    )
    assert seen["client"] == ("203.0.113.9", 0)
    assert seen["scheme"] == "https"


def test_values_are_latin1_and_junk_is_unresolved() -> None:
    seen, _ = call(make_scope([(XFF, "203.0.113.9, \xf0\xfd".encode("latin-1"))]))
    assert seen["client"] == ("127.0.0.1", 5000)
    assert seen[RESOLUTION_KEY].status == trustproxy.UNRESOLVED


@pytest.mark.parametrize(
    ("trusted", "client"),
    [
        pytest.param("loopback", None, id="loopback-keeps-none"),
        pytest.param(["loopback", "unix"], ("203.0.113.9", 0), id="unix-preset"),
    ],
)
def test_unix_peer(trusted: Any, client: Any) -> None:
    seen, _ = call(make_scope([(XFF, b"203.0.113.9")], client=None), trusted=trusted)
    assert seen["client"] == client


def test_missing_client_key_is_a_unix_peer() -> None:
    scope = make_scope([(XFF, b"203.0.113.9")])
    del scope["client"]
    seen, _ = call(scope, trusted="unix")
    assert seen["client"] == ("203.0.113.9", 0)


def test_host_port_and_server() -> None:
    scope = make_scope(
        [(XFF, b"203.0.113.9"), (XFP, b"https"), (b"x-forwarded-host", b"example.com")]
    )
    seen, _ = call(scope, fields="for,proto,host")
    assert seen["headers"] is not scope["headers"]
    assert (b"host", b"example.com") in seen["headers"]
    assert [n for n, _ in seen["headers"]].count(b"host") == 1
    assert (b"host", b"app.internal:8000") in scope["headers"]
    assert seen["server"] == ("example.com", 443)
    assert seen[ORIGINAL_KEY] is scope


def test_forwarded_port() -> None:
    scope = make_scope(
        [
            (XFF, b"203.0.113.9"),
            (b"x-forwarded-port", b"8443"),
            (b"x-forwarded-host", b"[2001:db8::5]"),
        ]
    )
    seen, _ = call(scope, fields="for,host,port")
    assert (b"host", b"[2001:db8::5]:8443") in seen["headers"]
    assert seen["server"] == ("2001:db8::5", 8443)


@pytest.mark.parametrize(
    "host",
    [
        pytest.param(b"x@evil.example", id="userinfo"),
        pytest.param(b"[::1", id="open-bracket"),
        pytest.param(b"good.example\\evil", id="backslash"),
        pytest.param(b'a"b', id="quote"),
    ],
)
@pytest.mark.parametrize(
    ("lines", "fields", "port"),
    [
        pytest.param([(b"x-forwarded-port", b"8443")], "for,host,port", 8443, id="port"),
        pytest.param(
            [(b"x-forwarded-port", b"8443"), (b"x-forwarded-host", b"x@y")], "for,host,port",
            8443, id="port-after-invalid-forwarded-host",
        ),
        pytest.param([(XFP, b"https")], "for,proto", 443, id="scheme-default-port"),
    ],
)  # fmt: skip
def test_invalid_request_host_is_never_the_server_name(
    host: bytes, lines: list[tuple[bytes, bytes]], fields: str, port: int
) -> None:
    """issue 10 §5: the port step changes only the port; an invalid Host line is kept as
    sent and never becomes ``server`` (it was ('x@evil.example', 443))."""
    scope = make_scope([(XFF, b"203.0.113.9"), *lines])
    scope["headers"][0] = (b"host", host)
    seen, _ = call(scope, fields=fields)
    assert seen["headers"] is scope["headers"]
    assert seen["server"] == ("10.1.1.1", port)


def test_host_added_when_the_request_had_none() -> None:
    scope = make_scope([(XFF, b"203.0.113.9"), (b"x-forwarded-host", b"example.com")])
    scope["headers"] = scope["headers"][1:]
    seen, _ = call(scope, fields="for,host")
    assert seen["headers"][0] == (b"host", b"example.com")


def test_headers_list_untouched_when_host_not_forwarded() -> None:
    scope = make_scope([(XFF, b"203.0.113.9")])
    seen, _ = call(scope)
    assert seen["headers"] is scope["headers"]
    assert seen["server"] == scope["server"]


@pytest.mark.parametrize(
    ("root_path", "expected_root", "expected_path"),
    [
        pytest.param("", "/api", "/api/users", id="no-root-path"),
        pytest.param("/v1", "/api/v1", "/api/v1/users", id="prepended"),
    ],
)
def test_root_path(root_path: str, expected_root: str, expected_path: str) -> None:
    scope = make_scope(
        [(XFF, b"203.0.113.9"), (b"x-forwarded-prefix", b"/api/")], root_path=root_path
    )
    seen, _ = call(scope, fields="for,prefix")
    assert seen["root_path"] == expected_root
    assert seen["path"] == expected_path
    assert seen["raw_path"] == expected_path.encode()
    assert seen[ORIGINAL_KEY]["root_path"] == root_path


def test_unsafe_prefix_is_ignored() -> None:
    scope = make_scope([(XFF, b"203.0.113.9"), (b"x-forwarded-prefix", b"//evil.example")])
    seen, _ = call(scope, fields="for,prefix")
    assert seen["root_path"] == ""
    assert seen["path"] == "/users"
    assert seen[RESOLUTION_KEY].ignored


def test_originals_and_resolution() -> None:
    scope = make_scope([(XFF, b"203.0.113.9"), (XFP, b"https")])
    before = copy.deepcopy(scope)
    seen, app = call(scope)
    # The server's scope, unchanged, is the record of the originals.
    assert seen[ORIGINAL_KEY] is scope
    assert seen[ORIGINAL_KEY] == before
    result = seen[RESOLUTION_KEY]
    assert isinstance(result, trustproxy.Resolution)
    assert result.status == trustproxy.APPLIED
    assert result.peer.text == "127.0.0.1"
    assert app.current is None  # no access-log filter exists: nothing tracked


def test_current_scope_while_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trustproxy.asgi, "_tracking", True)
    seen, app = call(make_scope([(XFF, b"203.0.113.9")]))
    assert app.current is seen
    assert current.get() is None


@pytest.mark.parametrize(
    "server",
    [pytest.param(["10.1.1.1", 8000], id="list"), pytest.param(("10.9.9.9", 8000), id="tuple")],
)
def test_server_name_without_host_header(server: Any) -> None:
    # No Host line: the server name stays the scope's own, whatever the shape.
    middleware = ASGIMiddleware(Recorder())
    for name in ("10.1.1.1", "10.9.9.9"):
        scope = make_scope([(XFF, b"203.0.113.9"), (XFP, b"https")])
        scope["headers"] = scope["headers"][1:]
        scope["server"] = [name, 8000] if isinstance(server, list) else (name, 8000)
        new = middleware.rewrite(scope)
        assert new is not None and new["server"] == (name, 443)


def test_proto_alone_triggers_only_when_applied() -> None:
    # X-Forwarded-Host is not a trigger when "host" is not among the fields.
    scope = make_scope([(b"x-forwarded-host", b"example.com")])
    seen, _ = call(scope)
    assert seen is scope


@pytest.mark.parametrize(
    ("strict", "status"),
    [pytest.param(False, None, id="lenient"), pytest.param(True, 400, id="strict")],
)
def test_strict_unresolved_http(strict: bool, status: Optional[int]) -> None:
    app = Recorder()
    sent = run(ASGIMiddleware(app, strict=strict), make_scope([(XFF, b"unknown")]))
    if status is None:
        assert app.scope is not None and sent == []
    else:
        assert app.scope is None
        assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400
        assert sent[1]["body"].startswith(b"400 Bad Request")


def test_strict_unresolved_websocket_closes_1008() -> None:
    app = Recorder()
    scope = make_scope([(XFF, b"unknown")], kind="websocket")
    sent = run(ASGIMiddleware(app, strict=True), scope)
    assert app.scope is None
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_strict_leaves_resolvable_requests_alone() -> None:
    app = Recorder()
    run(ASGIMiddleware(app, strict=True), make_scope([(XFF, b"203.0.113.9")]))
    assert app.scope is not None and app.scope["client"] == ("203.0.113.9", 0)


def test_bad_configuration_raises() -> None:
    with pytest.raises(trustproxy.ConfigError, match="loopbak"):
        ASGIMiddleware(Recorder(), trusted="loopbak")


def test_single_header_family() -> None:
    seen, _ = call(make_scope([(b"x-real-ip", b"203.0.113.9")]), headers="x-real-ip", fields="for")
    assert seen["client"] == ("203.0.113.9", 0)


def test_rewrite_is_pure() -> None:
    middleware = ASGIMiddleware(Recorder())
    scope = make_scope([(XFF, b"203.0.113.9")])
    first = middleware.rewrite(scope)
    second = middleware.rewrite(scope)
    assert first is not None and second is not None and first is not second
    assert first["client"] == second["client"] == ("203.0.113.9", 0)
    assert scope["client"] == ("127.0.0.1", 5000)


def test_runtime_warning_through_the_trustproxy_logger(caplog: pytest.LogCaptureFixture) -> None:
    # Same cause 50 times (the middleware's memo answers all but the first): one line.
    middleware = ASGIMiddleware(Recorder())
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        for _ in range(50):
            run(middleware, make_scope([(XFF, b"1.2.3.4")], client=("10.78.0.1", 1)))
    records = [r for r in caplog.records if r.name == "trustproxy"]
    assert len(records) == 1
    assert "10.78.0.1" in records[0].getMessage()


def test_healthy_requests_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        call(make_scope([(XFF, b"203.0.113.9"), (XFP, b"https")]))
    assert [r for r in caplog.records if r.name == "trustproxy"] == []
