"""The walk's node sources: each header family's nodes, right to left.

X-Forwarded-For items (:func:`x_forwarded_nodes`), the ``for=`` node of each RFC 7239
``Forwarded`` element (:func:`forwarded_nodes`) and the one address of a single-address
header (:func:`single_node`).  Each yields :data:`Node` tuples for the one walk in
:mod:`trustproxy._walk` (rules in ``docs/walk.md``): a node that is not an address comes
with the reason the walk stops there, and ends the source.  Every scan is bounded
(``docs/security.md``, limits): the cost follows the nodes walked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from ._address import Address, parse_address, parse_node, parse_port
from ._forwarded import describe_node, elements_from_right, node_text
from ._lists import MAX_EMPTY_ITEMS, MAX_ITEM_LENGTH, TOO_LONG, item_left_of
from .trust import Hop, TrustPolicy

__all__ = [
    "ADDRESS_AND_PORT",
    "Node",
    "address_and_port",
    "forwarded_nodes",
    "single_node",
    "x_forwarded_nodes",
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


#: A node: ``(k, hop, params, None)``, or ``(k, hop, None, reason)`` for one that is not
#: an address (``hop`` then holds only its text).
Node = tuple[int, Hop, Optional[dict[str, str]], Optional[str]]


def _not_address(k: int, shown: str, reason: str) -> Node:
    return k, Hop(shown, None, None, None), None, reason


def x_forwarded_nodes(policy: TrustPolicy, value: str) -> Iterator[Node]:
    """X-Forwarded-For items, right to left: never further left than one item's worth
    of characters per step, so the cost follows the hops walked."""
    hop_of = policy.hop
    k = 0
    empty = 0
    end = len(value)
    while end >= 0:
        text, end = item_left_of(value, end)
        if text is None:
            yield _not_address(
                k + 1, TOO_LONG,
                f"X-Forwarded-For item {k + 1} from the right is longer than"
                f" {MAX_ITEM_LENGTH} characters",
            )  # fmt: skip
            return
        if not text:
            empty += 1
            if empty > MAX_EMPTY_ITEMS:
                reason = f"X-Forwarded-For has more than {MAX_EMPTY_ITEMS} empty items"
                yield _not_address(k + 1, TOO_LONG, reason)
                return
            continue
        k += 1
        hop = hop_of(text)
        if hop is None:
            yield _not_address(
                k, text,
                f"X-Forwarded-For item {k} from the right, {text[:64]!r}, is not an"
                " IP address; the items left of it cannot be trusted",
            )  # fmt: skip
            return
        yield k, hop, None, None


def forwarded_nodes(policy: TrustPolicy, value: str) -> Iterator[Node]:
    """The ``for=`` node of each ``Forwarded`` element, right to left."""
    hop_of = policy.hop
    k = 0
    for element in elements_from_right(value):
        k += 1
        params = element.params
        if params is None:
            problem, shown = f"is malformed ({element.error})", element.text[:128]
        else:
            node = params.get("for")
            if node is None:
                problem, shown = "has no 'for' parameter", ""
            else:
                hop = hop_of(node_text(node))
                if hop is not None:
                    yield k, hop, params, None
                    continue
                problem, shown = f"names {describe_node(node)}", node[:128]
        yield _not_address(
            k, shown,
            f"Forwarded element {k} from the right {problem};"
            " the elements left of it cannot be trusted",
        )  # fmt: skip
        return


def single_node(name: str, value: str) -> tuple[Node]:
    """The one address of header ``name``, reported untrusted: it is the client."""
    text = value.strip(" \t")
    # Exactly one line with exactly one address: a comma means a second line or a list,
    # which a single-address header never legitimately carries.
    if "," in text:
        address = None
    elif name in ADDRESS_AND_PORT:
        address = address_and_port(text)
    else:
        address = parse_node(text)
    if address is None:
        what = " and port" if name in ADDRESS_AND_PORT else ""
        reason = f"{name} must hold exactly one IP address{what}, not {text[:64]!r}"
        return (_not_address(1, text[:MAX_ITEM_LENGTH], reason),)
    return ((1, Hop(text, address.text, address.port, None), None, None),)
