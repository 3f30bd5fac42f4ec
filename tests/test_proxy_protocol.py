"""The sans-IO PROXY protocol parser, ``trustproxy.proxy_protocol``.

Headers are built by the tests' own encoder (``fuzz/proxy_encoder.py``, written from
HAProxy's ``proxy-protocol.txt`` with ``struct``), checked against tables of valid and
invalid vectors, fed a byte at a time, fuzzed with hypothesis through the fuzz harness's
invariants, and compared with what a real HAProxy sends on loopback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import ssl as ssl_module
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustproxy import ConfigError, HeaderError
from trustproxy.proxy_protocol import (
    MAX_LENGTH,
    TLV,
    Parsed,
    ProxyHeader,
    SSLInfo,
    crc32c,
    detect,
    parse,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import invariants
import proxy_encoder as enc
from proxy_encoder import LOCAL, inet, ssl, unix, v1, v2


def canonical(text: str) -> str:
    """What trustproxy prints for an address, by the standard library: compressed IPv6,
    an IPv4-mapped address as IPv4."""
    address = ipaddress.ip_address(text)
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped if mapped is not None else address)


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NO_TLVS: dict[str, Any] = {
    "unix_source": None,
    "unix_destination": None,
    "tlvs": (),
    "alpn": None,
    "authority": None,
    "crc32c": None,
    "unique_id": None,
    "ssl": None,
    "netns": None,
    "aws_vpc_endpoint_id": None,
    "azure_private_link_id": None,
}


def header(
    version: int,
    family: str,
    source: Optional[str] = None,
    source_port: Optional[int] = None,
    destination: Optional[str] = None,
    destination_port: Optional[int] = None,
    *,
    command: str = "PROXY",
    transport: Optional[str] = None,
    **extra: Any,
) -> ProxyHeader:
    """The expected header; TLV fields default to absent."""
    if transport is None:
        transport = "UNSPEC" if family == "UNSPEC" else "STREAM"
    return ProxyHeader(
        version=version,
        command=command,  # type: ignore[arg-type]
        family=family,  # type: ignore[arg-type]
        transport=transport,  # type: ignore[arg-type]
        source=source,
        source_port=source_port,
        destination=destination,
        destination_port=destination_port,
        **{**NO_TLVS, **extra},
    )


# --- valid headers ------------------------------------------------------------------------

SSL_SUBS = [
    (0x21, b"TLSv1.3"),
    (0x22, "client.exämple".encode()),
    (0x23, b"TLS_AES_128_GCM_SHA256"),
    (0x24, b"SHA256"),
    (0x25, b"RSA2048"),
]
ALL_TLVS = [
    (0x01, b"h2"),
    (0x02, b"app.example"),
    (0x04, b"\0\0\0"),
    (0x05, b"x" * 128),
    (0x20, ssl(0x07, 0, SSL_SUBS)),
    (0x30, b"blue"),
    (0xEA, b"\x01vpce-0123456789abcdef0"),
    (0xEE, b"\x01\x78\x56\x34\x12"),
    (0xF0, b"experimental"),
]

VALID: list[tuple[str, bytes, ProxyHeader]] = [
    # Section 2.1's example and its length limits (56, 104, 15 and 107 characters).
    ("v1-spec-example", b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
     header(1, "INET", "192.168.0.1", 56324, "192.168.0.11", 443)),
    ("v1-tcp4-longest", v1("TCP4", "255.255.255.255", "255.255.255.255", 65535, 65535),
     header(1, "INET", "255.255.255.255", 65535, "255.255.255.255", 65535)),
    ("v1-tcp6-longest", v1("TCP6", ":".join(["ffff"] * 8), ":".join(["FFFF"] * 8), 65535, 65535),
     header(1, "INET6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535)),
    ("v1-unknown-short", b"PROXY UNKNOWN\r\n", header(1, "UNSPEC")),
    ("v1-unknown-longest",
     b"PROXY UNKNOWN " + b" ".join([b":".join([b"ffff"] * 8)] * 2) + b" 65535 65535\r\n",
     header(1, "UNSPEC")),
    ("v1-unknown-anything", b"PROXY UNKNOWN \x00 not an address\t!\r\n", header(1, "UNSPEC")),
    ("v1-unknown-space-only", b"PROXY UNKNOWN \r\n", header(1, "UNSPEC")),
    ("v1-port-zero", v1("TCP4", "0.0.0.0", "10.0.0.1", 0, 0),
     header(1, "INET", "0.0.0.0", 0, "10.0.0.1", 0)),
    ("v1-tcp6-canonical", v1("TCP6", "2001:DB8:0:0:0:0:0:1", "fe80::1", 1, 2),
     header(1, "INET6", "2001:db8::1", 1, "fe80::1", 2)),
    ("v1-tcp6-mapped-folded", v1("TCP6", "::ffff:127.0.0.5", "::ffff:7f00:1", 3, 4),
     header(1, "INET6", "127.0.0.5", 3, "127.0.0.1", 4)),
    ("v1-tcp6-unspecified", v1("TCP6", "::", "::1", 5, 6), header(1, "INET6", "::", 5, "::1", 6)),
    ("v2-inet", v2(addresses=inet("203.0.113.9", "127.0.0.1", 4711, 443)),
     header(2, "INET", "203.0.113.9", 4711, "127.0.0.1", 443)),
    ("v2-inet-dgram", v2(transport="DGRAM", addresses=inet("10.1.2.3", "10.3.2.1", 53, 5353)),
     header(2, "INET", "10.1.2.3", 53, "10.3.2.1", 5353, transport="DGRAM")),
    ("v2-inet6", v2(family="INET6", addresses=inet("2001:db8::17", "::1", 1, 65535)),
     header(2, "INET6", "2001:db8::17", 1, "::1", 65535)),
    ("v2-inet6-mapped", v2(family="INET6", addresses=inet("::ffff:10.0.0.1", "::1", 7, 8)),
     header(2, "INET6", "10.0.0.1", 7, "::1", 8)),
    ("v2-inet6-dgram", v2(family="INET6", transport="DGRAM", addresses=inet("::2", "::3", 9, 10)),
     header(2, "INET6", "::2", 9, "::3", 10, transport="DGRAM")),
    ("v2-unix", v2(family="UNIX", addresses=unix(b"/run/lb.sock", b"\0abstract")),
     header(2, "UNIX", unix_source=b"/run/lb.sock", unix_destination=b"\0abstract")),
    ("v2-unix-dgram-unnamed", v2(family="UNIX", transport="DGRAM", addresses=unix(b"", b"/x")),
     header(2, "UNIX", transport="DGRAM", unix_source=b"", unix_destination=b"/x")),
    ("v2-unspec-proxy", v2(family="UNSPEC", transport="UNSPEC"), header(2, "UNSPEC")),
    ("v2-unspec-proxy-tlvs", v2(family="UNSPEC", transport="UNSPEC", tlvs=[(0x02, b"a.example")]),
     header(2, "UNSPEC", tlvs=(TLV(2, b"a.example"),), authority="a.example")),
    ("v2-local", v2(command=LOCAL, family="UNSPEC", transport="UNSPEC"),
     header(2, "UNSPEC", command="LOCAL")),
    # LOCAL: "discard the protocol block including the family": addresses and TLVs,
    # even a wrong CRC, are skipped, never read.
    ("v2-local-with-block",
     v2(command=LOCAL, addresses=inet("10.0.0.1", "10.0.0.2", 1, 2), tlvs=[(0x03, b"nope")]),
     header(2, "INET", command="LOCAL")),
    ("v2-local-short-block", v2(command=LOCAL, family="INET6", addresses=b"\x01\x02"),
     header(2, "INET6", command="LOCAL")),
    ("v2-every-tlv", v2(addresses=inet("10.0.0.1", "10.0.0.2", 1, 2), tlvs=ALL_TLVS),
     header(2, "INET", "10.0.0.1", 1, "10.0.0.2", 2,
            tlvs=tuple(TLV(kind, value) for kind, value in ALL_TLVS),
            alpn=b"h2", authority="app.example", unique_id=b"x" * 128,
            ssl=SSLInfo(0x07, 0, "TLSv1.3", "client.exämple", "TLS_AES_128_GCM_SHA256",
                        "SHA256", "RSA2048", tuple(TLV(k, v) for k, v in SSL_SUBS)),
            netns="blue", aws_vpc_endpoint_id="vpce-0123456789abcdef0",
            azure_private_link_id=0x12345678)),
    ("v2-crc32c", v2(addresses=inet("127.0.0.5", "127.0.0.1", 80, 8080), crc=True),
     header(2, "INET", "127.0.0.5", 80, "127.0.0.1", 8080)),  # tlvs and crc32c: see below
    ("v2-noop-twice-unknown-twice",
     v2(addresses=inet("1.2.3.4", "5.6.7.8", 1, 2),
        tlvs=[(0x04, b""), (0x04, b"pad"), (0xE1, b"a"), (0xE1, b"b")]),
     header(2, "INET", "1.2.3.4", 1, "5.6.7.8", 2,
            tlvs=(TLV(4, b""), TLV(4, b"pad"), TLV(0xE1, b"a"), TLV(0xE1, b"b")))),
    # The vendor range is shared: a value that does not fit AWS's or Azure's form stays
    # raw and gets no name.
    ("v2-vendor-misfits",
     v2(addresses=inet("1.2.3.4", "5.6.7.8", 1, 2),
        tlvs=[(0xEA, b"\x02other"), (0xEA, b"\x01bad id"), (0xEE, b"\x01\x01"), (0xEE, b"")]),
     header(2, "INET", "1.2.3.4", 1, "5.6.7.8", 2,
            tlvs=(TLV(0xEA, b"\x02other"), TLV(0xEA, b"\x01bad id"), TLV(0xEE, b"\x01\x01"),
                  TLV(0xEE, b"")))),
    ("v2-ssl-unknown-sub",
     v2(addresses=inet("1.2.3.4", "5.6.7.8", 1, 2), tlvs=[(0x20, ssl(0, 1, [(0x99, b"?")]))]),
     header(2, "INET", "1.2.3.4", 1, "5.6.7.8", 2,
            tlvs=(TLV(0x20, ssl(0, 1, [(0x99, b"?")])),),
            ssl=SSLInfo(0, 1, None, None, None, None, None, (TLV(0x99, b"?"),)))),
    ("v2-unique-id-empty",
     v2(addresses=inet("1.2.3.4", "5.6.7.8", 1, 2), tlvs=[(0x05, b"")]),
     header(2, "INET", "1.2.3.4", 1, "5.6.7.8", 2, tlvs=(TLV(5, b""),), unique_id=b"")),
]  # fmt: skip


def _expected(name: str, data: bytes, expected: ProxyHeader) -> ProxyHeader:
    if name == "v2-crc32c":  # the checksum depends on the bytes: read it from them
        value = data[-4:]
        return header(2, "INET", "127.0.0.5", 80, "127.0.0.1", 8080,
                      tlvs=(TLV(3, value),), crc32c=int.from_bytes(value, "big"))  # fmt: skip
    return expected


@pytest.mark.parametrize(("name", "data", "expected"), VALID, ids=[v[0] for v in VALID])
def test_valid_header(name: str, data: bytes, expected: ProxyHeader) -> None:
    result = parse(data + b"GET / HTTP/1.1\r\n")
    assert result == Parsed(_expected(name, data, expected), len(data))
    found, consumed = result  # it unpacks
    assert (found, consumed) == (result.header, result.consumed)


@pytest.mark.parametrize(("name", "data", "expected"), VALID, ids=[v[0] for v in VALID])
def test_every_prefix_needs_more_bytes(name: str, data: bytes, expected: ProxyHeader) -> None:
    """A header split over any number of TCP segments: every strict prefix is ``None``
    (never an error, never a header), the whole one parses, and trailing bytes are not
    consumed."""
    for end in range(len(data)):
        assert parse(data[:end]) is None, end
    for trailing in (b"", b"\r\n", b"PROXY TCP4 6.6.6.6 6.6.6.6 1 1\r\n", enc.SIGNATURE):
        result = parse(bytearray(data + trailing))
        assert result is not None and result.consumed == len(data)
        assert result.header == _expected(name, data, expected)


def test_docs_example_runs() -> None:
    """The example on docs/proxy-protocol.md is true."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "proxy-protocol.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/proxy-protocol.md", "exec"), {})


