"""The adversarial suite: one row per attack in docs/security.md, each proving it closed.

Every row is run three times: through :meth:`Resolver.resolve` (the core), through
:class:`WSGIMiddleware` with the environ a WSGI server would build (repeated header lines
joined with ``,``, PEP 3333) and through :class:`ASGIMiddleware` with the scope an ASGI
server would build (every line kept, names lower-cased), asserting what the application
finally sees.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

import builders
from trustproxy import (
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    UNTRUSTED_PEER,
    ConfigError,
    Resolver,
    WSGIMiddleware,
)
from trustproxy._lists import MAX_ITEM_LENGTH
from trustproxy._resolve import MAX_HOPS
from trustproxy.asgi import ASGIMiddleware

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import invariants

PROXY = "127.0.0.1"  # the trusted reverse proxy (default trust: loopback)
CLIENT = "203.0.113.9"  # the real client, as the proxy appended it
FORGED = "6.6.6.6"  # what the attacker wants to be seen as
EVIL = "evil.example"
ALL = ("for", "proto", "host", "port", "prefix")


@dataclass(frozen=True)
class Attack:
    """A request as it reaches the app server, and what the app must see."""

    lines: tuple[tuple[str, str], ...]
    status: str
    client: Optional[str]
    peer: str = PROXY
    scheme: str = "http"
    host: str = "app.example"
    port: int = 80
    prefix: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: The Host the request arrived with (the server's SERVER_NAME and ASGI ``server``
    #: name stay "app.example"), and the SERVER_NAME / ``server`` name the app must see
    #: (``None``: the name part of ``host``).
    request_host: str = "app.example"
    server_name: Optional[str] = None


def xff(*values: str, **kw: Any) -> tuple[tuple[str, str], ...]:
    lines = [("X-Forwarded-For", value) for value in values]
    lines += [(f"X-Forwarded-{name.title()}", value) for name, value in kw.items()]
    return tuple(lines)


def bad(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """A forwarded value for ``name`` that must be ignored; the client is still applied."""
    return ((f"X-Forwarded-{name}", value), ("X-Forwarded-For", CLIENT))


FIELDS_ALL = {"fields": ALL}
LONG = "a" * 300

ATTACKS = [
    # --- who writes the client address -------------------------------------------------
    pytest.param(Attack(xff(f"{FORGED}, {CLIENT}"), APPLIED, CLIENT), id="leftmost-spoofing"),
    pytest.param(
        Attack(xff(f"{FORGED}, {CLIENT}", f"{PROXY}"), APPLIED, CLIENT),
        id="leftmost-spoofing-through-trusted-chain",
    ),
    pytest.param(
        Attack(xff(FORGED), UNTRUSTED_PEER, "198.51.100.7", peer="198.51.100.7"),
        id="direct-access-bypassing-proxy",
    ),
    pytest.param(
        Attack(
            xff(FORGED, proto="https", host=EVIL, prefix="/x"),
            UNTRUSTED_PEER,
            "198.51.100.7",
            peer="198.51.100.7",
            options=FIELDS_ALL,
        ),
        id="direct-access-all-fields-ignored",
    ),
    pytest.param(
        Attack(
            xff(FORGED),
            UNTRUSTED_PEER,
            "10.9.9.9",
            peer="10.9.9.9",
            options={"trusted": "10.0.0.1"},
        ),
        id="direct-access-from-neighbour-in-private-network",
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, unknown"), UNRESOLVED, PROXY), id="unknown-hop-not-skipped"
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, _hidden"), UNRESOLVED, PROXY), id="obfuscated-hop-not-skipped"
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, 203.0.113"), UNRESOLVED, PROXY), id="invalid-hop-not-skipped"
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, {CLIENT}:99999"), UNRESOLVED, PROXY), id="invalid-port-in-hop"
    ),
    pytest.param(Attack(xff(f"{FORGED}, "), APPLIED, FORGED), id="empty-element-skipped-rfc9110"),
    # --- quoting: X-Forwarded-For has none -----------------------------------------------
    pytest.param(
        Attack(xff(f'"{FORGED}, {CLIENT}'), APPLIED, CLIENT), id="xff-unbalanced-quote-left"
    ),
    pytest.param(
        Attack(xff(f'{FORGED}, "{CLIENT}'), UNRESOLVED, PROXY),
        id="xff-unbalanced-quote-right",
    ),
    pytest.param(Attack(xff(f'{FORGED}", "{CLIENT}"'), UNRESOLVED, PROXY), id="xff-quoted-items"),
    # --- repeated lines ---------------------------------------------------------------------
    pytest.param(Attack(xff(FORGED, CLIENT), APPLIED, CLIENT), id="duplicate-xff-lines"),
    pytest.param(
        Attack(
            (
                ("X-Forwarded-Host", EVIL),
                ("X-Forwarded-Host", "good.example"),
                ("X-Forwarded-For", CLIENT),
            ),
            APPLIED,
            CLIENT,
            host="good.example",
            options=FIELDS_ALL,
        ),
        id="duplicate-host-lines",
    ),
    pytest.param(
        Attack(
            (
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Proto", "http"),
                ("X-Forwarded-For", CLIENT),
            ),
            APPLIED,
            CLIENT,
            scheme="http",
        ),
        id="duplicate-proto-lines",
    ),
    # --- host injection ---------------------------------------------------------------------
    *[
        pytest.param(
            Attack(bad("Host", value), APPLIED, CLIENT, options=FIELDS_ALL),
            id=f"host-injection-{name}",
        )
        for name, value in [
            ("slash", f"{EVIL}/path"),
            ("query", f"{EVIL}?x=1"),
            ("userinfo", f"app.example@{EVIL}"),
            ("crlf", f"{EVIL}\r\nSet-Cookie: a=b"),
            ("lf", f"{EVIL}\nX: y"),
            ("space", "app.example evil"),
            ("tab-inside", "app\texample"),
            ("over-long", "a" * 254),
            ("over-long-label-sum", ".".join(["a" * 63] * 5)),
            ("backslash", f"{EVIL}\\x"),
            ("percent", "app%2eexample"),
            ("nul", "app\x00.example"),
            ("non-ascii", "\u0430pp.example"),
            ("bad-port", f"{EVIL}:99999"),
            ("empty-port", f"{EVIL}:"),
            ("ipv6-unbracketed", "2001:db8::1"),
            ("non-canonical-ipv4", "010.0.0.1"),
            ("ipv6-zone-id", "[fe80::1%eth0]"),
            # URL parsers read a name ending in a number as IPv4 (WHATWG "ends in a
            # number"): each of these is 127.0.0.1 or 1.2.3.4 to a browser (issue 10 §9).
            ("hex-ipv4", "0x7f.0.0.1"),
            ("hex-integer", "0x7f000001"),
            ("hex-ipv4-trailing-dot", "0x7f.0.0.1."),
            ("hex-octet", "1.0x2.3.4"),
            ("ends-in-number", f"{EVIL}.1"),
            ("empty-label", "a..b"),
            ("label-over-63", "a" * 64 + ".example"),
        ]
    ],
    # --- scheme injection ---------------------------------------------------------------------
    *[
        pytest.param(Attack(bad("Proto", value), APPLIED, CLIENT), id=f"scheme-injection-{name}")
        for name, value in [
            ("javascript", "javascript"),
            ("ftp", "ftp"),
            ("url", "https://evil.example"),
            ("crlf", "https\r\nX: y"),
            ("nul", "https\x00"),
            ("ws-url", "wss://evil.example"),
            ("long", "https" * 100),
        ]
    ],
    # --- WebSocket spellings (issue 10 §16): Traefik writes ws/wss on upgrades ------------------
    pytest.param(
        Attack(xff(CLIENT, proto="wss"), APPLIED, CLIENT, scheme="https", port=443),
        id="websocket-proto-wss-is-https",
    ),
    pytest.param(
        Attack(xff(CLIENT, proto="ws"), APPLIED, CLIENT, scheme="http", port=80),
        id="websocket-proto-ws-is-http",
    ),
    # --- the request's own Host is never rebuilt when it is invalid (issue 10 §5) ---------------
    *[
        pytest.param(
            Attack(
                xff(CLIENT, port="443", host=f"{EVIL}@x"),
                APPLIED,
                CLIENT,
                host=value,
                port=443,
                options=FIELDS_ALL,
                request_host=value,
                server_name="app.example",
            ),
            id=f"port-keeps-invalid-request-host-{name}",
        )
        for name, value in [
            ("userinfo", f"x@{EVIL}"),
            ("open-bracket", "[::1"),
            ("backslash", f"good.example\\{EVIL}"),
            ("quote", 'a"b'),
        ]
    ],
    pytest.param(
        Attack(
            xff(CLIENT, proto="https"),
            APPLIED,
            CLIENT,
            scheme="https",
            host=f"x@{EVIL}",
            port=443,
            request_host=f"x@{EVIL}",
            server_name="app.example",
        ),
        id="scheme-keeps-invalid-request-host",
    ),
    # --- port out of range ---------------------------------------------------------------------
    *[
        pytest.param(
            Attack(bad("Port", value), APPLIED, CLIENT, options=FIELDS_ALL),
            id=f"port-out-of-range-{name}",
        )
        for name, value in [
            ("zero", "0"),
            ("65536", "65536"),
            ("six-digits", "100080"),
            ("negative", "-1"),
            ("plus", "+443"),
            ("hex", "0x1bb"),
            ("unicode-digits", "\u0664\u0664\u0663"),
            ("fraction", "443.0"),
        ]
    ],
    # --- prefix open redirect ------------------------------------------------------------------
    *[
        pytest.param(
            Attack(bad("Prefix", value), APPLIED, CLIENT, options=FIELDS_ALL),
            id=f"prefix-open-redirect-{name}",
        )
        for name, value in [
            ("network-path", f"//{EVIL}"),
            ("network-path-deep", f"//{EVIL}/app"),
            ("backslash", f"/\\{EVIL}"),
            ("leading-backslash", f"\\\\{EVIL}"),
            ("dot-dot", "/app/../admin"),
            ("dot", "/app/./x"),
            ("encoded-dot-dot", "/app/%2e%2E/admin"),
            ("encoded-slash", f"/%2F{EVIL}"),
            ("encoded-backslash", f"/%5c{EVIL}"),
            ("javascript", "javascript:alert(1)"),
            ("absolute-url", f"https://{EVIL}/"),
            ("query", "/app?next=//evil"),
            ("fragment", "/app#x"),
            ("crlf", "/app\r\nLocation: //evil"),
            ("encoded-crlf", "/app%0d%0aX:y"),
            ("bad-percent", "/app%zz"),
            ("space", "/a b"),
            ("empty-segment", "/app//x"),
        ]
    ],
    # --- address forms ---------------------------------------------------------------------------
    pytest.param(
        Attack(xff("::ffff:203.0.113.9"), APPLIED, CLIENT), id="ipv4-mapped-client-canonical"
    ),
    pytest.param(
        Attack(
            xff(f"{FORGED}, {CLIENT}, ::ffff:10.0.0.2"),
            APPLIED,
            CLIENT,
            options={"trusted": "127.0.0.1, 10.0.0.0/8"},
        ),
        id="ipv4-mapped-proxy-still-trusted",
    ),
    pytest.param(
        Attack(xff(FORGED), APPLIED, FORGED, peer="::ffff:127.0.0.1"),
        id="ipv4-mapped-peer-still-trusted",
    ),
    pytest.param(
        Attack(
            xff(f"{FORGED}, 010.0.0.2"),
            UNRESOLVED,
            PROXY,
            options={"trusted": "127.0.0.1, 10.0.0.0/8"},
        ),
        id="non-canonical-ipv4-leading-zero",
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, 0x0a.0.0.2"), UNRESOLVED, PROXY), id="non-canonical-ipv4-hex"
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, 167772162"), UNRESOLVED, PROXY), id="non-canonical-ipv4-integer"
    ),
    pytest.param(Attack(xff(f"{FORGED}, 10.2"), UNRESOLVED, PROXY), id="non-canonical-ipv4-short"),
    pytest.param(
        Attack(xff("2001:DB8:0:0:0:0:0:1"), APPLIED, "2001:db8::1"),
        id="non-canonical-ipv6-canonicalised",
    ),
    pytest.param(Attack(xff("fe80::1%eth0"), APPLIED, "fe80::1"), id="ipv6-zone-id-dropped"),
    pytest.param(Attack(xff(f"{FORGED}, 0.0.0.0"), UNRESOLVED, PROXY), id="unspecified-ipv4"),
    pytest.param(Attack(xff(f"{FORGED}, ::"), UNRESOLVED, PROXY), id="unspecified-ipv6"),
    pytest.param(
        Attack(xff(f"{FORGED}, 2001:db8::1:443"), APPLIED, "2001:db8::1:443"),
        id="bare-ipv6-is-not-host-and-port",
    ),
    # --- size -----------------------------------------------------------------------------------
    pytest.param(
        Attack(xff(f"{FORGED}, " * 100_000 + CLIENT), APPLIED, CLIENT), id="huge-item-count"
    ),
    pytest.param(
        Attack(xff("x" * 1_000_000 + f", {CLIENT}"), APPLIED, CLIENT), id="huge-header-leftover"
    ),
    pytest.param(
        Attack(xff(f"{CLIENT}, " + "1" * (MAX_ITEM_LENGTH + 1)), UNRESOLVED, PROXY),
        id="over-long-item",
    ),
    pytest.param(
        Attack(xff(f"{FORGED}, " + ", ".join([PROXY] * (MAX_HOPS + 1))), UNRESOLVED, PROXY),
        id="too-many-trusted-hops",
    ),
    pytest.param(
        Attack(xff(FORGED + "," * 1_000_000), UNRESOLVED, PROXY), id="huge-run-of-empty-items"
    ),
    pytest.param(
        Attack(xff(CLIENT, proto="https" + ", " * 100_000), APPLIED, CLIENT),
        id="huge-run-of-empty-items-in-proto",
    ),
]


def fwd(*lines: str) -> tuple[tuple[str, str], ...]:
    return tuple(("Forwarded", line) for line in lines)


FORWARDED = {"headers": "forwarded", "fields": ("for", "proto", "host")}
BOTH = {"headers": ("forwarded", "x-forwarded"), "fields": ("for", "proto", "host")}

# RFC 7239 Forwarded (issue 3) and both families read together.
ATTACKS += [
    pytest.param(
        Attack(fwd(f"for={FORGED}, for={CLIENT}"), APPLIED, CLIENT, options=FORWARDED),
        id="forwarded-leftmost-spoofing",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED}", f"for={CLIENT}"), APPLIED, CLIENT, options=FORWARDED),
        id="forwarded-duplicate-lines",
    ),
    pytest.param(
        Attack(
            fwd(f"for={FORGED}"),
            UNTRUSTED_PEER,
            "198.51.100.7",
            peer="198.51.100.7",
            options=FORWARDED,
        ),
        id="forwarded-direct-access-bypassing-proxy",
    ),
    pytest.param(
        Attack(fwd(f'for="{FORGED}, for={CLIENT}'), APPLIED, CLIENT, options=FORWARDED),
        id="forwarded-unbalanced-quote-left",
    ),
    pytest.param(
        Attack(fwd(f'for={FORGED}, for="{CLIENT}'), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-unbalanced-quote-right",
    ),
    pytest.param(
        Attack(fwd(f'for="{FORGED},{CLIENT}"'), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-comma-inside-quotes",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED}, for=unknown"), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-unknown-hop-not-skipped",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED}, for=_hidden"), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-obfuscated-hop-not-skipped",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED}, by=_proxy"), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-element-without-for-not-skipped",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED};for={CLIENT}"), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-repeated-parameter",
    ),
    pytest.param(
        Attack(fwd(f'for="::ffff:{CLIENT}"'), APPLIED, CLIENT, options=FORWARDED),
        id="forwarded-ipv4-mapped-canonical",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED}, for=010.0.0.1"), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-non-canonical-ipv4",
    ),
    pytest.param(
        Attack(
            fwd(f"for={FORGED};proto=https;host={EVIL}, for={CLIENT}"),
            APPLIED,
            CLIENT,
            options=FORWARDED,
        ),
        id="forwarded-proto-host-from-attacker-element",
    ),
    pytest.param(
        Attack(
            fwd(f'for={CLIENT};host="{EVIL}/x";proto=javascript'),
            APPLIED,
            CLIENT,
            options=FORWARDED,
        ),
        id="forwarded-host-and-scheme-injection",
    ),
    pytest.param(
        Attack(fwd(f'for={CLIENT};host="{EVIL}\\r\\nX: y"'), APPLIED, CLIENT, options=FORWARDED),
        id="forwarded-host-injection-quoted-pair",
    ),
    pytest.param(
        Attack(
            fwd(f"for={FORGED}, " * 100_000 + f"for={CLIENT}"), APPLIED, CLIENT, options=FORWARDED
        ),
        id="forwarded-huge-element-count",
    ),
    pytest.param(
        Attack(fwd(f"for={CLIENT}, " + "x" * 10_000), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-over-long-element",
    ),
    pytest.param(
        Attack(fwd(f"for={FORGED}" + ",;" * 500_000), UNRESOLVED, PROXY, options=FORWARDED),
        id="forwarded-huge-run-of-empty-elements",
    ),
    pytest.param(
        Attack(
            (("Forwarded", f"for={CLIENT}"), ("X-Forwarded-For", FORGED)),
            CONFLICT,
            PROXY,
            options=BOTH,
        ),
        id="conflicting-families-client",
    ),
    pytest.param(
        Attack(
            (
                ("Forwarded", f"for={CLIENT};proto=http"),
                ("X-Forwarded-For", CLIENT),
                ("X-Forwarded-Proto", "https"),
            ),
            CONFLICT,
            PROXY,
            options=BOTH,
        ),
        id="conflicting-families-scheme",
    ),
    pytest.param(
        Attack(
            (("Forwarded", f"for={CLIENT}"), ("X-Forwarded-For", f"::ffff:{CLIENT}")),
            APPLIED,
            CLIENT,
            options=BOTH,
        ),
        id="agreeing-families-canonical",
    ),
    pytest.param(
        Attack(
            fwd(f"for={CLIENT};proto=wss"),
            APPLIED,
            CLIENT,
            scheme="https",
            port=443,
            options=FORWARDED,
        ),
        id="forwarded-websocket-proto-wss-is-https",
    ),
]

# hops set and no address at all (issue 10 §17): zero items is a chain shorter than hops,
# so the client's own X-Forwarded-Proto/-Host/-Port are never applied.
STAR_HOPS_2 = {"trusted": "*", "hops": 2, "fields": ALL}
ATTACKS += [
    pytest.param(
        Attack(
            (
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", f"{EVIL}:8443"),
                ("X-Forwarded-Port", "8443"),
            ),
            UNRESOLVED,
            PROXY,
            options=STAR_HOPS_2,
        ),
        id="hops-without-xff-client-headers-not-applied",
    ),
    pytest.param(
        Attack(
            (
                ("X-Forwarded-For", " , "),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", EVIL),
            ),
            UNRESOLVED,
            PROXY,
            options=STAR_HOPS_2,
        ),
        id="hops-with-only-empty-xff-items",
    ),
    pytest.param(
        Attack(
            (("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", EVIL)),
            UNRESOLVED,
            PROXY,
            options={"trusted": PROXY, "hops": 1, "fields": ALL},
        ),
        id="hops-without-xff-behind-listed-proxy",
    ),
    pytest.param(
        Attack(fwd(" , "), UNRESOLVED, PROXY, options={**FORWARDED, "trusted": "*", "hops": 2}),
        id="forwarded-hops-without-elements",
    ),
    pytest.param(
        Attack(
            (("Forwarded", " , "), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", EVIL)),
            UNRESOLVED,
            PROXY,
            options={**BOTH, "trusted": "*", "hops": 2},
        ),
        id="both-families-hops-without-addresses",
    ),
]


def _environ(attack: Attack) -> dict[str, Any]:
    return builders.environ(
        attack.peer, attack.lines, host=attack.request_host, name="app.example", path="/"
    )


def _server_name(attack: Attack) -> str:
    """The SERVER_NAME / ASGI ``server`` name the app must see (no row's host has a port)."""
    return attack.host if attack.server_name is None else attack.server_name


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_core(attack: Attack) -> None:
    result = Resolver(**attack.options).resolve(attack.peer, attack.lines, host=attack.request_host)
    assert (result.status, result.client) == (attack.status, attack.client)
    assert (result.scheme, result.host, result.prefix) == (
        attack.scheme,
        attack.host,
        attack.prefix,
    )
    if attack.status != APPLIED:
        assert result.applied == ()


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_wsgi(attack: Attack) -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    answered: list[str] = []
    WSGIMiddleware(app, **attack.options)(
        _environ(attack), lambda status, h: answered.append(status)
    )
    if attack.status == CONFLICT:  # answered 400; the application never runs
        assert (answered, seen) == (["400 Bad Request"], {})
        return
    expected_addr = attack.client if attack.status == APPLIED else attack.peer
    assert seen["REMOTE_ADDR"] == expected_addr
    assert seen["wsgi.url_scheme"] == attack.scheme
    assert seen["HTTP_HOST"] == attack.host
    assert seen["SERVER_NAME"] == _server_name(attack)
    assert seen["SERVER_PORT"] == str(attack.port)
    assert seen["SCRIPT_NAME"] == attack.prefix
    assert seen["trustproxy.resolution"].status == attack.status


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_asgi(attack: Attack) -> None:
    middleware = ASGIMiddleware(invariants._asgi_app, **attack.options)
    scope = invariants.asgi_scope(attack.peer, list(attack.lines))
    scope["headers"][0] = (b"host", attack.request_host.encode("latin-1"))
    seen, sent = invariants.run_asgi(middleware, scope)
    if attack.status == CONFLICT:  # answered 400; the application never runs
        assert (seen, sent[0]["status"]) == ({}, 400)
        return
    expected_addr = attack.client if attack.status == APPLIED else attack.peer
    assert seen["client"][0] == expected_addr
    assert seen["scheme"] == attack.scheme
    assert [v for n, v in seen["headers"] if n == b"host"] == [attack.host.encode()]
    assert seen["server"] == (_server_name(attack), attack.port)
    assert seen["root_path"] == attack.prefix
    assert seen["trustproxy.resolution"].status == attack.status


# --- hops and no address at all, strict (issue 10 §17) ---------------------------------------

SHORT_OF_HOPS = [
    pytest.param(
        (("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", f"{EVIL}:8443")),
        STAR_HOPS_2,
        id="x-forwarded",
    ),
    pytest.param(fwd(" , "), {**FORWARDED, "trusted": "*", "hops": 2}, id="forwarded"),
]


@pytest.mark.parametrize(("lines", "options"), SHORT_OF_HOPS)
def test_attack_hops_without_addresses_strict_wsgi_answers_400(
    lines: tuple[tuple[str, str], ...], options: dict[str, Any]
) -> None:
    seen: list[Any] = []
    answered: list[str] = []
    middleware = WSGIMiddleware(lambda env, sr: seen.append(env) or [], strict=True, **options)
    attack = Attack(lines, UNRESOLVED, PROXY)
    middleware(_environ(attack), lambda status, headers: answered.append(status))
    assert (answered, seen) == (["400 Bad Request"], [])


@pytest.mark.parametrize(("lines", "options"), SHORT_OF_HOPS)
def test_attack_hops_without_addresses_strict_asgi_answers_400(
    lines: tuple[tuple[str, str], ...], options: dict[str, Any]
) -> None:
    middleware = ASGIMiddleware(invariants._asgi_app, strict=True, **options)
    seen, sent = invariants.run_asgi(middleware, invariants.asgi_scope(PROXY, list(lines)))
    assert (seen, sent[0]["status"]) == ({}, 400)


# --- underscore header names (Django CVE-2015-0219, gunicorn#2799) -------------------------


def test_attack_underscore_name_not_read_by_core() -> None:
    """The core matches exact hyphenated names: ``X_Forwarded_For`` is another header."""
    result = Resolver().resolve(PROXY, [("X_Forwarded_For", FORGED), ("X-Forwarded-For", CLIENT)])
    assert (result.client, [hop.text for hop in result.hops]) == (CLIENT, [PROXY, CLIENT])
    alone = Resolver().resolve(PROXY, [("X_Forwarded_For", FORGED)])
    assert (alone.client, alone.applied) == (PROXY, ())


def test_attack_underscore_name_not_read_by_asgi() -> None:
    """ASGI servers pass real header names: ``x_forwarded_for`` is another header, and
    the adapter must not fold ``_`` into ``-``."""
    middleware = ASGIMiddleware(invariants._asgi_app)
    lines = [("X_Forwarded_For", FORGED), ("X-Forwarded-For", CLIENT)]
    seen, _ = invariants.run_asgi(middleware, invariants.asgi_scope(PROXY, lines))
    assert seen["client"][0] == CLIENT
    assert [hop.text for hop in seen["trustproxy.resolution"].hops] == [PROXY, CLIENT]
    alone = invariants.asgi_scope(PROXY, [("x_forwarded_for", FORGED)])
    seen, _ = invariants.run_asgi(middleware, alone)
    assert seen["client"] == (PROXY, builders.PEER_PORT)
    assert "trustproxy.resolution" not in seen


def test_attack_underscore_name_dropped_by_gunicorn() -> None:
    """A WSGI environ cannot tell ``X_Forwarded_For`` from ``X-Forwarded-For`` (both are
    ``HTTP_X_FORWARDED_FOR``), so the server must drop it; gunicorn >= 22 does by default
    (``header_map = "drop"``).  Parsed in-process by gunicorn's own request parser."""
    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser
    from gunicorn.http.wsgi import create

    raw = (
        b"GET / HTTP/1.1\r\nHost: app.example\r\n"
        b"X_Forwarded_For: " + FORGED.encode() + b"\r\n"
        b"X-Forwarded-For: " + CLIENT.encode() + b"\r\n\r\n"
    )
    config = Config()
    assert config.header_map == "drop"
    request = next(iter(RequestParser(config, iter([raw]), (PROXY, 50000))))
    _, environ = create(request, None, (PROXY, 50000), ("127.0.0.1", 8000), config)
    assert environ["HTTP_X_FORWARDED_FOR"] == CLIENT
    seen: dict[str, Any] = {}
    WSGIMiddleware(lambda env, sr: seen.update(env) or [])(environ, lambda *a: None)
    assert seen["REMOTE_ADDR"] == CLIENT


# --- configuration typos fail loudly at start-up ----------------------------------------------

TYPOS = [
    pytest.param({"trusted": "loopbak"}, id="typo-preset-name"),
    pytest.param({"trusted": "10.0.0.0/33"}, id="typo-prefix-length"),
    pytest.param({"trusted": "10.0.0.1/8"}, id="typo-host-bits-set"),
    pytest.param({"trusted": "10.0.0.0/8,"}, id="typo-trailing-comma"),
    pytest.param({"trusted": "10.0.0.0.1"}, id="typo-five-octets"),
    pytest.param({"trusted": "010.0.0.1"}, id="typo-leading-zero"),
    pytest.param({"trusted": ""}, id="typo-empty"),
    pytest.param({"trusted": b"127.0.0.1"}, id="typo-bytes"),
    pytest.param({"trusted": [127]}, id="typo-int-entry"),
    pytest.param({"trusted": "*"}, id="star-without-hops"),
    pytest.param({"trusted": "0.0.0.0/0"}, id="all-ipv4-without-hops"),
    pytest.param({"trusted": "::/0"}, id="all-ipv6-without-hops"),
    pytest.param({"trusted": "::ffff:0:0/96"}, id="all-mapped-ipv4-without-hops"),
    # Coverage is computed, not matched (issue 10 §4); env:, file: and preset overrides
    # are in tests/test_config_errors.py.
    pytest.param({"trusted": ["0.0.0.0/1", "128.0.0.0/1"]}, id="all-ipv4-as-halves-without-hops"),
    pytest.param({"trusted": "::/8"}, id="ipv6-net-holding-all-mapped-ipv4-without-hops"),
    pytest.param({"trusted": "::/80"}, id="ipv6-net-holding-mapped-prefix-without-hops"),
    pytest.param({"trusted": "::/1, 8000::/1"}, id="all-ipv6-as-halves-without-hops"),
    pytest.param({"hops": 0}, id="typo-hops-zero"),
    pytest.param({"hops": "1"}, id="typo-hops-string"),
    pytest.param({"hops": True}, id="typo-hops-bool"),
    pytest.param({"hops": MAX_HOPS + 1}, id="hops-above-limit"),
    pytest.param({"fields": "fro"}, id="typo-field"),
    pytest.param({"fields": ""}, id="typo-fields-empty"),
    pytest.param({"headers": "x-forwarded-for, x-real-ip"}, id="typo-headers-list"),
    pytest.param({"headers": "x-real-ip", "fields": ("for", "proto")}, id="field-needs-family"),
    pytest.param({"headers": "x-forwarded-fro", "fields": "for"}, id="typo-family-name"),
    pytest.param({"headers": "forwarded-for", "fields": "for"}, id="typo-forwarded-name"),
    pytest.param({"headers": "x_real_ip"}, id="underscore-header-name"),
]


@pytest.mark.parametrize("options", TYPOS)
def test_attack_configuration_typo(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Resolver(**options)
    with pytest.raises(ConfigError):
        WSGIMiddleware(lambda env, sr: [], **options)
