"""The walk: right to left over the nodes a header family names, to the client.

One set of rules (``docs/walk.md``) over three node sources: X-Forwarded-For items
(:func:`walk_x_forwarded`), RFC 7239 ``Forwarded`` ``for=`` nodes
(:func:`walk_forwarded`) and a single-address header (:func:`walk_single`).  Each
returns a :class:`Walked`: the hop trail, the client hop, why, and for ``Forwarded`` the
client's element.  The resolver turns it into a :class:`~trustproxy.Resolution`; the
decision path (``Resolver.decide``) runs the same rules without building a trail.

``a0`` is the socket peer (already known to be trusted); ``a1`` the rightmost node,
``a2`` the next…

1. Walk right to left.  The client is ``a_k`` for the first ``k`` where ``a_k`` is not
   trusted or ``k == hops``.
2. If the nodes run out first: without ``hops`` the leftmost is the client (every hop
   was a trusted proxy); with ``hops`` the chain is shorter than configured:
   unresolved — no node at all included.
3. A node the walk must examine that is not an address (``unknown``, ``_hidden``, junk,
   a non-canonical IPv4, a bad port, a malformed ``Forwarded`` element or one without
   ``for``) makes the request unresolved: it is never skipped, because the nodes to its
   left were written by someone the walk could not vouch for.

For ``Forwarded``, ``proto`` and ``host`` come from the element whose ``for`` named the
client (RFC 7239 §5.4, §5.3: each proxy describes the request as it received it); ``by``
(§5.1) is parsed and ignored.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from ._address import Address, parse_address, parse_node, parse_port
from ._address import _parse as parse_uncached
from ._forwarded import describe_node, elements_from_right, node_text
from ._lists import MAX_EMPTY_ITEMS, MAX_ITEM_LENGTH, TOO_LONG, item_left_of
from ._status import MAX_HOPS
from .trust import Hop, TrustPolicy

__all__ = [
    "ADDRESS_AND_PORT",
    "Walked",
    "address_and_port",
    "decide_x_forwarded",
    "walk_forwarded",
    "walk_single",
    "walk_x_forwarded",
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


class Walked(NamedTuple):
    """The outcome of a walk.  ``proxies`` counts the trail entries (peer first) that are
    trusted proxies when the walk is unresolved; ``params`` is the client's element."""

    unresolved: bool
    reason: str
    trail: list[Hop]
    client: Optional[Hop]
    params: Optional[dict[str, str]]
    proxies: int


def _judge(
    policy: TrustPolicy,
    limit: int,
    trail: list[Hop],
    hop: Hop,
    k: int,
    params: Optional[dict[str, str]],
    untrusted: str,
    hop_word: str,
) -> Optional[Walked]:
    """The walk's rule for the ``k``-th address node, whatever header it came from: the
    first untrusted node is the client; the ``hops``-th is, trusted or not; past
    ``MAX_HOPS`` trusted ones the walk stops unresolved.  ``None``: walk on."""
    trail.append(hop)
    if hop.trusted_by is None:
        return Walked(False, untrusted, trail, hop, params, 0)
    if k != limit:
        return None
    if policy.hops is None:
        return Walked(
            True, f"more than {MAX_HOPS} trusted hops; stopped walking", trail, None, None, k + 1
        )
    return Walked(False, f"the client is {hop_word} {k}, as hops={k} says", trail, hop, params, 0)


