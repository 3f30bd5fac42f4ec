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
:class:`Suggestion`; nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Optional, Union

from ._address import parse_node
from ._config import Options
from ._display import items_from_right
from ._lists import MAX_EMPTY_ITEMS
from ._resolve import Resolver
from ._status import MAX_HOPS
from ._values import FIELDS
from .errors import ConfigError
from .trust import TrustPolicy

__all__ = ["FORMS", "SINGLE_HEADERS", "Suggestion", "suggest"]

_PRIVATE = TrustPolicy("private, loopback, linklocal")
_LOOPBACK = TrustPolicy("loopback")
_LINKLOCAL = TrustPolicy("linklocal")
_CLOUDFLARE = TrustPolicy("cloudflare")

#: Single-address headers a CDN or proxy writes instead of (or besides) a list, in the
#: order they are preferred: Cloudflare's own header, Akamai's / Cloudflare Enterprise's,
#: then nginx's ``proxy_set_header X-Real-IP $remote_addr`` convention.
SINGLE_HEADERS = ("cf-connecting-ip", "true-client-ip", "x-real-ip")

#: The X-Forwarded-* header for each field but ``for``.
_X_FIELD = {
    "proto": "x-forwarded-proto",
    "host": "x-forwarded-host",
    "port": "x-forwarded-port",
    "prefix": "x-forwarded-prefix",
}

#: The labels of :attr:`Suggestion.forms`, in the order shown.
FORMS = ("WSGI", "ASGI", "Django", "ProxyFix", "uvicorn", "gunicorn")

Headers = Union[str, tuple[str, str]]


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


#: The most X-Forwarded-For items a suggestion is made from: the client and as many
#: proxies as the walk will ever trust (``MAX_HOPS``).  A longer list is not one user's
#: request through their own proxies, and reading it all would cost work that grows
#: with the header (a 6 MB header once gave a 179 MB page).
MAX_ITEMS = MAX_HOPS + 1

#: The most "not an address" caveats listed one by one; the rest are counted.
MAX_BAD_LISTED = 3


def _items(lines: Iterable[tuple[str, str]], name: str, count: int) -> tuple[list[str], bool]:
    """Up to ``count`` items of every ``name`` line, left to right (RFC 9110 §5.3), read
    from the right within a bounded number of steps, and whether that was all of them."""
    values = [value for key, value in lines if key.lower() == name]
    items, complete = items_from_right(values, count + 1 + MAX_EMPTY_ITEMS)
    complete = complete and len(items) <= count
    return list(reversed(items[:count])), complete


def _canonical(text: str) -> Optional[str]:
    node = parse_node(text)
    return None if node is None else node.text


def _in(policy: TrustPolicy, address: str) -> bool:
    hop = policy.hop(address)
    return hop is not None and hop.trusted_by is not None


def _is_private(address: str) -> bool:
    return _in(_PRIVATE, address)


def _where(address: str) -> str:
    """Where an address is, in words: loopback is this machine, not "a private network"."""
    if address == "unix":
        return "a UNIX socket: this machine"
    if _in(_LOOPBACK, address):
        return "loopback: this same machine"
    if _in(_LINKLOCAL, address):
        return "link-local: the same network segment"
    if _is_private(address):
        return "a private network"
    return "public"


def _common_network(addresses: Sequence[str]) -> Optional[str]:
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


def _forwarded_chain(
    peer: Optional[str], lines: Sequence[tuple[str, str]]
) -> tuple[Optional[list[str]], tuple[str, ...]]:
    """The ``for=`` nodes of ``Forwarded``, left to right (the client first), or ``None``
    when a node is not an address; and the fields the client's element carried."""
    result = _FORWARDED_WALK.resolve(peer, lines)
    nodes = [hop.address for hop in result.hops[1:]]
    if result.status != "applied" or any(node is None for node in nodes):
        return None, ()
    return [node for node in reversed(nodes) if node is not None], tuple(result.applied)


def _keywords(options: dict[str, object]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in options.items())


def _forms(
    options: dict[str, object], proxyfix: Optional[dict[str, int]], flags_ips: list[str]
) -> tuple[tuple[str, str], ...]:
    keywords = _keywords(options)
    settings = "{" + ", ".join(f"{key!r}: {value!r}" for key, value in options.items()) + "}"
    forms = [
        ("WSGI", f"app = trustproxy.WSGIMiddleware(app, {keywords})"),
        ("ASGI", f"app = trustproxy.ASGIMiddleware(app, {keywords})"),
        (
            "Django",
            'MIDDLEWARE.insert(0, "trustproxy.django.TrustProxyMiddleware")  # first\n'
            f"TRUSTPROXY = {settings}",
        ),
    ]
    if proxyfix is not None:
        counts = ", ".join(f"{key}={value}" for key, value in proxyfix.items())
        # trusted= gives werkzeug's counts the peer check (with '*', x_for is the hops).
        trusted = _keywords({"trusted": options["trusted"]})
        forms.append(
            ("ProxyFix", f"app.wsgi_app = trustproxy.ProxyFix(app.wsgi_app, {counts}, {trusted})")
        )
    # uvicorn applies X-Forwarded-For/-Proto itself by default (--proxy-headers, from
    # 127.0.0.1): in front of trustproxy's middleware it would rewrite the peer to the
    # client first, and the middleware would see an untrusted "peer".
    forms.append(("uvicorn", "uvicorn main:app --no-proxy-headers"))
    if flags_ips:
        # gunicorn's forwarded_allow_ips decides whom its own secure_scheme_headers
        # (X-Forwarded-Proto) believe: the same proxies, so both agree on the scheme.
        # Quoted for the shell when it is "*" (a glob).
        allowed = ",".join(flags_ips) if flags_ips != ["*"] else "'*'"
        forms.append(("gunicorn", f"gunicorn --forwarded-allow-ips={allowed} app:app"))
    return tuple(forms)