def test_input_types() -> None:
    data = v2(addresses=inet("127.0.0.5", "127.0.0.1", 1, 2))
    expected = parse(data)
    assert expected is not None
    assert parse(bytearray(data)) == parse(memoryview(data)) == expected


def test_second_header_is_left_in_the_stream() -> None:
    """Only one header is read: a second one after it is the connection's data."""
    first = v1("TCP4", "127.0.0.5", "127.0.0.1", 1, 2)
    second = v2(addresses=inet("6.6.6.6", "6.6.6.6", 6, 6))
    result = parse(first + second)
    assert result is not None and result.consumed == len(first)
    assert result.header.source == "127.0.0.5"


# --- invalid headers ----------------------------------------------------------------------

BLOCK = inet("10.0.0.1", "10.0.0.2", 1, 2)


def _v2_with(*tlvs: tuple[int, bytes]) -> bytes:
    return v2(addresses=BLOCK, tlvs=tlvs)


def _bad_crc() -> bytes:
    good = v2(addresses=BLOCK, crc=True)
    return good[:-1] + bytes([good[-1] ^ 1])


# (id, bytes, position of the error, words of the message).  The position is also where
# the parser decides: the bytes up to and including it are already refused.
INVALID: list[tuple[str, bytes, int, str]] = [
    ("crlf-then-http", b"\r\nGET / HTTP/1.1\r\n", 2, "not a PROXY protocol header"),
    ("http", b"GET / HTTP/1.1\r\n", 0, "not a PROXY protocol header"),
    ("tls", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, "not a PROXY"),
    ("lower-case", b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0, "not a PROXY"),
    ("no-space", b"PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 5, "not a PROXY"),
    ("v1-protocol", b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 9, "protocol"),
    ("v1-protocol-case", b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", 6, "protocol"),
    ("v1-udp", b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 7, "protocol"),
    ("v1-double-space", b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 11, "source address"),
    ("v1-double-space-first", b"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6, "protocol"),
    ("v1-tab", b"PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", 10, "protocol"),
    ("v1-leading-zero-octet", v1("TCP4", "01.2.3.4", "5.6.7.8", 1, 2), 12, "source address"),
    ("v1-octet-256", v1("TCP4", "1.2.3.256", "5.6.7.8", 1, 2), 19, "source address"),
    ("v1-three-octets", v1("TCP4", "1.2.3", "5.6.7.8", 1, 2), 16, "source address"),
    ("v1-five-octets", v1("TCP4", "1.2.3.4.5", "5.6.7.8", 1, 2), 18, "source address"),
    ("v1-hex-ipv4", v1("TCP4", "0x7f.0.0.1", "5.6.7.8", 1, 2), 12, "source address"),
    ("v1-integer-ipv4", v1("TCP4", "2130706433", "5.6.7.8", 1, 2), 14, "source address"),
    ("v1-empty-octet", v1("TCP4", "1..3.4", "5.6.7.8", 1, 2), 13, "source address"),
    ("v1-ipv6-in-tcp4", v1("TCP4", "::1", "5.6.7.8", 1, 2), 11, "source address"),
    ("v1-ipv4-in-tcp6", v1("TCP6", "1.2.3.4", "::1", 1, 2), 12, "source address"),
    ("v1-ipv6-bracketed", v1("TCP6", "[::1]", "::1", 1, 2), 11, "source address"),
    ("v1-ipv6-zone", v1("TCP6", "fe80::1%eth0", "::1", 1, 2), 18, "source address"),
    ("v1-ipv6-two-doubles", v1("TCP6", "1::2::3", "::1", 1, 2), 16, "source address"),
    ("v1-ipv6-triple-colon", v1("TCP6", "1:::3", "::1", 1, 2), 14, "source address"),
    ("v1-ipv6-long-group", v1("TCP6", "12345::1", "::1", 1, 2), 15, "source address"),
    ("v1-ipv6-nine-groups", v1("TCP6", "1:2:3:4:5:6:7:8:9", "::1", 1, 2), 26, "source address"),
    ("v1-ipv6-bad-tail", v1("TCP6", "::ffff:1.2.3.04", "::1", 1, 2), 25, "source address"),
    ("v1-ipv6-tail-not-last", v1("TCP6", "::1.2.3.4:5", "::1", 1, 2), 20, "source address"),
    # Found by fuzz_proxy_protocol.py: a wrong byte further on hid an earlier one.
    ("v1-ipv6-dot-first", b"PROXY TCP6 .=.0.1 ::1 1 2\r\n", 11, "source address"),
    ("v1-ipv6-five-digits-then-nul", b"PROXY TCP6 ::ffff2\x00 ::1 1 2\r\n", 17, "source address"),
    ("v1-ipv6-bad-quad-then-junk", b"PROXY TCP6 ::ffff:524.0.0.1R ::1 1 2\r\n", 21, "source"),
    ("v1-port-leading-zero", v1("TCP4", "1.2.3.4", "5.6.7.8", "01", 2), 28, "source port"),
    ("v1-port-65536", v1("TCP4", "1.2.3.4", "5.6.7.8", 65536, 2), 31, "source port"),
    ("v1-port-six-digits", v1("TCP4", "1.2.3.4", "5.6.7.8", 1, 100000), 34, "destination port"),
    ("v1-port-sign", v1("TCP4", "1.2.3.4", "5.6.7.8", "+1", 2), 27, "source port"),
    ("v1-port-negative", v1("TCP4", "1.2.3.4", "5.6.7.8", 1, -2), 29, "destination port"),
    ("v1-port-missing", b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 28, "missing"),
    ("v1-addresses-missing", b"PROXY TCP4\r\n", 10, "missing"),
    ("v1-extra-field", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 30, "more than four"),
    ("v1-trailing-space", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 30, "more than four"),
    ("v1-lf-only", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 30, "CR or LF"),
    ("v1-cr-only", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", 31, "CR or LF"),
    ("v1-unknown-lf", b"PROXY UNKNOWN\n\r\n", 13, "CR or LF"),
    ("v1-unknown-cr", b"PROXY UNKNOWN x\ry\r\n", 16, "CR or LF"),
    ("v1-unknown-glued", b"PROXY UNKNOWNX\r\n", 13, "protocol"),
    ("v1-unknown-no-crlf", b"PROXY UNKNOWN " + b"x" * 200, 106, "no CRLF within the first 107"),
    ("v1-crlf-at-108", b"PROXY UNKNOWN " + b"x" * 92 + b"\r\n", 106, "no CRLF"),
    ("v1-nul", b"PROXY TCP4 1.2.3.4\x00 5.6.7.8 1 2\r\n", 18, "source address"),
    ("v2-signature", enc.SIGNATURE[:11] + b"X" + bytes(4), 11, "not a PROXY"),
    ("v2-version-1", v2(addresses=BLOCK, version=1), 12, "version/command"),
    ("v2-version-3", v2(addresses=BLOCK, version=3), 12, "version/command"),
    ("v2-command-2", enc.SIGNATURE + b"\x22\x11\x00\x0c" + BLOCK, 12, "version/command"),
    ("v2-command-f", enc.SIGNATURE + b"\x2f\x11\x00\x0c" + BLOCK, 12, "version/command"),
    ("v2-family-4", v2(addresses=BLOCK, family_byte=0x41), 13, "family/transport"),
    ("v2-transport-3", v2(addresses=BLOCK, family_byte=0x13), 13, "family/transport"),
    ("v2-inet-transport-unspec", v2(addresses=BLOCK, family_byte=0x10), 13, "family/transport"),
    ("v2-unspec-stream", v2(family_byte=0x01), 13, "family/transport"),
    ("v2-local-family-bad", v2(command=LOCAL, family_byte=0x44), 13, "family/transport"),
    ("v2-inet-short", v2(addresses=BLOCK[:11]), 14, "too short for INET"),
    ("v2-inet6-short", v2(family="INET6", addresses=bytes(35)), 14, "too short for INET6"),
    ("v2-unix-short", v2(family="UNIX", addresses=bytes(215)), 14, "too short for UNIX"),
    ("v2-over-max-length", v2(addresses=BLOCK, length=MAX_LENGTH - 15), 14, "announces 4097"),
    ("v2-largest-length", v2(addresses=BLOCK, length=0xFFFF), 14, "announces 65551"),
    ("v2-tlv-cut-short", v2(addresses=BLOCK + b"\x01\x00"), 28, "cut short"),
    ("v2-tlv-one-byte", v2(addresses=BLOCK + b"\x04"), 28, "cut short"),
    ("v2-tlv-overrun", v2(addresses=BLOCK + b"\x04\x00\x05abcd"), 29, "overruns"),
    ("v2-tlv-overrun-huge", v2(addresses=BLOCK + b"\x04\xff\xff"), 29, "overruns"),
    ("v2-ssl-sub-overrun", _v2_with((0x20, ssl(1, 0) + b"\x21\x00\x09TLSv1.3")), 37, "overruns"),
    ("v2-ssl-sub-cut", _v2_with((0x20, ssl(1, 0) + b"\x21")), 36, "cut short"),
    ("v2-ssl-short", _v2_with((0x20, b"\x01\x00\x00\x00")), 29, "shorter than"),
    ("v2-ssl-empty-last", _v2_with((0x20, b"")), 29, "shorter than"),  # found by the fuzzer
    ("v2-crc-mismatch", _bad_crc(), 31, "CRC32C does not match"),
    ("v2-crc-length", _v2_with((0x03, b"\x00\x00\x00")), 29, "not 4 bytes"),
    ("v2-unique-id-129", _v2_with((0x05, b"u" * 129)), 29, "over 128"),
    ("v2-authority-not-utf8", _v2_with((0x02, b"ok\xff")), 33, "not utf-8"),
    ("v2-authority-control", _v2_with((0x02, b"a\nb")), 32, "control character"),
    ("v2-netns-not-ascii", _v2_with((0x30, "né".encode())), 32, "not ascii"),
    ("v2-ssl-version-del", _v2_with((0x20, ssl(1, 0, [(0x21, b"TLS\x7f")]))), 42, "control"),
    (
        "v2-ssl-cn-c1-control",
        _v2_with((0x20, ssl(1, 0, [(0x22, "é\x85".encode())]))),
        41,
        "control",
    ),
    ("v2-ssl-cn-bad-utf8", _v2_with((0x20, ssl(1, 0, [(0x22, b"\xc3")]))), 39, "not utf-8"),
    ("v2-alpn-twice", _v2_with((0x01, b"h2"), (0x01, b"http/1.1")), 33, "appears twice"),
    ("v2-authority-twice", _v2_with((0x02, b"a"), (0x02, b"b")), 32, "appears twice"),
    ("v2-crc-twice", v2(addresses=BLOCK, tlvs=[(0x03, bytes(4))], crc=True), 35, "twice"),
    ("v2-ssl-twice", _v2_with((0x20, ssl(0, 0)), (0x20, ssl(0, 0))), 36, "appears twice"),
    ("v2-ssl-sub-twice", _v2_with((0x20, ssl(1, 0, [(0x23, b"A"), (0x23, b"B")]))), 40, "twice"),
    ("v2-aws-twice", _v2_with((0xEA, b"\x01vpce-1"), (0xEA, b"\x01vpce-2")), 38, "twice"),
    ("v2-azure-twice", _v2_with((0xEE, b"\x01\0\0\0\1"), (0xEE, b"\x01\0\0\0\2")), 36, "twice"),
]


@pytest.mark.parametrize(
    ("name", "data", "position", "words"), INVALID, ids=[i[0] for i in INVALID]
)
def test_invalid_header(name: str, data: bytes, position: int, words: str) -> None:
    with pytest.raises(HeaderError, match=words) as caught:
        parse(data + b"GET / HTTP/1.1\r\n\r\n")
    assert caught.value.position == position
    assert 0 <= caught.value.position < len(caught.value.text)


@pytest.mark.parametrize(
    ("name", "data", "position", "words"), INVALID, ids=[i[0] for i in INVALID]
)
def test_invalid_header_refused_early(name: str, data: bytes, position: int, words: str) -> None:
    """Shorter prefixes need more bytes; the refusal comes as soon as it is certain.

    For version 1 and the 16 fixed bytes of version 2 that is the offending byte itself;
    for the addresses and TLVs of version 2, the last byte the header announced (the
    specification: "must not start to parse an address before the whole address block
    is received").  A byte later, or with more bytes, it is still refused.
    """
    if data[:1] != b"\r" or position < 14:
        decided = position + 1
    else:  # the length field needs both its bytes; the body is read once complete
        decided = 16 if position < 16 else _v2_total(data)
    for end in range(decided):
        assert parse(data[:end]) is None, end
    for end in (decided, decided + 1, len(data)):
        with pytest.raises(HeaderError, match=words):
            parse(data[:end])


def _v2_total(data: bytes) -> int:
    return 16 + int.from_bytes(data[14:16], "big")


def test_error_keeps_text_and_position() -> None:
    with pytest.raises(HeaderError) as caught:
        parse(b"PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n")
    error = caught.value
    assert error.text == "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n"
    assert error.text[error.position] == "8"
    assert "at character 26" in str(error) and "destination address" in str(error)


def test_max_length() -> None:
    big = v2(addresses=BLOCK, tlvs=[(0x04, bytes(5000))])
    with pytest.raises(HeaderError, match="announces 5031 bytes, over 4096"):
        parse(big)
    result = parse(big, max_length=len(big))
    assert result is not None and result.consumed == 5031
    with pytest.raises(HeaderError, match="over 5030"):
        parse(big, max_length=len(big) - 1)
    largest = v2(addresses=BLOCK, tlvs=[(0x04, bytes(0xFFFF - 12 - 3))])
    assert len(largest) == 16 + 0xFFFF
    result = parse(largest, max_length=16 + 0xFFFF)
    assert result is not None and result.consumed == len(largest)


@pytest.mark.parametrize("bad", [0, 231, 65552, -1])
def test_max_length_out_of_range_is_config_error(bad: int) -> None:
    with pytest.raises(ConfigError, match=f"max_length={bad}: choose 232 to 65551"):
        parse(b"PROXY UNKNOWN\r\n", max_length=bad)


def test_max_length_bounds_accepted() -> None:
    for limit in (232, 65551):
        result = parse(v2(family="UNIX", addresses=unix(b"/a", b"/b")), max_length=limit)
        assert result is not None and result.consumed == 232


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", None),
        (b"P", None),
        (b"PROXY", None),
        (b"PROXY ", 1),
        (b"PROXY TCP4", 1),
        (b"PROXYX", 0),
        (b"\r\n\r\n\x00", None),
        (enc.SIGNATURE, 2),
        (enc.SIGNATURE + b"\x99", 2),  # only the signature is looked at
        (b"\r\n\r\n\x01", 0),
        (b"GET ", 0),
        (b"\x16\x03\x01", 0),
    ],
)
def test_detect(data: bytes, expected: Optional[int]) -> None:
    assert detect(data) == expected


def test_repr_is_readable() -> None:
    result = parse(v2(addresses=inet("127.0.0.5", "127.0.0.1", 1, 2), tlvs=[(0x02, b"a")]))
    assert result is not None
    assert repr(result.header) == (
        "ProxyHeader(version=2, command='PROXY', family='INET', transport='STREAM', "
        "source='127.0.0.5', source_port=1, destination='127.0.0.1', destination_port=2, "
        "tlvs=(TLV(type=2, value=b'a'),), authority='a')"
    )


def test_results_are_frozen_and_slotted() -> None:
    result = parse(v2(addresses=BLOCK, tlvs=[(0x20, ssl(1, 0))]))
    assert result is not None
    for value in (result.header, result.header.tlvs[0], result.header.ssl):
        assert not hasattr(value, "__dict__")
        with pytest.raises(AttributeError):
            value.version = 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("client", "verify", "tls", "verified"),
    [
        (0x00, 0, False, False),
        (0x01, 0, True, False),  # TLS, no certificate: HAProxy still sends verify 0
        (0x03, 0, True, True),
        (0x05, 0, True, True),
        (0x03, 20, True, False),  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    ],
)
def test_ssl_flags(client: int, verify: int, tls: bool, verified: bool) -> None:
    info = SSLInfo(client, verify, None, None, None, None, None, ())
    assert (info.tls, info.verified) == (tls, verified)


# --- CRC32C -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # RFC 3720 Appendix B.4.
        (bytes(32), 0x8A9136AA),
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
        # The "check" value of the CRC-32C parameter set.
        (b"123456789", 0xE3069283),
        (b"", 0),
    ],
)
def test_crc32c_known_answers(data: bytes, expected: int) -> None:
    assert crc32c(data) == expected
    assert enc.reference_crc32c(data) == expected


