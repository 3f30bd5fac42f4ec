"""PROXY protocol version 2 TLVs (section 2.2 of HAProxy's ``proxy-protocol.txt``).

The TLVs follow the address block up to the length the header announced.  Each is a
type byte, a big-endian 16-bit length and the value; a TLV that overruns its container
(the header, or the SSL TLV for its sub-TLVs) is an error, never truncated.  Known types
are decoded and checked; every TLV is also kept as received, unknown ones included.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple, Optional

from ._crc32c import crc32c
from .errors import HeaderError

__all__ = ["TLV", "Extensions", "SSLInfo", "error", "read_tlvs"]

PP2_TYPE_ALPN = 0x01
PP2_TYPE_AUTHORITY = 0x02
PP2_TYPE_CRC32C = 0x03
PP2_TYPE_NOOP = 0x04
PP2_TYPE_UNIQUE_ID = 0x05
PP2_TYPE_SSL = 0x20
PP2_SUBTYPE_SSL_VERSION = 0x21
PP2_SUBTYPE_SSL_CN = 0x22
PP2_SUBTYPE_SSL_CIPHER = 0x23
PP2_SUBTYPE_SSL_SIG_ALG = 0x24
PP2_SUBTYPE_SSL_KEY_ALG = 0x25
PP2_TYPE_NETNS = 0x30
# Two vendors' types in the custom range 0xE0-0xEF (section 2.2.8), each with subtype
# 0x01: AWS's VPC endpoint id (ASCII) and Azure's private endpoint LinkID (a
# little-endian uint32), as the vendors' documentation describes them.
PP2_TYPE_AWS = 0xEA
PP2_TYPE_AZURE = 0xEE

_UNIQUE_ID_MAX = 128  # section 2.2.5: "up to 128 bytes"
# A second ALPN, AUTHORITY, ... would leave the receiver to choose which to believe, so
# a repeated type is an error rather than a guess.  NOOP and unknown types may repeat.
_ONCE = frozenset({PP2_TYPE_ALPN, PP2_TYPE_AUTHORITY, PP2_TYPE_CRC32C, PP2_TYPE_UNIQUE_ID,
                   PP2_TYPE_SSL, PP2_TYPE_NETNS})  # fmt: skip


def readable_repr(self: object) -> str:
    """A dataclass repr that leaves out the fields that are ``None`` or empty."""
    shown = []
    for field in fields(self):  # type: ignore[arg-type]
        value = getattr(self, field.name)
        if value is not None and value != ():
            shown.append(f"{field.name}={value!r}")
    return f"{type(self).__name__}({', '.join(shown)})"


@dataclass(frozen=True, repr=False)
class TLV:
    """One type-length-value entry of a version 2 header, as received."""

    __slots__ = ("type", "value")
    type: int
    value: bytes

    __repr__ = readable_repr


@dataclass(frozen=True, repr=False)
class SSLInfo:
    """The ``PP2_TYPE_SSL`` TLV: how the client reached the proxy (section 2.2.6).

    ``client`` holds the flags (0x01 TLS, 0x02 a certificate on this connection, 0x04 one
    in this TLS session) and ``verify`` the proxy's verification result, 0 for success.
    The five text sub-TLVs are ``None`` when absent; ``tlvs`` keeps every sub-TLV.
    """

    __slots__ = ("cipher", "client", "cn", "key_alg", "sig_alg", "tlvs", "verify", "version")
    client: int
    verify: int
    version: Optional[str]
    cn: Optional[str]
    cipher: Optional[str]
    sig_alg: Optional[str]
    key_alg: Optional[str]
    tlvs: tuple[TLV, ...]

    __repr__ = readable_repr

    @property
    def tls(self) -> bool:
        """The client connected over TLS (``PP2_CLIENT_SSL``)."""
        return bool(self.client & 0x01)

    @property
    def verified(self) -> bool:
        """The client presented a certificate and the proxy verified it.

        ``verify == 0`` alone does not say so: HAProxy sends 0 when there was no
        certificate at all, so a certificate flag (0x02 or 0x04) is required too.
        """
        return bool(self.client & 0x06) and self.verify == 0


class Extensions(NamedTuple):
    """What the TLVs of one header say (copied into :class:`ProxyHeader`)."""

    tlvs: tuple[TLV, ...] = ()
    alpn: Optional[bytes] = None
    authority: Optional[str] = None
    crc32c: Optional[int] = None
    unique_id: Optional[bytes] = None
    ssl: Optional[SSLInfo] = None
    netns: Optional[str] = None
    aws_vpc_endpoint_id: Optional[str] = None
    azure_private_link_id: Optional[int] = None


_NONE = Extensions()


def error(message: str, block: bytes, position: int) -> HeaderError:
    return HeaderError(f"PROXY v2: {message}", block.decode("latin-1"), position)


def _walk(block: bytes, start: int, end: int) -> list[tuple[int, int, bytes]]:
    """(type, offset of the value, value) for each TLV in ``block[start:end]``."""
    found = []
    while start < end:
        if end - start < 3:
            raise error("a TLV is cut short", block, start)
        size = int.from_bytes(block[start + 1 : start + 3], "big")
        if start + 3 + size > end:
            raise error(f"a TLV of {size} bytes overruns its container", block, start + 1)
        found.append((block[start], start + 3, block[start + 3 : start + 3 + size]))
        start += 3 + size
    return found


def _text(block: bytes, offset: int, value: bytes, encoding: str) -> str:
    """A text TLV: US-ASCII or UTF-8 as section 2.2 says, and no control characters."""
    try:
        text = value.decode(encoding)
    except UnicodeDecodeError as problem:
        raise error(f"a text TLV is not {encoding}", block, offset + problem.start) from None
    for index, char in enumerate(text):
        if char < " " or "\x7f" <= char <= "\x9f":  # C0, DEL, C1: these end up in logs
            at = offset + len(text[:index].encode(encoding))
            raise error("a text TLV holds a control character", block, at)
    return text


def _twice(kind: int, block: bytes, offset: int) -> HeaderError:
    return error(f"TLV type 0x{kind:02x} appears twice", block, offset - 3)


def read_tlvs(block: bytes, start: int) -> Extensions:
    """Read the TLVs from ``start`` to the end of the header ``block``."""
    if start == len(block):
        return _NONE
    tlvs = []
    seen: set[int] = set()
    alpn = unique_id = None
    authority = netns = vpc_endpoint = None
    ssl: Optional[SSLInfo] = None
    link_id: Optional[int] = None
    crc_offset = -1
    for kind, offset, value in _walk(block, start, len(block)):
        tlvs.append(TLV(kind, value))
        if kind in seen:
            raise _twice(kind, block, offset)
        if kind in _ONCE:
            seen.add(kind)
        if kind == PP2_TYPE_ALPN:
            alpn = value
        elif kind == PP2_TYPE_AUTHORITY:
            authority = _text(block, offset, value, "utf-8")
        elif kind == PP2_TYPE_CRC32C:
            if len(value) != 4:
                raise error("the CRC32C TLV is not 4 bytes long", block, offset - 2)
            crc_offset = offset
        elif kind == PP2_TYPE_UNIQUE_ID:
            if len(value) > _UNIQUE_ID_MAX:
                raise error("the UNIQUE_ID TLV is over 128 bytes long", block, offset - 2)
            unique_id = value
        elif kind == PP2_TYPE_SSL:
            ssl = _read_ssl(block, offset, value)
        elif kind == PP2_TYPE_NETNS:
            netns = _text(block, offset, value, "ascii")
        elif kind == PP2_TYPE_AWS and value[:1] == b"\x01" and _vendor_text(value[1:]):
            if vpc_endpoint is not None:
                raise _twice(kind, block, offset)
            vpc_endpoint = value[1:].decode("ascii")
        elif kind == PP2_TYPE_AZURE and value[:1] == b"\x01" and len(value) == 5:
            if link_id is not None:
                raise _twice(kind, block, offset)
            link_id = int.from_bytes(value[1:], "little")
    crc = None
    if crc_offset >= 0:
        crc = int.from_bytes(block[crc_offset : crc_offset + 4], "big")
        zeroed = block[:crc_offset] + bytes(4) + block[crc_offset + 4 :]
        if crc32c(zeroed) != crc:  # section 2.2.3: "MUST treat the connection as invalid"
            raise error("the CRC32C does not match the header", block, crc_offset)
    return Extensions(
        tuple(tlvs), alpn, authority, crc, unique_id, ssl, netns, vpc_endpoint, link_id
    )


def _vendor_text(value: bytes) -> bool:
    # The custom range is shared by every vendor: a value that does not look like AWS's
    # printable ASCII id is left raw in ``tlvs``, not refused, and not given a name.
    return bool(value) and all(0x21 <= byte <= 0x7E for byte in value)


def _read_ssl(block: bytes, offset: int, value: bytes) -> SSLInfo:
    if len(value) < 5:
        raise error("the SSL TLV is shorter than its 5 fixed bytes", block, offset - 2)
    texts: list[Optional[str]] = [None] * 5  # VERSION, CN, CIPHER, SIG_ALG, KEY_ALG
    subs = []
    for kind, sub_offset, sub in _walk(block, offset + 5, offset + len(value)):
        subs.append(TLV(kind, sub))
        index = kind - PP2_SUBTYPE_SSL_VERSION
        if 0 <= index < 5:
            if texts[index] is not None:
                raise _twice(kind, block, sub_offset)
            # Section 2.2.6: the CN is UTF-8, the other four are US-ASCII.
            encoding = "utf-8" if kind == PP2_SUBTYPE_SSL_CN else "ascii"
            texts[index] = _text(block, sub_offset, sub, encoding)
    version, cn, cipher, sig_alg, key_alg = texts
    verify = int.from_bytes(value[1:5], "big")
    return SSLInfo(value[0], verify, version, cn, cipher, sig_alg, key_alg, tuple(subs))
