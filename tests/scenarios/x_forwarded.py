"""X-Forwarded-* rows (``headers="x-forwarded"``, the default): the peer gate, trust
entries, the X-Forwarded-For walk, item forms, alignment of the other fields, validation
of each value and the server port (issue 2, §3-§5).

Rows are generated with ``itertools`` wherever a rule applies to many values, so a value
list (say, the invalid item forms) is written once and tried in every position.

Addresses: 203.0.113.0/24, 198.51.100.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849)
stand for clients; 6.6.6.6 is a forged item; 127.0.0.0/8 and ::1 are proxies.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Callable, Optional, Union

from ._model import (
    ALL_FIELDS,
    SAME,
    UNRESOLVED,
    UNTRUSTED_PEER,
    Lines,
    Request,
    Scenario,
    TrustSpec,
    case,
    trust_tens,
)

XFF = "X-Forwarded-For"
PROTO = "X-Forwarded-Proto"
HOST = "X-Forwarded-Host"
PORT = "X-Forwarded-Port"
PREFIX = "X-Forwarded-Prefix"
HEADER_OF = {"proto": PROTO, "host": HOST, "port": PORT, "prefix": PREFIX}


PROXY = "127.0.0.1"  # the socket peer: trusted by the default "loopback"
CLIENT = "203.0.113.9"
FORGED = "6.6.6.6"


HTTPS_MOUNTED = Request("https", "app.example:8443", 8443, "/mount")

# Every forwarding header with a valid value that would change something.
EVERYTHING: Lines = (
    (XFF, f"{FORGED}, {CLIENT}"),
    (PROTO, "http"),
    (HOST, "evil.example:9999"),
    (PORT, "9999"),
    (PREFIX, "/evil"),
)


# -- §3 the peer gate -------------------------------------------------------------------

# (peer, the resolver's view of it): untrusted by the default "loopback".
UNTRUSTED_PEERS: tuple[tuple[str, Optional[str], Optional[str]], ...] = (
    ("public-v4", "203.0.113.5", "203.0.113.5"),
    ("private-v4", "10.0.0.1", "10.0.0.1"),
    ("public-v6", "2001:db8::5", "2001:db8::5"),
    ("mapped-public", "::ffff:203.0.113.5", "203.0.113.5"),
    ("unix-without-preset", None, None),
    ("with-port", "127.0.0.1:8080", None),
    ("bracketed", "[::1]", None),
    ("junk", "not-an-ip", None),
    ("non-canonical", "127.0.0.01", None),
    ("unspecified", "0.0.0.0", None),
)

HEADER_SETS: tuple[tuple[str, Lines], ...] = (
    ("xff", ((XFF, CLIENT),)),
    ("everything", EVERYTHING),
    ("proto-only", ((PROTO, "http"),)),
    ("invalid-xff", ((XFF, "unknown"),)),
)


def peer_gate() -> Iterator[Scenario]:
    """An untrusted peer: nothing is read and nothing changes, whatever was sent."""
    for (name, peer, seen), (headers, lines) in itertools.product(UNTRUSTED_PEERS, HEADER_SETS):
        yield case(
            f"untrusted-peer/{name}/{headers}",
            lines,
            peer=peer,
            fields=ALL_FIELDS,
            request=HTTPS_MOUNTED,
            status=UNTRUSTED_PEER,
            client=seen,
            forwarded=False,
        )


# -- §3 trust entries, presets, IPv4-mapped and callables -----------------------------

# (label, trusted, address, trusted?, canonical address).  Each row is tried as the
# socket peer and as the nearest X-Forwarded-For item.
TRUST_TABLE: tuple[tuple[str, TrustSpec, Optional[str], bool, Optional[str]], ...] = (
    ("loopback-127.0.0.1", "loopback", "127.0.0.1", True, "127.0.0.1"),
    ("loopback-127.255.255.254", "loopback", "127.255.255.254", True, "127.255.255.254"),
    ("loopback-::1", "loopback", "::1", True, "::1"),
    ("loopback-::2", "loopback", "::2", False, "::2"),
    ("loopback-128.0.0.1", "loopback", "128.0.0.1", False, "128.0.0.1"),
    ("loopback-mapped", "loopback", "::ffff:127.0.0.1", True, "127.0.0.1"),
    ("LOOPBACK-case", "LoopBack", "127.0.0.1", True, "127.0.0.1"),
    ("private-10/8", "private", "10.255.255.255", True, "10.255.255.255"),
    ("private-172.16/12-low", "private", "172.16.0.1", True, "172.16.0.1"),
    ("private-172.16/12-high", "private", "172.31.255.255", True, "172.31.255.255"),
    ("private-172.32", "private", "172.32.0.1", False, "172.32.0.1"),
    ("private-172.15", "private", "172.15.255.255", False, "172.15.255.255"),
    ("private-192.168/16", "private", "192.168.1.1", True, "192.168.1.1"),
    ("private-192.169", "private", "192.169.0.1", False, "192.169.0.1"),
    ("private-fc00::/7", "private", "fc00::1", True, "fc00::1"),
    ("private-fd", "private", "fd12:3456::1", True, "fd12:3456::1"),
    ("private-fe00", "private", "fe00::1", False, "fe00::1"),
    ("private-not-loopback", "private", "127.0.0.1", False, "127.0.0.1"),
    ("private-mapped", "private", "::ffff:192.168.0.1", True, "192.168.0.1"),
    ("linklocal-169.254", "linklocal", "169.254.1.1", True, "169.254.1.1"),
    ("linklocal-169.255", "linklocal", "169.255.0.1", False, "169.255.0.1"),
    ("linklocal-fe80", "linklocal", "fe80::1", True, "fe80::1"),
    ("linklocal-febf", "linklocal", "febf::1", True, "febf::1"),
    ("linklocal-fec0", "linklocal", "fec0::1", False, "fec0::1"),
    ("linklocal-zone", "linklocal", "fe80::1%eth0", True, "fe80::1"),
    ("cidr-v4-in", "10.1.0.0/16", "10.1.255.1", True, "10.1.255.1"),
    ("cidr-v4-out", "10.1.0.0/16", "10.2.0.1", False, "10.2.0.1"),
    ("cidr-v6-in", "2001:db8::/32", "2001:db8:ffff::1", True, "2001:db8:ffff::1"),
    ("cidr-v6-out", "2001:db8::/32", "2001:db9::1", False, "2001:db9::1"),
    ("address-v4-in", "198.51.100.7", "198.51.100.7", True, "198.51.100.7"),
    ("address-v4-out", "198.51.100.7", "198.51.100.8", False, "198.51.100.8"),
    ("address-v6-in", "2001:db8::7", "2001:DB8:0::7", True, "2001:db8::7"),
    ("mapped-peer-v4-net", "10.0.0.0/8", "::ffff:10.0.0.1", True, "10.0.0.1"),
    ("mapped-peer-v4-net-out", "10.0.0.0/8", "::ffff:11.0.0.1", False, "11.0.0.1"),
    ("mapped-net-v4-peer", "::ffff:10.0.0.0/104", "10.0.0.1", True, "10.0.0.1"),
    ("callable-in", trust_tens, "10.9.9.9", True, "10.9.9.9"),
    ("callable-out", trust_tens, "11.0.0.1", False, "11.0.0.1"),
    ("callable-gets-canonical", trust_tens, "::ffff:10.0.0.1", True, "10.0.0.1"),
    ("list", ["loopback", "private"], "10.0.0.1", True, "10.0.0.1"),
    ("comma-string", "loopback, private", "192.168.0.1", True, "192.168.0.1"),
    ("list-with-callable", ("127.0.0.1", trust_tens), "10.0.0.2", True, "10.0.0.2"),
    ("list-with-comma-string", ["127.0.0.1, 10.0.0.0/8"], "10.0.0.3", True, "10.0.0.3"),
    ("unix", "unix", None, True, None),
    ("unix-not-tcp", "unix", "127.0.0.1", False, "127.0.0.1"),
    ("loopback-not-unix", "loopback", None, False, None),
    ("loopback-and-unix", "loopback, unix", None, True, None),
)

# A peer that no entry of TRUST_TABLE names, trusted explicitly for the item rows.
ITEM_PEER = "198.18.0.1"


def _entries(spec: TrustSpec) -> list[Union[str, Callable[[str], bool]]]:
    if isinstance(spec, str) or callable(spec):
        return [spec]
    return list(spec)


def trust() -> Iterator[Scenario]:
    for label, spec, address, trusted, canonical in TRUST_TABLE:
        if trusted:
            yield case(
                f"trust/peer/{label}",
                [(XFF, CLIENT)],
                peer=address,
                trusted=spec,
                client=CLIENT,
            )
        else:
            yield case(
                f"trust/peer/{label}",
                [(XFF, CLIENT)],
                peer=address,
                trusted=spec,
                status=UNTRUSTED_PEER,
                client=canonical,
                forwarded=False,
            )
        if address is None:
            continue
        # The same entry as the nearest X-Forwarded-For item: trusted -> walk past it.
        yield case(
            f"trust/item/{label}",
            [(XFF, f"{CLIENT}, {address}")],
            peer=ITEM_PEER,
            trusted=[*_entries(spec), ITEM_PEER],
            client=CLIENT if trusted else canonical,
        )


# -- §4 the X-Forwarded-For walk --------------------------------------------------------


def walk() -> Iterator[Scenario]:
    yield case("walk/no-header", [], client=SAME)
    yield case("walk/other-headers-only", [("User-Agent", "x"), ("Via", "1.1 p")])
    yield case("walk/single", [(XFF, CLIENT)], client=CLIENT)
    yield case("walk/right-to-left", [(XFF, f"{FORGED}, {CLIENT}")], client=CLIENT)
    yield case(
        "walk/joined-lines-in-order",
        [(XFF, FORGED), (XFF, CLIENT)],
        client=CLIENT,
    )
    yield case(
        "walk/joined-lines-reversed",
        [(XFF, CLIENT), (XFF, FORGED)],
        client=FORGED,
    )
    yield case(
        "walk/joined-lines-with-proxy",
        [(XFF, f"{FORGED}, {CLIENT}"), ("x-forwarded-for", "127.0.0.2")],
        client=CLIENT,
    )
    yield case(
        "walk/lines-interleaved-with-other-headers",
        [(XFF, FORGED), ("Accept", "*/*"), (XFF, CLIENT)],
        client=CLIENT,
    )
    yield case("walk/header-name-case", [("x-FORWARDED-for", CLIENT)], client=CLIENT)
    yield case("walk/spaces", [(XFF, f"   {CLIENT}   ")], client=CLIENT)
    yield case("walk/tabs", [(XFF, f"\t{CLIENT}\t")], client=CLIENT)
    yield case(
        "walk/spaces-and-tabs-between",
        [(XFF, f"{FORGED} \t,\t {CLIENT} \t, \t127.0.0.2")],
        client=CLIENT,
    )
    yield case("walk/empty-items-right", [(XFF, f"{CLIENT},,, ,")], client=CLIENT)
    yield case("walk/empty-items-left", [(XFF, f",, ,{CLIENT}")], client=CLIENT)
    yield case(
        "walk/empty-items-between",
        [(XFF, f"{CLIENT}, ,\t,127.0.0.2")],
        client=CLIENT,
    )
    yield case("walk/empty-line", [(XFF, "")])
    yield case("walk/only-empty-items", [(XFF, " , ,\t,")])
    yield case("walk/empty-line-after", [(XFF, CLIENT), (XFF, "")], client=CLIENT)
    # X-Forwarded-For has no quoting: a '"' is an invalid character of its own item and
    # never merges items (werkzeug's quote-aware split drops the whole header).
    yield case("walk/quote-alone", [(XFF, '"')], status=UNRESOLVED)
    yield case("walk/quote-rightmost", [(XFF, f'{CLIENT}, "')], status=UNRESOLVED)
    yield case("walk/quote-left-of-client", [(XFF, f'", {CLIENT}')], client=CLIENT)
    yield case(
        "walk/quote-opening-line",
        [(XFF, f'"{FORGED}'), (XFF, CLIENT)],
        client=CLIENT,
    )
    yield case(
        "walk/quoted-pair",
        [(XFF, f'"{FORGED}, {CLIENT}"')],
        status=UNRESOLVED,
    )
    yield case("walk/quoted-address", [(XFF, f'"{CLIENT}"')], status=UNRESOLVED)
    # The first untrusted address from the right is the client; the rest is not read.
    yield case(
        "walk/first-untrusted",
        [(XFF, f"{FORGED}, {CLIENT}, 10.0.0.1, 127.0.0.2")],
        trusted="loopback, private",
        client=CLIENT,
    )
    yield case(
        "walk/first-untrusted-not-leftmost-private",
        [(XFF, f"10.0.0.9, {CLIENT}, 10.0.0.1")],
        trusted="loopback, private",
        client=CLIENT,
    )
    yield case(
        "walk/untrusted-proxy-stops-walk",
        [(XFF, f"{FORGED}, {CLIENT}, 198.51.100.1")],
        client="198.51.100.1",
    )
    yield case(
        "walk/junk-left-of-client-not-read",
        [(XFF, f"unknown, junk, {CLIENT}, 127.0.0.2")],
        client=CLIENT,
    )
    # Items run out: without hops, every item was a trusted proxy and the leftmost is
    # the client.
    yield case(
        "walk/all-trusted-leftmost-is-client",
        [(XFF, "127.0.0.5, 127.0.0.6, ::1")],
        client="127.0.0.5",
    )
    yield case("walk/all-trusted-one-item", [(XFF, "127.0.0.5")], client="127.0.0.5")
    # hops: the client is a_k for the first k that is untrusted or == hops.
    yield case(
        "walk/hops-1",
        [(XFF, f"{FORGED}, {CLIENT}, 127.0.0.2")],
        hops=1,
        client="127.0.0.2",
    )
    yield case(
        "walk/hops-2",
        [(XFF, f"{FORGED}, {CLIENT}, 127.0.0.2")],
        hops=2,
        client=CLIENT,
    )
    yield case(
        "walk/hops-2-all-trusted",
        [(XFF, "127.0.0.4, 127.0.0.3, 127.0.0.2")],
        hops=2,
        client="127.0.0.3",
    )
    yield case(
        "walk/hops-3-untrusted-first",
        [(XFF, f"{FORGED}, {CLIENT}, 127.0.0.2")],
        hops=3,
        client=CLIENT,
    )
    yield case(
        "walk/hops-exact-length",
        [(XFF, "127.0.0.3, 127.0.0.2")],
        hops=2,
        client="127.0.0.3",
    )
    yield case(
        "walk/hops-chain-shorter",
        [(XFF, "127.0.0.3, 127.0.0.2")],
        hops=3,
        status=UNRESOLVED,
    )
    yield case(
        "walk/hops-chain-shorter-with-empties",
        [(XFF, " ,127.0.0.2,, ")],
        hops=2,
        status=UNRESOLVED,
    )
    # No X-Forwarded-For address is a chain shorter than hops too (issue 10 §17): the
    # client's own X-Forwarded-Proto must not be applied.
    yield case(
        "walk/hops-without-xff",
        [(PROTO, "https")],
        hops=2,
        status=UNRESOLVED,
    )
    yield case(
        "walk/hops-xff-only-empty-items",
        [(XFF, " , ,"), (PROTO, "https")],
        hops=1,
        status=UNRESOLVED,
    )
    # '*' trusts every address, so only hops decides.
    yield case(
        "walk/star-hops-2",
        [(XFF, f"{FORGED}, {CLIENT}, 198.51.100.1")],
        peer="198.51.100.2",
        trusted="*",
        hops=2,
        client=CLIENT,
    )
    yield case(
        "walk/star-hops-1",
        [(XFF, f"{FORGED}, {CLIENT}")],
        peer="2001:db8::2",
        trusted="*",
        hops=1,
        client=CLIENT,
    )
    yield case(
        "walk/star-any-peer",
        [(XFF, CLIENT)],
        peer="8.8.8.8",
        trusted="*",
        hops=1,
        client=CLIENT,
    )
    yield case(
        "walk/star-chain-shorter",
        [(XFF, f"{FORGED}, {CLIENT}")],
        peer="198.51.100.2",
        trusted="*",
        hops=3,
        status=UNRESOLVED,
    )
    yield case(
        "walk/star-with-invalid",
        [(XFF, f"{CLIENT}, unknown")],
        peer="198.51.100.2",
        trusted="*",
        hops=2,
        status=UNRESOLVED,
    )
    yield case(
        "walk/star-with-invalid-beyond-hops",
        [(XFF, f"unknown, {CLIENT}, 198.51.100.1")],
        peer="198.51.100.2",
        trusted="*",
        hops=2,
        client=CLIENT,
    )
    yield case("walk/unix-peer", [(XFF, CLIENT)], peer=None, trusted="unix", client=CLIENT)
    # An item of 129+ characters is not read whole; it cannot be an address.
    yield case("walk/item-too-long", [(XFF, "1" * 5000)], status=UNRESOLVED)
    yield case(
        "walk/long-junk-left-of-client",
        [(XFF, f"{'x' * 5000}, {CLIENT}")],
        client=CLIENT,
    )
    # "for" is opt-in like the others: the walk still runs, the client is not applied.
    yield case(
        "walk/for-not-in-fields",
        [(XFF, f"{FORGED}, {CLIENT}"), (PROTO, "https")],
        fields=("proto",),
        scheme="https",
        port=443,
    )


# -- §4 item forms ----------------------------------------------------------------------

# (label, item as written, canonical address, port)
ACCEPTED_FORMS: tuple[tuple[str, str, str, Optional[int]], ...] = (
    ("ipv4", "203.0.113.9", "203.0.113.9", None),
    ("ipv4-port", "203.0.113.9:4711", "203.0.113.9", 4711),
    ("ipv4-port-1", "203.0.113.9:1", "203.0.113.9", 1),
    ("ipv4-port-65535", "203.0.113.9:65535", "203.0.113.9", 65535),
    ("ipv6", "2001:db8::1", "2001:db8::1", None),
    ("ipv6-brackets", "[2001:db8::1]", "2001:db8::1", None),
    ("ipv6-brackets-port", "[2001:db8::1]:4711", "2001:db8::1", 4711),
    ("ipv6-uncompressed", "2001:0DB8:0:0:0:0:0:1", "2001:db8::1", None),
    ("ipv6-upper-brackets-port", "[2001:DB8::A]:1", "2001:db8::a", 1),
    ("ipv6-zone", "fe80::1%eth0", "fe80::1", None),
    ("ipv6-zone-brackets-port", "[fe80::1%eth0]:8080", "fe80::1", 8080),
    ("mapped", "::ffff:1.2.3.4", "1.2.3.4", None),
    ("mapped-hex", "::FFFF:102:304", "1.2.3.4", None),
    ("mapped-brackets-port", "[::ffff:1.2.3.4]:80", "1.2.3.4", 80),
    ("ipv4-255", "255.255.255.255", "255.255.255.255", None),
)

# Trusted proxies (the loopback preset) written in every accepted form.
PROXY_FORMS: tuple[str, ...] = (
    "127.0.0.2",
    "127.0.0.2:8080",
    "::1",
    "[::1]",
    "[::1]:8080",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.2",
    "[::ffff:127.0.0.2]:1",
)

INVALID_FORMS: tuple[tuple[str, str], ...] = (
    ("unknown", "unknown"),
    ("UNKNOWN", "UNKNOWN"),
    ("hidden", "_hidden"),
    ("obfuscated", "_gazonk"),
    ("junk", "junk"),
    ("script", "not-an-ip<script>"),
    ("quote", '"'),
    ("quoted", f'"{CLIENT}"'),
    ("leading-zero", "01.2.3.4"),
    ("leading-zero-last", "1.2.3.04"),
    ("hex", "0x0a.0.0.1"),
    ("integer", "167772161"),
    ("short-v4", "10.1"),
    ("three-octets", "1.2.3"),
    ("five-octets", "1.2.3.4.5"),
    ("octet-256", "256.1.1.1"),
    ("unspecified-v4", "0.0.0.0"),
    ("unspecified-v4-port", "0.0.0.0:80"),
    ("unspecified-v6", "::"),
    ("unspecified-v6-brackets", "[::]"),
    ("unspecified-mapped", "::ffff:0.0.0.0"),
    ("port-0", "1.2.3.4:0"),
    ("port-65536", "1.2.3.4:65536"),
    ("port-99999", "1.2.3.4:99999"),
    ("port-empty", "1.2.3.4:"),
    ("port-name", "1.2.3.4:http"),
    ("port-sign", "1.2.3.4:+80"),
    ("v6-port-0", "[2001:db8::1]:0"),
    ("v6-port-65536", "[2001:db8::1]:65536"),
    ("v6-port-no-brackets", "2001:db8::1:80:x"),
    ("v6-open-bracket", "[2001:db8::1"),
    ("v6-close-bracket", "2001:db8::1]"),
    ("v6-junk-after-bracket", "[2001:db8::1]x"),
    ("v4-in-brackets", "[1.2.3.4]"),
    ("v4-zone", "1.2.3.4%eth0"),
    ("empty-zone", "fe80::1%"),
    ("bad-hex", "2001:db8::g"),
    ("two-addresses-space", "1.2.3.4 5.6.7.8"),
    ("semicolon", "1.2.3.4;"),
    ("arabic-digits", "\u0661.\u0662.\u0663.\u0664"),
    ("forwarded-syntax", "for=1.2.3.4"),
    ("control-char", "1.2.3.4\x00"),
)


def item_forms() -> Iterator[Scenario]:
    for label, text, canonical, port in ACCEPTED_FORMS:
        for position, value in (
            ("alone", text),
            ("behind-proxy", f"{text}, 127.0.0.2"),
            ("forged-left", f"{FORGED}, unknown, {text}"),
        ):
            yield case(
                f"form/accepted/{label}/{position}",
                [(XFF, value)],
                client=canonical,
                client_port=port,
            )
    for proxy in PROXY_FORMS:
        yield case(f"form/proxy/{proxy}", [(XFF, f"{CLIENT}, {proxy}")], client=CLIENT)
    for label, text in INVALID_FORMS:
        # Examined by the walk: unresolved, never skipped.
        for position, value in (
            ("rightmost", text),
            ("behind-proxy", f"{text}, 127.0.0.2"),
            ("between-client-and-proxy", f"{CLIENT}, {text}, 127.0.0.2"),
        ):
            yield case(
                f"form/invalid/{label}/{position}",
                [(XFF, value)],
                fields=ALL_FIELDS,
                status=UNRESOLVED,
            )
        # Left of the client: never examined.
        yield case(
            f"form/invalid/{label}/left-of-client",
            [(XFF, f"{text}, {CLIENT}")],
            client=CLIENT,
        )


# -- §5 hop-aligned scheme, host, port and prefix -------------------------------------

# (label, hops, X-Forwarded-For value or None, the k the walk ends at, client or None)
ALIGNMENTS: tuple[tuple[str, Optional[int], Optional[str], int, Optional[str]], ...] = (
    ("xff-k1", None, CLIENT, 1, CLIENT),
    ("xff-k2", None, f"{CLIENT}, 127.0.0.2", 2, CLIENT),
    ("xff-k3", None, f"{FORGED}, {CLIENT}, 127.0.0.3, 127.0.0.2", 3, CLIENT),
    ("xff-all-trusted-k2", None, "127.0.0.3, 127.0.0.2", 2, "127.0.0.3"),
    ("hops2", 2, f"{FORGED}, 127.0.0.3, 127.0.0.2", 2, "127.0.0.3"),
    ("hops3-untrusted-at-2", 3, f"{FORGED}, {CLIENT}, 127.0.0.2", 2, CLIENT),
    ("no-xff", None, None, 1, None),
)


def _field_values(name: str, count: int, index: int) -> tuple[list[str], dict[str, Any]]:
    """``count`` items for field ``name``; item ``index`` (0 = leftmost) is the one that
    must be taken.  Returns the items and the expected changes it causes."""
    if name == "proto":
        items = ["http"] * count
        items[index] = "https"
        return items, {"scheme": "https", "port": 443}
    if name == "host":
        items = [f"h{i}.example" for i in range(count)]
        # A forwarded Host without a port means the scheme's default port.
        return items, {"host": items[index], "port": 80}
    if name == "port":
        items = [str(8001 + i) for i in range(count)]
        return items, {"host": f"app.example:{items[index]}", "port": int(items[index])}
    items = [f"/p{i}" for i in range(count)]
    return items, {"prefix": items[index]}


def alignment() -> Iterator[Scenario]:
    for (label, hops, xff, k, client), name, count, with_for in itertools.product(
        ALIGNMENTS, ("proto", "host", "port", "prefix"), (1, 2, 3), (True, False)
    ):
        # The k-th item from the right, or the leftmost if there are fewer.
        index = count - k if k <= count else 0
        items, changes = _field_values(name, count, index)
        lines = [] if xff is None else [(XFF, xff)]
        lines.append((HEADER_OF[name], ", ".join(items)))
        fields = ("for", name) if with_for else (name,)
        if with_for and client is not None:
            changes["client"] = client
        yield case(
            f"align/{label}/{name}/{count}-items/{'with' if with_for else 'without'}-for",
            lines,
            hops=hops,
            fields=fields,
            **changes,
        )
    # Repeated lines of a value header are joined like X-Forwarded-For.
    yield case(
        "align/proto-lines-joined",
        [(XFF, f"{CLIENT}, 127.0.0.2"), (PROTO, "https"), (PROTO, "http")],
        client=CLIENT,
        scheme="https",
        port=443,
    )
    yield case(
        "align/all-fields-k2",
        [
            (XFF, f"{FORGED}, {CLIENT}, 127.0.0.2"),
            (PROTO, "http, https, http"),
            (HOST, "evil.example, shop.example, internal:8000"),
            (PORT, "1, 8443, 8000"),
            (PREFIX, "/evil, /shop, /internal"),
        ],
        fields=ALL_FIELDS,
        request=Request(prefix="/mount"),
        client=CLIENT,
        scheme="https",
        host="shop.example:8443",
        port=8443,
        prefix="/shop/mount",
    )
    # Fields are opt-in: a header whose field is off is not read.
    yield case(
        "align/fields-off",
        [(XFF, CLIENT), (HOST, "evil.example"), (PORT, "9999"), (PREFIX, "/evil")],
        client=CLIENT,
    )
    yield case(
        "align/proto-off",
        [(XFF, CLIENT), (PROTO, "https")],
        fields=("for",),
        client=CLIENT,
    )
    yield case(
        "align/fields-as-string",
        [(XFF, CLIENT), (PROTO, "https"), (PREFIX, "/app")],
        fields="for, proto, prefix",
        client=CLIENT,
        scheme="https",
        port=443,
        prefix="/app",
    )
    # Unresolved and untrusted requests get no field at all.
    for label, peer, hops, xff, status in (
        ("invalid-item", PROXY, None, f"{CLIENT}, unknown", UNRESOLVED),
        ("chain-shorter", PROXY, 3, "127.0.0.3, 127.0.0.2", UNRESOLVED),
        # No X-Forwarded-For address is shorter than any hops (issue 10 §17).
        ("no-xff-hops1", PROXY, 1, None, UNRESOLVED),
        ("no-xff-hops2", PROXY, 2, None, UNRESOLVED),
        ("only-empty-items-hops2", PROXY, 2, " , ", UNRESOLVED),
        ("too-long", PROXY, None, "9" * 500, UNRESOLVED),
        ("untrusted-peer", "198.51.100.1", None, CLIENT, UNTRUSTED_PEER),
    ):
        yield case(
            f"align/no-fields-when/{label}",
            [
                *([] if xff is None else [(XFF, xff)]),
                (PROTO, "http"),
                (HOST, "evil.example"),
                (PORT, "9999"),
                (PREFIX, "/evil"),
            ],
            peer=peer,
            hops=hops,
            fields=ALL_FIELDS,
            request=HTTPS_MOUNTED,
            status=status,
        )


# -- §5 validation of each value --------------------------------------------------------

VALID_SCHEMES: tuple[tuple[str, str], ...] = (
    ("https", "https"),
    ("HTTPS", "https"),
    ("HtTpS", "https"),
    (" https\t", "https"),
    # RFC 6455 §3: the WebSocket spellings; Traefik writes them on upgrades (issue 10 §16).
    ("wss", "https"),
    ("WSS", "https"),
)

INVALID_SCHEMES: tuple[tuple[str, str], ...] = (
    ("javascript", "javascript"),
    ("javascript-url", "javascript:alert(1)"),
    ("ftp", "ftp"),
    ("ws-url", "wss://evil.example"),
    ("wss-colon", "wss:"),
    ("colon", "https:"),
    ("url", "https://evil.example"),
    ("space-inside", "htt ps"),
    ("truncated", "htt"),
    ("longer", "httpss"),
    ("nul", "https\x00"),
    ("del", "\x7fhttp"),
    ("fullwidth", "\uff48\uff54\uff54\uff50\uff53"),
    ("long-s", "HTTP\u017f"),  # "\u017f".upper() == "S": no Unicode case folding
)

VALID_HOSTS: tuple[tuple[str, str, int], ...] = (
    ("name", "example.com", 80),
    ("mixed-case", "Example.COM", 80),
    ("name-port", "example.com:8443", 8443),
    ("ipv4", "203.0.113.9", 80),
    ("ipv4-port", "203.0.113.9:8080", 8080),
    ("ipv6", "[2001:db8::1]", 80),
    ("ipv6-port", "[2001:db8::1]:8443", 8443),
    ("punycode", "xn--bcher-kva.example", 80),
    ("single-label", "localhost", 80),
    ("unreserved", "a-b_c~d.example", 80),
    ("253-chars", ".".join(["a" * 63] * 3 + ["a" * 61]), 80),
    ("63-char-label", "a" * 63 + ".example", 80),
    ("absolute", "example.com.", 80),
    ("absolute-port", "example.com.:8443", 8443),
    ("absolute-253-chars", ".".join(["a" * 63] * 3 + ["a" * 61]) + ".", 80),
    ("digits-then-letters", "123abc.example", 80),
    ("last-label-hex-lookalike", "app.0xg", 80),
    ("ipv4-last-octet-zero", "10.0.0.0", 80),
)

INVALID_HOSTS: tuple[tuple[str, str], ...] = (
    ("path-traversal", "evil.com/../:443"),
    ("slash", "evil.com/"),
    ("leading-slash", "/evil.com"),
    ("query", "evil.com?x"),
    ("fragment", "evil.com#x"),
    ("userinfo", "user@evil.com"),
    ("at", "@evil.com"),
    ("space", "evil .com"),
    ("tab-inside", "evil\t.com"),
    ("nul", "evil.com\x00"),
    ("control", "evil\x1f.com"),
    ("del", "evil\x7f.com"),
    ("crlf", "evil.com\r\nX-Injected: 1"),
    ("backslash", "evil.com\\x"),
    ("empty-port", "example.com:"),
    ("empty-name", ":443"),
    ("port-99999", "example.com:99999"),
    ("port-0", "example.com:0"),
    ("port-65536", "example.com:65536"),
    ("two-ports", "example.com:80:80"),
    ("port-sign", "example.com:-1"),
    ("port-letters", "example.com:8o"),
    ("leading-zero-v4", "01.2.3.4"),
    ("three-octets", "1.2.3"),
    ("v4-in-brackets", "[1.2.3.4]"),
    ("open-bracket", "[::1"),
    ("junk-after-bracket", "[::1]x"),
    ("bracket-empty-port", "[::1]:"),
    ("bracket-port-0", "[::1]:0"),
    ("bare-ipv6", "2001:db8::1"),
    ("zone-id", "[fe80::1%eth0]"),
    ("unicode", "ex\u00e4mple.com"),
    ("percent", "ex%41mple.com"),
    ("sub-delims", "evil.com;x=1"),
    ("quote", '"evil.com"'),
    ("254-chars", "a" * 254),
    ("254-chars-in-labels", ".".join(["a" * 63] * 3 + ["a" * 62])),
    # RFC 1035 §2.3.4: labels of 1-63 characters; no empty label (issue 10 §9).
    ("label-64", "a" * 64 + ".example"),
    ("single-label-64", "a" * 64),
    ("empty-label", "a..b"),
    ("leading-dot", ".example.com"),
    ("two-trailing-dots", "example.com.."),
    ("dot-alone", "."),
    # WHATWG URL "ends in a number": URL parsers read these as IPv4 (issue 10 §9).
    ("hex-first-octet", "0x7f.0.0.1"),
    ("hex-integer", "0x7f000001"),
    ("hex-first-octet-absolute", "0x7f.0.0.1."),
    ("hex-second-octet", "1.0x2.3.4"),
    ("hex-upper-x", "0X7F.0.0.1"),
    ("hex-prefix-alone", "app.0x"),
    ("integer", "2130706433"),
    ("octal-octets", "0177.0.0.1"),
    ("ends-in-digits", "app.example.1"),
    ("ends-in-digits-absolute", "app.1."),
    ("ipv4-absolute", "1.2.3.4."),
    ("ipv4-port-absolute", "1.2.3.4.:80"),
)

VALID_PORTS: tuple[tuple[str, int], ...] = (
    ("1", 1),
    ("8443", 8443),
    ("65535", 65535),
    (" 8080 ", 8080),
)

INVALID_PORTS: tuple[tuple[str, str], ...] = (
    ("99999", "99999"),
    ("0", "0"),
    ("00000", "00000"),
    ("65536", "65536"),
    ("negative", "-1"),
    ("plus", "+80"),
    ("letters", "80a"),
    ("space-inside", "8 0"),
    ("hex", "0x50"),
    ("devanagari-digits", "\u096e\u0966"),
    ("fullwidth-digits", "\uff18\uff10"),
    ("six-digits", "123456"),
    ("decimal", "80.0"),
    ("exponent", "1e3"),
    ("nul", "80\x00"),
)

VALID_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/app", "/app"),
    ("/app/", "/app"),
    ("/", ""),
    ("/a/b", "/a/b"),
    ("/a/b/", "/a/b"),
    ("/a%20b", "/a%20b"),
    ("/~user", "/~user"),
    ("/a:b@c", "/a:b@c"),
    ("/v1.0", "/v1.0"),
    ("/...", "/..."),
    ("/.well-known", "/.well-known"),
)

INVALID_PREFIXES: tuple[tuple[str, str], ...] = (
    ("network-path", "//evil.example"),
    ("double-slash", "//"),
    ("triple-slash", "///evil.example"),
    ("backslash", "\\evil.example"),
    ("slash-backslash", "/\\evil.example"),
    ("backslash-inside", "/a\\b"),
    ("dotdot", "/.."),
    ("dotdot-last", "/a/.."),
    ("dotdot-middle", "/a/../b"),
    ("dot", "/."),
    ("dot-middle", "/a/./b"),
    ("encoded-dotdot", "/%2e%2e"),
    ("encoded-dotdot-mixed", "/%2E./x"),
    ("encoded-dot", "/%2e"),
    ("query", "/a?b"),
    ("query-alone", "/?"),
    ("fragment", "/a#b"),
    ("fragment-alone", "/#"),
    ("nul", "/a\x00b"),
    ("escape", "/a\x1b"),
    ("del", "/a\x7f"),
    ("crlf", "/a\r\nX-Injected: 1"),
    ("space", "/a b"),
    ("tab-inside", "/a\tb"),
    ("relative", "app"),
    ("empty-segment", "/a//b"),
    ("encoded-slash", "/a%2Fb"),
    ("encoded-slash-start", "/%2fevil.example"),
    ("encoded-backslash", "/%5cevil.example"),
    ("encoded-nul", "/%00"),
    ("encoded-newline", "/%0a"),
    ("bad-percent", "/%zz"),
    ("lone-percent", "/%"),
    ("unicode", "/\u00e4"),
    ("absolute-url", "https://evil.example/"),
    ("javascript", "javascript:alert(1)"),
)


def validation() -> Iterator[Scenario]:
    for value, scheme in VALID_SCHEMES:
        yield case(
            f"valid/proto/{value!r}",
            [(PROTO, value)],
            scheme=scheme,
            port=443,
        )
    yield case(
        "valid/proto/http-on-https",
        [(PROTO, "HTTP")],
        request=Request("https", "app.example", 443),
        scheme="http",
        port=80,
    )
    yield case(
        "valid/proto/ws-on-https",
        [(PROTO, "ws")],
        request=Request("https", "app.example", 443),
        scheme="http",
        port=80,
    )
    yield case(
        "valid/proto/unchanged-keeps-port",
        [(PROTO, "https")],
        request=Request("https", "app.example:8443", 8443),
    )
    for label, value in INVALID_SCHEMES:
        yield case(
            f"invalid/proto/{label}",
            [(XFF, CLIENT), (PROTO, value)],
            request=Request(port=8000),
            client=CLIENT,
            ignored=["proto"],
        )
    for label, value, port in VALID_HOSTS:
        yield case(
            f"valid/host/{label}",
            [(HOST, value)],
            fields=("for", "host"),
            request=Request(host="app.example:8000", port=8000),
            host=value,
            port=port,
        )
    for label, value in INVALID_HOSTS:
        yield case(
            f"invalid/host/{label}",
            [(XFF, CLIENT), (HOST, value)],
            fields=("for", "host"),
            request=Request(host="app.example:8000", port=8000),
            client=CLIENT,
            ignored=["host"],
        )
    for value, port in VALID_PORTS:
        yield case(
            f"valid/port/{value.strip()}",
            [(PORT, value)],
            fields=("for", "port"),
            host=f"app.example:{port}",
            port=port,
        )
    for label, value in INVALID_PORTS:
        yield case(
            f"invalid/port/{label}",
            [(XFF, CLIENT), (PORT, value)],
            fields=("for", "port"),
            client=CLIENT,
            ignored=["port"],
        )
    for (value, checked), mount in itertools.product(VALID_PREFIXES, ("", "/mount")):
        yield case(
            f"valid/prefix/{value!r}/mounted-at-{mount!r}",
            [(PREFIX, value)],
            fields=("for", "prefix"),
            request=Request(prefix=mount),
            prefix=checked + mount,
        )
    for label, value in INVALID_PREFIXES:
        yield case(
            f"invalid/prefix/{label}",
            [(XFF, CLIENT), (PREFIX, value)],
            fields=("for", "prefix"),
            request=Request(prefix="/mount"),
            client=CLIENT,
            ignored=["prefix"],
        )
    # Empty values: an empty item is skipped like any empty list element, so nothing
    # reaches the validator and nothing changes.
    for name, header in HEADER_OF.items():
        for label, value in (("empty", ""), ("blank", " \t"), ("only-commas", " , ,")):
            yield case(
                f"empty/{name}/{label}",
                [(XFF, CLIENT), (header, value)],
                fields=ALL_FIELDS,
                request=Request(prefix="/mount"),
                client=CLIENT,
            )
    # Several invalid values at once: each is recorded.
    yield case(
        "invalid/all-at-once",
        [
            (XFF, CLIENT),
            (PROTO, "javascript"),
            (HOST, "evil.com/../:443"),
            (PORT, "99999"),
            (PREFIX, "//evil.example"),
        ],
        fields=ALL_FIELDS,
        request=Request(prefix="/mount"),
        client=CLIENT,
        ignored=["proto", "host", "port", "prefix"],
    )


# -- §5 the server port -----------------------------------------------------------------


def ports() -> Iterator[Scenario]:
    both = ("for", "proto", "host", "port")
    yield case("port/https-default", [(PROTO, "https")], scheme="https", port=443)
    yield case(
        "port/https-default-from-8000",
        [(PROTO, "https")],
        request=Request(host="app.example", port=8000),
        scheme="https",
        port=443,
    )
    yield case(
        "port/http-default",
        [(PROTO, "http")],
        request=Request("https", "app.example", 443),
        scheme="http",
        port=80,
    )
    yield case(
        "port/from-host",
        [(PROTO, "https"), (HOST, "example.com:8443")],
        fields=both,
        scheme="https",
        host="example.com:8443",
        port=8443,
    )
    yield case(
        "port/host-without-port",
        [(PROTO, "https"), (HOST, "example.com")],
        fields=both,
        scheme="https",
        host="example.com",
        port=443,
    )
    yield case(
        "port/forwarded-port-wins",
        [(PROTO, "https"), (PORT, "8080")],
        fields=both,
        scheme="https",
        host="app.example:8080",
        port=8080,
    )
    yield case(
        "port/forwarded-port-replaces-host-port",
        [(HOST, "example.com:8443"), (PORT, "9000")],
        fields=both,
        host="example.com:9000",
        port=9000,
    )
    yield case(
        "port/forwarded-port-replaces-request-host-port",
        [(PORT, "9000")],
        fields=both,
        request=Request(host="app.example:8000", port=8000),
        host="app.example:9000",
        port=9000,
    )
    yield case(
        "port/forwarded-port-ipv6-host",
        [(PORT, "9000")],
        fields=both,
        request=Request(host="[2001:db8::1]:8000", port=8000, server_name="[2001:db8::1]"),
        host="[2001:db8::1]:9000",
        port=9000,
    )
    yield case(
        "port/forwarded-port-no-host",
        [(PORT, "9000")],
        fields=both,
        request=Request(host=None, port=8000),
        port=9000,
    )
    yield case(
        "port/invalid-port-scheme-default",
        [(PROTO, "https"), (PORT, "99999")],
        fields=both,
        scheme="https",
        port=443,
        ignored=["port"],
    )
    yield case(
        "port/invalid-host-scheme-default",
        [(PROTO, "https"), (HOST, "evil.com/../:443")],
        fields=both,
        scheme="https",
        port=443,
        ignored=["host"],
    )
    yield case(
        "port/invalid-scheme-keeps-port",
        [(PROTO, "javascript")],
        request=Request(host="app.example:8000", port=8000),
        ignored=["proto"],
    )
    yield case(
        "port/host-port-without-scheme-change",
        [(HOST, "example.com:9443")],
        fields=both,
        host="example.com:9443",
        port=9443,
    )


def rows() -> Iterator[Scenario]:
    yield from itertools.chain(
        peer_gate(), trust(), walk(), item_forms(), alignment(), validation(), ports()
    )
