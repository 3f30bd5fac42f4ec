"""Hypothesis properties of the resolver and the WSGI adapter (issue 2 §8).

Settings are modest so the file runs in seconds; ``tests/conftest.py`` makes runs
derandomized in CI.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, Optional, Union

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

import builders
import trustproxy
from scenarios.x_forwarded import (
    ACCEPTED_FORMS,
    INVALID_FORMS,
    INVALID_HOSTS,
    INVALID_PORTS,
    INVALID_PREFIXES,
    INVALID_SCHEMES,
    PROXY_FORMS,
    VALID_HOSTS,
    VALID_PREFIXES,
)
from trustproxy import Resolution, TrustPolicy, WSGIMiddleware
from trustproxy._address import parse_address, parse_node
from trustproxy._values import host_port, valid_prefix
from trustproxy.wsgi import ORIGINAL_KEY, RESOLUTION_KEY

Environ = dict[str, Any]
Lines = list[tuple[str, str]]

ALL_FIELDS = ("for", "proto", "host", "port", "prefix")
HEADERS = (
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
)

# -- strategies -------------------------------------------------------------------------

# Pieces a real or hostile header is made of: every value the scenario table knows.
FRAGMENTS: list[str] = sorted(
    {
        *(text for _, text, _, _ in ACCEPTED_FORMS),
        *PROXY_FORMS,
        *(text for _, text in INVALID_FORMS),
        *(text for _, text in INVALID_SCHEMES),
        *(text for _, text, _ in VALID_HOSTS),
        *(text for _, text in INVALID_HOSTS),
        *(text for _, text in INVALID_PORTS),
        *(text for text, _ in VALID_PREFIXES),
        *(text for _, text in INVALID_PREFIXES),
        "127.0.0.1",
        "10.0.0.1",
        "http",
        "https",
        "8443",
        "",
    }
)

# Characters that matter to the parsers, plus ASCII noise.
SPECIAL = st.sampled_from(list(',"[]:%/\\?#@;= \t\r\n\x00\x7f.0123456789abcdefx_-'))

header_text = st.one_of(
    st.text(max_size=30),  # any Unicode, control characters included
    st.text(alphabet=SPECIAL, max_size=30),
    st.lists(st.sampled_from(FRAGMENTS), max_size=5).map(", ".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=SPECIAL, max_size=6))).map(
        ",".join
    ),
)

CONFIGS: list[dict[str, Any]] = [
    {"trusted": "loopback"},
    {"trusted": "loopback", "hops": 1},
    {"trusted": "loopback, private"},
    {"trusted": "loopback, private", "hops": 2},
    {"trusted": "*", "hops": 2},
    {"trusted": ["unix", "127.0.0.0/8", "::1"]},
]
PEERS: list[Optional[str]] = ["127.0.0.1", "::1", "10.0.0.1", "203.0.113.5", None]

REQUESTS: list[tuple[str, Optional[str], Optional[str], str]] = [
    # (wsgi.url_scheme, HTTP_HOST, SERVER_PORT, SCRIPT_NAME)
    ("http", "app.example", "80", ""),
    ("https", "app.example:8443", "8443", "/mount"),
    ("http", None, "8000", "/a/b"),
    ("http", "[2001:db8::1]:8000", "8000", ""),
]


# Well-formed values of each header, so that generated requests also get applied.
GOOD: dict[str, list[str]] = {
    "X-Forwarded-For": [
        *(text for _, text, _, _ in ACCEPTED_FORMS),
        *PROXY_FORMS,
        "127.0.0.1",
        "10.0.0.1",
    ],
    "X-Forwarded-Proto": ["http", "https", "HTTPS"],
    "X-Forwarded-Host": [text for _, text, _ in VALID_HOSTS],
    "X-Forwarded-Port": ["1", "443", "8443", "65535"],
    "X-Forwarded-Prefix": [text for text, _ in VALID_PREFIXES],
}


def header_value(name: str) -> st.SearchStrategy[str]:
    good = st.sampled_from(GOOD[name])
    return st.one_of(
        header_text,
        st.lists(good, min_size=1, max_size=4).map(", ".join),
        st.lists(st.one_of(good, good, st.sampled_from(FRAGMENTS)), max_size=4).map(",".join),
    )


@st.composite
def forwarding_lines(draw: st.DrawFn) -> Lines:
    """Header lines in arrival order: each X-Forwarded-* header 0-3 times, interleaved
    with an unrelated header."""
    lines: Lines = []
    for name in HEADERS:
        for value in draw(st.lists(header_value(name), max_size=3)):
            lines.append((name, value))
    if draw(st.booleans()):
        lines.append(("User-Agent", draw(header_text)))
    return draw(st.permutations(lines))


def environ_for(
    peer: Optional[str], request: tuple[str, Optional[str], Optional[str], str], lines: Lines
) -> Environ:
    scheme, host, port, prefix = request
    return builders.environ(
        peer, lines, scheme, host, None if port is None else int(port), prefix,
        name="app.example",
    )  # fmt: skip


def call(middleware: WSGIMiddleware, environ: Environ) -> Environ:
    seen: list[Environ] = []

    def app(env: Environ, start_response: Any) -> Iterable[bytes]:
        seen.append(env)
        return [b""]

    middleware.app = app
    middleware(environ, lambda *args: None)  # type: ignore[arg-type]
    assert len(seen) == 1
    return seen[0]


def items_of(environ: Environ) -> list[str]:
    """Every X-Forwarded-For item, as the walk would see it."""
    value = environ.get("HTTP_X_FORWARDED_FOR") or ""
    return [item.strip(" \t") for item in value.split(",")]


# -- oracles written from the rules, independent of trustproxy's validators ---


def canonical_ip(text: str) -> bool:
    """§4: canonical (compressed lower-case IPv6, IPv4-mapped shown as IPv4), never the
    unspecified address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if address.is_unspecified or str(address) != text:
        return False
    return not (isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped)


