"""Rows reading both header families (``headers=("forwarded", "x-forwarded")``):
agreement and conflicts, moved from tests/test_conflicts.py and the refusal table of
tests/test_django.py.

Both families are walked and compared on canonical values; a disagreement is a
``conflict``, which every adapter refuses (400; a WebSocket handshake: close 1008).
The request is ``http://origin.test`` on port 80, from the trusted peer 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from ._model import (
    ALL_FIELDS,
    APPLIED,
    BOTH,
    CONFLICT,
    SAME,
    UNRESOLVED,
    UNTRUSTED_PEER,
    Request,
    Scenario,
    case,
)

ORIGIN = Request(host="origin.test", server_name="origin.test")
FWD = "Forwarded"
XFF = "X-Forwarded-For"
PROTO = "X-Forwarded-Proto"
HOST = "X-Forwarded-Host"

# (id, header lines, status, client (None: the peer), scheme, host, port)
Row = tuple[str, tuple[tuple[str, str], ...], str, Optional[str], Optional[str],
            Optional[str], Optional[int]]  # fmt: skip
ROWS: tuple[Row, ...] = (
    ("same-client", ((FWD, "for=1.2.3.4"), (XFF, "1.2.3.4")),
     APPLIED, "1.2.3.4", None, None, None),
    ("different-clients", ((FWD, "for=1.2.3.4"), (XFF, "1.2.3.5")),
     CONFLICT, None, None, None, None),
    ("different-clients-behind-two-proxies",
     ((FWD, "for=6.6.6.6, for=10.0.0.1"), (XFF, "1.2.3.4, 10.0.0.1")),
     CONFLICT, None, None, None, None),
    ("canonical-addresses-compared", ((FWD, 'for="[2001:db8::1]"'), (XFF, "2001:DB8:0::1")),
     APPLIED, "2001:db8::1", None, None, None),
    ("schemes-contradict",
     ((FWD, "for=1.2.3.4;proto=https"), (XFF, "1.2.3.4"), (PROTO, "http")),
     CONFLICT, None, None, None, None),
    ("schemes-agree-any-case",
     ((FWD, "for=1.2.3.4;proto=HTTPS"), (XFF, "1.2.3.4"), (PROTO, "https")),
     APPLIED, "1.2.3.4", "https", None, 443),
    ("schemes-contradict-without-xff", ((FWD, "for=1.2.3.4;proto=https"), (PROTO, "http")),
     CONFLICT, None, None, None, None),
    ("hosts-contradict",
     ((FWD, "for=1.2.3.4;host=a.example"), (XFF, "1.2.3.4"), (HOST, "b.example")),
     CONFLICT, None, None, None, None),
    ("hosts-agree-any-case",
     ((FWD, "for=1.2.3.4;host=A.example"), (XFF, "1.2.3.4"), (HOST, "a.example")),
     APPLIED, "1.2.3.4", None, "A.example", None),
    ("scheme-only-in-x-forwarded",
     ((FWD, "for=1.2.3.4"), (XFF, "1.2.3.4"), (PROTO, "https")),
     APPLIED, "1.2.3.4", "https", None, 443),
    ("only-forwarded", ((FWD, "for=1.2.3.4;proto=https"),),
     APPLIED, "1.2.3.4", "https", None, 443),
    ("only-x-forwarded", ((XFF, "1.2.3.4"), (PROTO, "https")),
     APPLIED, "1.2.3.4", "https", None, 443),
    ("forwarded-unresolved", ((FWD, "for=unknown"), (XFF, "1.2.3.4")),
     UNRESOLVED, None, None, None, None),
    ("x-forwarded-unresolved", ((FWD, "for=1.2.3.4"), (XFF, "junk")),
     UNRESOLVED, None, None, None, None),
    # The proxy writes X-Forwarded-For only and passes on a client's Forwarded: the
    # forgery names another client and is caught.
    ("forged-forwarded-caught", ((FWD, "for=10.0.0.5;proto=https"), (XFF, "203.0.113.7")),
     CONFLICT, None, None, None, None),
    ("port-and-prefix-come-from-x-forwarded",
     ((FWD, "for=1.2.3.4;proto=https;host=example.com"), (XFF, "1.2.3.4"),
      ("X-Forwarded-Port", "8443"), ("X-Forwarded-Prefix", "/app")),
     APPLIED, "1.2.3.4", "https", "example.com:8443", 8443),
    ("empty-forwarded-leaves-the-client-to-x-forwarded",
     ((FWD, " , "), (XFF, "6.6.6.6, 1.2.3.4")),
     APPLIED, "1.2.3.4", None, None, None),
    ("x-forwarded-values-align-with-the-forwarded-client-without-xff",
     ((FWD, "for=1.2.3.4, for=10.0.0.1"), (PROTO, "https, http")),
     APPLIED, "1.2.3.4", "https", None, 443),
)  # fmt: skip


def _same(value: Any) -> Any:
    return SAME if value is None else value


def rows() -> Iterator[Scenario]:
    common: dict[str, Any] = {
        "trusted": "loopback, 10.0.0.0/8", "headers": BOTH, "fields": ALL_FIELDS,
        "request": ORIGIN,
    }  # fmt: skip
    for id, lines, status, client, scheme, host, port in ROWS:
        yield case(
            f"both/{id}",
            lines,
            status=status,
            client=_same(client),
            scheme=_same(scheme),
            host=_same(host),
            port=_same(port),
            prefix="/app" if "prefix" in id else SAME,
            **common,
        )
    # Only addresses are compared; the client's port comes from Forwarded.
    yield case(
        "both/ports-do-not-matter",
        [(FWD, 'for="1.2.3.4:5000"'), (XFF, "1.2.3.4")],
        client="1.2.3.4",
        client_port=5000,
        **common,
    )
    yield case(
        "both/untrusted-peer-is-not-a-conflict",
        [(FWD, "for=1.2.3.4"), (XFF, "1.2.3.5")],
        peer="6.6.6.6",
        status=UNTRUSTED_PEER,
        **common,
    )
    # From tests/test_django.py's refusal table: the default request, default trust.
    yield case(
        "both/conflict-client",
        [(FWD, "for=6.6.6.6"), (XFF, "203.0.113.9")],
        headers=BOTH,
        status=CONFLICT,
    )
    yield case(
        "both/conflict-proto",
        [(FWD, "for=203.0.113.9;proto=http"), (XFF, "203.0.113.9"), (PROTO, "https")],
        headers=BOTH,
        status=CONFLICT,
    )
    yield case(
        "both/agreeing-families-pass",
        [(FWD, "for=203.0.113.9"), (XFF, "203.0.113.9")],
        headers=BOTH,
        client="203.0.113.9",
    )
