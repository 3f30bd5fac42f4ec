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
def app(request: pytest.FixtureRequest, app_servers: AppServers) -> str:
    return app_servers.get(request.param, SETTINGS)


ALL = sorted(KINDS)


@pytest.fixture(scope="module")
def front(
    request: pytest.FixtureRequest, lab: Path, certs: dict[str, Path], app: str
) -> Iterator[Running]:
    running = KINDS[request.param].start(lab, app, certs)
    try:
        yield running
    finally:
        running.stop()


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
