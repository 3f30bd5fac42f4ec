"""PROXY protocol version 1, the text line, and the canonical form of its addresses.

The grammar is section 2.1 of HAProxy's ``proxy-protocol.txt``::

    "PROXY" SP ( "TCP4" | "TCP6" ) SP src SP dst SP sport SP dport CRLF
    "PROXY" SP "UNKNOWN" [ SP <anything but CR and LF> ] CRLF

with exactly one space between fields, IPv4 as four decimal octets without leading zeros,
IPv6 as hexadecimal groups with at most one ``::``, ports 0-65535 in decimal without
leading zeros, and at most 107 bytes in all, CRLF included.

Every check here also works on a *prefix* of a field, so that a line which can no longer
become valid is refused as soon as the offending byte arrives (the specification asks
receivers to abort "as soon as possible"), not when the CRLF or the 107th byte does.
"""

from __future__ import annotations

import re
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton
from typing import NamedTuple, Optional

from ._address import parse_address
from .errors import HeaderError

__all__ = ["MAX_LENGTH", "Line", "canonical", "common", "parse_line"]

#: The longest line a receiver must accept, CRLF included (section 2.1: "PROXY UNKNOWN"
#: followed by two full IPv6 addresses and two ports is 107 bytes).
MAX_LENGTH = 107

_DIGITS = frozenset(b"0123456789")
_IPV6_BYTES = frozenset(b"0123456789abcdefABCDEF:.")
# INET6_ADDRSTRLEN - 1: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
_IPV6_MAX = 45
_PROTOCOLS = (b"TCP4", b"TCP6", b"UNKNOWN")
_MAPPED_PREFIX = bytes(10) + b"\xff\xff"
# Fast paths for a whole field that is valid, which is nearly every field; the loops
# below find the offending byte otherwise, and check prefixes.
_OCTET = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rb"%s(?:\.%s){3}" % (_OCTET, _OCTET))
_PORT = re.compile(rb"0|[1-9][0-9]{0,4}")
_IPV6_HEX = re.compile(rb"[0-9A-Fa-f:]{2,39}")


class Line(NamedTuple):
    """A complete, valid v1 line: its length (CRLF included) and what it says."""

    length: int
    family: str  # "INET", "INET6" or "UNSPEC" (for UNKNOWN)
    source: Optional[str]
    destination: Optional[str]
    source_port: Optional[int]
    destination_port: Optional[int]


def canonical(packed: bytes) -> str:
    """Packed IPv4/IPv6 address -> the text trustproxy uses everywhere.

    IPv6 is compressed lower case (RFC 5952) and an IPv4-mapped address becomes its IPv4
    address (RFC 4291 §2.5.5.2), exactly as :mod:`trustproxy._address` prints a node, so
    an address from a PROXY header matches trust lists and log keys like any other.  The
    unspecified addresses, which that module refuses as nodes, print as themselves.
    """
    if len(packed) == 4:
        return inet_ntop(AF_INET, packed)
    if packed[:12] == _MAPPED_PREFIX:
        return inet_ntop(AF_INET, packed[12:])
    address = parse_address(inet_ntop(AF_INET6, packed))
    return "::" if address is None else address.text


def _bad_port(token: bytes, complete: bool) -> int:
    """Where ``token`` stops being (a prefix of) a port; -1 if it is fine."""
    if _PORT.fullmatch(token) and int(token) < 65536:
        return -1
    for i, byte in enumerate(token):
        if byte not in _DIGITS or i == 5 or (i == 1 and token[0] == 0x30):
            return i  # "heading zeroes are not permitted" (section 2.1)
        if i == 4 and int(token[:5]) > 65535:
            return i
    return 0 if complete and not token else -1