def walk_forwarded(policy: TrustPolicy, limit: int, peer: Hop, value: Optional[str]) -> Walked:
    """Walk ``value`` (all Forwarded lines joined with commas) behind the trusted ``peer``."""
    trail = [peer]
    if not value:
        if policy.hops is not None:
            return _short(policy.hops, trail)
        return Walked(False, "no Forwarded header; the peer is the client", trail, None, None, 0)
    k = 0
    last: Optional[dict[str, str]] = None
    hop_of = policy.hop
    for element in elements_from_right(value):
        k += 1
        params = element.params
        if params is None:
            trail.append(Hop(element.text[:128], None, None, None))
            return Walked(
                True,
                f"Forwarded element {k} from the right is malformed ({element.error});"
                " the elements left of it cannot be trusted",
                trail, None, None, k,
            )  # fmt: skip
        node = params.get("for")
        if node is None:
            trail.append(Hop("", None, None, None))
            return Walked(
                True,
                f"Forwarded element {k} from the right has no 'for' parameter;"
                " the elements left of it cannot be trusted",
                trail, None, None, k,
            )  # fmt: skip
        hop = hop_of(node_text(node))
        if hop is None:
            trail.append(Hop(node[:128], None, None, None))
            return Walked(
                True,
                f"Forwarded element {k} from the right names {describe_node(node)};"
                " the elements left of it cannot be trusted",
                trail, None, None, k,
            )  # fmt: skip
        stop = _judge(
            policy, limit, trail, hop, k, params,
            "the client is the first untrusted Forwarded 'for' from the right", "Forwarded hop",
        )  # fmt: skip
        if stop is not None:
            return stop
        last = params
    if k == 0:
        if policy.hops is not None:
            return _short(policy.hops, trail)
        return Walked(
            False, "Forwarded has no elements; the peer is the client", trail, None, None, 0
        )
    if policy.hops is not None:
        return Walked(
            True,
            f"Forwarded has {k} element(s) but hops={policy.hops}:"
            " the chain is shorter than configured",
            trail, None, None, k + 1,
        )  # fmt: skip
    return Walked(
        False,
        "every Forwarded 'for' is a trusted proxy; the leftmost is the client",
        trail, trail[-1], last, 0,
    )  # fmt: skip


def _short(hops: int, trail: list[Hop]) -> Walked:
    """No element at all is a chain shorter than ``hops`` too: unresolved."""
    return Walked(
        True,
        f"no Forwarded element but hops={hops}: the chain is shorter than configured",
        trail, None, None, 1,
    )  # fmt: skip


def walk_x_forwarded(policy: TrustPolicy, limit: int, peer: Hop, value: Optional[str]) -> Walked:
    """Walk ``value`` (all X-Forwarded-For lines joined) behind the trusted ``peer``."""
    trail = [peer]
    k = 0
    empty = 0
    if value:
        hop_of = policy.hop
        end = len(value)
        while end >= 0:
            # Never further left than one item's worth of characters per step: the cost
            # follows the hops walked.
            text, end = item_left_of(value, end)
            if text is None:
                trail.append(Hop(TOO_LONG, None, None, None))
                return Walked(
                    True,
                    f"X-Forwarded-For item {k + 1} from the right is longer than"
                    f" {MAX_ITEM_LENGTH} characters",
                    trail, None, None, k + 1,
                )  # fmt: skip
            if not text:
                empty += 1
                if empty > MAX_EMPTY_ITEMS:
                    trail.append(Hop(TOO_LONG, None, None, None))
                    return Walked(
                        True, f"X-Forwarded-For has more than {MAX_EMPTY_ITEMS} empty items",
                        trail, None, None, k + 1,
                    )  # fmt: skip
                continue
            k += 1
            hop = hop_of(text)
            if hop is None:
                trail.append(Hop(text, None, None, None))
                return Walked(
                    True,
                    f"X-Forwarded-For item {k} from the right, {text[:64]!r}, is not an"
                    " IP address; the items left of it cannot be trusted",
                    trail, None, None, k,
                )  # fmt: skip
            stop = _judge(
                policy, limit, trail, hop, k, None,
                "the client is the first untrusted address from the right", "hop",
            )  # fmt: skip
            if stop is not None:
                return stop
        if k and policy.hops is not None:
            return Walked(
                True,
                f"X-Forwarded-For has {k} address(es) but hops={policy.hops}:"
                " the chain is shorter than configured",
                trail, None, None, k + 1,
            )  # fmt: skip
        if k:
            return Walked(
                False, "every address is a trusted proxy; the leftmost is the client",
                trail, trail[-1], None, 0,
            )  # fmt: skip
    if policy.hops is not None:
        # No item at all (no header, or only empty items) is a chain shorter than hops
        # too: the other X-Forwarded-* were then written by whoever connected to the
        # first proxy, not by the proxy hops names.
        return Walked(
            True,
            f"no X-Forwarded-For address but hops={policy.hops}: the chain is shorter"
            " than configured",
            trail, None, None, 1,
        )  # fmt: skip
    return Walked(False, "no X-Forwarded-For; the peer is the client", trail, None, None, 0)


