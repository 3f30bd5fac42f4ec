"""RFC 7239 ``Forwarded`` rows (``headers="forwarded"``), moved from the table of
tests/test_forwarded_walk.py.

The RFC's 192.0.2.0/24 example addresses are rewritten to 203.0.113.0/24 (see
test_forwarded_parse).  The socket peer is 127.0.0.1 (trusted) unless a row says
otherwise; the request is ``http://origin.test`` on port 80.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from ._model import APPLIED, SAME, UNRESOLVED, UNTRUSTED_PEER, Request, Scenario, case

PEER = "127.0.0.1"
TRUSTED = "loopback, 10.0.0.0/8, 198.51.100.17, 2001:db8:cafe::/48"
ORIGIN = Request(host="origin.test", server_name="origin.test")
FIELDS = ("for", "proto", "host")

# (id, Forwarded value, status, client, client port, scheme, host, port, ignored)
# client None: the peer's own; scheme/host/port None: the request's own.
Row = tuple[str, str, str, Optional[str], Optional[int], Optional[str], Optional[str],
            Optional[int], tuple[str, ...]]  # fmt: skip
ROWS: tuple[Row, ...] = (
    # RFC 7239 §4 / §5 / §6 / §7 examples.
    ("s4-proto-from-the-client-element-by-ignored",
     "for=203.0.113.60;proto=https;by=203.0.113.43",
     APPLIED, "203.0.113.60", None, "https", None, 443, ()),
    ("s4-ipv6-with-port", 'For="[2001:db8:1::17]:4711"',
     APPLIED, "2001:db8:1::17", 4711, None, None, None, ()),
    ("s4-obfuscated", 'for="_gazonk"', UNRESOLVED, None, None, None, None, None, ()),
    ("s4-list-trusted-proxy-skipped", "for=203.0.113.43, for=198.51.100.17",
     APPLIED, "203.0.113.43", None, None, None, None, ()),
    ("s6-v4-port", 'for="203.0.113.43:47011"',
     APPLIED, "203.0.113.43", 47011, None, None, None, ()),
    ("s6-v6-port", 'for="[2001:db8:1::17]:47011"',
     APPLIED, "2001:db8:1::17", 47011, None, None, None, ()),
    ("s6.2-unknown", "for=unknown", UNRESOLVED, None, None, None, None, None, ()),
    ("s6.3-obfuscated-nodes", "for=_hidden, for=_SEVKISEK",
     UNRESOLVED, None, None, None, None, None, ()),
    ("s6.3-obfuscated-port-means-no-port", 'for="203.0.113.43:_p1"',
     APPLIED, "203.0.113.43", None, None, None, None, ()),
    ("s7.1-unknown-rightmost-stops-the-walk",
     'for=203.0.113.43,for="[2001:db8:cafe::17]",for=unknown',
     UNRESOLVED, None, None, None, None, None, ()),
    ("unknown-behind-a-trusted-proxy", 'for=unknown, for="[2001:db8:cafe::17]"',
     UNRESOLVED, None, None, None, None, None, ()),
    ("s7.4-transition", 'for=203.0.113.43, for="[2001:db8:cafe::17]"',
     APPLIED, "203.0.113.43", None, None, None, None, ()),
    ("s7.5-proto-host-never-borrowed-from-the-proxy-element",
     "for=203.0.113.43,for=198.51.100.17;by=203.0.113.60;proto=https;host=example.com",
     APPLIED, "203.0.113.43", None, None, None, None, ()),
    ("proto-host-from-the-client-element",
     "for=203.0.113.43;proto=https;host=example.com,for=198.51.100.17;proto=http",
     APPLIED, "203.0.113.43", None, "https", "example.com", 443, ()),
    # Splitting on every comma: a client's quote cannot swallow the proxy's element.
    ("unbalanced-quote-gives-the-proxy-appended-client", 'for="6.6.6.6, for=1.2.3.4',
     APPLIED, "1.2.3.4", None, None, None, None, ()),
    ("unbalanced-quote-examined-is-unresolved", 'for="6.6.6.6, for=10.0.0.1',
     UNRESOLVED, None, None, None, None, None, ()),
    ("malformed-client-element-left-of-the-client-is-not-read",
     "for=6.6.6.6;proto=https;proto=http, for=1.2.3.4",
     APPLIED, "1.2.3.4", None, None, None, None, ()),
    # Shape of the chain.
    ("all-trusted-leftmost-is-the-client", "for=10.0.0.2, for=10.0.0.1",
     APPLIED, "10.0.0.2", None, None, None, None, ()),
    ("element-without-for", "proto=https", UNRESOLVED, None, None, None, None, None, ()),
    ("proxy-element-without-for", "for=1.2.3.4;proto=https, by=10.0.0.1",
     UNRESOLVED, None, None, None, None, None, ()),
    ("only-empty-elements", " , ;, ", APPLIED, None, None, None, None, None, ()),
    ("non-canonical-ipv4", "for=01.2.3.4", UNRESOLVED, None, None, None, None, None, ()),
    ("port-zero", 'for="1.2.3.4:0"', UNRESOLVED, None, None, None, None, None, ()),
    ("unquoted-bracketed-ipv6", "for=[2001:db8::5]",
     APPLIED, "2001:db8::5", None, None, None, None, ()),
    ("unquoted-bare-ipv6-canonicalised", "for=2001:DB8::5",
     APPLIED, "2001:db8::5", None, None, None, None, ()),
    ("ipv4-mapped-canonicalised", 'for="::ffff:1.2.3.4"',
     APPLIED, "1.2.3.4", None, None, None, None, ()),
    # Validation of proto and host (invalid values ignored, original kept).
    ("invalid-proto-ignored", "for=1.2.3.4;proto=javascript",
     APPLIED, "1.2.3.4", None, None, None, None, ("proto",)),
    ("invalid-host-ignored", 'for=1.2.3.4;host="evil.com/../"',
     APPLIED, "1.2.3.4", None, None, None, None, ("host",)),
    ("invalid-proto-and-host-recorded", 'for=1.2.3.4;proto=ftp;host="a b"',
     APPLIED, "1.2.3.4", None, None, None, None, ("proto", "host")),
    ("ipv6-host-with-port", 'for=1.2.3.4;host="[2001:db8::1]:8443";proto=HTTPS',
     APPLIED, "1.2.3.4", None, "https", "[2001:db8::1]:8443", 8443, ()),
    ("port-follows-a-changed-scheme", "for=1.2.3.4;proto=https",
     APPLIED, "1.2.3.4", None, "https", None, 443, ()),
    ("port-from-the-host", 'for=1.2.3.4;host="example.com:8443"',
     APPLIED, "1.2.3.4", None, None, "example.com:8443", 8443, ()),
)  # fmt: skip

# (id, Forwarded value, hops, status, client): '*'-free: hops over the listed proxies.
HOPS: tuple[tuple[str, str, int, str, Optional[str]], ...] = (
    ("hops-1", "for=1.2.3.4, for=5.6.7.8", 1, APPLIED, "5.6.7.8"),
    ("hops-2", "for=1.2.3.4, for=10.0.0.1", 2, APPLIED, "1.2.3.4"),
    ("chain-shorter-than-hops", "for=10.0.0.1", 2, UNRESOLVED, None),
    ("unknown-within-hops", "for=1.2.3.4, for=unknown", 2, UNRESOLVED, None),
    ("unknown-beyond", "for=unknown, for=5.6.7.8", 1, APPLIED, "5.6.7.8"),
)


def _same(value: Any) -> Any:
    return SAME if value is None else value


def rows() -> Iterator[Scenario]:
    common: dict[str, Any] = {
        "trusted": TRUSTED, "headers": "forwarded", "fields": FIELDS, "request": ORIGIN,
    }  # fmt: skip
    for id, value, status, client, client_port, scheme, host, port, ignored in ROWS:
        yield case(
            f"forwarded/{id}",
            [("Forwarded", value)],
            status=status,
            client=_same(client),
            client_port=client_port,
            scheme=_same(scheme),
            host=_same(host),
            port=_same(port),
            ignored=ignored,
            **common,
        )
    for id, value, hops, status, client in HOPS:
        yield case(
            f"forwarded/{id}",
            [("Forwarded", value)],
            hops=hops,
            status=status,
            client=_same(client),
            **common,
        )
    yield case(
        "forwarded/untrusted-peer-reads-nothing",
        [("Forwarded", "for=1.2.3.4;proto=https")],
        peer="6.6.6.6",
        status=UNTRUSTED_PEER,
        **common,
    )
    yield case("forwarded/missing-header-changes-nothing", [], **common)
    yield case(
        "forwarded/lines-join-in-arrival-order",
        [("Forwarded", "for=1.2.3.4"), ("forwarded", "for=127.0.0.2")],
        client="1.2.3.4",
        **common,
    )
    yield case(
        "forwarded/x-forwarded-family-not-read",
        [("X-Forwarded-For", "1.2.3.4")],
        **common,
    )
    yield case(
        "forwarded/wsgi-ipv6-port-proto-host",
        [("Forwarded", 'for="[2001:db8::9]:5000";proto=https;host=example.com')],
        client="2001:db8::9",
        client_port=5000,
        scheme="https",
        host="example.com",
        port=443,
        **common,
    )
    yield case(
        "forwarded/unresolved-passes-unchanged",
        [("Forwarded", "for=unknown;proto=https")],
        status=UNRESOLVED,
        **common,
    )