def _clean(text: str) -> bool:
    return bool(text) and all(0x20 < ord(char) < 0x7F for char in text)


def plausible_host(text: str) -> bool:
    """§5 host: no "/", "?", "#", "@", "\\", spaces, control characters, not empty."""
    return _clean(text) and not any(char in text for char in '/?#@\\"')


def plausible_prefix(text: str) -> bool:
    """§5 prefix: starts with exactly one "/", no "\\", no "."/".." segments, no "?",
    "#" or control characters; no trailing "/"."""
    if not _clean(text) or text[0] != "/" or text.startswith("//") or text.endswith("/"):
        return False
    if any(char in text for char in "\\?#"):
        return False
    segments = text.lower().replace("%2e", ".").split("/")[1:]
    return all(segment not in ("", ".", "..") for segment in segments)


# -- properties -------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    config=st.sampled_from(CONFIGS),
    peer=st.sampled_from(PEERS),
    request=st.sampled_from(REQUESTS),
    lines=forwarding_lines(),
)
def test_arbitrary_headers_never_raise_nor_write_an_invalid_value(
    config: dict[str, Any],
    peer: Optional[str],
    request: tuple[str, Optional[str], Optional[str], str],
    lines: Lines,
) -> None:
    """Issue 2 §8: arbitrary header text never raises and never puts an invalid value
    into the environ; §5: "Validate before writing; an invalid value is ignored (the
    original stays)"."""
    middleware = WSGIMiddleware(lambda e, s: [], fields=ALL_FIELDS, **config)
    before = environ_for(peer, request, lines)
    after = call(middleware, dict(before))
    resolution = after.pop(RESOLUTION_KEY, None)
    original = after.pop(ORIGINAL_KEY, None)
    if resolution is None:
        assert original is None
        assert after == before
        return
    assert isinstance(resolution, Resolution)
    event(f"status {resolution.status}")
    for name in resolution.applied:
        event(f"applied {name}")
    assert resolution.status in (
        trustproxy.APPLIED,
        trustproxy.UNRESOLVED,
        trustproxy.UNTRUSTED_PEER,
    )
    if resolution.status != trustproxy.APPLIED:
        assert after == before

    def changed(key: str) -> bool:
        return after.get(key) != before.get(key)

    if changed("REMOTE_ADDR"):
        address = after["REMOTE_ADDR"]
        parsed = parse_address(address)
        assert parsed is not None and parsed.text == address  # a canonical IP
        assert canonical_ip(address)
        written = [parse_node(item) for item in items_of(before)]
        assert address in [node.text for node in written if node is not None]
    if changed("REMOTE_PORT"):
        assert 1 <= int(after["REMOTE_PORT"]) <= 65535
        assert after["REMOTE_PORT"] == str(int(after["REMOTE_PORT"]))
    assert after["wsgi.url_scheme"] in ("http", "https")
    if changed("HTTP_HOST"):
        assert host_port(after["HTTP_HOST"]) is not None
        assert plausible_host(after["HTTP_HOST"])
    if changed("SERVER_NAME"):
        assert after["SERVER_NAME"] == builders.server_name(after["HTTP_HOST"])
    if changed("SERVER_PORT"):
        port = after["SERVER_PORT"]
        assert port.isascii() and port.isdigit() and 1 <= int(port) <= 65535
    if changed("SCRIPT_NAME"):
        script_name, mount = after["SCRIPT_NAME"], before["SCRIPT_NAME"]
        assert script_name.endswith(mount)
        forwarded = script_name[: len(script_name) - len(mount)]
        assert forwarded and valid_prefix(forwarded) == forwarded
        assert plausible_prefix(forwarded)


