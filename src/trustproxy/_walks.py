"""The walk over RFC 7239 ``Forwarded`` elements.

It is the X-Forwarded-For walk (see ``_resolve``) with elements in place of items:

1. The caller has already checked that the socket peer is trusted.
2. Walk the elements right to left; each one's ``for`` node is ``a_k``.  The client is
   ``a_k`` for the first ``k`` where ``a_k`` is not trusted or ``k == hops``.
3. If the elements run out first: without ``hops`` the leftmost is the client; with
   ``hops`` the chain is shorter than configured: unresolved (no element at all too).
4. An element the walk must examine that is malformed, has no ``for``, or whose ``for`` is
   not an address (``unknown``, ``_hidden``, junk) makes the request unresolved.

``proto`` and ``host`` are taken from the element whose ``for`` named the client (RFC 7239
§5.4, §5.3: each proxy describes the request *as it received it*, so the scheme and Host
the client used sit next to the client's address) and never from another element.  ``by``
(§5.1) is parsed and ignored.

:class:`ForwardedWalks` holds the Resolver methods for ``headers="forwarded"`` and for
both families read together (cross-checked; a contradiction is a ``conflict``, see
``docs/forwarded.md``), so that ``_resolve`` keeps only the dispatch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional

from ._forwarded import describe_node, elements_from_right, node_text
from ._lists import nth_from_right
from ._status import APPLIED, CONFLICT, MAX_HOPS
from ._values import FIELDS, ITEM_LIMITS, host_port, valid_scheme
from .trust import Hop, TrustPolicy

if TYPE_CHECKING:
    from ._result import Resolution

__all__ = ["MAX_HOPS", "ForwardedWalks", "Walked", "walk_forwarded"]


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


class ForwardedWalks:
    """The ``Forwarded`` and both-families methods of :class:`~trustproxy.Resolver`.

    Kept apart from ``_resolve`` so that the X-Forwarded-For hot path stays alone there.
    """

    if TYPE_CHECKING:
        policy: TrustPolicy
        fields: frozenset[str]
        _limit: int

        def _finish(
            self,
            reason: str,
            trail: list[Hop],
            client: Optional[Hop],
            proto: Optional[str],
            forwarded_host: Optional[str],
            forwarded_port: Optional[str],
            forwarded_prefix: Optional[str],
            scheme: str,
            host: Optional[str],
            port: Optional[int],
            prefix: str,
        ) -> Resolution: ...

        def _unresolved(
            self,
            reason: str,
            trail: list[Hop],
            proxies: int,
            scheme: str,
            host: Optional[str],
            port: Optional[int],
            prefix: str,
        ) -> Resolution: ...

        def _x_forwarded(
            self,
            peer_hop: Hop,
            values: tuple[Optional[str], ...],
            scheme: str,
            host: Optional[str],
            port: Optional[int],
            prefix: str,
        ) -> Resolution: ...

    def _forwarded(
        self,
        peer_hop: Hop,
        value: Optional[str],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> tuple[Resolution, Optional[dict[str, str]]]:
        """The RFC 7239 walk (see ``_walks``); also returns the client's element."""
        walked = walk_forwarded(self.policy, self._limit, peer_hop, value)
        if walked.unresolved:
            return self._unresolved(
                walked.reason, walked.trail, walked.proxies, scheme, host, port, prefix
            ), None  # fmt: skip
        params = walked.params or {}
        fields = self.fields
        proto = params.get("proto") if "proto" in fields else None
        forwarded_host = params.get("host") if "host" in fields else None
        return self._finish(
            walked.reason, walked.trail, walked.client, proto, forwarded_host, None, None,
            scheme, host, port, prefix,
        ), params  # fmt: skip

    def _both(
        self,
        peer_hop: Hop,
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        """Read Forwarded and X-Forwarded-* and cross-check them (see docs/forwarded.md).

        Only one present: that one decides.  Both: either unresolved -> unresolved; a
        different client, or a different valid scheme or host -> ``conflict``; otherwise
        the client's Forwarded element supplies for/proto/host, X-Forwarded-* (hop-aligned
        with its own walk) whatever that element lacks, plus port and prefix.
        """
        x_values = values[1:]
        if values[0] is None:
            return self._x_forwarded(peer_hop, x_values, scheme, host, port, prefix)
        forwarded, params = self._forwarded(peer_hop, values[0], scheme, host, port, prefix)
        if all(value is None for value in x_values):
            return forwarded
        x = self._x_forwarded(peer_hop, x_values, scheme, host, port, prefix)
        if forwarded.status != APPLIED:
            return forwarded
        if x.status != APPLIED:
            return x
        f_client = forwarded.hops[-1] if len(forwarded.hops) > 1 else None
        x_client = x.hops[-1] if len(x.hops) > 1 else None
        # Hop-aligned X-Forwarded-* values: the k-th item from the right, k being the
        # client's position in X-Forwarded-For, else in Forwarded, else hops or 1.
        if x_client is not None:
            k = len(x.hops) - 1
        elif f_client is not None:
            k = len(forwarded.hops) - 1
        else:
            k = self.policy.hops or 1
        raw: list[Optional[str]] = [
            nth_from_right(value, k, ITEM_LIMITS[field])[0] if value else None
            for field, value in zip(FIELDS, x_values)
        ]
        if f_client is not None and x_client is not None and f_client.address != x_client.address:
            return self._conflict(
                "Forwarded and X-Forwarded-For name different clients"
                f" ({f_client.address} and {x_client.address})",
                forwarded, scheme, host, port, prefix,
            )  # fmt: skip
        params = params or {}
        fields = self.fields
        proto = params.get("proto")
        if "proto" in fields and proto is not None and raw[1] is not None:
            mine, theirs = valid_scheme(proto), valid_scheme(raw[1])
            if mine is not None and theirs is not None and mine != theirs:
                return self._conflict(
                    f"Forwarded proto ({mine}) and X-Forwarded-Proto ({theirs}) disagree",
                    forwarded, scheme, host, port, prefix,
                )  # fmt: skip
        f_host = params.get("host")
        if "host" in fields and f_host is not None and raw[2] is not None:
            mine_host, theirs_host = host_port(f_host), host_port(raw[2])
            if (
                mine_host is not None
                and theirs_host is not None
                and f_host.lower() != raw[2].lower()
            ):
                return self._conflict(
                    "Forwarded host and X-Forwarded-Host disagree",
                    forwarded, scheme, host, port, prefix,
                )  # fmt: skip
        return self._finish(
            f"{forwarded.reason}; X-Forwarded-* agrees"
            if f_client is not None
            else f"{x.reason}; Forwarded names no client",
            list(forwarded.hops if f_client is not None else x.hops),
            f_client or x_client,
            (proto if proto is not None else raw[1]) if "proto" in fields else None,
            (f_host if f_host is not None else raw[2]) if "host" in fields else None,
            raw[3] if "port" in fields else None,
            raw[4] if "prefix" in fields else None,
            scheme, host, port, prefix,
        )  # fmt: skip

    def _conflict(
        self,
        reason: str,
        seen: Resolution,
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        """Contradicting headers: nothing is applied; adapters answer 400."""
        peer = seen.hops[0]
        return seen._replace(
            status=CONFLICT, reason=reason, client=peer.address, client_port=None,
            scheme=scheme, host=host, port=port, prefix=prefix, proxies=(peer,),
            applied=(), ignored=(),
        )  # fmt: skip
