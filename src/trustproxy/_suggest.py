"""Suggest a configuration from one request that came through the user's own proxies.

Used by ``trustproxy whoami``: the user opens the page from their own browser, through
the proxy chain they run, so whatever arrived is assumed honest — the leftmost
X-Forwarded-For item is the user's own address and every other node is one of their
proxies.  That assumption is the first caveat printed.

For ``client -> P1 -> P2 -> app`` the app sees ``X-Forwarded-For: client, P1`` from the
socket peer P2: the proxies are the peer and every item but the leftmost, nearest first,
and ``hops`` is the number of items (the walk's ``a_hops`` is the client).

This module is pure: it takes the peer and the header lines and returns a
:class:`Suggestion`; nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Optional

from ._address import parse_node
from ._display import items_from_right
from ._lists import MAX_EMPTY_ITEMS
from ._resolve import MAX_HOPS
from .trust import TrustPolicy

__all__ = ["Suggestion", "suggest"]

_PRIVATE = TrustPolicy("private, loopback, linklocal")


class Suggestion(NamedTuple):
    """A configuration to paste, with what it is based on and why to be careful."""

    summary: str
    proxies: tuple[str, ...]
    client: Optional[str]
    trusted: tuple[str, ...]
    network: Optional[str]
    hops: Optional[int]
    headers: str
    config: str
    caveats: tuple[str, ...]


#: The most X-Forwarded-For items a suggestion is made from: the client and as many
#: proxies as the walk will ever trust (``MAX_HOPS``).  A longer list is not one user's
#: request through their own proxies, and reading it all would cost work that grows
#: with the header (a 6 MB header once gave a 179 MB page).
MAX_ITEMS = MAX_HOPS + 1

#: The most "not an address" caveats listed one by one; the rest are counted.
MAX_BAD_LISTED = 3


def _items(lines: Iterable[tuple[str, str]], name: str, count: int) -> tuple[list[str], bool]:
    """Up to ``count`` items of every ``name`` line, left to right (RFC 9110 §5.3), read
    from the right within a bounded number of steps, and whether that was all of them."""
    values = [value for key, value in lines if key.lower() == name]
    items, complete = items_from_right(values, count + 1 + MAX_EMPTY_ITEMS)
    complete = complete and len(items) <= count
    return list(reversed(items[:count])), complete


def _canonical(text: str) -> Optional[str]:
    node = parse_node(text)
    return None if node is None else node.text


def _is_private(address: str) -> bool:
    hop = _PRIVATE.hop(address)
    return hop is not None and hop.trusted_by is not None


def _common_network(addresses: Sequence[str]) -> Optional[str]:
    """The smallest network holding every address, if it is no wider than a /24 (/64)."""
    parsed = [ipaddress.ip_address(a) for a in addresses]
    if len(parsed) < 2 or len({a.version for a in parsed}) != 1:
        return None
    bits = parsed[0].max_prefixlen
    narrowest = 24 if bits == 32 else 64
    for length in range(bits, narrowest - 1, -1):
        networks = {ipaddress.ip_network(f"{a}/{length}", strict=False) for a in parsed}
        if len(networks) == 1:
            return str(networks.pop()) if length < bits else None
    return None


def suggest(peer: Optional[str], lines: Sequence[tuple[str, str]]) -> Suggestion:
    """Derive a configuration from the socket peer and the header lines that arrived.

    :param peer: the socket peer's address (``None`` or ``""`` for a UNIX socket).
    :param lines: the request's ``(name, value)`` header lines, in arrival order.
    """
    caveats: list[str] = []
    peer_text = _canonical(peer) if peer else None
    names = {name.lower() for name, _ in lines}
    xff, complete = _items(lines, "x-forwarded-for", MAX_ITEMS)
    headers = "x-forwarded"
    if not xff and "x-real-ip" in names:
        xff = _items(lines, "x-real-ip", 1)[0][-1:]
        headers = "x-real-ip"
    if "forwarded" in names:
        caveats.append(
            "a Forwarded (RFC 7239) header arrived too: if your proxies maintain it,"
            " headers='forwarded' reads it instead of X-Forwarded-*"
        )
    peer_label = peer_text or peer or "a UNIX socket"
    if not complete:
        summary = (
            f"nothing suggested: X-Forwarded-For holds more than {MAX_ITEMS} items, or more"
            " than can be read within the work limit; that is not a chain of your own"
            f" proxies (trustproxy walks at most {MAX_HOPS} trusted hops)"
        )
        return Suggestion(summary, (), None, (), None, None, headers, "", tuple(caveats))
    if not xff:
        summary = (
            f"no proxy seen: {peer_label} connected directly and sent no X-Forwarded-For;"
            " nothing to configure (or your proxy does not send X-Forwarded-For)"
        )
        return Suggestion(summary, (), peer_text, (), None, None, headers, "", tuple(caveats))
    client_text = xff[0]
    client = _canonical(client_text)
    if client is None:
        caveats.append(
            f"the leftmost item {client_text[:64]!r} is not an address (obfuscated or"
            " 'unknown'): trustproxy will leave such requests unresolved"
        )
    proxies: list[str] = []
    if peer_text is not None:
        proxies.append(peer_text)
    elif not peer:
        proxies.append("unix")
    bad = 0
    for item in reversed(xff[1:]):
        address = _canonical(item)
        if address is None:
            bad += 1
            if bad <= MAX_BAD_LISTED:
                caveats.append(f"the proxy item {item[:64]!r} is not an address")
        else:
            proxies.append(address)
    if bad > MAX_BAD_LISTED:
        caveats.append(f"… and {bad - MAX_BAD_LISTED} more proxy items that are not addresses")
    trusted = tuple(dict.fromkeys(proxies))
    hops = len(xff) if headers == "x-forwarded" else None
    addresses = [p for p in trusted if p != "unix"]
    network = _common_network(addresses)
    if (
        network is not None
        and client is not None
        and ipaddress.ip_address(client) in ipaddress.ip_network(network)
    ):
        network = None
    shown = ", ".join(proxies) or peer_label
    count = len(proxies)
    summary = f"{count} prox{'y' if count == 1 else 'ies'} seen: {shown}"
    summary += f" — trusted={list(trusted)!r}"
    if network is not None:
        summary += f" (or trusted=[{network!r}] if they move within it)"
    if hops is not None:
        summary += f", or hops={hops}"
    config = f"trusted={list(trusted)!r}" + (
        f", headers={headers!r}" if headers != "x-forwarded" else ""
    )
    caveats.insert(
        0,
        "this assumes the request came from your own browser through your own proxies: a"
        " client that writes X-Forwarded-For itself would add entries here",
    )
    if client is not None and _is_private(client):
        caveats.append(
            f"the client {client} is on a private network: clients from the internet may"
            " take a different path; never trust 'private' as a whole while clients live"
            " in it"
        )
    public = [a for a in addresses if not _is_private(a)]
    if public:
        caveats.append(
            f"proxy address(es) {', '.join(public)} are public: a CDN or cloud load"
            " balancer uses many addresses — trust its published ranges, not these alone"
        )
    if hops is not None:
        caveats.append(
            f"hops={hops} is right only if every request passes the same {hops}"
            f" prox{'y' if hops == 1 else 'ies'} and nobody can reach the app directly;"
            " trusted addresses are safer"
        )
    if count > 1 or network is not None:
        caveats.append(
            "load balancers often have several nodes: reload a few times and add every"
            " address that shows up"
        )
    if bad:
        config = ""
    return Suggestion(
        summary,
        tuple(proxies),
        client,
        trusted,
        network,
        hops,
        headers,
        config,
        tuple(caveats),
    )
