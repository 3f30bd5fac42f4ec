"""The full resolution of each header family: decision, hop trail and reasons.

``x-forwarded`` (X-Forwarded-For/-Proto/-Host/-Port/-Prefix), ``forwarded`` (RFC 7239),
both together (cross-checked: a contradiction is a ``conflict``, ``docs/forwarded.md``)
and single-address headers.  :class:`FullResolver` runs the walk (:mod:`trustproxy._walk`)
with its hop trail and reasons and builds the whole :class:`~trustproxy.Resolution`:
what ``Resolver.decide`` hands over for the families it has no lean path for, and the
explanation of a lean resolution when it is first read.
"""

from __future__ import annotations

from typing import Callable, Optional

from ._config import BOTH
from ._lists import nth_from_right
from ._request import Request
from ._result import Details, Resolution, applied, finish, unresolved
from ._status import APPLIED, CONFLICT, UNTRUSTED_PEER
from ._values import FIELDS, ITEM_LIMITS, Checked, host_port, valid_scheme
from ._walk import Walker
from .trust import Hop, TrustPolicy

__all__ = ["FullResolver"]

_NONE = (None, None, None, None)


class FullResolver:
    """A resolution with its explanation, for one configuration.

    ``aligned(k, request)`` gives the checked X-Forwarded-* values of hop ``k`` (the
    resolver's :func:`~trustproxy._aligned.aligned_values` through its memo).
    """

    def __init__(
        self,
        policy: TrustPolicy,
        family: str,
        fields: frozenset[str],
        limit: int,
        aligned: Callable[[int, Request], Checked],
    ) -> None:
        self.policy = policy
        self.family = family
        self.fields = fields
        self.apply_for = "for" in fields
        self.aligned = aligned
        if family == BOTH:
            self._x_walk = Walker(policy, limit, "x-forwarded")
            self._walk = Walker(policy, limit, "forwarded")
        else:
            self._walk = self._x_walk = Walker(policy, limit, family)

    def details(self, request: Request) -> Details:
        """The explanation of a lean resolution of ``request``: computed when read."""
        return self.resolve(request)._details()

    def resolve(self, request: Request) -> Resolution:
        """The whole resolution of ``request``: decision, hop trail and reasons."""
        peer, values, scheme, host, port, prefix = request
        peer_hop = self.policy.peer(peer)
        if peer_hop.trusted_by is None:
            return Resolution(
                UNTRUSTED_PEER,
                f"peer {peer_hop.text or 'on a UNIX socket'} is not a trusted proxy;"
                " forwarding headers ignored",
                peer_hop.address, None, scheme, host, port, prefix, (peer_hop,), (),
            )  # fmt: skip
        family = self.family
        if family == "x-forwarded":
            return self._x_forwarded(peer_hop, request)
        if family == "forwarded":
            return self._forwarded(peer_hop, request)[0]
        if family == BOTH:
            return self._both(peer_hop, request)
        walked = self._walk.walk(peer_hop, values[0])
        if walked.unresolved:
            return unresolved(walked, request)
        return finish(self.apply_for, walked.reason, walked.trail, walked.client, _NONE, request)

    def _x_forwarded(self, peer_hop: Hop, request: Request) -> Resolution:
        walked = self._x_walk.walk(peer_hop, request[1][0])
        if walked.unresolved:
            return unresolved(walked, request)
        # The client is hop k: the trail holds the peer and the k items walked.
        k = len(walked.trail) - 1 if walked.client is not None else 1
        checked = self.aligned(k, request)
        return applied(self.apply_for, walked.reason, walked.trail, walked.client, checked)

    def _forwarded(
        self, peer_hop: Hop, request: Request
    ) -> tuple[Resolution, Optional[dict[str, str]]]:
        """The RFC 7239 resolution; also the client's element."""
        walked = self._walk.walk(peer_hop, request[1][0])
        if walked.unresolved:
            return unresolved(walked, request), None
        params = walked.params or {}
        fields = self.fields
        proto = params.get("proto") if "proto" in fields else None
        forwarded_host = params.get("host") if "host" in fields else None
        return finish(
            self.apply_for, walked.reason, walked.trail, walked.client,
            (proto, forwarded_host, None, None), request,
        ), params  # fmt: skip

    def _both(self, peer_hop: Hop, request: Request) -> Resolution:
        """Read Forwarded and X-Forwarded-* and cross-check them (see docs/forwarded.md).

        Only one present: that one decides.  Both: either unresolved -> unresolved; a
        different client, or a different valid scheme or host -> ``conflict``; otherwise
        the client's Forwarded element supplies for/proto/host, X-Forwarded-* (hop-aligned
        with its own walk) whatever that element lacks, plus port and prefix.
        """
        peer, values, scheme, host, port, prefix = request
        x_values = values[1:]
        x_request = (peer, x_values, scheme, host, port, prefix)
        if values[0] is None:
            return self._x_forwarded(peer_hop, x_request)
        forwarded, params = self._forwarded(peer_hop, request)
        if all(value is None for value in x_values):
            return forwarded
        x = self._x_forwarded(peer_hop, x_request)
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
            return _conflict(
                "Forwarded and X-Forwarded-For name different clients"
                f" ({f_client.address} and {x_client.address})",
                forwarded, request,
            )  # fmt: skip
        fields = self.fields
        params = params or {}
        proto = params.get("proto")
        if "proto" in fields and proto is not None and raw[1] is not None:
            mine, theirs = valid_scheme(proto), valid_scheme(raw[1])
            if mine is not None and theirs is not None and mine != theirs:
                return _conflict(
                    f"Forwarded proto ({mine}) and X-Forwarded-Proto ({theirs}) disagree",
                    forwarded, request,
                )  # fmt: skip
        f_host = params.get("host")
        if "host" in fields and f_host is not None and raw[2] is not None:
            mine_host, theirs_host = host_port(f_host), host_port(raw[2])
            if (
                mine_host is not None
                and theirs_host is not None
                and f_host.lower() != raw[2].lower()
            ):
                return _conflict("Forwarded host and X-Forwarded-Host disagree", forwarded, request)
        return finish(
            self.apply_for,
            f"{forwarded.reason}; X-Forwarded-* agrees"
            if f_client is not None
            else f"{x.reason}; Forwarded names no client",
            list(forwarded.hops if f_client is not None else x.hops),
            f_client or x_client,
            (
                (proto if proto is not None else raw[1]) if "proto" in fields else None,
                (f_host if f_host is not None else raw[2]) if "host" in fields else None,
                raw[3] if "port" in fields else None,
                raw[4] if "prefix" in fields else None,
            ),
            request,
        )


def _conflict(reason: str, seen: Resolution, request: Request) -> Resolution:
    """Contradicting headers: nothing is applied; adapters answer 400."""
    peer = seen.hops[0]
    _, _, scheme, host, port, prefix = request
    return seen._replace(
        status=CONFLICT, reason=reason, client=peer.address, client_port=None,
        scheme=scheme, host=host, port=port, prefix=prefix, proxies=(peer,),
        applied=(), ignored=(),
    )  # fmt: skip