def _ordinal(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def _proxies(n: int) -> str:
    return f"{n} prox{'y' if n == 1 else 'ies'}"


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
    peer_text = _canonical(peer) if peer else None
    names = {name.lower() for name, _ in lines}
    xff, complete = _items(lines, "x-forwarded-for", MAX_ITEMS)
    peer_label = peer_text or peer or "a UNIX socket"
    if not complete:
        summary = (
            f"nothing suggested: X-Forwarded-For holds more than {MAX_ITEMS} items, or more"
            " than can be read within the work limit; that is not a chain of your own"
            f" proxies (trustproxy walks at most {MAX_HOPS} trusted hops)"
        )
        return Suggestion(summary, (), None, (), None, None, "x-forwarded", "", ())
    headers: Headers = "x-forwarded"
    fields: list[str] = ["for"]
    counts: dict[str, int] = {}
    source = "X-Forwarded-For"
    single = next((name for name in SINGLE_HEADERS if name in names), None)
    forwarded: Optional[list[str]] = None
    forwarded_fields: tuple[str, ...] = ()
    if "forwarded" in names:
        forwarded, forwarded_fields = _forwarded_chain(peer, lines)
    cloudflare = (
        single == "cf-connecting-ip" and peer_text is not None and _in(_CLOUDFLARE, peer_text)
    )
    chain_items = xff
    if single is not None and (cloudflare or (not xff and not forwarded)):
        chain_items = _items(lines, single, 1)[0][-1:]
        headers = single
        source = single.title().replace("Ip", "IP")
    elif forwarded and not xff:
        chain_items = forwarded
        headers = "forwarded"
        source = "Forwarded for="
        fields.extend(f for f in ("proto", "host") if f in forwarded_fields)
        if any(name in names for name in _X_FIELD.values()):
            caveats.append(
                "X-Forwarded-Proto/-Host/-Port/-Prefix arrived without X-Forwarded-For:"
                " with headers='forwarded' they are not read"
            )
    elif xff:
        xff_addresses = [_canonical(item) for item in xff]
        if forwarded is not None and "forwarded" in names:
            if forwarded == xff_addresses:
                headers = ("forwarded", "x-forwarded")
                caveats.append(
                    "Forwarded and X-Forwarded-For name the same chain: both are read and"
                    " cross-checked (a request where they disagree is refused as a conflict)"
                )
            else:
                flags.append(
                    f"Forwarded (for= {', '.join(forwarded)}) and X-Forwarded-For"
                    f" ({', '.join(x or '?' for x in xff_addresses)}) disagree: one of them is"
                    " passed through from the client, not written by your proxies. The"
                    " suggestion reads X-Forwarded-For; if your proxies write Forwarded,"
                    " use headers='forwarded' and make them drop X-Forwarded-For"
                )
        elif "forwarded" in names:
            flags.append(
                "a Forwarded header arrived whose for= nodes are not all addresses"
                " (obfuscated, 'unknown' or malformed): trustproxy could not walk it;"
                " X-Forwarded-For is read"
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
    client = _canonical(client_text)
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
        address = _canonical(item)
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
        for field, name in _X_FIELD.items():
            values = _items(lines, name, MAX_ITEMS)[0]
            if not values:
                continue
            counts[field] = len(values)
            fields.append(field)
            if len(values) < count:
                flags.append(
                    f"{name.title()} has {_ordinal(len(values))} for"
                    f" {_proxies(count)}: not every proxy appends to it. trustproxy reads it"
                    " hop-aligned with the client, so with fewer items it takes the"
                    " leftmost one — the value written by the proxy nearest the client."
                    " That is right when the outer proxy sets it and the inner ones pass"
                    " it on; if an inner proxy replaced it, you get the inner proxy's"
                    f" {field}, not the one the client used"
                )
            elif len(values) > count:
                flags.append(
                    f"{name.title()} has {_ordinal(len(values))} for {_proxies(count)}: the"
                    " leftmost were written before your first proxy (by the client);"
                    " hop alignment skips them"
                )
    fields_tuple = tuple(f for f in FIELDS if f in fields)
    # Pre-applied proxy headers: uvicorn (--proxy-headers, its default) or another
    # server rewrote the peer to the client it read from X-Forwarded-For, and left the
    # header as it was — so the "peer" is the rightmost item.
    rightmost = _canonical(xff[-1]) if xff else None
    if peer_trusted is False and peer_text is not None and rightmost == peer_text:
        flags.append(
            f"the peer {peer_text} is not trusted and is also the rightmost X-Forwarded-For"
            " item: the signature of a server in front of the app that already applied"
            " its own proxy headers and rewrote the peer to the client. With trustproxy's"
            " ASGI middleware run uvicorn with --no-proxy-headers; under gunicorn, leave"
            " its forwarded_allow_ips to your proxies, not '*'. Do not add this address to"
            " trusted: it is a client, not a proxy"
        )
        summary = (
            f"nothing suggested: {peer_text} looks like the client, not a proxy (the server"
            " already applied the proxy headers); fix the server and reload"
        )
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
    public = [a for a in addresses if not _is_private(a)]
    if cloudflare:
        trusted_list = ["cloudflare"]
        public = []
    network = _common_network(addresses) if not cloudflare else None
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
    summary += f" — {_keywords(primary)}"
    if network is not None and not prefer_hops:
        summary += f" (or trusted=[{network!r}] if they move within it)"
    if other is not None:
        summary += f"; or {_keywords({k: other[k] for k in ('trusted', 'hops') if k in other})}"
    config = _keywords(primary)
    alternative = _keywords(other) if other is not None else ""
    proxyfix: Optional[dict[str, int]] = None
    if headers == "x-forwarded":
        proxyfix = {"x_for": len(chain_items)}
        for field in ("proto", "host", "port", "prefix"):
            proxyfix[f"x_{field}"] = counts.get(field, 0)
    flag_ips = ["*"] if prefer_hops else [a for a in trusted_list if a != "unix"]
    if cloudflare:
        flag_ips = []
    forms = _forms(primary, proxyfix, flag_ips)
    # The chain in words, client first.
    chain: list[str] = [
        f"client {client} ({_where(client)})"
        if client is not None
        else f"client {client_text[:64]!r} (not an address)"
    ]
    outer_first = list(reversed(proxies))
    for position, proxy in enumerate(outer_first):
        received = client_text if position == 0 else outer_first[position - 1]
        if isinstance(headers, str) and headers in SINGLE_HEADERS:
            wrote = f"wrote {source}: {received}"
        elif headers == "forwarded":
            wrote = f"appended for={received} to Forwarded"
        else:
            wrote = f"appended {received} to X-Forwarded-For"
        last = " and connected to the app (the socket peer)" if position == count - 1 else ""
        chain.append(f"→ proxy {proxy} ({_where(proxy)}) {wrote}{last}")
    for field, number in counts.items():
        chain.append(f"X-Forwarded-{field.title()}: {_ordinal(number)} for {_proxies(count)}")
    chain.append("→ app")
    caveats.insert(
        0,
        "this assumes the request came from your own browser through your own proxies: a"
        " client that writes X-Forwarded-For itself would add entries here",
    )
    loopback = [a for a in addresses if _in(_LOOPBACK, a)]
    if loopback and not prefer_hops:
        caveats.append(
            f"{', '.join(loopback)} is loopback: a proxy on this same machine. It is named"
            " exactly rather than trusting 'loopback' (all of 127.0.0.0/8 and ::1): then"
            " another local process, or `curl --interface 127.0.0.5` when you test on one"
            " machine, is a client, not a proxy"
        )
    if client is not None and _in(_LOOPBACK, client):
        caveats.append(
            f"the client {client} is loopback: you browsed from the proxy's own machine;"
            " clients from elsewhere arrive with their own addresses"
        )
    elif client is not None and _is_private(client):
        caveats.append(
            f"the client {client} is on {_where(client)}: clients from the internet may"
            " take a different path; never trust 'private' as a whole while clients live"
            " in it"
        )
    if public:
        caveats.append(
            f"proxy address(es) {', '.join(public)} are public: a CDN or cloud load"
            " balancer uses many addresses that change — hence the hop count; trust its"
            " published ranges instead if it has them (e.g. trusted=['cloudflare'])"
        )
    if cloudflare:
        caveats.append(
            f"{peer_text} is one of Cloudflare's published addresses: trusted=['cloudflare']"
            f" and headers={headers!r} (Cloudflare's own single-address header)"
        )
    if hops is not None:
        caveats.append(
            f"hops={hops} is right only if every request passes the same {hops}"
            f" prox{'y' if hops == 1 else 'ies'} and nobody can reach the app directly;"
            " trusted addresses are safer when they are stable"
        )
    if proxyfix is not None:
        caveats.append(
            "ProxyFix counts positions and never checks who connects: use it only where"
            " nothing but your proxies can reach the app; WSGIMiddleware checks the peer"
        )
    if count > 1 or network is not None:
        caveats.append(
            "load balancers often have several nodes: reload a few times and add every"
            " address that shows up"
        )
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