def _bad_ipv4(token: bytes, complete: bool) -> int:
    """Where ``token`` stops being (a prefix of) a canonical dotted quad; -1 if fine."""
    if _IPV4.fullmatch(token):
        return -1
    start = 0  # where the current octet starts
    dots = 0
    for i, byte in enumerate(token):
        if byte == 0x2E:  # "."
            if i == start or dots == 3:
                return i
            dots += 1
            start = i + 1
        elif byte not in _DIGITS:
            return i
        else:
            digits = i - start  # digits of this octet before this one
            if digits == 3 or (digits == 1 and token[start] == 0x30):
                return i
            if digits == 2 and int(token[start : i + 1]) > 255:
                return i
    if complete and (dots != 3 or start == len(token)):
        return len(token)
    return -1


def _ipv6_ok(text: bytes) -> bool:
    try:
        inet_pton(AF_INET6, text.decode("ascii"))
    except (OSError, ValueError):
        return False
    return True


def _viable(prefix: bytes) -> bool:
    """Whether some IPv6 text starts with ``prefix``.

    A prefix that can be completed at all can be completed by one of a few short
    suffixes: the rest of a dotted quad, or nothing, a digit, a colon, ``::``, ``:0``,
    ``0::``.  (The test suite checks this against every prefix of random addresses.)
    """
    last = prefix.rsplit(b":", 1)[-1]
    if b"." in last:
        dot = b"0" if prefix.endswith(b".") else b""
        return _ipv6_ok(prefix + dot + b".0" * (3 - last.count(b".")))
    return any(_ipv6_ok(prefix + end) for end in (b"", b"0", b":", b"::", b":0", b"0::"))


def _leading_zero(quad: bytes) -> int:
    """Where a (partial) dotted quad first has an octet with a leading zero; -1 if none.

    Some C libraries' ``inet_pton`` accept ``01``; section 2.1 does not.  The first
    octet could still have been a hexadecimal group until its dot arrived.
    """
    octets = quad.split(b".")
    if len(octets[0]) > 1 and octets[0][0] == 0x30:
        return len(octets[0])
    start = len(octets[0]) + 1
    for octet in octets[1:]:
        if len(octet) > 1 and octet[0] == 0x30:
            return start + 1
        start += len(octet) + 1
    return -1


def _bad_ipv6(token: bytes, complete: bool) -> int:
    """Where ``token`` stops being (a prefix of) IPv6 text; -1 if it is fine.

    Section 2.1 allows hexadecimal groups of either case and one ``::``; a dotted IPv4
    tail is accepted too, because senders print IPv4-mapped addresses that way
    (``::ffff:127.0.0.1``, what ``inet_ntop`` writes and HAProxy sends), and it must be a
    canonical dotted quad whatever the C library's ``inet_pton`` allows.
    """
    colon = token.rfind(b":")
    tail = token[colon + 1 :]
    if complete and _ipv6_ok(token) and (b"." not in tail or _IPV4.fullmatch(tail)):
        return -1
    bad = []
    for i, byte in enumerate(token):
        if byte not in _IPV6_BYTES or i == _IPV6_MAX:
            bad.append(i)
            break
    usable = token[: bad[0]] if bad else token  # which may be wrong earlier still
    colon = usable.rfind(b":")
    zero = _leading_zero(usable[colon + 1 :]) if b"." in usable[colon + 1 :] else -1
    if zero >= 0:
        bad.append(colon + 1 + zero)
    if not _viable(usable):  # the first byte after which no IPv6 text can follow
        low, high = 0, len(usable)  # usable[:low] is viable, usable[:high] is not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _viable(usable[:middle]) else (low, middle)
        bad.append(high - 1)
    if bad:
        return min(bad)
    return len(token) if complete and not _ipv6_ok(token) else -1


def _error(message: str, window: bytes, position: int) -> HeaderError:
    return HeaderError(f"PROXY v1: {message}", window.decode("latin-1"), position)


