"""The walk over RFC 7239 ``Forwarded`` elements.

It is the X-Forwarded-For walk (see ``_resolve``) with elements in place of items:

1. The caller has already checked that the socket peer is trusted.
2. Walk the elements right to left; each one's ``for`` node is ``a_k``.  The client is
   ``a_k`` for the first ``k`` where ``a_k`` is not trusted or ``k == hops``.
3. If the elements run out first: without ``hops`` the leftmost is the client; with
   ``hops`` the chain is shorter than configured: unresolved.
4. An element the walk must examine that is malformed, has no ``for``, or whose ``for`` is
   not an address (``unknown``, ``_hidden``, junk) makes the request unresolved.

``proto`` and ``host`` are taken from the element whose ``for`` named the client (RFC 7239
§5.4, §5.3: each proxy describes the request *as it received it*, so the scheme and Host
the client used sit next to the client's address) and never from another element.  ``by``
(§5.1) is parsed and ignored.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from ._forwarded import describe_node, elements_from_right, node_text
from .trust import Hop, TrustPolicy

__all__ = ["MAX_HOPS", "Walked", "walk_forwarded"]

#: Must equal ``_resolve.MAX_HOPS`` (kept here to avoid an import cycle).
MAX_HOPS = 64


class Walked(NamedTuple):
    """The outcome of a walk.  ``proxies`` counts the trail entries (peer first) that are
    trusted proxies when the walk is unresolved; ``params`` is the client's element."""

    unresolved: bool
    reason: str
    trail: list[Hop]
    client: Optional[Hop]
    params: Optional[dict[str, str]]
    proxies: int


def walk_forwarded(policy: TrustPolicy, limit: int, peer: Hop, value: Optional[str]) -> Walked:
    """Walk ``value`` (all Forwarded lines joined with commas) behind the trusted ``peer``."""
    trail = [peer]
    if not value:
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
        trail.append(hop)
        if hop.trusted_by is None:
            return Walked(
                False,
                "the client is the first untrusted Forwarded 'for' from the right",
                trail, hop, params, 0,
            )  # fmt: skip
        if k == limit:
            if policy.hops is None:
                return Walked(
                    True, f"more than {MAX_HOPS} trusted hops; stopped walking",
                    trail, None, None, k + 1,
                )  # fmt: skip
            return Walked(
                False, f"the client is Forwarded hop {k}, as hops={k} says",
                trail, hop, params, 0,
            )  # fmt: skip
        last = params
    if k == 0:
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
