"""One real proxy writing X-Forwarded-* in front of a real WSGI server running trustproxy.

Every proxy in ``proxies.KINDS`` runs its docs recipe (``configs/*.tmpl``); the app trusts
only the address the proxy connects from (127.0.0.1) and applies all five fields.
Clients connect from 127.0.0.2 … 127.0.0.9, so the true client is always known.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import hostile
from .hop_by_hop import FORWARDING_HEADERS, connection_naming, forge_all, unwritten_fields
from .lab import fetch
from .proxies import KINDS, Running, able
from .recipes import RECIPES
from .servers import SERVERS, AppServers

SETTINGS = RECIPES["single"]

SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]

FORGED = [
    pytest.param([("X-Forwarded-For", "6.6.6.6")], id="xff"),
    pytest.param(
        [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "127.0.0.1")], id="xff-two-lines"
    ),
    pytest.param([("Forwarded", "for=6.6.6.6;proto=https;host=evil.test")], id="forwarded"),
    pytest.param([("X-Forwarded-Host", "evil.test")], id="xf-host"),
    pytest.param([("X-Forwarded-Proto", "https")], id="xf-proto"),
    pytest.param([("X-Forwarded-Port", "1")], id="xf-port"),
    pytest.param([("X-Forwarded-Prefix", "/evil")], id="xf-prefix"),
    pytest.param([("X-Real-IP", "6.6.6.6")], id="x-real-ip"),
    pytest.param([("X_Forwarded_For", "7.7.7.7")], id="underscore-xff"),
    pytest.param(
        [
            ("X-Forwarded-For", "6.6.6.6"),
            ("X_Forwarded_For", "7.7.7.7"),
            ("Forwarded", 'for="[2001:db8::6]";proto=https'),
            ("X-Forwarded-Host", "evil.test"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "1"),
            ("X-Forwarded-Prefix", "/evil"),
            ("X-Real-IP", "6.6.6.6"),
        ],
        id="all",
    ),
]  # fmt: skip


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def app(server: str, app_servers: AppServers) -> str:
    return app_servers.get(server, SETTINGS)


ALL = sorted(KINDS)


@pytest.fixture(scope="module")
def front(
    request: pytest.FixtureRequest,
    lab: Path,
    certs: dict[str, Path],
    server: str,
    app_servers: AppServers,
) -> Iterator[Running]:
    """The proxy, in front of an app run with its page's own settings."""
    kind = KINDS[request.param]
    running = kind.start(lab, app_servers.get(server, RECIPES[kind.recipe]), certs)
    try:
        yield running
    finally:
        running.stop()


def fields_of(front: Running) -> list[str]:
    fields = RECIPES[front.kind.recipe]["fields"]
    assert isinstance(fields, list)
    return fields


@pytest.mark.parametrize("front", ALL, indirect=True)
def test_one_proxy_appends(front: Running) -> None:
    port = front.ports.port
    seen = fetch(front.url("/echo"), source="127.0.0.5").json
    assert seen["status"] == "applied", seen
    assert seen["client"] == "127.0.0.5"
    assert (seen["scheme"], seen["host"], seen["port"]) == ("http", f"127.0.0.1:{port}", port)
    assert seen["prefix"] == ""
    assert seen["url"] == f"http://127.0.0.1:{port}/echo"
    assert seen["peer"] == "127.0.0.1"


