"""Node text -> canonical address.

A *node* is what a proxy writes for one hop: an address, optionally with a port.  The
forms accepted are those real proxies write into X-Forwarded-For and RFC 7239 §6 nodes::

    203.0.113.9        203.0.113.9:4711
    2001:db8::1        [2001:db8::1]        [2001:db8::1]:4711
    fe80::1%eth0       (zone id dropped, RFC 4007 §11.2)

Anything else — ``unknown``, obfuscated identifiers, non-canonical IPv4 such as
``01.2.3.4``/``0x0a.0.0.1``/``167772161``, the unspecified addresses, ports outside
1-65535 — is *not an address* and yields ``None``.  Output is canonical: compressed
lower-case IPv6, and an IPv4-mapped IPv6 address becomes its IPv4 address so that it
matches IPv4 networks and shows up as one key in logs and rate limiters.

Parsing uses the C library's ``inet_pton``/``inet_ntop`` (``ipaddress`` costs
microseconds per call) and insists on canonical input where it matters; results are also
kept in a bounded cache keyed by the exact text; a full cache is emptied, never grown
(memory stays flat whatever clients send).
"""

from __future__ import annotations

import ipaddress
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton
from typing import Any, NamedTuple, Optional

from . import _abnf
from ._memo import CACHE_SIZE, remember

__all__ = ["Address", "parse_address", "parse_node", "parse_port", "plain_address"]

# The longest node worth reading: "[" + 45-character IPv6 + "%" + zone + "]:65535".
MAX_NODE_LENGTH = 100


class Address(NamedTuple):
    """A parsed node: canonical address text, port, IP version and integer value."""

    text: str
    port: Optional[int]
    version: int
    value: int


_cache: dict[str, Optional[Address]] = {}

# NamedTuple's generated __new__ is Python code; tuple.__new__ builds the same object in C.
_new = tuple.__new__

#: Marks a cache miss (``None`` is a cached answer: "not an address").
MISSING: Any = object()


def parse_port(text: str) -> Optional[int]:
    """``"443"`` -> 443; anything that is not 1-65535 in 1-5 ASCII digits -> None."""
    # _abnf.PORT_DIGITS (1-5 ASCII digits) without the regex: str.isdigit alone would
    # take other scripts' digits, isascii rules them out.
    if not (0 < len(text) <= 5 and text.isascii() and text.isdigit()):
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def _ipv4(text: str) -> Optional[tuple[str, int]]:
    # inet_pton is strict on glibc (no leading zeros, exactly four parts), but platforms
    # differ, so the address must also read back identically: only the canonical dotted
    # quad of RFC 3986 §3.2.2 (dec-octet has no leading zeros) is accepted.
    try:
        packed = inet_pton(AF_INET, text)
    except (OSError, ValueError):
        return None
    if inet_ntop(AF_INET, packed) != text:
        return None
    value = int.from_bytes(packed, "big")
    if value == 0:  # 0.0.0.0 is "this host", never a client (RFC 1122 §3.2.1.3)
        return None
    return text, value


def _ipv6(text: str) -> Optional[tuple[str, int, int]]:
    """Return (canonical text, version, value) for an IPv6 address, zone id dropped."""
    address, percent, zone = text.partition("%")
    if percent and _abnf.ZONE_ID.fullmatch(zone) is None:
        return None
    if _abnf.IPV6_CHARS.fullmatch(address) is None or ":" not in address:
        return None
    try:
        packed = inet_pton(AF_INET6, address)
    except (OSError, ValueError):
        return None
    if packed[:12] == _MAPPED_PREFIX:  # ::ffff:10.0.0.1 is 10.0.0.1 (RFC 4291 §2.5.5.2)
        value = int.from_bytes(packed[12:], "big")
        return None if value == 0 else (inet_ntop(AF_INET, packed[12:]), 4, value)
    value = int.from_bytes(packed, "big")
    if value == 0:  # "::" is the unspecified address (RFC 4291 §2.5.2)
        return None
    canonical = inet_ntop(AF_INET6, packed)
    if "." in canonical:
        # Some C libraries print other IPv4-embedding forms in dotted notation; RFC 5952
        # §5 reserves that for mapped addresses, so print hex like everything else.
        canonical = ipaddress.IPv6Address(packed).compressed
    return canonical, 6, value


