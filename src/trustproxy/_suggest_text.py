"""The words of a suggestion: where an address is, the chain step by step, the caveats,
and the configuration written out for each adapter (:data:`FORMS`).

Split from :mod:`trustproxy._suggest`, which reads the chain; this module only phrases it.
Pure: no I/O, and nothing here reads a header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

from .trust import TrustPolicy

__all__ = [
    "ASSUMPTION",
    "FORMS",
    "chain_words",
    "closing_caveats",
    "forms_for",
    "in_policy",
    "is_private",
    "keywords",
    "ordinal",
    "preapplied",
    "proxies_word",
    "where",
]

_PRIVATE = TrustPolicy("private, loopback, linklocal")
_LOOPBACK = TrustPolicy("loopback")
_LINKLOCAL = TrustPolicy("linklocal")

#: Single-address headers (as :data:`trustproxy._suggest.SINGLE_HEADERS`).
_SINGLE_HEADERS = ("cf-connecting-ip", "true-client-ip", "x-real-ip")

#: The labels of a suggestion's forms, in the order shown.
FORMS = ("WSGI", "ASGI", "Django", "ProxyFix", "uvicorn", "gunicorn")

#: The first caveat of every suggestion.
ASSUMPTION = (
    "this assumes the request came from your own browser through your own proxies: a"
    " client that writes X-Forwarded-For itself would add entries here"
)

Headers = Union[str, tuple[str, str]]


def in_policy(policy: TrustPolicy, address: str) -> bool:
    hop = policy.hop(address)
    return hop is not None and hop.trusted_by is not None


def is_private(address: str) -> bool:
    return in_policy(_PRIVATE, address)


def where(address: str) -> str:
    """Where an address is, in words: loopback is this machine, not "a private network"."""
    if address == "unix":
        return "a UNIX socket: this machine"
    if in_policy(_LOOPBACK, address):
        return "loopback: this same machine"
    if in_policy(_LINKLOCAL, address):
        return "link-local: the same network segment"
    if is_private(address):
        return "a private network"
    return "public"


def keywords(options: dict[str, object]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in options.items())


def forms_for(
    options: dict[str, object], proxyfix: Optional[dict[str, int]], flags_ips: list[str]
) -> tuple[tuple[str, str], ...]:
    given = keywords(options)
    settings = "{" + ", ".join(f"{key!r}: {value!r}" for key, value in options.items()) + "}"
    forms = [
        ("WSGI", f"app = trustproxy.WSGIMiddleware(app, {given})"),
        ("ASGI", f"app = trustproxy.ASGIMiddleware(app, {given})"),
        (
            "Django",
            'MIDDLEWARE.insert(0, "trustproxy.django.TrustProxyMiddleware")  # first\n'
            f"TRUSTPROXY = {settings}",
        ),
    ]
    if proxyfix is not None:
        counts = ", ".join(f"{key}={value}" for key, value in proxyfix.items())
        # trusted= gives werkzeug's counts the peer check (with '*', x_for is the hops).
        trusted = keywords({"trusted": options["trusted"]})
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


def ordinal(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def proxies_word(n: int) -> str:
    return f"{n} prox{'y' if n == 1 else 'ies'}"


def chain_words(
    client: Optional[str],
    client_text: str,
    proxies: Sequence[str],
    headers: Headers,
    source: str,
    counts: dict[str, int],
) -> list[str]:
    """The chain in words, client first, one sentence per step."""
    count = len(proxies)
    chain = [
        f"client {client} ({where(client)})"
        if client is not None
        else f"client {client_text[:64]!r} (not an address)"
    ]
    outer_first = list(reversed(proxies))
    for position, proxy in enumerate(outer_first):
        received = client_text if position == 0 else outer_first[position - 1]
        if isinstance(headers, str) and headers in _SINGLE_HEADERS:
            wrote = f"wrote {source}: {received}"
        elif headers == "forwarded":
            wrote = f"appended for={received} to Forwarded"
        else:
            wrote = f"appended {received} to X-Forwarded-For"
        last = " and connected to the app (the socket peer)" if position == len(proxies) - 1 else ""
        chain.append(f"→ proxy {proxy} ({where(proxy)}) {wrote}{last}")
    for field, number in counts.items():
        chain.append(f"X-Forwarded-{field.title()}: {ordinal(number)} for {proxies_word(count)}")
    chain.append("→ app")
    return chain


def closing_caveats(
    *,
    addresses: Sequence[str],
    prefer_hops: bool,
    client: Optional[str],
    public: Sequence[str],
    cloudflare: bool,
    peer: Optional[str],
    headers: Headers,
    hops: Optional[int],
    proxyfix: bool,
    several: bool,
) -> list[str]:
    """The caveats every finished suggestion ends with, in the order shown."""
    out: list[str] = []
    loopback = [a for a in addresses if in_policy(_LOOPBACK, a)]
    if loopback and not prefer_hops:
        out.append(
            f"{', '.join(loopback)} is loopback: a proxy on this same machine. It is named"
            " exactly rather than trusting 'loopback' (all of 127.0.0.0/8 and ::1): then"
            " another local process, or `curl --interface 127.0.0.5` when you test on one"
            " machine, is a client, not a proxy"
        )
    if client is not None and in_policy(_LOOPBACK, client):
        out.append(
            f"the client {client} is loopback: you browsed from the proxy's own machine;"
            " clients from elsewhere arrive with their own addresses"
        )
    elif client is not None and is_private(client):
        out.append(
            f"the client {client} is on {where(client)}: clients from the internet may"
            " take a different path; never trust 'private' as a whole while clients live"
            " in it"
        )
    if public:
        out.append(
            f"proxy address(es) {', '.join(public)} are public: a CDN or cloud load"
            " balancer uses many addresses that change — hence the hop count; trust its"
            " published ranges instead if it has them (e.g. trusted=['cloudflare'])"
        )
    if cloudflare:
        out.append(
            f"{peer} is one of Cloudflare's published addresses: trusted=['cloudflare']"
            f" and headers={headers!r} (Cloudflare's own single-address header)"
        )
    if hops is not None:
        out.append(
            f"hops={hops} is right only if every request passes the same {hops}"
            f" prox{'y' if hops == 1 else 'ies'} and nobody can reach the app directly;"
            " trusted addresses are safer when they are stable"
        )
    if proxyfix:
        out.append(
            "ProxyFix counts positions and never checks who connects: use it only where"
            " nothing but your proxies can reach the app; WSGIMiddleware checks the peer"
        )
    if several:
        out.append(
            "load balancers often have several nodes: reload a few times and add every"
            " address that shows up"
        )
    return out


def preapplied(peer: str) -> tuple[str, str]:
    """The flag and the summary for an untrusted peer that is also the rightmost
    X-Forwarded-For item: a server in front of the app already applied proxy headers."""
    flag = (
        f"the peer {peer} is not trusted and is also the rightmost X-Forwarded-For"
        " item: the signature of a server in front of the app that already applied"
        " its own proxy headers and rewrote the peer to the client. With trustproxy's"
        " ASGI middleware run uvicorn with --no-proxy-headers; under gunicorn, leave"
        " its forwarded_allow_ips to your proxies, not '*'. Do not add this address to"
        " trusted: it is a client, not a proxy"
    )
    summary = (
        f"nothing suggested: {peer} looks like the client, not a proxy (the server"
        " already applied the proxy headers); fix the server and reload"
    )
    return flag, summary