def decide_x_forwarded(
    value: Optional[str],
    trusted_by: Callable[[Address], Optional[str]],
    limit: int,
    hops: Optional[int],
) -> tuple[int, Optional[Address]]:
    """:func:`walk_x_forwarded`'s decision alone, for ``Resolver.decide``: no trail.

    Returns ``(k, client)``: the client is item ``k`` from the right; ``(1, None)`` when
    there is no item (the peer is the client); ``(-1, None)`` when the walk is
    unresolved.  Same rules, same scans; the explanation is :func:`walk_x_forwarded`'s.
    """
    if value and len(value) <= MAX_ITEM_LENGTH and "," not in value:
        # One item (one proxy in front, the usual case), read without the scanner: it
        # is the client whether trusted or not (the leftmost item), unless hops asks for
        # more than the one hop there is.
        only = value.strip(" \t")
        if not only:
            return (-1, None) if hops is not None else (1, None)
        client = parse_uncached(only)
        if client is None:
            return -1, None
        if hops is not None and hops != 1 and trusted_by(client) is not None:
            return -1, None
        return 1, client
    k = 0
    if value:
        parse = parse_uncached
        empty = 0
        end = len(value)
        address = None
        while end >= 0:
            text, end = item_left_of(value, end)
            if text is None:  # an item too long
                return -1, None
            if not text:
                empty += 1
                if empty > MAX_EMPTY_ITEMS:
                    return -1, None
                continue
            k += 1
            address = parse(text)
            if address is None:
                return -1, None  # not an address: never skipped
            if trusted_by(address) is None:
                return k, address
            if k == limit:
                return (-1, None) if hops is None else (k, address)
        if k:
            # Every item trusted: the leftmost is the client, unless hops wanted more.
            return (-1, None) if hops is not None else (k, address)
    return (-1, None) if hops is not None else (1, None)


def walk_single(policy: TrustPolicy, name: str, peer: Hop, value: Optional[str]) -> Walked:
    """The one address in header ``name`` (X-Real-IP and the like) behind ``peer``.

    The address is the client whatever the policy says of it: the trusted peer wrote it.
    """
    trail = [peer]
    if value is None:  # absent; an empty line is present and holds no address
        if policy.hops is not None:
            # No address at all is shorter than any hop count, as for X-Forwarded-For.
            return Walked(
                True,
                f"no {name} header but hops={policy.hops}: the chain is shorter"
                " than configured",
                trail, None, None, 1,
            )  # fmt: skip
        return Walked(False, f"no {name} header; the peer is the client", trail, None, None, 0)
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
        trail.append(Hop(text[:MAX_ITEM_LENGTH], None, None, None))
        return Walked(
            True,
            f"{name} must hold exactly one IP address"
            f"{' and port' if name in ADDRESS_AND_PORT else ''}, not {text[:64]!r}",
            trail, None, None, 1,
        )  # fmt: skip
    hop = Hop(text, address.text, address.port, None)
    trail.append(hop)
    return Walked(
        False, f"the client is the address in {name}, sent by a trusted peer",
        trail, hop, None, 0,
    )  # fmt: skip
