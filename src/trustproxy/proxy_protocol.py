"""A sans-IO parser for the PROXY protocol, versions 1 and 2.

An L4 load balancer (HAProxy ``send-proxy``/``send-proxy-v2``, AWS NLB, nginx ``stream``)
prepends one PROXY header to each TCP connection.  :func:`parse` reads it from the bytes
received so far and returns a :class:`Parsed` (the :class:`ProxyHeader` and how many
bytes it used), ``None`` while more bytes are needed, or raises
:class:`~trustproxy.HeaderError` (with the byte position) as soon as the bytes cannot be a
valid header.  It does no I/O: a server feeds it and keeps the bytes after ``consumed``.

The version is told by the signature alone: ``PROXY `` for version 1, the 12-byte block
``\\r\\n\\r\\n\\0\\r\\nQUIT\\n`` for version 2; anything else is an error at once.  The parser
never guesses that a header is absent (section 2 of HAProxy's ``proxy-protocol.txt``: a
listener that expects the header must refuse a connection without one); :func:`detect`
tells the signatures apart for a caller that wants to decide for itself.

Only a listener's trusted peers may send the header: parsing it says nothing about who
sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, Optional

from . import _proxy_v1, _proxy_v2
from ._crc32c import crc32c
from ._proxy_tlv import (
    PP2_SUBTYPE_SSL_CIPHER,
    PP2_SUBTYPE_SSL_CN,
    PP2_SUBTYPE_SSL_KEY_ALG,
    PP2_SUBTYPE_SSL_SIG_ALG,
    PP2_SUBTYPE_SSL_VERSION,
    PP2_TYPE_ALPN,
    PP2_TYPE_AUTHORITY,
    PP2_TYPE_AWS,
    PP2_TYPE_AZURE,
    PP2_TYPE_CRC32C,
    PP2_TYPE_NETNS,
    PP2_TYPE_NOOP,
    PP2_TYPE_SSL,
    PP2_TYPE_UNIQUE_ID,
    TLV,
    Extensions,
    SSLInfo,
    readable_repr,
)
from ._proxy_v2 import NO_ADDRESSES, NO_EXTENSIONS, Addresses, Family, Received, Transport
from .errors import ConfigError, HeaderError

__all__ = [
    "MAX_LENGTH",
    "PP2_SUBTYPE_SSL_CIPHER",
    "PP2_SUBTYPE_SSL_CN",
    "PP2_SUBTYPE_SSL_KEY_ALG",
    "PP2_SUBTYPE_SSL_SIG_ALG",
    "PP2_SUBTYPE_SSL_VERSION",
    "PP2_TYPE_ALPN",
    "PP2_TYPE_AUTHORITY",
    "PP2_TYPE_AWS",
    "PP2_TYPE_AZURE",
    "PP2_TYPE_CRC32C",
    "PP2_TYPE_NETNS",
    "PP2_TYPE_NOOP",
    "PP2_TYPE_SSL",
    "PP2_TYPE_UNIQUE_ID",
    "TLV",
    "V1_SIGNATURE",
    "V2_SIGNATURE",
    "Parsed",
    "ProxyHeader",
    "SSLInfo",
    "crc32c",
    "detect",
    "parse",
]

Command = Literal["PROXY", "LOCAL"]

#: The default bound on a version 2 header, its 16 fixed bytes included.  The length
#: field allows 65,551; real senders stay far below (HAProxy with every TLV option
#: sends a few hundred bytes).
MAX_LENGTH = 4096
#: Version 1 starts with "PROXY" and one space (section 2.1).
V1_SIGNATURE = b"PROXY "
#: Version 2 starts with these 12 bytes (section 2.2).
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"

_V1_FAMILIES: dict[str, tuple[Family, Transport]] = {
    "INET": ("INET", "STREAM"),
    "INET6": ("INET6", "STREAM"),
    "UNSPEC": ("UNSPEC", "UNSPEC"),
}
_SMALLEST_LIMIT = 16 + 216  # a bound below this would refuse valid AF_UNIX headers
_LARGEST_LIMIT = 16 + 0xFFFF


@dataclass(frozen=True, repr=False)
class ProxyHeader:
    """A parsed PROXY header.  Fields that the header does not carry are ``None``.

    ``source`` and ``destination`` are canonical address text, in the form the rest of
    trustproxy uses (compressed lower-case IPv6; an IPv4-mapped address as IPv4), with
    ``source_port`` and ``destination_port``.  They are set only when the receiver must
    use them: version 1 ``TCP4``/``TCP6``, or version 2 ``PROXY`` with ``INET``/``INET6``.
    A version 2 ``UNIX`` header has ``unix_source``/``unix_destination`` instead (the
    path bytes up to the first NUL; an abstract name keeps its leading NUL).  Version 1
    ``UNKNOWN`` (family ``UNSPEC``) and version 2 ``LOCAL`` mean "use the connection's own
    endpoints"; for ``LOCAL`` the rest of the header is skipped, as section 2.2 says.

    The version 2 TLVs are in ``tlvs`` in order, unknown ones included, and the known
    ones are also decoded into the named fields; ``crc32c`` is set only once verified.
    """

    __slots__ = (
        "alpn",
        "authority",
        "aws_vpc_endpoint_id",
        "azure_private_link_id",
        "command",
        "crc32c",
        "destination",
        "destination_port",
        "family",
        "netns",
        "source",
        "source_port",
        "ssl",
        "tlvs",
        "transport",
        "unique_id",
        "unix_destination",
        "unix_source",
        "version",
    )
    version: int
    command: Command
    family: Family
    transport: Transport
    source: Optional[str]
    source_port: Optional[int]
    destination: Optional[str]
    destination_port: Optional[int]
    unix_source: Optional[bytes]
    unix_destination: Optional[bytes]
    tlvs: tuple[TLV, ...]
    alpn: Optional[bytes]
    authority: Optional[str]
    crc32c: Optional[int]
    unique_id: Optional[bytes]
    ssl: Optional[SSLInfo]
    netns: Optional[str]
    aws_vpc_endpoint_id: Optional[str]
    azure_private_link_id: Optional[int]

    __repr__ = readable_repr


class Parsed(NamedTuple):
    """What :func:`parse` found: unpack it as ``header, consumed = result``."""

    #: The header.
    header: ProxyHeader
    #: How many bytes it took; the connection's own data starts there.
    consumed: int


def detect(data: Received) -> Optional[int]:
    """Which PROXY signature ``data`` starts with: 1 or 2, 0 for none, ``None`` if too short.

    Only the signature is looked at (``PROXY`` and a space; the 12-byte version 2 block),
    never the rest of the header: ``parse`` may still refuse what this calls 1 or 2.
    """
    head = bytes(data[:12])
    for version, signature in ((1, V1_SIGNATURE), (2, V2_SIGNATURE)):
        if head[: len(signature)] == signature[: len(head)]:
            return version if len(head) >= len(signature) else None
    return 0


def parse(data: Received, *, max_length: int = MAX_LENGTH) -> Optional[Parsed]:
    """Parse the PROXY header at the start of ``data``.

    :param data: the bytes received on the connection so far.  Only the header is read:
        at most 107 bytes for version 1 and ``max_length`` for version 2, however long
        ``data`` is.
    :param max_length: the longest version 2 header accepted, from 232 (the 16 fixed bytes
        and an ``AF_UNIX`` address block) to 65,551 (what the length field can say).  A
        header announcing more is refused as soon as its length field arrives.
    :returns: ``Parsed(header, consumed)``, or ``None`` while the bytes so far are the
        valid start of a header and more are needed.
    :raises HeaderError: the bytes are not a valid PROXY header and cannot become one.
    :raises ConfigError: ``max_length`` is out of range.
    """
    if not _SMALLEST_LIMIT <= max_length <= _LARGEST_LIMIT:
        raise ConfigError(
            f"max_length={max_length!r}: choose {_SMALLEST_LIMIT} to {_LARGEST_LIMIT} bytes"
        )
    head = bytes(data[:16])
    version = detect(head) if head[:12] != V2_SIGNATURE else 2
    if version == 1:
        line = _proxy_v1.parse_line(bytes(data[: _proxy_v1.MAX_LENGTH]))
        if line is None:
            return None
        family, transport = _V1_FAMILIES[line.family]
        addresses = line[2:]
        return Parsed(_header(1, "PROXY", family, transport, addresses), line.length)
    if version == 2:
        block = _proxy_v2.parse_block(head, data, max_length)
        if block is None:
            return None
        length, local, family, transport, addresses, unix, extensions = block
        if local:  # "discard the protocol block including the family" (section 2.2)
            return Parsed(_header(2, "LOCAL", family, transport), length)
        header = _header(2, "PROXY", family, transport, addresses, unix, extensions)
        return Parsed(header, length)
    if version is None:
        return None
    known = max(_proxy_v1.common(head, signature) for signature in (V1_SIGNATURE, V2_SIGNATURE))
    raise HeaderError("not a PROXY protocol header", head.decode("latin-1"), known)


def _header(
    version: int,
    command: Command,
    family: Family,
    transport: Transport,
    addresses: Addresses = NO_ADDRESSES,
    unix: tuple[Optional[bytes], Optional[bytes]] = (None, None),
    extensions: Extensions = NO_EXTENSIONS,
) -> ProxyHeader:
    source, destination, source_port, destination_port = addresses
    return ProxyHeader(
        version=version,
        command=command,
        family=family,
        transport=transport,
        source=source,
        source_port=source_port,
        destination=destination,
        destination_port=destination_port,
        unix_source=unix[0],
        unix_destination=unix[1],
        tlvs=extensions.tlvs,
        alpn=extensions.alpn,
        authority=extensions.authority,
        crc32c=extensions.crc32c,
        unique_id=extensions.unique_id,
        ssl=extensions.ssl,
        netns=extensions.netns,
        aws_vpc_endpoint_id=extensions.aws_vpc_endpoint_id,
        azure_private_link_id=extensions.azure_private_link_id,
    )
