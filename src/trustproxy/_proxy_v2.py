"""PROXY protocol version 2, the binary block: its fixed part checked byte by byte as it
arrives, then the address block and the TLVs (`_proxy_tlv`) once all of it is in.

Section 2.2 of HAProxy's ``proxy-protocol.txt``; the public parser is
:func:`trustproxy.proxy_protocol.parse` (``docs/proxy-protocol.md``).
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from ._proxy_tlv import Extensions, error, read_tlvs
from ._proxy_v1 import canonical

__all__ = [
    "NO_ADDRESSES",
    "NO_EXTENSIONS",
    "Addresses",
    "Block",
    "Family",
    "Received",
    "Transport",
    "parse_block",
]

#: What the parser reads from (the bytes received so far).
Received = Union[bytes, bytearray, memoryview]
Family = Literal["INET", "INET6", "UNIX", "UNSPEC"]
Transport = Literal["STREAM", "DGRAM", "UNSPEC"]
#: source, destination, source port, destination port.
Addresses = tuple[Optional[str], Optional[str], Optional[int], Optional[int]]
NO_ADDRESSES: Addresses = (None, None, None, None)
Paths = tuple[Optional[bytes], Optional[bytes]]
_NO_PATHS: Paths = (None, None)
NO_EXTENSIONS = Extensions()

# The 14th byte: section 2.2 lists the only valid combinations ("other values ... must be
# rejected as invalid by receivers"), here with the size of their address block.
_FAMILIES: dict[int, tuple[Family, Transport, int]] = {
    0x00: ("UNSPEC", "UNSPEC", 0),
    0x11: ("INET", "STREAM", 12),
    0x12: ("INET", "DGRAM", 12),
    0x21: ("INET6", "STREAM", 36),
    0x22: ("INET6", "DGRAM", 36),
    0x31: ("UNIX", "STREAM", 216),
    0x32: ("UNIX", "DGRAM", 216),
}


#: A complete, valid version 2 header: its length, whether it is a LOCAL one (the
#: connection's own endpoints are meant), family, transport, addresses, UNIX paths and
#: TLVs.  A plain tuple: built once per connection, a NamedTuple's ``__new__`` would
#: add a third to the parse of a short header.
Block = tuple[int, bool, Family, Transport, Addresses, Paths, Extensions]


def parse_block(head: bytes, data: Received, max_length: int) -> Optional[Block]:
    """The version 2 header at the start of ``data`` (``head``: its first 16 bytes),
    ``None`` while more bytes are needed; :class:`~trustproxy.HeaderError` otherwise."""
    # The fixed part is checked byte by byte as it arrives ("abort the connection as soon
    # as possible"); the addresses and TLVs once the whole header is in: section 2.2 says
    # "the receiver must not start to parse an address before the whole address block".
    if len(head) > 12 and (head[12] >> 4 != 2 or head[12] & 0x0F > 1):
        raise error(f"version/command byte 0x{head[12]:02x} is not 0x20 or 0x21", head, 12)
    if len(head) > 13 and head[13] not in _FAMILIES:
        raise error(f"family/transport byte 0x{head[13]:02x} is not a valid pair", head, 13)
    if len(head) < 16:
        return None
    local = head[12] == 0x20
    family, transport, address_length = _FAMILIES[head[13]]
    total = 16 + int.from_bytes(head[14:16], "big")
    if total > max_length:
        raise error(f"the header announces {total} bytes, over {max_length}", head, 14)
    if not local and total < 16 + address_length:
        raise error(f"the length is too short for {family} addresses", head, 14)
    if len(data) < total:
        return None
    if local:  # the rest is skipped (section 2.2)
        return (total, True, family, transport, NO_ADDRESSES, _NO_PATHS, NO_EXTENSIONS)
    block = bytes(data[:total])
    addresses = NO_ADDRESSES
    unix = _NO_PATHS
    if family == "UNIX":
        unix = (_unix_path(block[16:124]), _unix_path(block[124:232]))
    elif family != "UNSPEC":
        size = 4 if family == "INET" else 16
        ports = 16 + 2 * size
        addresses = (
            canonical(block[16 : 16 + size]),
            canonical(block[16 + size : ports]),
            int.from_bytes(block[ports : ports + 2], "big"),
            int.from_bytes(block[ports + 2 : ports + 4], "big"),
        )
    extensions = read_tlvs(block, 16 + address_length)
    return (total, False, family, transport, addresses, unix, extensions)


def _unix_path(raw: bytes) -> bytes:
    """``sun_path`` up to its first NUL; a Linux abstract name keeps its leading NUL."""
    return raw.rstrip(b"\0") if raw[:1] == b"\0" else raw.split(b"\0", 1)[0]