@pytest.mark.parametrize("front", ALL, indirect=True)
def test_tls_terminated_at_proxy(front: Running) -> None:
    port = front.ports.tls_port
    seen = fetch(front.tls_url("/echo"), source="127.0.0.6").json
    assert seen["status"] == "applied", seen
    assert seen["client"] == "127.0.0.6"
    assert (seen["scheme"], seen["host"], seen["port"]) == ("https", f"localhost:{port}", port)
    assert seen["url"] == f"https://localhost:{port}/echo"
    assert seen["server_scheme"] == "http"  # the server itself applied nothing


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("front", able("prefix"), indirect=True)
def test_prefix_stripped_and_announced(front: Running, tls: bool) -> None:
    url = front.tls_url if tls else front.url
    base = url("").rstrip("/")
    seen = fetch(url("/app/echo"), source="127.0.0.7").json
    assert seen["status"] == "applied", seen
    assert seen["prefix"] == "/app"
    assert seen["url"] == f"{base}/app/echo"
    assert seen["client"] == "127.0.0.7"
    reply = fetch(url("/app/go-external"), source="127.0.0.7")
    assert reply.status == 302
    assert reply.header("Location") == f"{base}/app/echo"
    reply = fetch(url("/app/go"), source="127.0.0.7")
    assert reply.status == 302
    assert reply.header("Location") == "/app/echo"


@pytest.mark.parametrize("forged", FORGED)
@pytest.mark.parametrize("front", ALL, indirect=True)
def test_forged_headers_through_proxy(front: Running, forged: list[tuple[str, str]]) -> None:
    port = front.ports.port
    for source in SOURCES:
        seen = fetch(front.url("/echo"), forged, source=source).json
        got = (seen["client"], seen["scheme"], seen["host"], seen["port"], seen["prefix"])
        assert got == (source, "http", f"127.0.0.1:{port}", port, ""), seen
        assert seen["url"] == f"http://127.0.0.1:{port}/echo"
        # the underscore alias never reaches X-Forwarded-For (see test_underscore_alias)
        assert "7.7.7.7" not in str(seen["raw"]["x-forwarded-for"]), seen


@pytest.mark.parametrize("front", able("ipv6"), indirect=True)
def test_ipv6_client(front: Running) -> None:
    seen = fetch(front.url6("/echo"), [("X-Forwarded-For", "6.6.6.6")], source="::1").json
    assert seen["status"] == "applied", seen
    assert seen["client"] == "::1"
    assert seen["host"] == f"[::1]:{front.ports.port6}"
    assert seen["url"] == f"http://[::1]:{front.ports.port6}/echo"


@pytest.mark.parametrize("forged", FORGED)
def test_app_reached_directly_applies_nothing(app: str, forged: list[tuple[str, str]]) -> None:
    port = app.rpartition(":")[2]
    for source in SOURCES:
        seen = fetch(f"http://{app}/echo", forged, source=source).json
        assert seen["status"] in ("untrusted-peer", None), seen
        got = (seen["client"], seen["scheme"], seen["host"], seen["port"], seen["prefix"])
        assert got == (source, "http", app, int(port), ""), seen
        assert "7.7.7.7" not in str(seen["raw"]["x-forwarded-for"]), seen


def test_underscore_alias_is_never_read(app: str) -> None:
    """``X_Forwarded_For`` from a *trusted* peer (127.0.0.1), straight to the server.

    WSGI maps it to the same ``HTTP_X_FORWARDED_FOR`` as ``X-Forwarded-For`` (Django
    CVE-2015-0219), so the middleware could not tell them apart: gunicorn >= 22 drops
    header names with ``_`` (``header_map = "drop"``, the default).  ASGI servers keep
    the name as sent (``x_forwarded_for``), which ASGIMiddleware never reads.
    """
    seen = fetch(f"http://{app}/echo", [("X_Forwarded_For", "7.7.7.7")], source="127.0.0.1").json
    assert (seen["status"], seen["client"]) == (None, "127.0.0.1"), seen
    assert seen["raw"]["x-forwarded-for"] is None, seen
    dropped = seen["server"] == "gunicorn"
    assert seen["raw"].get("x_forwarded_for") == (None if dropped else "7.7.7.7"), seen