@settings(max_examples=200)
@given(peer=st.sampled_from(PEERS), lines=forwarding_lines())
def test_resolver_never_raises_and_reports_a_valid_client(
    peer: Optional[str], lines: Lines
) -> None:
    """The core alone, with a mapping or lines, and the default configuration."""
    resolver = trustproxy.Resolver(trusted="loopback, unix", fields=ALL_FIELDS)
    result = resolver.resolve(peer, lines)
    assert result == resolver.resolve(peer, lines)
    assert result.reason
    if result.client is not None:
        parsed = parse_address(result.client)
        assert parsed is not None and parsed.text == result.client
    if result.client_port is not None:
        assert 1 <= result.client_port <= 65535
    # The trail starts at the socket peer as given (a UNIX socket: no address), trusted
    # exactly when the policy names it; without an applied "for" the client is the peer.
    assert (result.peer.text, result.peer.address) == (peer or "", peer)
    assert (result.peer.trusted_by is not None) == (peer in ("127.0.0.1", "::1", None))
    if "for" not in result.applied:
        assert result.client == peer
    resolver.resolve(peer, dict(lines))


# -- items an untrusted client prepends -----------------------------------------------

NEAR_POLICY = TrustPolicy("loopback, private")

# The project never uses these two ranges, not even as header text (see COMMON.md).
AVOIDED = (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("fd00::/64"))


def usable(address: Union[ipaddress.IPv4Address, ipaddress.IPv6Address]) -> bool:
    if any(address in network for network in AVOIDED):
        return False
    return parse_node(str(address)) is not None  # not 0.0.0.0, ::, ::ffff:0.0.0.0


any_address = st.one_of(
    st.integers(1, 2**32 - 1).map(ipaddress.IPv4Address),
    st.integers(1, 2**128 - 1).map(ipaddress.IPv6Address),
    st.ip_addresses(),  # hypothesis favours the special-purpose ranges
).filter(usable)
trusted_address = st.one_of(
    st.ip_addresses(network="127.0.0.0/8"),
    st.ip_addresses(network="10.0.0.0/8"),
    st.ip_addresses(network="192.168.0.0/16"),
    st.ip_addresses(network="fc00::/7"),
    st.just(ipaddress.ip_address("::1")),
).filter(usable)
untrusted_address = any_address.filter(
    lambda a: (hop := NEAR_POLICY.hop(str(a))) is not None and hop.trusted_by is None
)


@st.composite
def written(
    draw: st.DrawFn,
    addresses: st.SearchStrategy[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]],
) -> str:
    """An address as a proxy may write it: bare, with a port, bracketed, upper-case."""
    address = draw(addresses)
    port = draw(st.integers(1, 65535))
    if address.version == 4:
        return draw(st.sampled_from([str(address), f"{address}:{port}"]))
    text = draw(st.sampled_from([str(address), address.exploded.upper()]))
    return draw(st.sampled_from([text, f"[{text}]", f"[{text}]:{port}"]))


@st.composite
def chains(draw: st.DrawFn) -> tuple[dict[str, Any], str, list[str]]:
    """(config, peer, X-Forwarded-For items) where the walk stops at an item: the
    leftmost item is where the walk ends, so anything further left is never read."""
    if draw(st.booleans()):
        proxies = draw(st.lists(written(trusted_address), max_size=4))
        return (
            {"trusted": "loopback, private"},
            "127.0.0.1",
            [
                draw(written(untrusted_address)),
                *proxies,
            ],
        )
    hops = draw(st.integers(1, 4))
    items = draw(st.lists(written(any_address), min_size=hops, max_size=hops))
    return {"trusted": "*", "hops": hops}, "198.51.100.1", items


