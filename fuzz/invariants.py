"""The invariants every fuzz harness checks, shared with tests/test_invariants.py.

Each ``check_*`` function takes the raw fuzz input (bytes), runs one parser or the whole
resolution on it, and raises :class:`Broken` (an ``AssertionError``) when an invariant
does not hold.  Any other exception escaping is a bug too.  Bytes are decoded as
ISO-8859-1, which is how WSGI servers hand header values over (PEP 3333).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

import proxy_encoder

# The request builders shared with the tests and benchmarks (tests/builders.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import builders
from trustproxy import (
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    UNTRUSTED_PEER,
    HeaderError,
    Resolution,
    Resolver,
    WSGIMiddleware,
)
from trustproxy._address import parse_node
from trustproxy._forwarded import (
    Element,
    elements_from_right,
    format_element,
    node_text,
    parse_element,
    parse_forwarded,
)
from trustproxy._lists import MAX_ITEM_LENGTH, TOO_LONG, nth_from_right
from trustproxy._resolve import MAX_HOPS
from trustproxy._values import MAX_HOST_LENGTH, host_port, valid_prefix, valid_scheme
from trustproxy.asgi import ASGIMiddleware
from trustproxy.proxy_protocol import MAX_LENGTH, ProxyHeader, parse


class Broken(AssertionError):
    """An invariant does not hold."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise Broken(message)


def text_of(data: bytes) -> str:
    return data.decode("latin-1")


# --- single values -------------------------------------------------------------------------


def check_address(address_text: str) -> None:
    """A parsed node is canonical: what ``ipaddress`` prints, IPv4-mapped folded, no zone."""
    address = parse_node(address_text)
    if address is None:
        return
    parsed = ipaddress.ip_address(address.text)
    require(str(parsed) == address.text, f"{address.text!r} is not canonical")
    require(parsed.version == address.version, f"{address_text!r}: wrong version")
    require(int(parsed) == address.value, f"{address_text!r}: wrong value")
    require(
        not (isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped),
        f"{address_text!r}: IPv4-mapped address not folded",
    )
    require(not parsed.is_unspecified, f"{address_text!r}: unspecified address accepted")
    require(address.port is None or 0 < address.port < 65536, f"{address_text!r}: bad port")
    again = parse_node(address.text)
    require(again is not None and again.text == address.text, "canonical form not stable")


def check_host(text: str) -> None:
    split = host_port(text)
    if split is None:
        return
    name, port = split
    require(len(text) <= MAX_HOST_LENGTH, f"over-long host {len(text)}")
    require(not any(c in text for c in "/?#@\\ \t\r\n%,;\"'<>"), f"unsafe host {text!r}")
    require(text.isascii() and text.isprintable(), f"non-ASCII host {text!r}")
    require(port is None or 0 < port < 65536, f"host port {port}")
    require(text == (name if port is None else f"{name}:{text.rsplit(':', 1)[1]}"), "split")
    # The host, put in a URL, is the URL's authority and nothing else.
    url = urlsplit(f"http://{text}/x")
    require(url.path == "/x" and url.hostname is not None, f"host {text!r} changes the URL")
    if not name.startswith("["):
        bare = name[:-1] if name.endswith(".") else name
        require(all(0 < len(label) <= 63 for label in bare.split(".")), f"label in {text!r}")
        # An independent reading: a name the C library's inet_aton reads as an IPv4
        # address (0x7f.0.0.1, 0x7f000001, 1.2.3, 017.0.0.1) must be that address written
        # canonically, or URL parsers connect to a number the text does not show.
        try:
            packed: Optional[bytes] = socket.inet_aton(bare)
        except (OSError, ValueError):
            packed = None
        require(packed is None or name == socket.inet_ntoa(packed), f"numeric host {text!r}")


def check_prefix(text: str) -> None:
    prefix = valid_prefix(text)
    if prefix is None:
        return
    require(prefix == "" or (prefix.startswith("/") and not prefix.startswith("//")), prefix)
    require(not prefix.endswith("/"), f"trailing slash kept: {prefix!r}")
    require(prefix.isascii() and prefix.isprintable(), f"unprintable prefix {prefix!r}")
    require(not any(c in prefix for c in "\\?# "), f"unsafe prefix {prefix!r}")
    # The open-redirect property: a link built from the prefix stays on the same origin.
    joined = urljoin("http://app.example/base/", prefix + "/next")
    require(urlsplit(joined).netloc == "app.example", f"prefix {prefix!r} leaves the origin")
    require(valid_prefix(prefix or "/") == prefix, f"prefix {prefix!r} not stable")


