"""The walk's node sources: each header family's nodes, right to left.

X-Forwarded-For items (:func:`x_forwarded_source`), the ``for=`` node of each RFC 7239
``Forwarded`` element (:func:`forwarded_source`) and the one address of a
single-address header (:func:`single_source`); :func:`node_source` picks one.  Each
gives the one walk in :mod:`trustproxy._walk` (rules in ``docs/walk.md``) :data:`Node`
tuples: a node that is not an address comes with the reason the walk stops there (and
the walk reads no further).  Every scan is bounded (``docs/security.md``, limits): the cost follows
the nodes walked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from ._address import Address, parse_address, parse_node, parse_port
from ._forwarded import Element, describe_node, elements_from_right, node_text
from ._lists import MAX_EMPTY_ITEMS, MAX_ITEM_LENGTH, TOO_LONG, item_left_of
from .trust import Hop, TrustPolicy

__all__ = [
    "ADDRESS_AND_PORT",
    "Node",
    "Source",
    "address_and_port",
    "forwarded_source",
    "node_source",
    "single_source",
    "x_forwarded_items",
    "x_forwarded_source",
]


#: Single-address headers whose value is ``address:port``, the port always written.
#: CloudFront-Viewer-Address is documented as "the IP address of the viewer and the source
#: port of the request" (``198.51.100.10:46532``) and writes an IPv6 viewer without
#: brackets, so the port is whatever follows the last colon: ``2001:db8::1:8080`` is
#: ``2001:db8::1`` port 8080, never the address ``2001:db8::1:8080``.  The bracketed form
#: is accepted too.  A value without a port is not what CloudFront writes: refused.
ADDRESS_AND_PORT = frozenset({"cloudfront-viewer-address"})


def address_and_port(text: str) -> Optional[Address]:
    """``address:port`` as :data:`ADDRESS_AND_PORT` headers write it; ``None`` otherwise."""
    if text[:1] == "[":
        node = parse_node(text)
        return node if node is not None and node.port is not None else None
    host, sep, digits = text.rpartition(":")
    port = parse_port(digits) if sep else None
    address = parse_address(host) if port is not None and "%" not in host else None
    return None if address is None else address._replace(port=port)


#: What a source says of one node: ``(hop, params, None)``, or ``(hop, None, reason)``
#: for one that is not an address (``hop`` then holds only its text).
Node = tuple[Hop, Optional[dict[str, str]], Optional[str]]

#: A source: the items of a header value, right to left, and how the ``k``-th item
#: reads as a node.  Two parts, so that the walk's call of the second is a Python call
#: (cheap) and most values' items are a tuple: a generator left suspended when the walk
#: has its client is closed by raising ``GeneratorExit`` into it.
Source = tuple[Callable[[str], Iterable[Any]], Callable[[int, Any], Node]]

#: X-Forwarded-For items standing for more than MAX_EMPTY_ITEMS empty ones.
_EMPTIES = "\x00empties"


def _not_address(shown: str, reason: str) -> Node:
    return Hop(shown, None, None, None), None, reason


def x_forwarded_items(value: str) -> Iterator[str]:
    """X-Forwarded-For items, right to left, empty ones skipped: never further left than
    one item's worth of characters per step, so the cost follows the hops walked.  An
    item too long ends them as :data:`~trustproxy._lists.TOO_LONG`, too many empty ones
    as a marker of its own."""
    empty = 0
    end = len(value)
    while end >= 0:
        text, end = item_left_of(value, end)
        if text is None:
            yield TOO_LONG
            return
        if text:
            yield text
            continue
        empty += 1
        if empty > MAX_EMPTY_ITEMS:
            yield _EMPTIES
            return


def x_forwarded_source(policy: TrustPolicy) -> Source:
    """X-Forwarded-For: each item an address node, trust per node from ``policy``."""

    def node(k: int, text: str) -> Node:
        if text is TOO_LONG:
            return _not_address(
                TOO_LONG,
                f"X-Forwarded-For item {k} from the right is longer than"
                f" {MAX_ITEM_LENGTH} characters",
            )
        if text is _EMPTIES:
            reason = f"X-Forwarded-For has more than {MAX_EMPTY_ITEMS} empty items"
            return _not_address(TOO_LONG, reason)
        hop = policy.hop(text)
        if hop is None:
            return _not_address(
                text,
                f"X-Forwarded-For item {k} from the right, {text[:64]!r}, is not an"
                " IP address; the items left of it cannot be trusted",
            )
        return hop, None, None

    return x_forwarded_items, node


def forwarded_source(policy: TrustPolicy) -> Source:
    """``Forwarded``: the ``for=`` node of each element (RFC 7239 §5.2)."""

    def node(k: int, element: Element) -> Node:
        params = element.params
        if params is None:
            problem, shown = f"is malformed ({element.error})", element.text[:128]
        else:
            found = params.get("for")
            if found is None:
                problem, shown = "has no 'for' parameter", ""
            else:
                hop = policy.hop(node_text(found))
                if hop is not None:
                    return hop, params, None
                problem, shown = f"names {describe_node(found)}", found[:128]
        return _not_address(
            shown,
            f"Forwarded element {k} from the right {problem};"
            " the elements left of it cannot be trusted",
        )

    return elements_from_right, node


def _one(value: str) -> tuple[str]:
    return (value,)


def single_source(name: str) -> Source:
    """A single-address header: its one address, reported untrusted (it is the client)."""

    def node(k: int, value: str) -> Node:
        text = value.strip(" \t")
        # Exactly one line with exactly one address: a comma means a second line or a
        # list, which a single-address header never legitimately carries.
        if "," in text:
            address = None
        elif name in ADDRESS_AND_PORT:
            address = address_and_port(text)
        else:
            address = parse_node(text)
        if address is None:
            what = " and port" if name in ADDRESS_AND_PORT else ""
            reason = f"{name} must hold exactly one IP address{what}, not {text[:64]!r}"
            return _not_address(text[:MAX_ITEM_LENGTH], reason)
        return Hop(text, address.text, address.port, None), None, None

    return _one, node


def node_source(policy: TrustPolicy, family: str) -> Source:
    """The source for ``family`` (``"x-forwarded"``, ``"forwarded"`` or a single-address
    header's name), trust per node answered by ``policy``."""
    if family == "x-forwarded":
        return x_forwarded_source(policy)
    if family == "forwarded":
        return forwarded_source(policy)
    return single_source(family)
