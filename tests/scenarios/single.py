"""Single-address header rows (X-Real-IP, CF-Connecting-IP, …), moved from
tests/test_single_header.py.

Rules: read only when the socket peer is trusted; exactly one line holding exactly one
address (a port is allowed); anything else is unresolved; a missing header changes
nothing.  The request is ``http://origin.test`` on port 80.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from ._model import APPLIED, SAME, UNRESOLVED, UNTRUSTED_PEER, Request, Scenario, case

ORIGIN = Request(host="origin.test", server_name="origin.test")
REAL = "X-Real-IP"

# (id, header lines, status, client (None: the peer), client port)
ROWS: tuple[tuple[str, tuple[tuple[str, str], ...], str, Optional[str], Optional[int]], ...] = (
    ("ipv4", ((REAL, "203.0.113.7"),), APPLIED, "203.0.113.7", None),
    ("ows", ((REAL, " 203.0.113.7\t"),), APPLIED, "203.0.113.7", None),
    ("port", ((REAL, "203.0.113.7:4711"),), APPLIED, "203.0.113.7", 4711),
    ("ipv6", ((REAL, "2001:DB8::7"),), APPLIED, "2001:db8::7", None),
    ("v6-port", ((REAL, "[2001:db8::7]:80"),), APPLIED, "2001:db8::7", 80),
    ("mapped", ((REAL, "::ffff:1.2.3.4"),), APPLIED, "1.2.3.4", None),
    ("name-case", (("x-real-ip", "203.0.113.7"),), APPLIED, "203.0.113.7", None),
    ("missing-header-changes-nothing", (), APPLIED, None, None),
    ("two-lines", ((REAL, "1.2.3.4"), (REAL, "5.6.7.8")), UNRESOLVED, None, None),
    ("a-list", ((REAL, "1.2.3.4, 5.6.7.8"),), UNRESOLVED, None, None),
    ("trailing-comma", ((REAL, "1.2.3.4,"),), UNRESOLVED, None, None),
    ("empty-line", ((REAL, ""),), UNRESOLVED, None, None),
    ("unknown", ((REAL, "unknown"),), UNRESOLVED, None, None),
    ("non-canonical", ((REAL, "01.2.3.4"),), UNRESOLVED, None, None),
    ("port-zero", ((REAL, "1.2.3.4:0"),), UNRESOLVED, None, None),
    ("unspecified", ((REAL, "0.0.0.0"),), UNRESOLVED, None, None),
    ("junk", ((REAL, "<script>"),), UNRESOLVED, None, None),
    ("other-family-not-read", (("X-Forwarded-For", "1.2.3.4"),), APPLIED, None, None),
)

# Other single-address headers, each read under its own name.
NAMES = ("cf-connecting-ip", "True-Client-IP", "fastly-client-ip", "fly-client-ip")


def _same(value: Any) -> Any:
    return SAME if value is None else value


def rows() -> Iterator[Scenario]:
    for id, lines, status, client, client_port in ROWS:
        yield case(
            f"single/{id}",
            lines,
            headers="x-real-ip",
            fields=("for",),
            request=ORIGIN,
            status=status,
            client=_same(client),
            client_port=client_port,
        )
    yield case(
        "single/only-from-a-trusted-peer",
        [(REAL, "203.0.113.7")],
        peer="6.6.6.6",
        headers="x-real-ip",
        fields=("for",),
        request=ORIGIN,
        status=UNTRUSTED_PEER,
    )
    for name in NAMES:
        yield case(
            f"single/name/{name}",
            [(name, "203.0.113.7")],
            headers=name,
            fields=("for",),
            request=ORIGIN,
            client="203.0.113.7",
        )
    # The Cloudflare recipe: the edge is trusted, a client reaching the origin directly
    # cannot forge the header.
    for id, peer, status, client in (
        ("cloudflare/edge", "104.16.0.10", APPLIED, "203.0.113.7"),
        ("cloudflare/direct-client", "6.6.6.6", UNTRUSTED_PEER, None),
    ):
        yield case(
            f"single/{id}",
            [("CF-Connecting-IP", "203.0.113.7")],
            peer=peer,
            trusted=["cloudflare"],
            headers="cf-connecting-ip",
            fields=("for",),
            request=ORIGIN,
            status=status,
            client=_same(client),
        )
