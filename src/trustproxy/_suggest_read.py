"""Reading the chain for a suggestion: bounded item lists, canonical nodes, the
Forwarded walk, the X-Forwarded-* field counts.  Split from :mod:`trustproxy._suggest`.

Every read is bounded: lists are read from the right within a fixed number of steps
(:func:`~trustproxy._display.items_from_right`), at most :data:`MAX_ITEMS` items.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Optional

from ._address import parse_node
from ._display import items_from_right
from ._lists import MAX_EMPTY_ITEMS
from ._resolve import Resolver
from ._status import MAX_HOPS
from ._suggest_text import ordinal, proxies_word

__all__ = [
    "MAX_BAD_LISTED",
    "MAX_ITEMS",
    "X_FIELD",
    "canonical",
    "common_network",
    "field_counts",
    "forwarded_chain",
    "items",
]

#: The X-Forwarded-* header for each field but ``for``.
X_FIELD = {
    "proto": "x-forwarded-proto",
    "host": "x-forwarded-host",
    "port": "x-forwarded-port",
    "prefix": "x-forwarded-prefix",
}

#: The most X-Forwarded-For items a suggestion is made from: the client and as many
#: proxies as the walk will ever trust (``MAX_HOPS``).  A longer list is not one user's
#: request through their own proxies, and reading it all would cost work that grows
#: with the header (a 6 MB header once gave a 179 MB page).
MAX_ITEMS = MAX_HOPS + 1

#: The most "not an address" caveats listed one by one; the rest are counted.
MAX_BAD_LISTED = 3


def items(lines: Iterable[tuple[str, str]], name: str, count: int) -> tuple[list[str], bool]:
    """Up to ``count`` items of every ``name`` line, left to right (RFC 9110 §5.3), read
    from the right within a bounded number of steps, and whether that was all of them."""
    values = [value for key, value in lines if key.lower() == name]
    items, complete = items_from_right(values, count + 1 + MAX_EMPTY_ITEMS)
    complete = complete and len(items) <= count
    return list(reversed(items[:count])), complete


def canonical(text: str) -> Optional[str]:
    node = parse_node(text)
    return None if node is None else node.text


def common_network(addresses: Sequence[str]) -> Optional[str]:
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


# The Forwarded chain is read with the library's own walk, every node trusted (a
# callable entry, so no hop count is needed): bounded by MAX_HOPS like every walk.
def _everyone(address: str) -> bool:
    return True


_FORWARDED_WALK = Resolver(trusted=[_everyone], headers="forwarded", fields="for,proto,host")


def forwarded_chain(
    peer: Optional[str], lines: Sequence[tuple[str, str]]
) -> tuple[Optional[list[str]], tuple[str, ...]]:
    """The ``for=`` nodes of ``Forwarded``, left to right (the client first), or ``None``
    when a node is not an address; and the fields the client's element carried."""
    result = _FORWARDED_WALK.resolve(peer, lines)
    nodes = [hop.address for hop in result.hops[1:]]
    if result.status != "applied" or any(node is None for node in nodes):
        return None, ()
    return [node for node in reversed(nodes) if node is not None], tuple(result.applied)


def field_counts(lines: Sequence[tuple[str, str]], count: int) -> tuple[dict[str, int], list[str]]:
    """How many items each X-Forwarded-* field header holds (field order), and a flag for
    each that does not match the ``count`` proxies seen."""
    counts: dict[str, int] = {}
    flags: list[str] = []
    for field, name in X_FIELD.items():
        values = items(lines, name, MAX_ITEMS)[0]
        if not values:
            continue
        counts[field] = len(values)
        if len(values) < count:
            flags.append(
                f"{name.title()} has {ordinal(len(values))} for"
                f" {proxies_word(count)}: not every proxy appends to it. trustproxy reads it"
                " hop-aligned with the client, so with fewer items it takes the"
                " leftmost one — the value written by the proxy nearest the client."
                " That is right when the outer proxy sets it and the inner ones pass"
                " it on; if an inner proxy replaced it, you get the inner proxy's"
                f" {field}, not the one the client used"
            )
        elif len(values) > count:
            flags.append(
                f"{name.title()} has {ordinal(len(values))} for {proxies_word(count)}: the"
                " leftmost were written before your first proxy (by the client);"
                " hop alignment skips them"
            )
    return counts, flags