@pytest.mark.parametrize("front", ALL, indirect=True)
def test_underscore_names_through_proxy(front: Running) -> None:
    """Which proxies pass ``X_Forwarded_For`` on (docs/deploy/index.md says so).

    gunicorn drops such names itself; an ASGI server reports them under their own name,
    which shows what the proxy did.  Either way X-Forwarded-For never holds 7.7.7.7.
    """
    seen = fetch(front.url("/echo"), [("X_Forwarded_For", "7.7.7.7")], source="127.0.0.5").json
    assert seen["client"] == "127.0.0.5", seen
    assert "7.7.7.7" not in str(seen["raw"]["x-forwarded-for"]), seen
    arrived = seen["raw"].get("x_forwarded_for")
    if seen["server"] == "gunicorn":
        assert arrived is None
    else:
        assert arrived == ("7.7.7.7" if front.kind.underscores else None), seen


@pytest.mark.parametrize("front", ["envoy"], indirect=True)
def test_envoy_writes_loopback_clients_as_its_own_address(front: Running) -> None:
    """With ``use_remote_address``, Envoy appends its host's own (non-loopback) address
    instead of a client on 127.0.0.1 or ::1 (127.0.0.5 is written as is).  trustproxy
    reports what Envoy wrote; the address is not trusted, so the walk stops there."""
    seen = fetch(front.url("/echo"), source="127.0.0.1").json
    written = seen["raw"]["x-forwarded-for"]
    assert written not in (None, "127.0.0.1"), seen
    assert (seen["status"], seen["client"]) == ("applied", written), seen


@pytest.mark.parametrize("case", hostile.HOSTILE)
@pytest.mark.parametrize("front", ALL, indirect=True)
def test_hostile_host_through_proxy(front: Running, case: hostile.Case) -> None:
    """Every recipe writes X-Forwarded-Host from the client's Host: a Host that could start
    a list item there (``,``) or that is no host at all is refused at the edge; the app never
    sees a forged client or host (issue 10, items 1 and 14)."""
    hostile.check(hostile.send(front.url("/echo"), case))


@pytest.mark.parametrize("case", hostile.HOSTS)
@pytest.mark.parametrize("front", able("prefix"), indirect=True)
def test_hostile_host_under_prefix(front: Running, case: hostile.Case) -> None:
    """The check covers the prefixed routes too (Caddy's handle_path, Envoy's and
    Traefik's /app/ routes, nginx's location)."""
    reply = hostile.send(front.url("/app/echo"), case)
    hostile.check(reply)
    if reply.status == 200:
        assert reply.json["prefix"] == "/app", reply.json


@pytest.mark.parametrize("host", hostile.GOOD)
@pytest.mark.parametrize("front", ALL, indirect=True)
def test_plain_host_through_proxy(front: Running, host: str) -> None:
    hostile.check_good(hostile.send(front.url("/echo"), hostile.good_case(host)), host)


@pytest.mark.parametrize("case", hostile.HOSTILE)
def test_hostile_host_app_reached_directly(app: str, case: hostile.Case) -> None:
    """Straight to the app server: nothing is applied for an untrusted peer.  The servers
    pass every hostile Host on to the app (so a 4xx through a proxy is the proxy's), except
    two Host lines (gunicorn, hypercorn) and absolute-form targets (uvicorn, hypercorn)."""
    reply = hostile.send(f"http://{app}/echo", case)
    refusable = len([n for n, _ in case.headers if n == "Host"]) > 1 or case.target is not None
    if refusable and 400 <= reply.status < 500:
        return
    assert reply.status == 200, (reply.status, reply.body[:300])
    seen = reply.json
    assert seen["status"] in ("untrusted-peer", None), seen
    assert (seen["client"], seen["peer"]) == (hostile.SOURCE, hostile.SOURCE), seen


