"""Single-address headers (X-Real-IP, CF-Connecting-IP, True-Client-IP, …).

Rules: read only when the socket peer is trusted; exactly one line holding exactly one
address (a port is allowed); anything else is unresolved; a missing header changes nothing.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trustproxy
from trustproxy import APPLIED, UNRESOLVED, UNTRUSTED_PEER, ConfigError, Resolver
from trustproxy._address import parse_address

PEER = "127.0.0.1"


def resolve(lines: list[tuple[str, str]], *, peer: str = PEER, name: str = "x-real-ip") -> Any:
    return Resolver(headers=name).resolve(peer, lines, scheme="http", host="origin.test", port=80)


ROWS = [
    # (header lines, expected status, client, client port)
    pytest.param([("X-Real-IP", "203.0.113.7")], APPLIED, "203.0.113.7", None, id="ipv4"),
    pytest.param([("X-Real-IP", " 203.0.113.7\t")], APPLIED, "203.0.113.7", None, id="ows"),
    pytest.param([("X-Real-IP", "203.0.113.7:4711")], APPLIED, "203.0.113.7", 4711, id="port"),
    pytest.param([("X-Real-IP", "2001:DB8::7")], APPLIED, "2001:db8::7", None, id="ipv6"),
    pytest.param([("X-Real-IP", "[2001:db8::7]:80")], APPLIED, "2001:db8::7", 80, id="v6-port"),
    pytest.param([("X-Real-IP", "::ffff:1.2.3.4")], APPLIED, "1.2.3.4", None, id="mapped"),
    pytest.param([("x-real-ip", "203.0.113.7")], APPLIED, "203.0.113.7", None, id="name-case"),
    pytest.param([], APPLIED, PEER, None, id="missing-header-changes-nothing"),
    pytest.param(
        [("X-Real-IP", "1.2.3.4"), ("X-Real-IP", "5.6.7.8")], UNRESOLVED, PEER, None,
        id="two-lines",
    ),
    pytest.param([("X-Real-IP", "1.2.3.4, 5.6.7.8")], UNRESOLVED, PEER, None, id="a-list"),
    pytest.param([("X-Real-IP", "1.2.3.4,")], UNRESOLVED, PEER, None, id="trailing-comma"),
    pytest.param([("X-Real-IP", "")], UNRESOLVED, PEER, None, id="empty-line"),
    pytest.param([("X-Real-IP", "unknown")], UNRESOLVED, PEER, None, id="unknown"),
    pytest.param([("X-Real-IP", "01.2.3.4")], UNRESOLVED, PEER, None, id="non-canonical"),
    pytest.param([("X-Real-IP", "1.2.3.4:0")], UNRESOLVED, PEER, None, id="port-zero"),
    pytest.param([("X-Real-IP", "0.0.0.0")], UNRESOLVED, PEER, None, id="unspecified"),
    pytest.param([("X-Real-IP", "<script>")], UNRESOLVED, PEER, None, id="junk"),
    pytest.param(
        [("X-Forwarded-For", "1.2.3.4")], APPLIED, PEER, None, id="other-family-not-read"
    ),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "status", "client", "client_port"), ROWS)
def test_single_header(
    lines: list[tuple[str, str]], status: str, client: str, client_port: Optional[int]
) -> None:
    result = resolve(lines)
    assert (result.status, result.client, result.client_port) == (status, client, client_port)
    assert result.scheme == "http"
    if status == APPLIED and client != PEER:
        assert result.applied == ("for",)
        assert [hop.address for hop in result.hops] == [PEER, client]


def test_missing_header_applies_nothing() -> None:
    result = resolve([])
    assert result.applied == ()
    assert "no x-real-ip header" in result.reason


def test_only_from_a_trusted_peer() -> None:
    result = resolve([("X-Real-IP", "203.0.113.7")], peer="6.6.6.6")
    assert (result.status, result.client) == (UNTRUSTED_PEER, "6.6.6.6")


def test_any_header_name() -> None:
    for name in ("cf-connecting-ip", "True-Client-IP", "fastly-client-ip", "fly-client-ip"):
        result = resolve([(name, "203.0.113.7")], name=name)
        assert result.client == "203.0.113.7", name
        assert Resolver(headers=name).header_names == (name.lower(),)


def test_default_fields_for_a_single_header_are_for_only() -> None:
    assert Resolver(headers="x-real-ip").fields == frozenset({"for"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"headers": "x-real-ip", "fields": "for,proto"}, "only the client", id="proto"
        ),
        pytest.param({"headers": "x real ip"}, "not a header", id="space-in-name"),
        pytest.param({"headers": "x-real-ip:"}, "not a header", id="colon-in-name"),
        pytest.param({"headers": ""}, "not a header", id="empty"),
        pytest.param({"headers": "x-forwarded-for"}, "x-forwarded", id="xff-is-a-family"),
        pytest.param({"headers": ("x-real-ip", "forwarded")}, "only the tuple", id="mixed-tuple"),
        pytest.param({"headers": 7}, "family", id="not-a-string"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Resolver(**kwargs)


@given(st.text(max_size=80))
def test_arbitrary_text_gives_the_peer_or_one_canonical_address(text: str) -> None:
    result = resolve([("X-Real-IP", text)])
    assert result.status in (APPLIED, UNRESOLVED)
    if result.status == UNRESOLVED:
        assert result.client == PEER
    else:
        assert result.client is not None
        assert parse_address(result.client) is not None
        assert "," not in text


def run_wsgi(environ_headers: dict[str, str], peer: str, **kwargs: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    middleware = trustproxy.WSGIMiddleware(app, **kwargs)
    environ: dict[str, Any] = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", **environ_headers}
    middleware(environ, lambda status, headers, exc_info=None: None)  # type: ignore[arg-type]
    return seen


def test_wsgi_x_real_ip() -> None:
    environ = run_wsgi({"HTTP_X_REAL_IP": "203.0.113.7"}, PEER, headers="x-real-ip")
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    assert environ["trustproxy.orig"]["REMOTE_ADDR"] == PEER


def test_wsgi_without_the_header_is_untouched() -> None:
    environ = run_wsgi({"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, PEER, headers="x-real-ip")
    assert environ["REMOTE_ADDR"] == PEER
    assert "trustproxy.resolution" not in environ


def test_wsgi_cloudflare_recipe() -> None:
    cf_edge = "104.16.0.10"
    kwargs = {"trusted": ["cloudflare"], "headers": "cf-connecting-ip"}
    environ = run_wsgi({"HTTP_CF_CONNECTING_IP": "203.0.113.7"}, cf_edge, **kwargs)
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    # A client that reaches the origin directly cannot forge it.
    environ = run_wsgi({"HTTP_CF_CONNECTING_IP": "203.0.113.7"}, "6.6.6.6", **kwargs)
    assert environ["REMOTE_ADDR"] == "6.6.6.6"
    assert environ["trustproxy.resolution"].status == UNTRUSTED_PEER