_MAPPED_PREFIX = bytes(10) + b"\xff\xff"


def _parse(text: str) -> Optional[Address]:
    if not text or len(text) > MAX_NODE_LENGTH:
        return None
    port: Optional[int] = None
    if text[0] == "[":  # "[" IPv6address "]" [ ":" port ]
        close = text.find("]")
        if close < 0:
            return None
        rest = text[close + 1 :]
        if rest:
            if rest[0] != ":":
                return None
            port = parse_port(rest[1:])
            if port is None:
                return None
        v6 = _ipv6(text[1:close])
        return None if v6 is None else _new(Address, (v6[0], port, v6[1], v6[2]))
    colons = text.count(":")
    if colons == 0:  # _ipv4(text), inlined: the most common node of all
        try:
            packed = inet_pton(AF_INET, text)
        except (OSError, ValueError):
            return None
        if inet_ntop(AF_INET, packed) != text:
            return None
        value = int.from_bytes(packed, "big")
        return None if value == 0 else _new(Address, (text, None, 4, value))
    if colons == 1:  # IPv4address ":" port
        host, _, port_text = text.partition(":")
        port = parse_port(port_text)
        v4 = _ipv4(host)
        if port is None or v4 is None:
            return None
        return _new(Address, (v4[0], port, 4, v4[1]))
    v6 = _ipv6(text)  # a bare IPv6 address cannot carry a port
    return None if v6 is None else _new(Address, (v6[0], None, v6[1], v6[2]))


_ZERO4 = bytes(4)
_ZERO6 = bytes(16)


def plain_address(text: str) -> Optional[str]:
    """The canonical text of ``text`` when it is a bare IPv4 or IPv6 address that
    :func:`parse_node` reads without a port; ``None`` means "ask :func:`parse_node`".

    The decision path's shortcut for the node a proxy writes almost always
    (``$remote_addr``): no cache, no :class:`Address`.  Whatever the full parser treats
    specially — a port, brackets, a zone id, a dotted (IPv4-mapped or -embedded) IPv6,
    the unspecified address — is left to it, so when this gives a text ``parse_node``
    gives the same text (tested in ``tests/test_properties.py``).
    """
    if ":" in text:
        if "." in text or "%" in text or "[" in text:
            return None
        try:
            packed = inet_pton(AF_INET6, text)
        except (OSError, ValueError):
            return None
        if packed[:12] == _MAPPED_PREFIX or packed == _ZERO6:
            return None
        canonical = inet_ntop(AF_INET6, packed)
        return None if "." in canonical else canonical
    try:
        packed = inet_pton(AF_INET, text)
    except (OSError, ValueError):
        return None
    # Canonical dotted quad only (see _ipv4); 0.0.0.0 is never a client.
    if packed == _ZERO4 or inet_ntop(AF_INET, packed) != text:
        return None
    return text


def parse_node(text: str) -> Optional[Address]:
    """Parse one node (see the module docstring); ``None`` if it is not an address."""
    # dict.get with a sentinel, not try/except: a raised KeyError costs more than the
    # whole parse on a miss, and every new client is a miss.
    result = _cache.get(text, MISSING)
    if result is not MISSING:
        return result  # type: ignore[no-any-return]
    if len(text) > MAX_NODE_LENGTH:
        return None  # not cached: the cache would keep the long text alive
    return remember(_cache, text, _parse(text), CACHE_SIZE)


def parse_address(text: str) -> Optional[Address]:
    """Parse a bare address (no brackets, no port), e.g. a socket peer."""
    result = parse_node(text)
    if result is None or result.port is not None or text[:1] == "[":
        return None
    return result