def check_scheme(text: str) -> None:
    scheme = valid_scheme(text)
    require(scheme in (None, "http", "https"), f"scheme {scheme!r}")


def check_list(text: str) -> None:
    """``nth_from_right`` returns a real, stripped, comma-free item of the header."""
    for n in (1, 2, 3):
        item, index = nth_from_right(text, n)
        if item is None:
            require(index == 0, "index without item")
            continue
        if item == TOO_LONG:
            continue
        require(0 < index <= n, f"index {index} for n={n}")
        require(item == item.strip(" \t") and item and "," not in item, f"item {item!r}")
        require(len(item) <= MAX_ITEM_LENGTH and item in text, f"item {item!r} not in header")
        check_address(item)


# --- whole resolutions ---------------------------------------------------------------------

TRUST_CHOICES: list[dict[str, Any]] = [
    {},
    {"trusted": "127.0.0.1, 10.0.0.0/8, 2001:db8::/32"},
    {"trusted": "*", "hops": 2},
    {"trusted": "loopback, private", "hops": 1},
    {"headers": "x-real-ip", "fields": "for"},
    {"headers": "forwarded", "fields": ("for", "proto", "host")},
    {"headers": ("forwarded", "x-forwarded"), "trusted": "loopback, 10.0.0.0/8"},
    {"headers": "forwarded", "trusted": "*", "hops": 2},
]
ALL_FIELDS = ("for", "proto", "host", "port", "prefix")
HEADERS = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
           "x-forwarded-prefix")  # fmt: skip
PEERS = ("127.0.0.1", "10.1.2.3", "198.51.100.1", "::1", "2001:db8::5", None)
CONFIGS = [options if "headers" in options else {"fields": ALL_FIELDS, **options}
           for options in TRUST_CHOICES]  # fmt: skip
RESOLVERS = [Resolver(**options) for options in CONFIGS]
_SEEN: dict[str, Any] = {}


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    _SEEN.clear()
    _SEEN.update(environ)
    return []


MIDDLEWARES = [WSGIMiddleware(_app, **options) for options in CONFIGS]


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    _SEEN.clear()
    _SEEN.update(scope)


ASGI_MIDDLEWARES = [ASGIMiddleware(_asgi_app, **options) for options in CONFIGS]


