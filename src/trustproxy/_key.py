"""A rate-limit key: one stable string per client, however its address is written.

Rate limiters and logs key on the client address, but one IPv6 client holds a whole
/64 (RFC 4291 §2.5.1 interface identifiers; RFC 8981 temporary addresses change it at
will), an IPv4 client may arrive written as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) on a
dual-stack socket, and a link-local address may carry a zone (RFC 4007 §11).  The key is
the address in canonical form: IPv4 as is, IPv4-mapped unmapped, zone dropped, IPv6
reduced to its network of ``ipv6_prefix`` bits (``/64`` by default) and written
``2001:db8:1:2::/64`` (the suffix keeps it apart from a full address's key).
"""

from __future__ import annotations

from socket import AF_INET6, inet_ntop
from typing import Optional

from ._address import parse_address

__all__ = ["client_key"]


def _check_prefix(ipv6_prefix: int) -> None:
    if isinstance(ipv6_prefix, bool) or not isinstance(ipv6_prefix, int):
        raise ValueError(f"ipv6_prefix must be an int from 0 to 128, not {ipv6_prefix!r}")
    if not 0 <= ipv6_prefix <= 128:
        raise ValueError(f"ipv6_prefix must be from 0 to 128, not {ipv6_prefix}")


def key_or_none(address: Optional[str], ipv6_prefix: int = 64) -> Optional[str]:
    """:func:`client_key`, or ``None`` when ``address`` is not an IP address."""
    _check_prefix(ipv6_prefix)
    if not address:
        return None
    parsed = parse_address(address)
    if parsed is None:
        return None
    if parsed.version == 4 or ipv6_prefix == 128:
        return parsed.text  # canonical: mapped addresses are IPv4 already, zones dropped
    shift = 128 - ipv6_prefix
    network = (parsed.value >> shift) << shift
    return f"{inet_ntop(AF_INET6, network.to_bytes(16, 'big'))}/{ipv6_prefix}"


def client_key(address: str, ipv6_prefix: int = 64) -> str:
    """A stable rate-limit and logging key for a client address.

    ``"203.0.113.9"`` -> ``"203.0.113.9"``; ``"::ffff:203.0.113.9"`` ->
    ``"203.0.113.9"``; ``"2001:DB8:1:2:aaaa::1"`` -> ``"2001:db8:1:2::/64"``;
    ``"fe80::1%eth0"`` -> ``"fe80::/64"``; with ``ipv6_prefix=128`` an IPv6 address is
    its own key (``"2001:db8::1"``).

    :param ipv6_prefix: the IPv6 network length one client is taken to hold, 0-128.
    :raises ValueError: when ``address`` is not an IP address, or ``ipv6_prefix`` is
        out of range.
    """
    key = key_or_none(address, ipv6_prefix)
    if key is None:
        raise ValueError(f"not an IP address: {address!r}")
    return key
