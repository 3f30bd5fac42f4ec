"""Compile a trust specification into a fast predicate.

Like proxy-addr's ``compile``, everything expensive happens once, when the middleware is
built, and every mistake is reported then (:class:`~trustproxy.ConfigError` naming the
entry).  At request time a lookup costs one dict probe per distinct prefix length in the
policy, whatever the number of networks: 10,000 trusted /24s cost the same as one.

Entries:

* an IPv4 or IPv6 address (``10.0.0.7``, ``::1``) or network (``10.0.0.0/8``,
  ``2001:db8::/32``); host bits must be zero;
* a preset name, case-insensitive: ``loopback``, ``private``, ``linklocal`` (see
  :data:`PRESETS`), ``cloudflare`` (Cloudflare's published ranges, shipped as data; see
  :mod:`trustproxy.presets`), ``unix`` (a peer on a UNIX socket, which has no address)
  and ``*`` (any address — only together with ``hops``);
* ``file:PATH``: the addresses and networks listed in a file, one per line, ``#``
  comments; ``env:NAME``: those listed in environment variable ``NAME``;
* a callable ``(address: str) -> bool`` receiving the canonical address.

IPv4-mapped IPv6 addresses are canonicalised to IPv4 before any lookup, so ``::ffff:10.0.0.1``
matches ``10.0.0.0/8``.  An IPv6 network inside ``::ffff:0:0/96`` is stored as the IPv4
network it maps.

Without ``hops``, a policy whose networks together cover every IPv4 address or every IPv6
address is refused, whatever the entries are written as (``0.0.0.0/0``; ``::/8``, which
holds ``::ffff:0:0/96`` and so all of IPv4; two ``/1`` halves; a ``file:`` or ``env:``
source or a preset override listing them): it is ``*`` under another name.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from typing import Callable, NamedTuple, Optional, Union

from . import presets as _presets
from ._address import MAX_NODE_LENGTH, MISSING, Address, parse_node
from ._address import _parse as parse_uncached
from ._memo import CACHE_SIZE, remember
from .errors import ConfigError

__all__ = ["PRESETS", "Deliberate", "Hop", "TrustPolicy", "TrustSpec"]

AddressPredicate = Callable[[str], bool]
TrustEntry = Union[str, AddressPredicate]
TrustSpec = Union[str, AddressPredicate, Iterable[TrustEntry]]

#: Named groups of networks.  ``unix`` and ``*`` are handled separately (they are not
#: networks).  Sources: RFC 1122 §3.2.1.3 and RFC 4291 §2.5.3 (loopback); RFC 1918 and
#: RFC 4193 (private); RFC 3927 and RFC 4291 §2.5.6 (link-local).
PRESETS: dict[str, tuple[str, ...]] = {
    "loopback": ("127.0.0.0/8", "::1/128"),
    "private": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
    "linklocal": ("169.254.0.0/16", "fe80::/10"),
}

#: How many socket peers are remembered.  A server's peers are its proxies (or, where
#: untrusted clients connect directly, anyone: the memo is then emptied when full).
PEERS_SIZE = 256

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_MAPPED_START = int(_MAPPED.network_address)
_MAPPED_END = _MAPPED_START + (1 << 32)


class Deliberate(tuple[str, ...]):
    """Trust entries that may cover every address without ``hops``, on purpose.

    Only for a drop-in that reproduces another library's documented behaviour and warns
    about it (uvicorn's ``trusted_hosts="*"``, see :mod:`trustproxy.proxy_headers`).  Any
    other spelling of "every address" without ``hops`` is refused.
    """

    __slots__ = ()


def _covered(spans: list[tuple[int, int, str]], end: int) -> bool:
    """Whether the half-open intervals ``spans`` cover ``[0, end)``: merged in order."""
    reach = 0
    for start, stop, _ in sorted(spans):
        if start > reach:
            return False
        if stop > reach:
            reach = stop
    return reach >= end


def _names(spans: list[tuple[int, int, str]]) -> str:
    """``entry '0.0.0.0/0' covers`` / ``entries 'a', 'b' … cover``, widest first."""
    labels = list(dict.fromkeys(label for start, stop, label in sorted(
        spans, key=lambda span: (span[0] - span[1], span[0])
    )))  # fmt: skip
    shown = ", ".join(repr(label) for label in labels[:4])
    if len(labels) == 1:
        return f"entry {shown} covers"
    more = f" and {len(labels) - 4} more" if len(labels) > 4 else ""
    return f"entries {shown}{more} cover"


class Hop(NamedTuple):
    """One node seen on the way: the text as written, its canonical address (``None``
    when the text is not an address, or for a UNIX socket peer), the port if one was
    written, and the trust entry that matched it (``None`` when it is not trusted)."""

    text: str
    address: Optional[str]
    port: Optional[int]
    trusted_by: Optional[str]


class _Table:
    """Networks of one IP version, by prefix length: {length: {network >> shift: label}}."""

    __slots__ = ("bits", "by_length", "lengths")

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.by_length: dict[int, dict[int, str]] = {}
        self.lengths: tuple[int, ...] = ()

    def add(self, network: int, length: int, label: str) -> None:
        self.by_length.setdefault(length, {}).setdefault(network >> (self.bits - length), label)
        # Most specific first, so the label reported is the narrowest matching entry.
        self.lengths = tuple(sorted(self.by_length, reverse=True))

    def lookup(self, value: int) -> Optional[str]:
        bits = self.bits
        by_length = self.by_length
        for length in self.lengths:
            label = by_length[length].get(value >> (bits - length))
            if label is not None:
                return label
        return None


def _split(spec: TrustSpec) -> list[TrustEntry]:
    if isinstance(spec, str):
        return [part.strip() for part in spec.split(",")]
    if callable(spec):
        return [spec]
    if isinstance(spec, (bytes, bytearray)) or not isinstance(spec, Iterable):
        raise ConfigError(
            f"trusted must be a string, a callable or an iterable of entries, not {spec!r}"
        )
    entries: list[TrustEntry] = []
    for entry in spec:
        if isinstance(entry, str):
            entries.extend(part.strip() for part in entry.split(","))
        elif callable(entry):
            entries.append(entry)
        else:
            raise ConfigError(f"trusted entry {entry!r} is neither a string nor a callable")
    return entries


def _not_an_entry(entry: str, error: str) -> str:
    """The message for an entry that is no address, network or preset, naming the fix
    for the usual mistakes: a preset misspelt, a host name, an address with a port."""
    names = sorted([*PRESETS, *_presets.DATA_PRESETS, "unix"])
    known = ", ".join([*names, "*"])
    name = entry.lower()
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    if close:
        return f"trusted entry {entry!r} is not a preset: did you mean {close[0]!r}?"
    bracketed = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)", entry)
    if bracketed or re.fullmatch(r"[0-9.]+:\d+", entry):
        address = bracketed.group(1) if bracketed else entry.rsplit(":", 1)[0]
        return (
            f"trusted entry {entry!r} has a port: trust is decided per address, so write"
            f" {address!r}"
        )
    if name == "localhost" or name.endswith(".localhost"):
        return (
            f"trusted entry {entry!r} is a host name: write the addresses your proxy connects"
            " from, '127.0.0.1' and/or '::1' (or the preset 'loopback')"
        )
    if re.fullmatch(
        r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", name
    ) and any(c.isalpha() for c in name):
        return (
            f"trusted entry {entry!r} looks like a host name: host names are never resolved"
            " (DNS would decide who is trusted); write the addresses or networks your proxies"
            f" connect from, or a preset ({known})"
        )
    return f"trusted entry {entry!r} is not an IP address, a network or a preset ({known}): {error}"


def _label(function: AddressPredicate) -> str:
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"callable {name}"


class TrustPolicy:
    """A compiled trust policy: which peers and hops are proxies you control.

    :param trusted: entries as described in the module docstring, as a comma-separated
        string or an iterable; default ``"loopback"``.
    :param hops: the number of proxies in front of the application, or ``None`` to walk
        until the first untrusted address.
    :raises ConfigError: for any malformed entry, an empty policy, ``*`` or networks
        covering every IPv4 or every IPv6 address without ``hops``, or a ``hops`` that is
        not an integer >= 1.
    """

    def __init__(self, trusted: TrustSpec = "loopback", hops: Optional[int] = None) -> None:
        if hops is not None and (type(hops) is not int or hops < 1):
            raise ConfigError(f"hops must be an integer >= 1 or None, not {hops!r}")
        self.hops = hops
        self.any = False
        self.unix = False
        self._v4 = _Table(32)
        self._v6 = _Table(128)
        self._predicates: list[tuple[AddressPredicate, str]] = []
        # (first address, one past the last, label) of every network, per IP version:
        # what the policy covers, checked once all entries are in.
        self._spans: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
        described: list[str] = []
        entries = _split(trusted)
        if not entries:
            raise ConfigError("trusted is empty: name at least one proxy address or network")
        for entry in entries:
            if callable(entry):
                label = _label(entry)
                self._predicates.append((entry, label))
                described.append(label)
            else:
                described.append(self._add(entry))
        if self.any and hops is None:
            raise ConfigError(
                "trusted='*' needs hops: without a hop count every address is trusted and the"
                " leftmost, client-written entry would be taken as the client"
            )
        if hops is None and not isinstance(trusted, Deliberate):
            self._refuse_everything()
        self.entries: tuple[str, ...] = tuple(described)
        #: False when a callable entry may answer differently over time: nothing is cached.
        self.cacheable = not self._predicates
        self._cache: Optional[dict[str, Optional[Hop]]] = {} if self.cacheable else None
        # The socket peers seen (the proxies: few), remembered apart from the hop cache.
        self._peers: Optional[dict[str, Hop]] = {} if self.cacheable else None
        #: ``trusted_by(address)``: the entry that trusts ``address``, or ``None``.
        self.trusted_by = self._compile()

    def _add(self, entry: str) -> str:
        if not entry:
            raise ConfigError("trusted entry '' is empty (a stray comma?)")
        name = entry.lower()
        if name == "*":
            self.any = True
            return "*"
        if name == "unix":
            self.unix = True
            return "unix"
        data: Optional[tuple[_presets.Network, ...]] = None
        if name in _presets.DATA_PRESETS:
            data = _presets.preset(name)
        elif name.startswith("file:"):
            data = _presets.read_file(entry[5:].strip())
        elif name.startswith("env:"):
            data = _presets.from_env(entry[4:].strip())
        if data is not None:
            label = name if name in _presets.DATA_PRESETS else entry
            for data_network in data:
                self._add_network(data_network, f"{data_network} ({label})")
            return label
        networks = PRESETS.get(name)
        if networks is not None:
            for preset_network in networks:
                self._add_network(
                    ipaddress.ip_network(preset_network), f"{preset_network} ({name})"
                )
            return name
        if "%" in entry:
            # A zone id (RFC 4007 §11) names an interface of this host; trust is decided on
            # addresses alone, so "fe80::1%eth0" would silently trust fe80::1 on every link.
            raise ConfigError(f"trusted entry {entry!r} has a zone id; write the address alone")
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as error:
            raise ConfigError(_not_an_entry(entry, str(error))) from None
        self._add_network(network, entry)
        return entry

    def _refuse_everything(self) -> None:
        """Refuse a policy covering all of IPv4 or all of IPv6 when there is no ``hops``.

        Such a policy is ``*`` with the same hole, however it was written: the walk would
        trust every item and reach the leftmost, client-written one (Rails/Caddy-style
        broad trust).  Coverage is computed, not matched: intervals are merged per IP
        version, and ``::ffff:0:0/96`` counts as IPv4 (its addresses are canonicalised to
        IPv4 before lookup), so it is not needed to cover "all of IPv6".
        """
        spans = self._spans
        ipv4 = _covered(spans[4], 1 << 32)
        ipv6 = _covered([*spans[6], (_MAPPED_START, _MAPPED_END, "")], 1 << 128)
        if not (ipv4 or ipv6):
            return
        family = "IPv4 and IPv6" if ipv4 and ipv6 else "IPv4" if ipv4 else "IPv6"
        names = _names([*spans[4], *spans[6]] if ipv4 and ipv6 else spans[4 if ipv4 else 6])
        raise ConfigError(
            f"trusted {names} every {family} address: without hops the"
            " leftmost, client-written entry would be taken as the client; give hops=N"
            " (the number of proxies in front of the app) or list your proxies' addresses"
        )

    def _add_network(
        self, network: ipaddress.IPv4Network | ipaddress.IPv6Network, label: str
    ) -> None:
        length = network.prefixlen
        start = int(network.network_address)
        stop = start + network.num_addresses
        if isinstance(network, ipaddress.IPv4Network):
            self._spans[4].append((start, stop, label))
            self._v4.add(start, length, label)
            return
        if network.subnet_of(_MAPPED):
            # ::ffff:a.b.c.d is canonicalised to a.b.c.d before lookup (RFC 4291 §2.5.5.2).
            self._spans[4].append((start - _MAPPED_START, stop - _MAPPED_START, label))
            self._v4.add(start & 0xFFFFFFFF, length - 96, label)
            return
        if length <= 96 and _MAPPED.subnet_of(network):
            self._spans[4].append((0, 1 << 32, label))
            self._v4.add(0, 0, label)
        self._spans[6].append((start, stop, label))
        self._v6.add(start, length, label)

    def _compile(self) -> Callable[[Address], Optional[str]]:
        """The trust test as one closure over the tables, built once (proxy-addr's
        ``compile``): one dict probe per distinct prefix length, most specific first."""
        if self.any:
            return lambda address: "*"
        v4 = tuple((32 - n, self._v4.by_length[n]) for n in self._v4.lengths)
        v6 = tuple((128 - n, self._v6.by_length[n]) for n in self._v6.lengths)
        predicates = tuple(self._predicates)
        if len(v4) == 1 and not v6 and not predicates:
            # The usual policy (one proxy, or networks of one length): one probe.
            shift, table = v4[0]
            get = table.get

            def trusted_by(address: Address) -> Optional[str]:
                return get(address.value >> shift) if address.version == 4 else None

            return trusted_by

        def trusted_by_any(address: Address) -> Optional[str]:
            value = address.value
            for shift, table in v4 if address.version == 4 else v6:
                label = table.get(value >> shift)
                if label is not None:
                    return label
            for predicate, label in predicates:
                if predicate(address.text):
                    return label
            return None

        return trusted_by_any

    def hop(self, text: str) -> Optional[Hop]:
        """Parse one node and say whether it is trusted; ``None`` if it is not an address."""
        cache = self._cache
        if cache is not None:
            cached = cache.get(text, MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        # The policy caches the hop itself, so the address parser's own cache would only
        # hold a second copy: parse directly when the policy caches.
        address = parse_node(text) if cache is None else parse_uncached(text)
        result = (
            None
            if address is None
            else tuple.__new__(Hop, (text, address.text, address.port, self.trusted_by(address)))
        )
        if cache is not None:
            remember(cache, text, result, CACHE_SIZE)
        return result

    def peer(self, peer: Optional[str]) -> Hop:
        """The socket peer as a hop.  ``None`` or ``""`` is a UNIX socket peer."""
        peers = self._peers
        if peers is not None:
            found = peers.get(peer)  # type: ignore[arg-type]
            if found is not None:
                return found
        if not peer:
            return Hop("", None, None, "unix" if self.unix else None)
        address = parse_uncached(peer)
        if address is None or address.port is not None or peer[0] == "[":
            # Not a bare address: the server handed over something we cannot match.
            hop = Hop(peer, None, None, None)
        else:
            hop = Hop(peer, address.text, None, self.trusted_by(address))
        if peers is not None and len(peer) <= MAX_NODE_LENGTH:
            remember(peers, peer, hop, PEERS_SIZE)
        return hop

    def __repr__(self) -> str:
        return f"TrustPolicy(trusted={list(self.entries)!r}, hops={self.hops!r})"
