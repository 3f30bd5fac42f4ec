"""The forgeries ``trustproxy probe`` sends, as data: one :class:`Check` per row.

Every forged value is distinctive, so a value that reaches the app is recognised whatever
the deployment does with the rest: addresses from 6.6.6.0/24 and the IPv6 documentation
range 2001:db8::/32 (RFC 3849: written in headers only, never connected to), host names
under ``.invalid`` (RFC 6761 §6.4), port 6666 and the prefix ``/forged-probe``.

A check is built from the baseline (how the app saw the prober with no forgery), so the
proto forgery is always the scheme the request did *not* arrive with, and a Host
injection keeps the real host in front of the injected text.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["FIELDS", "FORGED_HOST", "FORGED_PREFIX", "Check", "checks"]

#: What the probe compares with the baseline: what the app resolved.
FIELDS = ("client", "scheme", "host", "port", "prefix")

FORGED_HOST = "forged.probe.invalid"
FORGED_PREFIX = "/forged-probe"

Line = tuple[str, str]


class Check(NamedTuple):
    name: str
    about: str
    lines: tuple[Line, ...]  # extra header lines, sent verbatim and in this order
    host: str = ""  # the Host line to send instead of the URL's
    connection: str = ""  # names added to "Connection: close" (RFC 9110 §7.6.1)
    ignore: tuple[str, ...] = ()  # fields the check itself changes (a Host check: host)


def _ip(n: int) -> str:
    return f"6.6.6.{n}"


def checks(client: str, scheme: str, host: str, port: object) -> list[Check]:
    """Every check, for a baseline that saw ``client`` over ``scheme`` with Host ``host``."""
    forged_proto = "http" if scheme == "https" else "https"
    forged_port = "6667" if str(port) == "6666" else "6666"
    # 7000 bytes fit the 8 KB line limit of nginx, gunicorn and most proxies; 64 KB fit none.
    long_list = ", ".join(_ip(n % 250 + 1) for n in range(7000 // 10))
    huge_list = ", ".join(_ip(n % 250 + 1) for n in range(65536 // 10))
    out = [
        Check("xff-single", "one forged X-Forwarded-For item", (("X-Forwarded-For", _ip(1)),)),
        Check(
            "xff-leftmost",
            "a forged leftmost X-Forwarded-For item before the prober's real address"
            " (what an app trusting every hop takes)",
            (("X-Forwarded-For", f"{_ip(2)}, {client}"),),
        ),
        Check(
            "xff-rightmost",
            "a forged rightmost X-Forwarded-For item (what an app takes from a proxy that"
            " passes the client's list on, or with hops set too high)",
            (("X-Forwarded-For", f"{client}, {_ip(3)}"),),
        ),
        Check("xff-ipv6", "a forged IPv6 item", (("X-Forwarded-For", "2001:db8:6::1"),)),
        Check("proto", "a forged X-Forwarded-Proto", (("X-Forwarded-Proto", forged_proto),)),
        Check("host", "a forged X-Forwarded-Host", (("X-Forwarded-Host", FORGED_HOST),)),
        Check("port", "a forged X-Forwarded-Port", (("X-Forwarded-Port", forged_port),)),
        Check("prefix", "a forged X-Forwarded-Prefix", (("X-Forwarded-Prefix", FORGED_PREFIX),)),
        Check(
            "forwarded",
            "a forged RFC 7239 Forwarded element",
            (("Forwarded", f"for={_ip(4)};proto={forged_proto};host={FORGED_HOST}"),),
        ),
        Check(
            "forwarded-ipv6",
            "a forged Forwarded IPv6 node",
            (("Forwarded", 'for="[2001:db8:6::2]"'),),
        ),
        # RFC 7239 §4: a proxy writing host="<Host>" without escaping lets a quote in the
        # Host end the string, and a comma start an element of the client's choosing.
        Check(
            "forwarded-host-quote",
            "a Host that closes a quoted host= and adds an element",
            (),
            host=f'{host}",for={_ip(5)};host="{FORGED_HOST}',
            ignore=("host",),
        ),
        Check(
            "forwarded-host-comma",
            "a Host with a comma, for a proxy writing host= unquoted",
            (),
            host=f"{host},for={_ip(6)};host={FORGED_HOST}",
            ignore=("host",),
        ),
        Check(
            "forwarded-host-semicolon",
            "a Host with a semicolon, adding a for= to the proxy's own element",
            (),
            host=f"{host};for={_ip(7)}",
            ignore=("host",),
        ),
        Check(
            "x-forwarded-host-comma",
            "a Host with a comma, copied into X-Forwarded-Host (a list read from the right)",
            (),
            host=f"{host},{FORGED_HOST}",
            ignore=("host",),
        ),
        Check("x-real-ip", "a forged X-Real-IP", (("X-Real-IP", _ip(8)),)),
        Check("cf-connecting-ip", "a forged CF-Connecting-IP", (("CF-Connecting-IP", _ip(9)),)),
        Check("true-client-ip", "a forged True-Client-IP", (("True-Client-IP", _ip(10)),)),
        # WSGI (PEP 3333) and CGI turn "-" into "_" in HTTP_* keys, so X_Forwarded_For is
        # read as X-Forwarded-For by a server that keeps it; some turn "." into "_" too.
        Check(
            "alias-underscore",
            "X_Forwarded_For / _Proto / _Host, which WSGI servers may read as X-Forwarded-*",
            (
                ("X_Forwarded_For", _ip(11)),
                ("X_Forwarded_Proto", forged_proto),
                ("X_Forwarded_Host", FORGED_HOST),
            ),
        ),
        Check(
            "alias-dot",
            "X.Forwarded.For / .Proto / .Host",
            (
                ("X.Forwarded.For", _ip(12)),
                ("X.Forwarded.Proto", forged_proto),
                ("X.Forwarded.Host", FORGED_HOST),
            ),
        ),
        # RFC 9110 §5.3: repeated lines are one comma-joined list; a proxy that replaces
        # only the first (or a server that keeps only the last) lets one through.
        Check(
            "duplicate-lines",
            "each X-Forwarded-* header sent twice",
            (
                ("X-Forwarded-For", _ip(13)),
                ("X-Forwarded-For", _ip(14)),
                ("X-Forwarded-Proto", forged_proto),
                ("X-Forwarded-Proto", forged_proto),
                ("X-Forwarded-Host", FORGED_HOST),
                ("X-Forwarded-Host", FORGED_HOST),
                ("X-Forwarded-Port", forged_port),
                ("X-Forwarded-Port", forged_port),
            ),
        ),
        Check(
            "duplicate-forwarded",
            "Forwarded sent twice",
            (("Forwarded", f"for={_ip(15)}"), ("Forwarded", f"for={_ip(16)}")),
        ),
        Check(
            "oversized-list",
            "a 7 KB X-Forwarded-For of forged items",
            (("X-Forwarded-For", long_list),),
        ),
        Check(
            "oversized-line",
            "a 64 KB X-Forwarded-For (refused by most servers; must not pass unchecked)",
            (("X-Forwarded-For", huge_list),),
        ),
    ]
    # CVE-2024-45410 (Traefik) and its kin: a proxy that honours the client's Connection
    # header as a list of hop-by-hop names deletes the forwarding header it just wrote,
    # and the app sees the proxy itself (or the server's own scheme) instead.
    for name in (
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "X-Forwarded-Port",
        "X-Forwarded-Prefix",
        "Forwarded",
        "X-Real-IP",
    ):
        out.append(
            Check(
                "hop-by-hop-" + name.lower(),
                f"Connection: close, {name} (CVE-2024-45410)",
                (),
                connection=name,
            )
        )
    return out