@FAST
@given(st.binary(max_size=300), st.integers(0, 300))
def test_crc32c_matches_bitwise_definition_and_continues(data: bytes, split: int) -> None:
    assert crc32c(data) == enc.reference_crc32c(data)
    assert crc32c(data[split:], crc32c(data[:split])) == crc32c(data)


# --- properties ---------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_header_error(data: bytes) -> None:
    """On any bytes, parse returns None or a header or raises HeaderError (the fuzz
    harness's invariants: errors are final, results canonical and re-encodable)."""
    invariants.check_proxy_protocol(data)
    invariants.check_proxy_header(data)


octet = st.integers(0, 255)
ipv4 = st.builds(lambda *parts: ".".join(map(str, parts)), octet, octet, octet, octet)
ipv6 = st.ip_addresses(v=6).map(str)
port = st.integers(0, 65535)
text_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
known_tlv = st.one_of(
    st.tuples(st.just(0x01), st.binary(max_size=20)),
    st.tuples(st.just(0x02), st.text(max_size=30).filter(str.isprintable).map(str.encode)),
    st.tuples(st.just(0x05), st.binary(max_size=128)),
    st.tuples(st.just(0x30), text_value.map(str.encode)),
    st.tuples(st.just(0x20), st.builds(
        lambda client, verify, subs: ssl(client, verify, subs),
        octet, st.integers(0, 2**32 - 1),
        st.lists(st.tuples(st.integers(0x21, 0x25), text_value.map(str.encode)),
                 max_size=5, unique_by=lambda sub: sub[0]))),
)  # fmt: skip
any_tlv = st.one_of(
    st.tuples(st.sampled_from([0x04, 0x10, 0xE0, 0xEA, 0xEE, 0xF7, 0xFF]), st.binary(max_size=30)),
)


