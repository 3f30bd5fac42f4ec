"""How the ``Forwarded`` walk, and both header families read together, become a
:class:`~trustproxy.Resolution`: the client's element supplies ``proto`` and ``host``,
and the two families are cross-checked (a contradiction is a ``conflict``; see
``docs/forwarded.md``).  The walk itself is in :mod:`trustproxy._walk`.
"""

from __future__ import annotations

from typing import Callable, Optional

from ._lists import nth_from_right
from ._result import Resolution, finish, unresolved
from ._status import APPLIED, CONFLICT
from ._values import FIELDS, ITEM_LIMITS, host_port, valid_scheme
from ._walk import walk_forwarded
from .trust import Hop, TrustPolicy

__all__ = ["resolve_both", "resolve_forwarded"]


def resolve_forwarded(
    policy: TrustPolicy,
    limit: int,
    fields: frozenset[str],
    apply_for: bool,
    peer_hop: Hop,
    value: Optional[str],
    scheme: str,
    host: Optional[str],
    port: Optional[int],
    prefix: str,
) -> tuple[Resolution, Optional[dict[str, str]]]:
    """The RFC 7239 walk (see ``_walk``); also returns the client's element."""
    walked = walk_forwarded(policy, limit, peer_hop, value)
    if walked.unresolved:
        return unresolved(
            walked.reason, walked.trail, walked.proxies, scheme, host, port, prefix
        ), None  # fmt: skip
    params = walked.params or {}
    proto = params.get("proto") if "proto" in fields else None
    forwarded_host = params.get("host") if "host" in fields else None
    return finish(
        apply_for, walked.reason, walked.trail, walked.client, proto, forwarded_host, None, None,
        scheme, host, port, prefix,
    ), params  # fmt: skip


def resolve_both(
    policy: TrustPolicy,
    limit: int,
    fields: frozenset[str],
    apply_for: bool,
    x_forwarded: Callable[
        [Hop, tuple[Optional[str], ...], str, Optional[str], Optional[int], str], Resolution
    ],
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
        return x_forwarded(peer_hop, x_values, scheme, host, port, prefix)
    forwarded, params = resolve_forwarded(
        policy, limit, fields, apply_for, peer_hop, values[0], scheme, host, port, prefix
    )
    if all(value is None for value in x_values):
        return forwarded
    x = x_forwarded(peer_hop, x_values, scheme, host, port, prefix)
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
        k = policy.hops or 1
    raw: list[Optional[str]] = [
        nth_from_right(value, k, ITEM_LIMITS[field])[0] if value else None
        for field, value in zip(FIELDS, x_values)
    ]
    if f_client is not None and x_client is not None and f_client.address != x_client.address:
        return _conflict(
            "Forwarded and X-Forwarded-For name different clients"
            f" ({f_client.address} and {x_client.address})",
            forwarded, scheme, host, port, prefix,
        )  # fmt: skip
    params = params or {}
    proto = params.get("proto")
    if "proto" in fields and proto is not None and raw[1] is not None:
        mine, theirs = valid_scheme(proto), valid_scheme(raw[1])
        if mine is not None and theirs is not None and mine != theirs:
            return _conflict(
                f"Forwarded proto ({mine}) and X-Forwarded-Proto ({theirs}) disagree",
                forwarded, scheme, host, port, prefix,
            )  # fmt: skip
    f_host = params.get("host")
    if "host" in fields and f_host is not None and raw[2] is not None:
        mine_host, theirs_host = host_port(f_host), host_port(raw[2])
        if mine_host is not None and theirs_host is not None and f_host.lower() != raw[2].lower():
            return _conflict(
                "Forwarded host and X-Forwarded-Host disagree",
                forwarded, scheme, host, port, prefix,
            )  # fmt: skip
    return finish(
        apply_for,
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