def parse_line(window: bytes) -> Optional[Line]:
    """Parse the v1 line at the start of ``window`` (at most :data:`MAX_LENGTH` bytes).

    ``window`` starts with ``PROXY`` and a space.  Returns ``None`` while the bytes so far can
    still become a valid line, and raises :class:`HeaderError` as soon as they cannot.
    """
    end = window.find(b"\r\n")
    line = window if end < 0 else window[:end]
    # A CR at the end can only be followed by the LF that ends the line: judge the line
    # as complete already, and wait for the LF only if it is valid.
    pending = end < 0 and line.endswith(b"\r")
    if pending:
        line = line[:-1]
    # Any other CR or LF can never end the line ("the receiver must not tolerate a single
    # CR or LF character to end the line", section 2.1), not even after UNKNOWN.
    stray = min((i for i in (line.find(b"\r"), line.find(b"\n")) if i >= 0), default=-1)
    if stray >= 0:
        # An earlier error is reported first; the bytes before a CR must be a whole line,
        # and the CR itself is wrong only once something other than LF follows it.
        cr = line[stray] == 0x0D
        _check(line[:stray], cr, window)
        raise _error("a CR or LF that is not a CRLF", window, stray + cr)
    _check(line, end >= 0 or pending, window)
    if end < 0:
        if len(window) >= MAX_LENGTH:
            raise _error(f"no CRLF within the first {MAX_LENGTH} bytes", window, MAX_LENGTH - 1)
        return None
    protocol = line[6:10]
    if protocol not in (b"TCP4", b"TCP6"):
        return Line(end + 2, "UNSPEC", None, None, None, None)
    source, destination, source_port, destination_port = line[11:].split(b" ")
    if protocol == b"TCP4":  # canonical already: _bad_ipv4 accepts nothing else
        source_text, destination_text = source.decode("ascii"), destination.decode("ascii")
    else:
        source_text = canonical(inet_pton(AF_INET6, source.decode("ascii")))
        destination_text = canonical(inet_pton(AF_INET6, destination.decode("ascii")))
    family = "INET" if protocol == b"TCP4" else "INET6"
    return Line(
        end + 2, family, source_text, destination_text, int(source_port), int(destination_port)
    )


def common(a: bytes, b: bytes) -> int:
    """The length of the longest common prefix of two byte strings."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _check(line: bytes, complete: bool, window: bytes) -> None:
    """Raise unless ``line`` (a CRLF-less line if ``complete``) is or starts a valid line."""
    protocol_end = line.find(b" ", 6)
    protocol = line[6:] if protocol_end < 0 else line[6:protocol_end]
    whole = protocol_end >= 0 or complete
    if protocol not in _PROTOCOLS:
        if whole or not any(name.startswith(protocol) for name in _PROTOCOLS):
            known = max(common(name, protocol) for name in _PROTOCOLS)
            raise _error("the protocol is not TCP4, TCP6 or UNKNOWN", window, 6 + known)
    elif protocol == b"UNKNOWN":
        return  # "the receiver must ignore anything presented before the CRLF"
    elif protocol_end >= 0:
        _check_fields(line, protocol_end + 1, protocol == b"TCP4", complete, window)
    elif complete:
        raise _error("the addresses and ports are missing", window, len(line))


_FIELDS = ("source address", "destination address", "source port", "destination port")


def _check_fields(line: bytes, start: int, ipv4: bool, complete: bool, window: bytes) -> None:
    """Check the four fields after the protocol (the last one may be a prefix)."""
    fields = line[start:].split(b" ")
    address = _bad_ipv4 if ipv4 else _bad_ipv6
    for index, field in enumerate(fields):
        if index == 4:
            raise _error("more than four fields after the protocol", window, start - 1)
        whole = complete or index < len(fields) - 1
        bad = address(field, whole) if index < 2 else _bad_port(field, whole)
        if bad >= 0:
            raise _error(f"invalid {_FIELDS[index]}", window, start + bad)
        start += len(field) + 1
    if complete and len(fields) < 4:
        raise _error("an address or port is missing", window, len(line))
