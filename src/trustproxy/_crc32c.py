"""CRC32C (Castagnoli), the checksum of the PROXY protocol v2 ``PP2_TYPE_CRC32C`` TLV.

The specification (section 2.2.3) points at RFC 4960 Appendix B: the reflected polynomial
0x82F63B78, initial value and final XOR 0xFFFFFFFF.  Pure Python: the 256-entry table is
built once at import, with three more derived from it so that the loop takes four bytes
per step ("slicing by 4"), about three times faster than a byte at a time in CPython.
"""

from __future__ import annotations

import struct

__all__ = ["crc32c"]

_POLYNOMIAL = 0x82F63B78


def _tables() -> tuple[tuple[int, ...], ...]:
    first = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
        first.append(crc)
    # tables[k][b] is the CRC of byte b followed by k zero bytes.
    tables = [first]
    for _ in range(3):
        previous = tables[-1]
        tables.append([(value >> 8) ^ first[value & 0xFF] for value in previous])
    return tuple(tuple(table) for table in tables)


_T0, _T1, _T2, _T3 = _tables()


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC32C of ``data``; pass a previous result as ``crc`` to continue it."""
    t0, t1, t2, t3 = _T0, _T1, _T2, _T3
    crc ^= 0xFFFFFFFF
    words = len(data) // 4
    for word in struct.unpack_from(f"<{words}I", data):
        word ^= crc
        crc = t3[word & 0xFF] ^ t2[(word >> 8) & 0xFF] ^ t1[(word >> 16) & 0xFF] ^ t0[word >> 24]
    for byte in data[words * 4 :]:
        crc = t0[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