@settings(max_examples=200)
@given(
    chain=chains(),
    prepended=st.lists(header_text, min_size=1, max_size=3),
    as_lines=st.booleans(),
    proto=st.sampled_from(["https", "http, https", "https, http, https, http, http"]),
    host=st.sampled_from(["a.example, b.example", "c.example", "d.example, e, f, g, h"]),
)
def test_items_prepended_by_the_client_never_change_the_result(
    chain: tuple[dict[str, Any], str, list[str]],
    prepended: list[str],
    as_lines: bool,
    proto: str,
    host: str,
) -> None:
    """Issue 2 §8: "items that an untrusted client prepends never change the result" —
    whether on the same line or on earlier lines of their own (§4: lines are joined in
    arrival order)."""
    config, peer, items = chain
    fields = ("for", "proto", "host")
    honest = ", ".join(items)
    values = [("X-Forwarded-Proto", proto), ("X-Forwarded-Host", host)]
    if as_lines:
        forged: Lines = [("X-Forwarded-For", text) for text in prepended]
        forged.append(("X-Forwarded-For", honest))
    else:
        forged = [("X-Forwarded-For", ",".join([*prepended, honest]))]
    resolver = trustproxy.Resolver(fields=fields, **config)
    expected = resolver.resolve(peer, [("X-Forwarded-For", honest), *values])
    assert expected.status == trustproxy.APPLIED, expected.reason
    assert resolver.resolve(peer, [*forged, *values]) == expected

    middleware = WSGIMiddleware(lambda e, s: [], fields=fields, **config)
    request = REQUESTS[0]
    honest_env = call(
        middleware, environ_for(peer, request, [("X-Forwarded-For", honest), *values])
    )
    forged_env = call(middleware, environ_for(peer, request, [*forged, *values]))
    for env in (honest_env, forged_env):
        del env["HTTP_X_FORWARDED_FOR"]
    assert forged_env == honest_env


# -- the decision path's shortcuts agree with the full walk ------------------------------

node_text = st.one_of(
    header_text,
    st.sampled_from(GOOD["X-Forwarded-For"]),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: str(a).upper()),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
)


@settings(max_examples=500)
@given(text=node_text)
def test_plain_address_agrees_with_parse_node(text: str) -> None:
    """``plain_address`` either defers (``None``) or gives ``parse_node``'s text, no port."""
    from trustproxy._address import plain_address

    plain = plain_address(text)
    if plain is not None:
        parsed = parse_node(text)
        assert parsed is not None and (parsed.text, parsed.port) == (plain, None)


@settings(max_examples=300)
# The common shape, each way the one-item shortcut can end (new scheme, same scheme,
# no proto, a proto it defers on), so a derandomized run cannot miss them.
@example({"trusted": "loopback"}, "127.0.0.1", REQUESTS[0], "203.0.113.5", "https")
@example({"trusted": "loopback"}, "127.0.0.1", REQUESTS[1], "2001:DB8::1", "https")
@example({"trusted": "loopback"}, "::1", REQUESTS[2], " 203.0.113.5 ", None)
@example({"trusted": "loopback"}, "127.0.0.1", REQUESTS[0], "203.0.113.5", "HTTPS")
@example({"trusted": "loopback", "hops": 1}, "127.0.0.1", REQUESTS[3], "127.0.0.5", "ftp")
@given(
    config=st.sampled_from(
        [*CONFIGS, *({**c, "fields": ALL_FIELDS} for c in CONFIGS), {"fields": "for"}]
    ),
    peer=st.sampled_from(PEERS),
    request=st.sampled_from(REQUESTS),
    forwarded_for=st.one_of(st.none(), node_text, header_value("X-Forwarded-For")),
    proto=st.one_of(
        st.none(), header_value("X-Forwarded-Proto"), st.sampled_from(GOOD["X-Forwarded-Proto"])
    ),
)
def test_lean_decision_is_the_full_walks(
    config: dict[str, Any],
    peer: Optional[str],
    request: tuple[str, Optional[str], Optional[str], str],
    forwarded_for: Optional[str],
    proto: Optional[str],
) -> None:
    """``Resolver.decide`` (the lean path and its one-item shortcut) decides exactly what
    the full walk does: every stored field, and the explanation read back."""
    resolver = trustproxy.Resolver(**config)
    scheme, host, port_text, prefix = request
    port = int(port_text) if port_text else None
    values = (forwarded_for, proto, None, None, None)
    lean = resolver.decide(peer, values, scheme, host, port, prefix)
    full = resolver._compute(peer, values, scheme, host, port, prefix)
    assert tuple(lean[:9]) == tuple(full[:9])
    assert lean == full