def run_asgi(middleware: Any, scope: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """Run one request through an ASGI middleware synchronously (nothing here really
    awaits): the scope the app saw (empty if not called) and the messages sent."""
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    _SEEN.clear()
    coroutine = middleware(scope, receive, send)
    try:
        coroutine.send(None)
    except StopIteration:
        pass
    else:
        coroutine.close()
        raise Broken("the ASGI middleware awaited something")
    return dict(_SEEN), sent


def asgi_scope(peer: Optional[str], headers: list[tuple[str, str]]) -> dict[str, Any]:
    # Header values are octets (RFC 9110 §5.5); text beyond latin-1 arrives as UTF-8.
    return builders.scope(peer, headers)


def check_asgi(
    resolver: Resolver, peer: Optional[str], values: tuple[Optional[str], ...], result: Resolution
) -> None:
    """The ASGI adapter: same resolution; the server's scope is never edited; the app's
    scope differs only where the resolution says."""
    lines = [(name, value) for name, value in zip(resolver.header_names, values) if value]
    scope = asgi_scope(peer, lines)
    before = {key: (list(v) if isinstance(v, list) else v) for key, v in scope.items()}
    seen, sent = run_asgi(ASGI_MIDDLEWARES[RESOLVERS.index(resolver)], scope)
    require(scope == before, "the server's scope was modified")
    if result.status == CONFLICT:
        require(not seen and sent[0]["status"] == 400, "conflict not answered 400")
        return
    if "trustproxy.resolution" not in seen:
        require(seen == before, "scope changed without a resolution")
        return
    require(seen.pop("trustproxy.resolution") == result, "ASGI saw another resolution")
    require(seen.pop("trustproxy.orig") is scope, "trustproxy.orig is not the server's scope")
    changed = {k for k in seen if seen.get(k) != before.get(k)}
    if not result.applied:
        require(not changed, f"{result.status}: scope changed: {sorted(changed)}")
        return
    require(changed <= {"client", "scheme", "headers", "server", "root_path", "path",
                        "raw_path"}, f"unexpected keys changed: {sorted(changed)}")  # fmt: skip
    require(seen["scheme"] == result.scheme, "scheme not written")
    hosts = [v for n, v in seen["headers"] if n == b"host"]
    require(hosts == [(result.host or "").encode("latin-1")], f"host lines {hosts}")
    require(seen["root_path"] == result.prefix, "prefix not written")
    require(seen["path"] == seen["root_path"] + builders.PATH, "path not below root_path")
    if "for" in result.applied:
        require(seen["client"][0] == result.client, "client not written")


def _items(value: Optional[str]) -> list[str]:
    return [item.strip(" \t") for item in value.split(",")] if value else []


def _forwarded_nodes(value: Optional[str]) -> list[str]:
    """Every ``for`` node of every well-formed element (a superset of what the walk reads)."""
    nodes = []
    for piece in _items(value):
        try:
            params = parse_element(piece)
        except HeaderError:
            continue
        if "for" in params:
            nodes.append(node_text(params["for"]))
    return nodes


def claimed_clients(resolver: Resolver, values: tuple[Optional[str], ...]) -> set[str]:
    """The canonical addresses written anywhere in the headers the resolver reads."""
    texts: list[str] = []
    for name, value in zip(resolver.header_names, values):
        if name == "forwarded":
            texts += _forwarded_nodes(value)
        elif name == "x-forwarded-for" or name == resolver.family:
            texts += _items(value)
    return {node.text for node in map(parse_node, texts) if node is not None}


def check_result(
    resolver: Resolver,
    result: Resolution,
    peer: Optional[str],
    values: tuple[Optional[str], ...],
    scheme: str,
    host: Optional[str],
    port: Optional[int],
    prefix: str,
) -> None:
    require(result.status in (APPLIED, UNRESOLVED, UNTRUSTED_PEER, CONFLICT), result.status)
    require(len(result.hops) <= MAX_HOPS + 2, f"{len(result.hops)} hops")
    require(result.scheme in ("http", "https"), f"scheme {result.scheme!r}")
    if result.status != APPLIED:
        require(result.applied == (), f"{result.status} applied {result.applied}")
        require(
            (result.scheme, result.host, result.port, result.prefix)
            == (scheme, host, port, prefix),
            f"{result.status} changed the request",
        )
        peer_address = parse_node(peer) if peer else None
        require(
            result.client == (peer_address.text if peer_address else None),
            f"{result.status}: client {result.client!r} is not the peer",
        )
        return
    require(result.peer.trusted_by is not None, "applied with an untrusted peer")
    if "for" in result.applied:
        client = result.client
        address = parse_node(client) if client else None
        require(address is not None and address.text == client, f"client {client!r}")
        require(address is not None and address.port is None, "client carries a port")
        require(client in claimed_clients(resolver, values), f"client {client!r} not in header")
    else:
        peer_address = parse_node(peer) if peer else None
        expected = peer_address.text if peer_address else None
        require(result.client == expected, "client changed without 'for'")
    if result.host != host:
        require(result.host is not None and host_port(result.host) is not None, "bad host")
    if result.port != port:
        require(result.port is not None and 0 < result.port < 65536, f"port {result.port}")
    if result.prefix != prefix:
        require(result.prefix.endswith(prefix), "original prefix lost")
        added = result.prefix[: len(result.prefix) - len(prefix)]
        require(valid_prefix(added) == added, f"bad prefix {added!r}")
    for name in result.applied:
        require(name in resolver.fields, f"{name} applied but not configured")


def split_request(data: bytes) -> tuple[Resolver, Optional[str], tuple[Optional[str], ...]]:
    """Fuzz bytes -> (resolver, peer, header values).  Byte 0 picks the configuration and
    the peer; the rest, split on NUL, gives the header values (empty part = absent)."""
    selector = data[0] if data else 0
    resolver = RESOLVERS[selector % len(RESOLVERS)]
    peer = PEERS[(selector // len(RESOLVERS)) % len(PEERS)]
    parts = [part.decode("latin-1") for part in data[1:].split(b"\x00")]
    count = len(resolver.header_names)
    values = tuple((parts[i] or None) if i < len(parts) else None for i in range(count))
    return resolver, peer, values


def check_resolve(data: bytes) -> None:
    resolver, peer, values = split_request(data)
    scheme, host, port, prefix = "http", "app.example", 80, ""
    result = resolver._resolve(peer, values, scheme, host, port, prefix)
    check_result(resolver, result, peer, values, scheme, host, port, prefix)
    lines = [(name, value) for name, value in zip(resolver.header_names, values) if value]
    again = resolver.resolve(peer, lines, scheme=scheme, host=host, port=port, prefix=prefix)
    require(again == result, "resolve() and _resolve() disagree")
    check_wsgi(resolver, peer, values, result)
    check_asgi(resolver, peer, values, result)


def check_wsgi(
    resolver: Resolver, peer: Optional[str], values: tuple[Optional[str], ...], result: Resolution
) -> None:
    """The WSGI adapter writes exactly what the resolution says, and nothing else."""
    lines = [
        (name, value) for name, value in zip(resolver.header_names, values) if value is not None
    ]
    environ = builders.environ(peer, lines)
    before = dict(environ)
    answered: list[str] = []
    _SEEN.clear()
    MIDDLEWARES[RESOLVERS.index(resolver)](environ, lambda status, h: answered.append(status))
    seen = dict(_SEEN)
    if result.status == CONFLICT:
        require(answered == ["400 Bad Request"] and not seen, "conflict not answered 400")
        return
    if "trustproxy.resolution" not in seen:
        require(seen == before, "environ changed without a resolution")
        return
    require(seen["trustproxy.resolution"] == result, "WSGI saw another resolution")
    changed = {k for k in seen if seen.get(k) != before.get(k)} - {
        "trustproxy.resolution",
        "trustproxy.orig",
    }
    if result.status != APPLIED or not result.applied:
        require(not changed, f"{result.status}: environ changed: {sorted(changed)}")
        return
    require(seen["wsgi.url_scheme"] == result.scheme, "scheme not written")
    require(seen["HTTP_HOST"] == result.host, "host not written")
    require(seen["SCRIPT_NAME"] == result.prefix, "prefix not written")
    if "for" in result.applied:
        require(seen["REMOTE_ADDR"] == result.client, "client not written")
    require(seen["SERVER_PORT"] == str(result.port), "port not written")
    allowed = {"REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME",
               "SERVER_PORT", "SCRIPT_NAME"}  # fmt: skip
    require(changed <= allowed, f"unexpected keys changed: {sorted(changed - allowed)}")


def check_xff(data: bytes) -> None:
    text = text_of(data)
    check_list(text)
    check_address(text[:200])
    for resolver in RESOLVERS[:3]:
        values = (text, None, None, None, None)
        result = resolver._resolve("127.0.0.1", values, "http", "app.example", 80, "")
        check_result(resolver, result, "127.0.0.1", values, "http", "app.example", 80, "")


def check_host_value(data: bytes) -> None:
    text = text_of(data)
    check_host(text)
    values = ("203.0.113.9", None, text, None, None)
    result = RESOLVERS[0]._resolve("127.0.0.1", values, "http", "app.example", 80, "")
    check_result(RESOLVERS[0], result, "127.0.0.1", values, "http", "app.example", 80, "")


def check_prefix_value(data: bytes) -> None:
    text = text_of(data)
    check_prefix(text)
    check_scheme(text)
    values = ("203.0.113.9", text, None, text, text)
    result = RESOLVERS[0]._resolve("127.0.0.1", values, "http", "app.example", 80, "/mnt")
    check_result(RESOLVERS[0], result, "127.0.0.1", values, "http", "app.example", 80, "/mnt")


def check_forwarded_parser(text: str) -> None:
    """The strict parser and the walk's lazy reader agree, and neither fails unexpectedly."""
    lazy: list[Element] = list(elements_from_right(text))
    for element in lazy:
        require((element.params is None) == bool(element.error), f"element {element!r}")
        require("," not in element.text, f"element {element.text!r} spans a comma")
    try:
        strict = parse_forwarded(text)
    except HeaderError as error:
        require(-1 <= error.position <= len(text), f"position {error.position}")
        return
    if all(element.params is not None for element in lazy):
        require([e.params for e in reversed(lazy)] == strict, "strict and lazy readers differ")
    for params in strict:
        if all(_format_safe(value) for value in params.values()):
            again = parse_element(format_element(params))
            require(again == params, f"format_element does not round-trip {params!r}")


def _format_safe(value: str) -> bool:
    # format_element's documented domain: no comma, no control character but HTAB.
    return "," not in value and all(c == "\t" or (c >= " " and c != "\x7f") for c in value)


def check_forwarded(data: bytes) -> None:
    text = text_of(data)
    check_forwarded_parser(text)
    for resolver in RESOLVERS[5:]:
        values = (text,) + (None,) * (len(resolver.header_names) - 1)
        result = resolver._resolve("127.0.0.1", values, "http", "app.example", 80, "")
        check_result(resolver, result, "127.0.0.1", values, "http", "app.example", 80, "")


# --- PROXY protocol --------------------------------------------------------------------------


def proxy_input(data: bytes) -> bytes:
    """Turn fuzz bytes into a likely PROXY header, so the fuzzer gets past the signature.

    The first byte picks: raw bytes, ``PROXY `` + the rest, the version 2 signature + the
    rest, or a version 2 PROXY header (family byte from the input) whose length covers
    the rest exactly, so that the rest is read as addresses and TLVs.
    """
    if not data:
        return data
    mode, rest = data[0] % 4, data[1:]
    if mode == 0:
        return rest
    if mode == 1:
        return b"PROXY " + rest
    if mode == 2:
        return proxy_encoder.SIGNATURE + rest
    family, body = rest[:1] or b"\x11", rest[1:]
    return proxy_encoder.SIGNATURE + b"\x21" + family + struct.pack("!H", len(body)) + body


def _reencode(header: ProxyHeader) -> Optional[bytes]:
    """The header written again by the tests' own encoder (None where that is lossy)."""

    def mapped(text: Optional[str]) -> str:  # IPv4 text in an INET6 header was mapped
        assert text is not None
        return f"::ffff:{text}" if "." in text and header.family == "INET6" else text

    if header.version == 1:
        if header.family == "UNSPEC":
            return b"PROXY UNKNOWN\r\n"
        protocol = "TCP4" if header.family == "INET" else "TCP6"
        return proxy_encoder.v1(protocol, mapped(header.source), mapped(header.destination),
                                header.source_port, header.destination_port)  # fmt: skip
    if header.command == "LOCAL" or header.family == "UNIX":
        return None
    addresses = b""
    if header.family != "UNSPEC":
        assert header.source_port is not None and header.destination_port is not None
        addresses = proxy_encoder.inet(mapped(header.source), mapped(header.destination),
                                       header.source_port, header.destination_port)  # fmt: skip
    return proxy_encoder.v2(
        family=header.family,
        transport=header.transport,
        addresses=addresses,
        tlvs=[(item.type, item.value) for item in header.tlvs],
    )


def _require_refused(data: bytes, message: str) -> None:
    try:
        parse(data)
    except HeaderError:
        return
    raise Broken(f"{data!r}: {message}")


def check_proxy_header(data: bytes) -> None:
    """One input through ``proxy_protocol.parse``.

    Only ``None``, a result or :class:`HeaderError` come out.  An error is final: no
    bytes added after can make the input valid; and for version 1 and the fixed part of
    version 2 it is raised at the offending byte, the bytes before it needing more.
    ``None`` is only for a short input.  A result used at most the input, reads the
    same from exactly its bytes and ``None`` from fewer, has canonical addresses, and the
    tests' encoder writes it back: byte for byte for version 2, to an equal header for
    version 1.
    """
    try:
        result = parse(data)
    except HeaderError as error:
        position = error.position
        require(0 <= position < len(error.text), f"position {position} of {error.text!r}")
        require(len(error.text) <= MAX_LENGTH, f"error text of {len(error.text)} bytes")
        if data[:1] == b"P" or position < 14:
            # Decided at the offending byte: the bytes before it still needed more.
            require(parse(data[:position]) is None, f"refused before position {position}")
            _require_refused(data[: position + 1], f"accepted up to position {position}")
        for more in (b"\r\n", bytes(300)):
            _require_refused(data + more, f"{more!r} after a refused header made it valid")
        return
    if result is None:
        require(len(data) < MAX_LENGTH, f"None for {len(data)} bytes")
        return
    header, consumed = result
    require(0 < consumed <= len(data), f"consumed {consumed} of {len(data)}")
    require(parse(data[:consumed]) == result, "the header alone reads differently")
    for shorter in {consumed - 1, consumed // 2}:
        require(parse(data[:shorter]) is None, f"a {shorter}-byte prefix is not None")
    for text in (header.source, header.destination):
        if text is not None:
            address = ipaddress.ip_address(text)
            require(str(address) == text, f"{text!r} is not canonical")
            require(getattr(address, "ipv4_mapped", None) is None, f"{text!r} not folded")
    for port in (header.source_port, header.destination_port):
        require(port is None or 0 <= port <= 65535, f"port {port}")
    again = _reencode(header)
    if again is not None:
        reparsed = parse(again)
        require(reparsed is not None and reparsed.header == header, "re-encoding differs")
        if header.version == 2:
            require(again == bytes(data[:consumed]), "version 2 re-encodes to other bytes")


def check_proxy_protocol(data: bytes) -> None:
    check_proxy_header(proxy_input(data))


#: Harness name -> the function its fuzzer calls with each input.
CHECKS = {
    "forwarded": check_forwarded,
    "xff": check_xff,
    "host": check_host_value,
    "prefix": check_prefix_value,
    "resolve": check_resolve,
    "proxy_protocol": check_proxy_protocol,
}
