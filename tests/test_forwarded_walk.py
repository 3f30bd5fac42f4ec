"""The RFC 7239 walk through the core and the WSGI middleware.

The RFC's 192.0.2.0/24 example addresses are rewritten to 203.0.113.0/24 (see
test_forwarded_parse).  The socket peer is 127.0.0.1 (trusted) unless a row says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trustproxy
from trustproxy import APPLIED, UNRESOLVED, UNTRUSTED_PEER, ConfigError, Resolver

PEER = "127.0.0.1"
TRUSTED = "loopback, 10.0.0.0/8, 198.51.100.17, 2001:db8:cafe::/48"


def resolve(value: Optional[str], *, peer: str = PEER, hops: Optional[int] = None) -> Any:
    resolver = Resolver(
        trusted=TRUSTED, hops=hops, headers="forwarded", fields=("for", "proto", "host")
    )
    headers = [] if value is None else [("Forwarded", value)]
    return resolver.resolve(peer, headers, scheme="http", host="origin.test", port=80)


# (Forwarded value, expected status, client, client port, scheme, host)
ROWS = [
    # RFC 7239 §4 / §5 / §6 / §7 examples.
    pytest.param(
        "for=203.0.113.60;proto=https;by=203.0.113.43",
        APPLIED, "203.0.113.60", None, "https", "origin.test",
        id="s4-proto-from-the-client-element-by-ignored",
    ),
    pytest.param(
        'For="[2001:db8:1::17]:4711"',
        APPLIED, "2001:db8:1::17", 4711, "http", "origin.test",
        id="s4-ipv6-with-port",
    ),
    pytest.param(
        'for="_gazonk"', UNRESOLVED, PEER, None, "http", "origin.test", id="s4-obfuscated"
    ),
    pytest.param(
        "for=203.0.113.43, for=198.51.100.17",
        APPLIED, "203.0.113.43", None, "http", "origin.test",
        id="s4-list-trusted-proxy-skipped",
    ),
    pytest.param(
        'for="203.0.113.43:47011"', APPLIED, "203.0.113.43", 47011, "http", "origin.test",
        id="s6-v4-port",
    ),
    pytest.param(
        'for="[2001:db8:1::17]:47011"', APPLIED, "2001:db8:1::17", 47011, "http",
        "origin.test", id="s6-v6-port",
    ),
    pytest.param(
        "for=unknown", UNRESOLVED, PEER, None, "http", "origin.test", id="s6.2-unknown"
    ),
    pytest.param(
        "for=_hidden, for=_SEVKISEK", UNRESOLVED, PEER, None, "http", "origin.test",
        id="s6.3-obfuscated-nodes",
    ),
    pytest.param(
        'for="203.0.113.43:_p1"', APPLIED, "203.0.113.43", None, "http", "origin.test",
        id="s6.3-obfuscated-port-means-no-port",
    ),
    pytest.param(
        'for=203.0.113.43,for="[2001:db8:cafe::17]",for=unknown',
        UNRESOLVED, PEER, None, "http", "origin.test",
        id="s7.1-unknown-rightmost-stops-the-walk",
    ),
    pytest.param(
        'for=unknown, for="[2001:db8:cafe::17]"',
        UNRESOLVED, PEER, None, "http", "origin.test",
        id="unknown-behind-a-trusted-proxy",
    ),
    pytest.param(
        'for=203.0.113.43, for="[2001:db8:cafe::17]"',
        APPLIED, "203.0.113.43", None, "http", "origin.test",
        id="s7.4-transition",
    ),
    pytest.param(
        "for=203.0.113.43,for=198.51.100.17;by=203.0.113.60;proto=https;host=example.com",
        APPLIED, "203.0.113.43", None, "http", "origin.test",
        id="s7.5-proto-host-never-borrowed-from-the-proxy-element",
    ),
    pytest.param(
        "for=203.0.113.43;proto=https;host=example.com,for=198.51.100.17;proto=http",
        APPLIED, "203.0.113.43", None, "https", "example.com",
        id="proto-host-from-the-client-element",
    ),
    # Splitting on every comma: a client's quote cannot swallow the proxy's element.
    pytest.param(
        'for="6.6.6.6, for=1.2.3.4', APPLIED, "1.2.3.4", None, "http", "origin.test",
        id="unbalanced-quote-gives-the-proxy-appended-client",
    ),
    pytest.param(
        'for="6.6.6.6, for=10.0.0.1', UNRESOLVED, PEER, None, "http", "origin.test",
        id="unbalanced-quote-examined-is-unresolved",
    ),
    pytest.param(
        "for=6.6.6.6;proto=https;proto=http, for=1.2.3.4",
        APPLIED, "1.2.3.4", None, "http", "origin.test",
        id="malformed-client-element-left-of-the-client-is-not-read",
    ),
    # Shape of the chain.
    pytest.param(
        "for=10.0.0.2, for=10.0.0.1", APPLIED, "10.0.0.2", None, "http", "origin.test",
        id="all-trusted-leftmost-is-the-client",
    ),
    pytest.param(
        "proto=https", UNRESOLVED, PEER, None, "http", "origin.test", id="element-without-for"
    ),
    pytest.param(
        "for=1.2.3.4;proto=https, by=10.0.0.1", UNRESOLVED, PEER, None, "http",
        "origin.test", id="proxy-element-without-for",
    ),
    pytest.param(" , ;, ", APPLIED, PEER, None, "http", "origin.test", id="only-empty-elements"),
    pytest.param(
        "for=01.2.3.4", UNRESOLVED, PEER, None, "http", "origin.test", id="non-canonical-ipv4"
    ),
    pytest.param(
        'for="1.2.3.4:0"', UNRESOLVED, PEER, None, "http", "origin.test", id="port-zero"
    ),
    pytest.param(
        "for=[2001:db8::5]", APPLIED, "2001:db8::5", None, "http", "origin.test",
        id="unquoted-bracketed-ipv6",
    ),
    pytest.param(
        "for=2001:DB8::5", APPLIED, "2001:db8::5", None, "http", "origin.test",
        id="unquoted-bare-ipv6-canonicalised",
    ),
    pytest.param(
        'for="::ffff:1.2.3.4"', APPLIED, "1.2.3.4", None, "http", "origin.test",
        id="ipv4-mapped-canonicalised",
    ),
    # Validation of proto and host (invalid values ignored, original kept).
    pytest.param(
        "for=1.2.3.4;proto=javascript", APPLIED, "1.2.3.4", None, "http", "origin.test",
        id="invalid-proto-ignored",
    ),
    pytest.param(
        'for=1.2.3.4;host="evil.com/../"', APPLIED, "1.2.3.4", None, "http", "origin.test",
        id="invalid-host-ignored",
    ),
    pytest.param(
        'for=1.2.3.4;host="[2001:db8::1]:8443";proto=HTTPS',
        APPLIED, "1.2.3.4", None, "https", "[2001:db8::1]:8443",
        id="ipv6-host-with-port",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("value", "status", "client", "client_port", "scheme", "host"), ROWS)
def test_walk(
    value: str,
    status: str,
    client: str,
    client_port: Optional[int],
    scheme: str,
    host: str,
) -> None:
    result = resolve(value)
    assert (result.status, result.client, result.client_port) == (status, client, client_port)
    assert (result.scheme, result.host) == (scheme, host)
    assert result.reason


def test_invalid_values_are_recorded() -> None:
    result = resolve('for=1.2.3.4;proto=ftp;host="a b"')
    assert result.applied == ("for",)
    assert any("proto" in text for text in result.ignored)
    assert any("host" in text for text in result.ignored)


def test_untrusted_peer_reads_nothing() -> None:
    result = resolve("for=1.2.3.4;proto=https", peer="6.6.6.6")
    assert result.status == UNTRUSTED_PEER
    assert (result.client, result.scheme) == ("6.6.6.6", "http")


def test_missing_header_changes_nothing() -> None:
    result = resolve(None)
    assert result.status == APPLIED
    assert (result.client, result.scheme, result.applied) == (PEER, "http", ())


def test_port_follows_a_changed_scheme() -> None:
    result = resolve("for=1.2.3.4;proto=https")
    assert (result.scheme, result.port) == ("https", 443)
    result = resolve('for=1.2.3.4;host="example.com:8443"')
    assert (result.host, result.port) == ("example.com:8443", 8443)


def test_unresolved_reasons_name_the_problem() -> None:
    assert "unknown" in resolve("for=unknown").reason
    assert "obfuscated" in resolve("for=_x").reason
    assert "no 'for'" in resolve("proto=https").reason
    assert "malformed" in resolve("for=1;for=2").reason


@pytest.mark.parametrize(
    ("value", "hops", "status", "client"),
    [
        pytest.param("for=1.2.3.4, for=5.6.7.8", 1, APPLIED, "5.6.7.8", id="hops-1"),
        pytest.param("for=1.2.3.4, for=10.0.0.1", 2, APPLIED, "1.2.3.4", id="hops-2"),
        pytest.param("for=10.0.0.1", 2, UNRESOLVED, PEER, id="chain-shorter-than-hops"),
        pytest.param("for=1.2.3.4, for=unknown", 2, UNRESOLVED, PEER, id="unknown-within-hops"),
        pytest.param("for=unknown, for=5.6.7.8", 1, APPLIED, "5.6.7.8", id="unknown-beyond"),
    ],
)
def test_hops(value: str, hops: int, status: str, client: str) -> None:
    result = resolve(value, hops=hops)
    assert (result.status, result.client) == (status, client)


def test_trail_and_proxies() -> None:
    result = resolve("for=1.2.3.4, for=10.0.0.1")
    assert [hop.text for hop in result.hops] == [PEER, "10.0.0.1", "1.2.3.4"]
    assert [hop.text for hop in result.proxies] == [PEER, "10.0.0.1"]


def test_lines_join_in_arrival_order() -> None:
    resolver = Resolver(headers="forwarded")
    result = resolver.resolve(PEER, [("Forwarded", "for=1.2.3.4"), ("forwarded", "for=127.0.0.2")])
    assert result.client == "1.2.3.4"


def test_a_huge_header_is_not_read_beyond_the_client() -> None:
    value = ", ".join(["for=_junk"] * 20_000 + ["for=1.2.3.4"])
    assert resolve(value).client == "1.2.3.4"
    value = "for=" + "x" * 10_000 + ", for=10.0.0.1"
    assert resolve(value).status == UNRESOLVED


def test_more_than_max_hops_trusted_is_unresolved() -> None:
    value = ", ".join(["for=10.0.0.1"] * 100)
    result = resolve(value)
    assert result.status == UNRESOLVED
    assert "more than" in result.reason


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param("forwarded", id="lower"),
        pytest.param(" Forwarded ", id="spaces-and-case"),
        pytest.param(("forwarded",), id="one-tuple"),
    ],
)
def test_forwarded_family_reads_only_forwarded(headers: Any) -> None:
    resolver = Resolver(headers=headers)
    assert resolver.header_names == ("forwarded",)
    assert resolver.trigger_names == ("forwarded",)
    result = resolver.resolve(PEER, [("X-Forwarded-For", "1.2.3.4")])
    assert result.client == PEER  # no fallback to X-Forwarded-For


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"fields": "for,port"}, "no port", id="port"),
        pytest.param({"fields": "prefix"}, "no prefix", id="prefix"),
    ],
)
def test_forwarded_has_no_port_or_prefix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Resolver(headers="forwarded", **kwargs)


def test_x_forwarded_family_ignores_forwarded() -> None:
    result = Resolver().resolve(PEER, [("Forwarded", "for=1.2.3.4")])
    assert result.client == PEER


# -- properties --------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_arbitrary_forwarded_text_never_raises(text: str) -> None:
    result = resolve(text)
    assert result.status in (APPLIED, UNRESOLVED)
    assert result.scheme in ("http", "https")
    if result.status == UNRESOLVED:
        assert (result.client, result.applied) == (PEER, ())


@given(st.text(max_size=100))
def test_text_a_client_prepends_never_changes_the_result(prefix: str) -> None:
    """RFC 7239 §8.1: only what trusted proxies appended counts.  Whatever the client
    sent, split on every comma, the element the proxy appended is read the same."""
    proxy_element = "for=1.2.3.4;proto=https"
    result = resolve(f"{prefix},{proxy_element}")
    assert (result.status, result.client, result.scheme) == (APPLIED, "1.2.3.4", "https")


# -- WSGI --------------------------------------------------------------------------------


def run_wsgi(lines: Iterable[tuple[str, str]], **kwargs: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    middleware = trustproxy.WSGIMiddleware(app, **kwargs)
    environ: dict[str, Any] = {
        "REMOTE_ADDR": PEER,
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "origin.test",
        "SERVER_NAME": "origin.test",
        "SERVER_PORT": "80",
        "SCRIPT_NAME": "",
    }
    for name, value in lines:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    middleware(environ, lambda status, headers, exc_info=None: None)  # type: ignore[arg-type]
    return seen


def test_wsgi_forwarded() -> None:
    environ = run_wsgi(
        [("Forwarded", 'for="[2001:db8::9]:5000";proto=https;host=example.com')],
        headers="forwarded",
        fields="for,proto,host",
    )
    assert environ["REMOTE_ADDR"] == "2001:db8::9"
    assert environ["REMOTE_PORT"] == "5000"
    assert environ["wsgi.url_scheme"] == "https"
    assert (environ["HTTP_HOST"], environ["SERVER_NAME"], environ["SERVER_PORT"]) == (
        "example.com",
        "example.com",
        "443",
    )
    assert environ["trustproxy.orig"]["REMOTE_ADDR"] == PEER


def test_wsgi_forwarded_unresolved_passes_unchanged() -> None:
    environ = run_wsgi([("Forwarded", "for=unknown;proto=https")], headers="forwarded")
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == (PEER, "http")
    assert environ["trustproxy.resolution"].status == UNRESOLVED
