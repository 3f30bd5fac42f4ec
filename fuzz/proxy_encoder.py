"""The tests' own PROXY protocol encoder, written from the specification with ``struct``.

Independent of ``trustproxy.proxy_protocol`` (it builds bytes, the parser reads them), and
shared by tests/test_proxy_protocol.py and the fuzz invariants.  Section numbers are
those of HAProxy's ``proxy-protocol.txt``.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import Optional

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"  # section 2.2
LOCAL, PROXY = 0x0, 0x1
UNSPEC, INET, INET6, UNIX = 0x0, 0x1, 0x2, 0x3
STREAM, DGRAM = 0x1, 0x2
FAMILY_BYTE = {"UNSPEC": 0x00, "INET": 0x10, "INET6": 0x20, "UNIX": 0x30}
TRANSPORT_BYTE = {"UNSPEC": 0x0, "STREAM": 0x1, "DGRAM": 0x2}


def v1(protocol: str, *fields: object) -> bytes:
    """``PROXY <protocol> <fields...>\\r\\n`` (section 2.1), fields joined by one space."""
    return " ".join(["PROXY", protocol, *map(str, fields)]).encode("latin-1") + b"\r\n"


def tlv(kind: int, value: bytes) -> bytes:
    """One TLV: type byte, big-endian 16-bit length, value (section 2.2)."""
    return struct.pack("!BH", kind, len(value)) + value


def ssl(client: int, verify: int, subs: Sequence[tuple[int, bytes]] = ()) -> bytes:
    """The value of a ``PP2_TYPE_SSL`` TLV: client flags, verify, sub-TLVs (2.2.6)."""
    return struct.pack("!BI", client, verify) + b"".join(tlv(k, v) for k, v in subs)


def inet(source: str, destination: str, source_port: int, destination_port: int) -> bytes:
    """The address block for AF_INET or AF_INET6 (which one follows the text)."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    return (
        socket.inet_pton(family, source)
        + socket.inet_pton(family, destination)
        + struct.pack("!HH", source_port, destination_port)
    )


def unix(source: bytes, destination: bytes) -> bytes:
    """The AF_UNIX address block: two NUL-padded 108-byte ``sun_path`` fields."""
    return source.ljust(108, b"\0") + destination.ljust(108, b"\0")


def v2(
    command: int = PROXY,
    family: str = "INET",
    transport: str = "STREAM",
    addresses: bytes = b"",
    tlvs: Sequence[tuple[int, bytes]] = (),
    *,
    crc: bool = False,
    version: int = 2,
    length: Optional[int] = None,
    family_byte: Optional[int] = None,
) -> bytes:
    """A version 2 header.  ``crc`` appends a CRC32C TLV computed as section 2.2.3 says;
    ``version``, ``length`` and ``family_byte`` override the fields, to build bad ones."""
    body = addresses + b"".join(tlv(kind, value) for kind, value in tlvs)
    if crc:
        body += tlv(0x03, bytes(4))
    fam = FAMILY_BYTE[family] | TRANSPORT_BYTE[transport] if family_byte is None else family_byte
    size = len(body) if length is None else length
    header = SIGNATURE + struct.pack("!BBH", version << 4 | command, fam, size) + body
    if crc:
        header = header[:-4] + struct.pack("!I", reference_crc32c(header))
    return header


def reference_crc32c(data: bytes) -> int:
    """CRC32C one bit at a time, straight from the definition (RFC 4960 Appendix B):
    reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
