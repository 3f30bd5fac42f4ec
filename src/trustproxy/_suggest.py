"""Suggest a configuration from one request that came through the user's own proxies.

Used by ``trustproxy whoami``: the user opens the page from their own browser, through
the proxy chain they run, so whatever arrived is assumed honest — the leftmost
X-Forwarded-For item (or ``Forwarded`` ``for=``) is the user's own address and every
other node is one of their proxies.  That assumption is the first caveat printed.

For ``client -> P1 -> P2 -> app`` the app sees ``X-Forwarded-For: client, P1`` from the
socket peer P2: the proxies are the peer and every item but the leftmost, nearest first,
and ``hops`` is the number of items (the walk's ``a_hops`` is the client).

The suggestion is complete: ``trusted`` (the exact addresses seen), ``hops`` where a
hop count is the better choice, ``fields`` (what the chain actually sent) and
``headers``, written out for every adapter (:data:`FORMS`), with the chain's shape in
words and the signs of an inconsistent chain flagged.

This module is pure: it takes the peer and the header lines and returns a
:class:`Suggestion`; nothing here does I/O.  Which header carries the chain is
:mod:`trustproxy._suggest_chain`'s choice, the bounded reads of it are in
:mod:`trustproxy._suggest_read`, the words and the per-adapter forms in
:mod:`trustproxy._suggest_text`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import NamedTuple, Optional

from ._config import Options
from ._status import MAX_HOPS
from ._suggest_chain import SINGLE_HEADERS, Headers, read_chain
from ._suggest_read import (
    MAX_BAD_LISTED,
    MAX_ITEMS,
    canonical,
    common_network,
    field_counts,
    items,
)
from ._suggest_text import (
    ASSUMPTION,
    FORMS,
    chain_words,
    closing_caveats,
    forms_for,
    is_private,
    keywords,
    preapplied,
)
from ._values import FIELDS
from .errors import ConfigError

__all__ = ["FORMS", "SINGLE_HEADERS", "Suggestion", "suggest"]


class Suggestion(NamedTuple):
    """A configuration to paste, with what it is based on and why to be careful."""

    summary: str
    proxies: tuple[str, ...]
    client: Optional[str]
    trusted: tuple[str, ...]
    network: Optional[str]
    hops: Optional[int]
    headers: Headers
    #: The suggested keywords, as Python (``trusted=[...], fields=[...], ...``).
    config: str
    caveats: tuple[str, ...]
    #: The fields the trusted chain sent, in field order.
    fields: tuple[str, ...] = ()
    #: ``(label, snippet)`` for each of :data:`FORMS` that applies.
    forms: tuple[tuple[str, str], ...] = ()
    #: The chain's shape, one sentence per step, client first.
    chain: tuple[str, ...] = ()
    #: Signs of an inconsistent chain (also listed among the caveats' kind: act on them).
    flags: tuple[str, ...] = ()
    #: The keywords of the alternative (a hop count, or the exact addresses), if any.
    alternative: str = ""


def suggest(
    peer: Optional[str],
    lines: Sequence[tuple[str, str]],
    *,
    peer_trusted: Optional[bool] = None,
) -> Suggestion:
    """Derive a configuration from the socket peer and the header lines that arrived.

    :param peer: the socket peer's address (``None`` or ``""`` for a UNIX socket).
    :param lines: the request's ``(name, value)`` header lines, in arrival order.
    :param peer_trusted: whether the configuration being run trusts the peer (``None``:
        not known); an untrusted peer that is also the rightmost X-Forwarded-For item
        is the signature of a server that applied proxy headers before the app.
    """
    caveats: list[str] = []
    flags: list[str] = []
    peer_text = canonical(peer) if peer else None
    names = {name.lower() for name, _ in lines}
    xff, complete = items(lines, "x-forwarded-for", MAX_ITEMS)
    peer_label = peer_text or peer or "a UNIX socket"
    if not complete:
        summary = (
            f"nothing suggested: X-Forwarded-For holds more than {MAX_ITEMS} items, or more"
            " than can be read within the work limit; that is not a chain of your own"
            f" proxies (trustproxy walks at most {MAX_HOPS} trusted hops)"
        )
        return Suggestion(summary, (), None, (), None, None, "x-forwarded", "", ())
    counts: dict[str, int] = {}
    chain_items, headers, source, fields, cloudflare, forwarded = read_chain(
        peer, peer_text, lines, names, xff, caveats, flags
    )
    if not chain_items and forwarded is None and "forwarded" in names:
        summary = (
            "nothing suggested: the Forwarded header's for= nodes are not all addresses"
            " (obfuscated, 'unknown' or malformed), so no chain of proxies can be read"
        )
        return Suggestion(summary, (), peer_text, (), None, None, "forwarded", "", ())
    if not chain_items:
        summary = (
            f"no proxy seen: {peer_label} connected directly and sent no X-Forwarded-For,"
            " Forwarded or single-address header; nothing to configure (or your proxy"
            " does not send them)"
        )
        return Suggestion(summary, (), peer_text, (), None, None, headers, "", ())
    client_text = chain_items[0]
    client = canonical(client_text)
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
    for item in reversed(chain_items[1:]):
        address = canonical(item)
        if address is None:
            bad += 1
            if bad <= MAX_BAD_LISTED:
                caveats.append(f"the proxy item {item[:64]!r} is not an address")
        else:
            proxies.append(address)
    if bad > MAX_BAD_LISTED:
        caveats.append(f"… and {bad - MAX_BAD_LISTED} more proxy items that are not addresses")
    count = len(proxies)
    if headers in ("x-forwarded", ("forwarded", "x-forwarded")):
        counts, more_flags = field_counts(lines, count)
        fields.extend(counts)
        flags.extend(more_flags)
    fields_tuple = tuple(f for f in FIELDS if f in fields)
    # Pre-applied proxy headers: uvicorn (--proxy-headers, its default) or another
    # server rewrote the peer to the client it read from X-Forwarded-For, and left the
    # header as it was — so the "peer" is the rightmost item.
    rightmost = canonical(xff[-1]) if xff else None
    if peer_trusted is False and peer_text is not None and rightmost == peer_text:
        flag, summary = preapplied(peer_text)
        flags.append(flag)
        return Suggestion(
            summary, (), client, (), None, None, headers, "", tuple(caveats), fields_tuple,
            (), (), tuple(flags),
        )  # fmt: skip
    trusted_list = list(dict.fromkeys(proxies))
    hops = (
        len(chain_items)
        if headers in ("x-forwarded", "forwarded") or isinstance(headers, tuple)
        else None
    )
    addresses = [p for p in trusted_list if p != "unix"]
    public = [a for a in addresses if not is_private(a)]
    if cloudflare:
        trusted_list = ["cloudflare"]
        public = []
    network = common_network(addresses) if not cloudflare else None
    if (
        network is not None
        and client is not None
        and ipaddress.ip_address(client) in ipaddress.ip_network(network)
    ):
        network = None
    exact: dict[str, object] = {"trusted": trusted_list}
    counted: Optional[dict[str, object]] = (
        {"trusted": "*", "hops": hops} if hops is not None else None
    )
    tail: dict[str, object] = {"fields": list(fields_tuple)}
    if headers != "x-forwarded":
        tail["headers"] = headers
    exact.update(tail)
    if counted is not None:
        counted.update(tail)
    # A public proxy address is a CDN's or a cloud balancer's: it has many addresses
    # that change, so one request's addresses are not a list to keep; the hop count is.
    prefer_hops = bool(public) and counted is not None
    primary: dict[str, object] = exact
    other: Optional[dict[str, object]] = counted
    if prefer_hops and counted is not None:
        primary, other = counted, exact
    try:
        Options(**primary)  # type: ignore[arg-type]
        if other is not None:
            Options(**other)  # type: ignore[arg-type]
    except ConfigError as error:  # pragma: no cover - every shape is built by the tests
        caveats.append(f"internal: the suggestion does not build ({error})")
    shown = ", ".join(proxies) or peer_label
    summary = f"{count} prox{'y' if count == 1 else 'ies'} seen: {shown}"
    summary += f" — {keywords(primary)}"
    if network is not None and not prefer_hops:
        summary += f" (or trusted=[{network!r}] if they move within it)"
    if other is not None:
        summary += f"; or {keywords({k: other[k] for k in ('trusted', 'hops') if k in other})}"
    config = keywords(primary)
    alternative = keywords(other) if other is not None else ""
    proxyfix: Optional[dict[str, int]] = None
    if headers == "x-forwarded":
        proxyfix = {"x_for": len(chain_items)}
        for field in ("proto", "host", "port", "prefix"):
            proxyfix[f"x_{field}"] = counts.get(field, 0)
    flag_ips = ["*"] if prefer_hops else [a for a in trusted_list if a != "unix"]
    if cloudflare:
        flag_ips = []
    forms = forms_for(primary, proxyfix, flag_ips)
    caveats.insert(0, ASSUMPTION)
    caveats.extend(
        closing_caveats(
            addresses=addresses, prefer_hops=prefer_hops, client=client, public=public,
            cloudflare=cloudflare, peer=peer_text, headers=headers, hops=hops,
            proxyfix=proxyfix is not None, several=count > 1 or network is not None,
        )
    )  # fmt: skip
    chain = chain_words(client, client_text, proxies, headers, source, counts)
    if bad:
        config = ""
        alternative = ""
        forms = ()
    return Suggestion(
        summary,
        tuple(proxies),
        client,
        tuple(trusted_list),
        network,
        hops,
        headers,
        config,
        tuple(caveats),
        fields_tuple,
        forms,
        tuple(chain),
        tuple(flags),
        alternative,
    )
