"""Compile a trust specification into a fast predicate.

Like proxy-addr's ``compile``, everything expensive happens once, when the middleware is
built, and every mistake is reported then (:class:`~trustproxy.ConfigError` naming the
entry).  At request time a lookup costs one dict probe per distinct prefix length in the
policy, whatever the number of networks: 10,000 trusted /24s cost the same as one.

Entries:

* an IPv4 or IPv6 address (``10.0.0.7``, ``::1``) or network (``10.0.0.0/8``,
  ``2001:db8::/32``); host bits must be zero;
* a preset name, case-insensitive: ``loopback``, ``private``, ``linklocal`` (see
  :data:`PRESETS`); a provider's published ranges, shipped as data and refreshable
  (``cloudflare``, ``cloudfront``, ``fastly``, ``google-cloud-lb``, ``azure-front-door``;
  see :mod:`trustproxy.presets` and docs/providers.md); ``unix`` (a peer on a UNIX
  socket, which has no address) and ``*`` (any address — only together with ``hops``);
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

import ipaddress
from typing import Callable, NamedTuple, Optional

from . import presets as _presets
from ._address import MAX_NODE_LENGTH, MISSING, Address, parse_node
from ._address import _parse as parse_uncached
from ._entries import PRESETS, AddressPredicate, Deliberate, TrustSpec
from ._entries import covered as _covered
from ._entries import label as _label
from ._entries import names as _names
from ._entries import not_an_entry as _not_an_entry
from ._entries import split as _split
from ._memo import CACHE_SIZE, remember
from ._prefix_table import PrefixTable
from .errors import ConfigError

__all__ = ["PRESETS", "Deliberate", "Hop", "TrustPolicy", "TrustSpec"]

#: How many socket peers are remembered.  A server's peers are its proxies (or, where
#: untrusted clients connect directly, anyone: the memo is then emptied when full).
PEERS_SIZE = 256

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_MAPPED_START = int(_MAPPED.network_address)
_MAPPED_END = _MAPPED_START + (1 << 32)


class Hop(NamedTuple):
    """One node seen on the way: the text as written, its canonical address (``None``
    when the text is not an address, or for a UNIX socket peer), the port if one was
    written, and the trust entry that matched it (``None`` when it is not trusted)."""

    text: str
    address: Optional[str]
    port: Optional[int]
    trusted_by: Optional[str]


class TrustPolicy:
    """A compiled trust policy: which peers and hops are proxies you control.

    :param trusted: entries as described in the module docstring, as a comma-separated
        string or an iterable; default ``"loopback"``.
    :param hops: the number of proxies in front of the application, or ``None`` to walk
        until the first untrusted address.
    :param presets_dir: a folder of presets refreshed by ``trustproxy presets update``
        (default: ``TRUSTPROXY_PRESETS_DIR``, else the shipped data only).
    :raises ConfigError: for any malformed entry, an empty policy, ``*`` or networks
        covering every IPv4 or every IPv6 address without ``hops``, or a ``hops`` that is
        not an integer >= 1.
    """

    def __init__(
        self,
        trusted: TrustSpec = "loopback",
        hops: Optional[int] = None,
        presets_dir: Optional[str] = None,
    ) -> None:
        if hops is not None and (type(hops) is not int or hops < 1):
            raise ConfigError(f"hops must be an integer >= 1 or None, not {hops!r}")
        self.hops = hops
        self.presets_dir = presets_dir
        self.any = False
        self.unix = False
        self._v4 = PrefixTable(32)
        self._v6 = PrefixTable(128)
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
            data = _presets.preset(name, self.presets_dir)
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
