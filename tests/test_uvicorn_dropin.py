"""trustproxy.ProxyHeadersMiddleware: uvicorn's constructor and results, without its faults."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import trustproxy
import trustproxy._warn
from test_asgi import Recorder, make_scope, run
from trustproxy import ConfigError, ProxyHeadersMiddleware

XFF = b"x-forwarded-for"
XFP = b"x-forwarded-proto"


@pytest.fixture(autouse=True)
def _own_warning_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime warnings are rate-limited process-wide; give each test its own limiter so
    these tests neither exhaust nor depend on the shared one."""
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())


def seen(trusted_hosts: Any, headers: list[tuple[bytes, bytes]], **scope: Any) -> dict[str, Any]:
    app = Recorder()
    run(ProxyHeadersMiddleware(app, trusted_hosts), make_scope(headers, **scope))
    assert app.scope is not None
    return app.scope


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("10.0.0.300", id="bad-octet"),
        pytest.param("10.0.0.0/33", id="bad-length"),
        pytest.param("10.0.0.1/8", id="host-bits"),
        pytest.param("some-literal", id="literal"),
        pytest.param("unix:///foo/bar", id="unix-url"),
        pytest.param("loopbak", id="preset-typo"),
        pytest.param("garba*gewith*", id="glob"),
    ],
)
def test_bad_entry_raises(entry: str) -> None:
    with pytest.raises(ConfigError, match="neither an IP address"):
        ProxyHeadersMiddleware(Recorder(), f"127.0.0.1, {entry}")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("loopbak", "trusted_hosts entry 'loopbak' is neither an IP address, a network, a"
         " preset nor '*': trusted entry 'loopbak' is not a preset: did you mean 'loopback'?"),
        ("localhost", "'localhost' is a host name: write the addresses your proxy connects"
         " from, '127.0.0.1' and/or '::1' (or the preset 'loopback')"),
    ],
)  # fmt: skip
def test_bad_entry_names_the_fix(entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        ProxyHeadersMiddleware(Recorder(), entry)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "trusted_hosts",
    [
        pytest.param("loopback", id="preset"),
        pytest.param("10.0.0.1, loopback", id="address-and-preset"),
        pytest.param(["10.0.0.1", lambda address: address == "127.0.0.1"], id="callable"),
    ],
)
def test_full_trust_syntax(trusted_hosts: Any) -> None:
    """trusted_hosts takes presets and callables (issue 14 §6): the loopback peer is a
    proxy, a peer outside the policy is not."""
    headers = [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-proto", b"https")]
    proxied = seen(trusted_hosts, headers, client=("127.0.0.1", 1234))
    assert (proxied["client"], proxied["scheme"]) == (("6.6.6.6", 0), "https")
    direct = seen(trusted_hosts, headers, client=("203.0.113.5", 1234))
    assert (direct["client"], direct["scheme"]) == (("203.0.113.5", 1234), "http")


def test_star_mixed_with_entries_raises() -> None:
    with pytest.raises(ConfigError, match="only entry"):
        ProxyHeadersMiddleware(Recorder(), ["127.0.0.1", "*"])


@pytest.mark.parametrize("spec", [pytest.param("*", id="str"), pytest.param(["*"], id="list")])
def test_star_warns_and_takes_the_leftmost(spec: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        app = Recorder()
        middleware = ProxyHeadersMiddleware(app, spec)
    assert "trusted='*', hops=1" in caplog.text
    assert "leftmost" in caplog.text
    scope = make_scope([(XFF, b"1.2.3.4, 10.0.2.1, 192.168.0.2")], client=("198.51.100.1", 9))
    run(middleware, scope)
    assert app.scope is not None and app.scope["client"] == ("1.2.3.4", 0)


def test_star_trusts_a_unix_peer_like_uvicorn() -> None:
    assert seen("*", [(XFF, b"1.2.3.4")], client=None)["client"] == ("1.2.3.4", 0)


@pytest.mark.parametrize("spec", [pytest.param([], id="empty-list"), pytest.param("", id="empty")])
def test_empty_trusts_nothing(spec: Any) -> None:
    assert seen(spec, [(XFF, b"1.2.3.4")])["client"] == ("127.0.0.1", 5000)


def test_stray_comma_is_skipped() -> None:
    assert seen("127.0.0.1,", [(XFF, b"1.2.3.4")])["client"] == ("1.2.3.4", 0)


def test_ipv6_item_is_not_split_at_its_last_colon() -> None:
    # uvicorn before 0.36 turned this into host "2001:db8:" port 1.
    assert seen("127.0.0.1", [(XFF, b"2001:db8::1")])["client"] == ("2001:db8::1", 0)


@pytest.mark.parametrize(
    "item",
    [pytest.param(b"1.2.3.4:-1", id="negative"), pytest.param(b"1.2.3.4:99999", id="too-big")],
)
def test_bad_ports_keep_the_peer(item: bytes) -> None:
    scope = seen("127.0.0.1", [(XFF, item)])
    assert scope["client"] == ("127.0.0.1", 5000)
    assert scope["trustproxy.resolution"].status == trustproxy.UNRESOLVED


def test_server_scope_is_not_edited() -> None:
    scope = make_scope([(XFF, b"1.2.3.4"), (XFP, b"https")])
    run(ProxyHeadersMiddleware(Recorder()), scope)
    assert scope["client"] == ("127.0.0.1", 5000) and scope["scheme"] == "http"


@pytest.mark.parametrize(
    ("proto", "kind", "scheme"),
    [
        pytest.param(b"wss", "websocket", "wss", id="wss-on-websocket"),
        pytest.param(b"ws", "websocket", "ws", id="ws-on-websocket"),
        pytest.param(b"wss", "http", "https", id="wss-on-http"),
        pytest.param(b"https", "websocket", "wss", id="https-on-websocket"),
    ],
)
def test_ws_proto_aliases(proto: bytes, kind: str, scheme: str) -> None:
    assert seen("127.0.0.1", [(XFF, b"1.2.3.4"), (XFP, proto)], kind=kind)["scheme"] == scheme


@pytest.mark.parametrize("host", [b"x@evil.example", b"[::1", b'a"b'])
def test_scheme_never_makes_an_invalid_host_the_server_name(host: bytes) -> None:
    """issue 10 §5: X-Forwarded-Proto: https moves the port to 443; the Host line, which
    uvicorn never checks, must not become ``server`` (it was (b'x@evil.example', 443))."""
    scope = make_scope([(XFF, b"1.2.3.4"), (XFP, b"https")])
    scope["headers"][0] = (b"host", host)
    app = Recorder()
    run(ProxyHeadersMiddleware(app), scope)
    assert app.scope is not None
    assert (app.scope["scheme"], app.scope["server"]) == ("https", ("10.1.1.1", 443))
    assert app.scope["headers"] is scope["headers"]


def test_ten_thousand_networks() -> None:
    networks = [f"10.{i // 256}.{i % 256}.0/24" for i in range(10_000)]
    scope = seen(["127.0.0.1", *networks], [(XFF, b"1.2.3.4, 10.39.15.7")])
    assert scope["client"] == ("1.2.3.4", 0)
