"""The walk: right to left over the nodes a header family names, to the client.

One set of rules (``docs/walk.md``, ``docs/forwarded.md``) over three node sources:
X-Forwarded-For items, RFC 7239 ``Forwarded`` ``for=`` nodes and the one address of a
single-address header.  :meth:`Walker.walk` runs them and returns a :class:`Walked`: the hop
trail, the client hop, why, and for ``Forwarded`` the client's element.  The rules are
:func:`step` (one address node) and :func:`ran_out` (no node left); the decision path's
:func:`decide_x_forwarded` applies the same two to X-Forwarded-For without a trail.

``a0`` is the socket peer (already known to be trusted); ``a1`` the rightmost node,
``a2`` the next…

1. Walk right to left.  The client is ``a_k`` for the first ``k`` where ``a_k`` is not
   trusted or ``k == hops``; past ``MAX_HOPS`` trusted nodes the walk stops unresolved.
2. If the nodes run out first: without ``hops`` the leftmost is the client (every hop
   was a trusted proxy); with ``hops`` the chain is shorter than configured:
   unresolved — no node at all included.
3. A node the walk must examine that is not an address (``unknown``, ``_hidden``, junk,
   a non-canonical IPv4, a bad port, a malformed ``Forwarded`` element or one without
   ``for``) makes the request unresolved: it is never skipped, because the nodes to its
   left were written by someone the walk could not vouch for.

A single-address header's address is the client whatever the policy says of it (the
trusted peer wrote it): its source reports it untrusted.  For ``Forwarded``, ``proto``
and ``host`` come from the element whose ``for`` named the client (RFC 7239 §5.4, §5.3);
``by`` (§5.1) is parsed and ignored.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from ._address import Address
from ._address import _parse as parse_uncached
from ._lists import MAX_EMPTY_ITEMS, MAX_ITEM_LENGTH, item_left_of
from ._nodes import node_source
from ._status import MAX_HOPS
from .trust import Hop, TrustPolicy

__all__ = [
    "CLIENT",
    "STOPPED",
    "WALK_ON",
    "Walked",
    "Walker",
    "decide_x_forwarded",
    "ran_out",
    "step",
]


# -- the rules -------------------------------------------------------------------------

#: :func:`step`'s answers.
WALK_ON, CLIENT, STOPPED = 0, 1, -1


def step(k: int, limit: int, hops: Optional[int]) -> int:
    """Rule 1 past a *trusted* ``k``-th address node (an untrusted one is the client, and
    both walks say so inline: it is the usual node, and a call costs): :data:`CLIENT`
    (it is the ``hops``-th), :data:`STOPPED` (the ``MAX_HOPS``-th and no ``hops``:
    unresolved) or :data:`WALK_ON`.  ``limit`` is ``hops``, else ``MAX_HOPS``."""
    if k != limit:
        return WALK_ON
    return STOPPED if hops is None else CLIENT


def ran_out(k: int, hops: Optional[int]) -> int:
    """Rule 2, when the nodes run out after ``k`` trusted ones: the client's ``k`` (the
    leftmost node), ``0`` (no node: the peer is the client) or ``-1`` (``hops`` asked
    for more: unresolved)."""
    return -1 if hops is not None else k


# -- the trail and its words -------------------------------------------------------------


class Walked(NamedTuple):
    """The outcome of a walk.  ``proxies`` counts the trail entries (peer first) that are
    trusted proxies when the walk is unresolved; ``params`` is the client's element."""

    unresolved: bool
    reason: str
    trail: list[Hop]
    client: Optional[Hop]
    params: Optional[dict[str, str]]
    proxies: int


class _Words(NamedTuple):
    """How one header family words the outcomes of the walk."""

    untrusted: str  # the client is the first untrusted node (or the one address)
    hop: str  # "the client is {hop} {k}, as hops={k} says"
    nodes: tuple[str, str]  # "{header} has {k} {nodes} but hops=…": hops wanted more
    no_node: str  # "{no_node} but hops=…": no node at all, and hops is set
    absent: str  # no header, no hops
    empty: str  # a header without a node, no hops
    leftmost: str  # every node trusted, no hops


_X_FORWARDED = _Words(
    "the client is the first untrusted address from the right",
    "hop",
    ("X-Forwarded-For", "address(es)"),
    # No item at all (no header, or only empty items) is a chain shorter than hops too:
    # the other X-Forwarded-* were then written by whoever connected to the first proxy.
    "no X-Forwarded-For address",
    "no X-Forwarded-For; the peer is the client",
    "no X-Forwarded-For; the peer is the client",
    "every address is a trusted proxy; the leftmost is the client",
)
_FORWARDED = _Words(
    "the client is the first untrusted Forwarded 'for' from the right",
    "Forwarded hop",
    ("Forwarded", "element(s)"),
    "no Forwarded element",
    "no Forwarded header; the peer is the client",
    "Forwarded has no elements; the peer is the client",
    "every Forwarded 'for' is a trusted proxy; the leftmost is the client",
)