@st.composite
def v2_headers(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    family = draw(st.sampled_from(["INET", "INET6", "UNSPEC"]))
    transport = "UNSPEC" if family == "UNSPEC" else draw(st.sampled_from(["STREAM", "DGRAM"]))
    expected: dict[str, Any] = {"family": family, "transport": transport}
    addresses = b""
    if family != "UNSPEC":
        address = ipv4 if family == "INET" else ipv6
        source, destination = draw(address), draw(address)
        source_port, destination_port = draw(port), draw(port)
        addresses = inet(source, destination, source_port, destination_port)
        expected.update(source=source, destination=destination, source_port=source_port,
                        destination_port=destination_port)  # fmt: skip
    known = draw(st.lists(known_tlv, max_size=5, unique_by=lambda item: item[0]))
    others = draw(st.lists(any_tlv, max_size=4))
    tlvs = draw(st.permutations(known + others))
    crc = draw(st.booleans())
    expected["tlvs"] = tlvs
    return v2(family=family, transport=transport, addresses=addresses, tlvs=tlvs,
              crc=crc), expected  # fmt: skip


@FAST
@given(v2_headers(), st.binary(max_size=20))
def test_round_trip_v2(generated: tuple[bytes, dict[str, Any]], trailing: bytes) -> None:
    """Headers written by the encoder read back with the values put in."""
    data, expected = generated
    result = parse(data + trailing)
    assert result is not None and result.consumed == len(data)
    header_ = result.header
    tlvs = expected.pop("tlvs")
    for name, value in expected.items():
        if name in ("source", "destination"):
            value = canonical(value)
        assert getattr(header_, name) == value, name
    received = [(item.type, item.value) for item in header_.tlvs]
    assert received[: len(tlvs)] == tlvs  # in order, the CRC32C TLV (if any) last
    assert len(received) == len(tlvs) + (header_.crc32c is not None)
    by_type = {item.type: item.value for item in header_.tlvs}
    if 0x02 in by_type:
        assert header_.authority == by_type[0x02].decode()
    if 0x05 in by_type:
        assert header_.unique_id == by_type[0x05]
    if 0x30 in by_type:
        assert header_.netns == by_type[0x30].decode()
    if 0x03 in by_type:
        assert header_.crc32c == int.from_bytes(by_type[0x03], "big")
    assert (header_.ssl is None) == (0x20 not in by_type)
    invariants.check_proxy_header(data + trailing)


@FAST
@given(
    st.sampled_from(["TCP4", "TCP6"]).flatmap(
        lambda protocol: st.tuples(
            st.just(protocol),
            ipv4 if protocol == "TCP4" else ipv6,
            ipv4 if protocol == "TCP4" else ipv6,
            port,
            port,
        )
    ),
    st.binary(max_size=20),
)
def test_round_trip_v1(fields: tuple[str, str, str, int, int], trailing: bytes) -> None:
    protocol, source, destination, source_port, destination_port = fields
    data = v1(protocol, source, destination, source_port, destination_port)
    result = parse(data + trailing)
    assert result is not None and result.consumed == len(data) <= 107
    assert result.header.source == canonical(source)
    assert result.header.destination == canonical(destination)
    assert (result.header.source_port, result.header.destination_port) == (
        source_port,
        destination_port,
    )
    invariants.check_proxy_header(data + trailing)


v1_like = st.builds(
    lambda protocol, rest, end: b"PROXY " + protocol + rest + end,
    st.sampled_from([b"TCP4 ", b"TCP6 ", b"UNKNOWN", b"UNKNOWN ", b"TCP", b"T"]),
    st.text("0123456789abcdefABCDEF:. \r\n", max_size=110).map(str.encode),
    st.sampled_from([b"", b"\r\n", b"\r"]),
)
v1_fields = st.builds(
    lambda a, b, c, d: f"{a} {b} {c} {d}".encode(),
    st.one_of(ipv6, st.text("0123456789abcdef:.", max_size=20)),
    ipv6,
    st.one_of(port, st.text("0123456789", min_size=1, max_size=6)),
    port,
)


@FAST
@given(st.one_of(v1_like, v1_fields.map(lambda fields: b"PROXY TCP6 " + fields + b"\r\n")))
def test_v1_errors_are_precise(data: bytes) -> None:
    """A version 1 error is raised at the byte that makes the line invalid, and the bytes
    before it are still a valid start (the fuzz invariants, on v1-like lines)."""
    invariants.check_proxy_header(data)


def ipv6_spellings(address: ipaddress.IPv6Address) -> list[str]:
    """Ways senders write one IPv6 address: compressed, exploded, upper case, without
    leading zeros, and with the last 32 bits as a dotted quad."""
    groups = [f"{word:x}" for word in struct.unpack("!8H", address.packed)]
    quad = str(ipaddress.IPv4Address(address.packed[12:]))
    return [
        str(address),
        address.exploded,
        address.exploded.upper(),
        ":".join(groups),
        ":".join(groups[:6]) + ":" + quad,
    ]


@FAST
@given(st.ip_addresses(v=6), st.ip_addresses(v=6))
def test_v1_ipv6_every_spelling_every_prefix(
    source: ipaddress.IPv6Address, destination: ipaddress.IPv6Address
) -> None:
    """Every prefix of a TCP6 line, however the address is written, needs more bytes
    (none is refused early), and the whole line reads the canonical address."""
    for spelling in ipv6_spellings(source):
        data = v1("TCP6", spelling, destination, 1, 2)
        try:
            expected = canonical(spelling)
        except ValueError:
            continue  # a spelling this helper got wrong, not the parser's business
        for end in range(len(data)):
            assert parse(data[:end]) is None, (spelling, end)
        result = parse(data)
        assert result is not None and result.header.source == expected, spelling


@FAST
@given(st.text("0123456789abcdefABCDEF:.", max_size=46))
def test_v1_ipv6_agrees_with_ipaddress(text: str) -> None:
    """A TCP6 source address is accepted exactly when the standard library's ``ipaddress``
    accepts it (which refuses zone ids and leading zeros in a dotted quad too), and then
    in the same canonical form."""
    data = v1("TCP6", text, "::1", 1, 2)
    try:
        expected: Optional[str] = canonical(str(ipaddress.IPv6Address(text)))
    except ValueError:
        expected = None
    try:
        result = parse(data)
    except HeaderError as error:
        assert expected is None, (text, error)
        return
    assert result is not None and result.header.source == expected


def test_fuzz_seeds_keep_the_invariants() -> None:
    """The committed seed corpus of fuzz_proxy_protocol.py holds valid headers of every
    kind (most of its seeds parse), and each keeps the harness's invariants."""
    seeds = sorted(
        (Path(__file__).resolve().parent.parent / "fuzz" / "corpus" / "proxy_protocol").iterdir()
    )
    parsed = []
    for seed in seeds:
        data = seed.read_bytes()
        invariants.check_proxy_protocol(data)
        try:
            result = parse(invariants.proxy_input(data))
        except HeaderError:
            continue
        if result is not None:
            parsed.append((result.header.version, result.header.family, result.header.command))
    assert len(seeds) >= 10
    assert {(1, "INET", "PROXY"), (1, "INET6", "PROXY"), (1, "UNSPEC", "PROXY"),
            (2, "INET", "PROXY"), (2, "INET6", "PROXY"), (2, "UNIX", "PROXY"),
            (2, "UNSPEC", "LOCAL")} <= set(parsed)  # fmt: skip


# --- bounded work -------------------------------------------------------------------------


class Counting(bytes):
    """Received bytes that record every index and slice the parser reads."""

    reads: list[int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
            self.reads.append(max(start, stop))
        else:
            self.reads.append(key + 1)
        return super().__getitem__(key)


def counting(data: bytes) -> Counting:
    value = Counting(data)
    value.reads = []
    return value


@pytest.mark.parametrize("junk", [0, 200, 10_000_000], ids=["107-bytes", "307-bytes", "10-MB"])
def test_v1_without_crlf_refused_at_107_bytes(junk: int) -> None:
    """A line without CRLF is refused once 107 bytes are in, and nothing past them is
    read, however much the peer sends (section 2.1: "If the CRLF sequence is not found in
    the first 107 characters, the receiver should declare the line invalid")."""
    line = b"PROXY UNKNOWN " + b"x" * 93
    assert len(line) == 107
    assert parse(line[:106]) is None
    data = counting(line + b"y" * junk)
    with pytest.raises(HeaderError, match="no CRLF within the first 107 bytes"):
        parse(data)
    assert data.reads and max(data.reads) <= 107
    assert len(data.reads) <= 3  # the fixed part, the line: no scanning per byte


@pytest.mark.parametrize("junk", [0, 10_000_000], ids=["header-only", "10-MB-after"])
def test_v2_reads_only_its_announced_length(junk: int) -> None:
    good = v2(addresses=BLOCK, tlvs=[(0x04, bytes(300))], crc=True)
    data = counting(good + b"z" * junk)
    result = parse(data)
    assert result is not None and result.consumed == len(good)
    assert max(data.reads) <= len(good) and len(data.reads) <= 3


def test_v2_oversized_length_refused_after_16_bytes() -> None:
    data = counting(v2(addresses=BLOCK, length=0xFFFF) + bytes(70_000))
    with pytest.raises(HeaderError, match="announces 65551"):
        parse(data)
    assert max(data.reads) <= 16


def test_v2_many_tiny_tlvs_stay_within_max_length() -> None:
    """The worst a sender can do within the bound: as many empty TLVs as fit, and a CRC
    over all of it; the stream after the header is never looked at."""
    many = v2(addresses=BLOCK, tlvs=[(0x04, b"")] * ((MAX_LENGTH - 28 - 7) // 3), crc=True)
    assert len(many) <= MAX_LENGTH
    result = parse(many + bytes(1_000_000))
    assert result is not None and result.consumed == len(many)
    assert len(result.header.tlvs) == (MAX_LENGTH - 28 - 7) // 3 + 1


# --- HAProxy, for real --------------------------------------------------------------------


class Capture:
    """A loopback listener that records the first bytes of every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.done = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        data = b""
        conn.settimeout(5)
        with conn:
            while not data.endswith(b"."):
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
        with self.done:
            self.received.append(data)
            self.done.notify_all()

    def wait_for(self, wanted: Callable[[bytes], bool], timeout: float = 10) -> bytes:
        """The bytes of the first connection that are ``wanted``."""
        with self.done:
            self.done.wait_for(lambda: any(wanted(data) for data in self.received), timeout)
            found = [data for data in self.received if wanted(data)]
        assert found, "no such connection reached the app side"
        return found[0]

    def close(self) -> None:
        self.sock.close()


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


HAPROXY_CFG = """\
global
    log stderr format short local0 warning
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend v1
    bind 127.0.0.1:{v1}
    bind ipv6@::1:{v1_6}
    default_backend send_v1
frontend v2
    bind 127.0.0.1:{v2}
    bind ipv6@::1:{v2_6}
    unique-id-format conn-%ci-%cp
    default_backend send_v2
frontend v2_tls
    bind 127.0.0.1:{tls} ssl crt {pem}
    unique-id-format tls-%cp
    default_backend send_v2
frontend checks
    bind 127.0.0.1:{checks}
    default_backend checked
backend send_v1
    server app 127.0.0.1:{app} send-proxy
backend checked
    server app 127.0.0.1:{app} send-proxy-v2 {check}
backend send_v2
    server app 127.0.0.1:{app} send-proxy-v2 proxy-v2-options {options}
"""
# Everything HAProxy 2.6 can put in a version 2 header (its configuration manual).
HAPROXY_V2_OPTIONS = "authority,crc32c,unique-id,ssl,ssl-cipher,cert-sig,cert-key"
# Health checks that send the PROXY header too (a version 2 LOCAL one), five a second.
HAPROXY_CHECK = "proxy-v2-options crc32c check check-send-proxy inter 200ms"


class HAProxy(NamedTuple):
    ports: dict[str, int]
    capture: Capture
    ca: Path


@pytest.fixture(scope="module")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HAProxy]:
    """HAProxy on loopback in TCP mode, sending PROXY headers to a :class:`Capture`."""
    binary = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/bin")
    if binary is None:
        _missing("haproxy is not installed (scripts/test installs it with apt-get)")
    try:
        import trustme
    except ImportError:
        _missing("trustme is not installed (pip install -e '.[asgi]')")
    work = tmp_path_factory.mktemp("haproxy")
    ca = trustme.CA()
    pem = work / "both.pem"
    ca.issue_cert("app.example").private_key_and_cert_chain_pem.write_to_path(str(pem))
    (work / "ca.pem").write_bytes(ca.cert_pem.bytes())
    capture = Capture()
    ports = {"v1": _free_port("127.0.0.1"), "v1_6": _free_port("::1"),
             "v2": _free_port("127.0.0.1"), "v2_6": _free_port("::1"),
             "tls": _free_port("127.0.0.1"), "checks": _free_port("127.0.0.1")}  # fmt: skip
    config = work / "haproxy.cfg"
    config.write_text(
        HAPROXY_CFG.format(
            **ports, pem=pem, app=capture.port, options=HAPROXY_V2_OPTIONS, check=HAPROXY_CHECK
        )
    )
    log_path = work / "haproxy.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while not all(_listening(port, name) for name, port in ports.items()):
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "HAProxy did not start"
                time.sleep(0.05)
            yield HAProxy(ports, capture, work / "ca.pem")
        finally:
            process.terminate()
            process.wait(10)
            capture.close()


def _missing(why: str) -> NoReturn:
    """In CI a missing tool is a failure, not a skip (as in tests/e2e)."""
    if os.environ.get("CI"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def _listening(port: int, name: str) -> bool:
    host = "::1" if name.endswith("_6") else "127.0.0.1"
    with socket.socket(socket.AF_INET6 if name.endswith("_6") else socket.AF_INET) as sock:
        return sock.connect_ex((host, port)) == 0


def _send_through(
    port: int, capture: Capture, client: str, server: str, tls_ca: Optional[Path] = None
) -> tuple[bytes, bytes, tuple[str, int]]:
    """Connect from ``client`` to HAProxy and send a token; return what the app side
    received, the token, and the client's own address and port."""
    family = socket.AF_INET6 if ":" in client else socket.AF_INET
    sock = socket.socket(family)
    sock.bind((client, 0))
    sock.connect((server, port))
    local = sock.getsockname()[:2]
    token = f"hello from port {local[1]}.".encode()
    if tls_ca is not None:
        context = ssl_module.create_default_context(cafile=str(tls_ca))
        sock = context.wrap_socket(sock, server_hostname="app.example")
    with sock:
        sock.sendall(token)
        received = capture.wait_for(lambda data: data.endswith(token))
    return received, token, (local[0], local[1])


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(("client", "server"), [("127.0.0.5", "127.0.0.1"), ("::1", "::1")])
def test_haproxy_send_proxy(haproxy: HAProxy, version: str, client: str, server: str) -> None:
    """HAProxy's ``send-proxy`` / ``send-proxy-v2`` header reads as the real client."""
    port = haproxy.ports[version if client != "::1" else f"{version}_6"]
    data, token, (address, client_port) = _send_through(port, haproxy.capture, client, server)
    result = parse(data)
    assert result is not None, data
    header_ = result.header
    assert data[result.consumed :] == token
    assert header_.version == int(version[1])
    assert (header_.command, header_.family) == ("PROXY", "INET6" if ":" in client else "INET")
    assert (header_.source, header_.source_port) == (address, client_port)
    assert (header_.destination, header_.destination_port) == (server, port)
    if version == "v2":
        assert header_.crc32c is not None  # present and verified
        assert header_.unique_id == f"conn-{address}-{client_port}".encode()
        assert header_.ssl is not None and not header_.ssl.tls


def test_haproxy_send_proxy_v2_ssl(haproxy: HAProxy) -> None:
    """TLS ends at HAProxy: the SSL TLV and its sub-TLVs, SNI as AUTHORITY, the CRC."""
    data, token, (address, client_port) = _send_through(
        haproxy.ports["tls"], haproxy.capture, "127.0.0.5", "127.0.0.1", tls_ca=haproxy.ca
    )
    result = parse(data)
    assert result is not None, data
    header_ = result.header
    assert data[result.consumed :] == token
    assert (header_.source, header_.source_port) == (address, client_port)
    assert header_.authority == "app.example"
    assert header_.unique_id == f"tls-{client_port}".encode()
    assert header_.crc32c is not None
    info = header_.ssl
    assert info is not None and info.tls and not info.verified
    assert info.version is not None and info.version.startswith("TLSv1.")
    assert info.cipher is not None and info.cipher.startswith("TLS_")
    assert info.sig_alg == "ecdsa-with-SHA256"  # how trustme signs its certificates
    assert info.key_alg is not None and info.key_alg.startswith("EC")


def test_haproxy_health_check_is_local(haproxy: HAProxy) -> None:
    """HAProxy's health checks with ``check-send-proxy`` send a version 2 ``LOCAL``
    header (with a CRC32C TLV, which ``LOCAL`` skips): the connection's own endpoints."""
    local = enc.SIGNATURE + b"\x20"
    data = haproxy.capture.wait_for(lambda received: received.startswith(local))
    result = parse(data)
    assert result is not None and result.consumed == len(data) == 16 + data[15]
    assert (result.header.command, result.header.family) == ("LOCAL", "UNSPEC")
    assert result.header.source is None and result.header.tlvs == ()