@pytest.mark.parametrize("header", FORWARDING_HEADERS)
@pytest.mark.parametrize("front", ALL, indirect=True)
def test_connection_naming_a_forwarding_header(front: Running, header: str) -> None:
    """A client names a forwarding header in ``Connection``: the app still gets every
    value the proxy wrote, over http and https, under the prefix where the recipe has one.

    A proxy drops the headers ``Connection`` names (RFC 9110 section 7.6.1); Apache's
    mod_proxy_http does it after mod_headers set X-Forwarded-Proto/-Port/-Prefix, so
    without the recipe's ``RequestHeader edit* Connection … early`` https arrived as
    http and the prefix was lost.  Envoy answers 400 itself for some names (the app is
    never reached, which is safe).
    """
    prefix = "/app" if front.kind.prefix else ""
    for scheme in ("http", "https"):
        url = front.tls_url if scheme == "https" else front.url
        port = front.ports.tls_port if scheme == "https" else front.ports.port
        host = f"{'localhost' if scheme == 'https' else '127.0.0.1'}:{port}"
        for headers in connection_naming(header, scheme):
            reply = fetch(url(f"{prefix}/echo"), headers, source="127.0.0.5")
            if header.lower() in front.kind.refuses_connection_naming:
                assert reply.status == 400 and b'"status"' not in reply.body, headers
                continue
            assert reply.status == 200, (headers, reply.status, reply.body[:200])
            seen = reply.json
            got = (seen["status"], seen["client"], seen["scheme"], seen["host"], seen["port"])
            assert got == ("applied", "127.0.0.5", scheme, host, port), (headers, seen)
            assert seen["prefix"] == prefix, (headers, seen)


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("front", ALL, indirect=True)
def test_port_is_the_listeners_not_the_hosts(front: Running, tls: bool) -> None:
    """``Host: 127.0.0.1:1234`` sent to a listener on another port.

    Apache's ``%{SERVER_PORT}`` (under ``UseCanonicalName Off``), Caddy's
    ``{http.request.port}`` and Traefik's own X-Forwarded-Port are the port of the
    client's Host, so the app got ``SERVER_PORT=1234``.  A page that applies ``port``
    must get the listener's port; a page whose proxy cannot write it does not apply
    ``port``, and the app then sees the Host the client sent.
    """
    url = front.tls_url if tls else front.url
    port = front.ports.tls_port if tls else front.ports.port
    name = "localhost" if tls else "127.0.0.1"
    seen = fetch(url("/echo"), [("Host", f"{name}:1234")], source="127.0.0.5").json
    assert (seen["status"], seen["client"]) == ("applied", "127.0.0.5"), seen
    if "port" in fields_of(front):
        assert seen["raw"]["x-forwarded-port"] == str(port), seen
        assert (seen["port"], seen["host"]) == (port, f"{name}:{port}"), seen
    else:
        assert seen["raw"]["x-forwarded-port"] is None, seen
        assert (seen["port"], seen["host"]) == (1234, f"{name}:1234"), seen


@pytest.mark.parametrize("front", ALL, indirect=True)
def test_settings_apply_only_what_the_proxy_writes(front: Running) -> None:
    """Each field the page applies comes from a header this proxy wrote, never from the
    client: a client forges every forwarding header (and a Host port), and for each field
    of the page's ``fields`` the header reached the app and its value is the proxy's.

    lighttpd's page applied ``port`` and ``prefix``, which its config deletes and never
    writes (the port then came from the client's Host); Apache, Caddy and Traefik wrote
    the Host's port as X-Forwarded-Port.
    """
    fields = fields_of(front)
    port = front.ports.port
    path = "/app/echo" if "prefix" in fields else "/echo"
    forged = [*forge_all("http"), ("Host", "127.0.0.1:1234")]
    reply = fetch(front.url(path), forged, source="127.0.0.5")
    assert reply.status == 200, f"GET {path}: {reply.status}: this proxy strips no prefix"
    seen = reply.json
    assert unwritten_fields(seen, fields) == [], seen
    truth = {
        "for": seen["client"] == "127.0.0.5",
        "proto": seen["scheme"] == "http",
        "host": seen["host"].rpartition(":")[0] == "127.0.0.1",
        "port": seen["port"] == port,
        "prefix": seen["prefix"] == "/app",
    }
    assert [field for field in fields if not truth[field]] == [], seen