def _words(family: str) -> _Words:
    if family == "x-forwarded":
        return _X_FORWARDED
    if family == "forwarded":
        return _FORWARDED
    return _Words(
        f"the client is the address in {family}, sent by a trusted peer",
        "hop",
        (family, "address(es)"),  # never said: its one node is the client
        f"no {family} header",
        f"no {family} header; the peer is the client",
        f"no {family} header; the peer is the client",
        "",
    )


class Walker:
    """The walk for one trust policy and one header family (``"x-forwarded"``,
    ``"forwarded"`` or a single-address header's name), set up once per resolver."""

    __slots__ = ("_absent_if_empty", "_hops", "_items", "_limit", "_read", "_words")

    def __init__(self, policy: TrustPolicy, limit: int, family: str) -> None:
        self._limit = limit
        self._hops = policy.hops
        self._words = _words(family)
        self._items, self._read = node_source(policy, family)
        # An empty single-address line is present and not an address; an empty list
        # header is a header without a node.
        self._absent_if_empty = family in ("x-forwarded", "forwarded")

    def walk(self, peer: Hop, value: Optional[str]) -> Walked:
        """Walk ``value`` (all lines of the family's header joined with commas) behind
        the trusted ``peer``; ``None``: no such header."""
        trail = [peer]
        if value is None or (not value and self._absent_if_empty):
            return self._ran_out(trail, 0, None, True)
        read = self._read
        k = 0
        last: Optional[dict[str, str]] = None
        for item in self._items(value):
            k += 1
            hop, params, refused = read(k, item)
            trail.append(hop)
            if refused is not None:  # rule 3, for every source
                return Walked(True, refused, trail, None, None, k)
            if hop.trusted_by is None:
                return Walked(False, self._words.untrusted, trail, hop, params, 0)
            verdict = step(k, self._limit, self._hops)
            if verdict == CLIENT:
                reason = f"the client is {self._words.hop} {k}, as hops={k} says"
                return Walked(False, reason, trail, hop, params, 0)
            if verdict == STOPPED:
                reason = f"more than {MAX_HOPS} trusted hops; stopped walking"
                return Walked(True, reason, trail, None, None, k + 1)
            last = params
        return self._ran_out(trail, k, last, False)

    def _ran_out(
        self, trail: list[Hop], k: int, last: Optional[dict[str, str]], absent: bool
    ) -> Walked:
        """Rule 2: no node left after ``k`` trusted ones (``absent``: no header)."""
        words = self._words
        hops = self._hops
        client = ran_out(k, hops)
        if client < 0:
            header, counted = words.nodes
            what = f"{header} has {k} {counted}" if k else words.no_node
            reason = f"{what} but hops={hops}: the chain is shorter than configured"
            return Walked(True, reason, trail, None, None, k + 1)
        if client == 0:
            return Walked(False, words.absent if absent else words.empty, trail, None, None, 0)
        return Walked(False, words.leftmost, trail, trail[-1], last, 0)


# -- the decision alone ------------------------------------------------------------------


def decide_x_forwarded(
    value: Optional[str],
    trusted_by: Callable[[Address], Optional[str]],
    limit: int,
    hops: Optional[int],
) -> tuple[int, Optional[Address]]:
    """The X-Forwarded-For walk's decision alone, for ``Resolver.decide``: no trail.

    Returns ``(k, client)``: the client is item ``k`` from the right; ``(1, None)`` when
    there is no item (the peer is the client); ``(-1, None)`` when the walk is
    unresolved.  Same scans and rules (:func:`step`, :func:`ran_out`) as the
    :class:`Walker`,
    whose trail is the explanation.
    """
    if value and len(value) <= MAX_ITEM_LENGTH and "," not in value:
        # One item (one proxy in front, the usual case), read without the scanner.
        only = value.strip(" \t")
        if not only:
            return (-1, None) if ran_out(0, hops) < 0 else (1, None)
        client = parse_uncached(only)
        if client is None:
            return -1, None
        if hops is None or hops == 1 or trusted_by(client) is None:
            # The client, untrusted or not: with hops None or 1 step or ran_out says so
            # of a lone trusted item, without a trust lookup.
            return 1, client
        return -1, None  # trusted, and hops wants more than the one item there is
    k = 0
    address = None
    if value:
        parse = parse_uncached
        empty = 0
        end = len(value)
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
            verdict = step(k, limit, hops)
            if verdict:
                return (k, address) if verdict == CLIENT else (-1, None)
    leftmost = ran_out(k, hops)
    if leftmost < 0:
        return -1, None
    return (k, address) if leftmost else (1, None)
