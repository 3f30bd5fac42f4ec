"""RFC 7239 ``Forwarded`` written by real proxies: nginx (with a ``map``) and lighttpd,
and by hand in HAProxy and Apache (bare IPv6 nodes: see test_forwarded_ipv6_client).

The app reads only ``Forwarded`` (``headers="forwarded"``), trusting 127.0.0.1.  IPv6
clients connect on ``::1``; the namespace test (``test_netns.py``) adds documentation-range
addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trustproxy import ConfigError, Resolver

from . import hostile
from .lab import fetch
from .proxies import FORWARDED, Running
from .recipes import RECIPES
from .servers import SERVERS, AppServers

SETTINGS = RECIPES["forwarded"]


def _has_forwarded() -> bool:
    try:
        Resolver(headers="forwarded")
    except ConfigError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _has_forwarded(), reason="this trustproxy has no RFC 7239 support yet (issue 3)"
)

SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]
FORGED = [
    pytest.param([("Forwarded", "for=6.6.6.6;proto=https;host=evil.test")], id="forwarded"),
    pytest.param([("Forwarded", 'for="[2001:db8::6]";proto=https')], id="forwarded-ipv6"),
    pytest.param([("Forwarded", "for=6.6.6.6"), ("Forwarded", "proto=https")], id="two-lines"),
    pytest.param([("Forwarded", 'for="6.6.6.6')], id="unbalanced-quote"),
    pytest.param([("Forwarded", "for=6.6.6.6;for=7.7.7.7")], id="repeated-parameter"),
    pytest.param(
        [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https"),
         ("X-Forwarded-Host", "evil.test"), ("X-Real-IP", "6.6.6.6"),
         ("X_Forwarded_For", "7.7.7.7")],
        id="x-forwarded",
    ),
]  # fmt: skip


@pytest.fixture(scope="module", params=SERVERS)
def app(request: pytest.FixtureRequest, app_servers: AppServers) -> str:
    return app_servers.get(request.param, SETTINGS)


@pytest.fixture(scope="module", params=sorted(FORWARDED))
def front(
    request: pytest.FixtureRequest, lab: Path, certs: dict[str, Path], app: str
) -> Iterator[Running]:
    running = FORWARDED[request.param].start(lab, app, certs)
    try:
        yield running
    finally:
        running.stop()


def test_forwarded_one_proxy(front: Running) -> None:
    port = front.ports.port
    seen = fetch(front.url("/echo"), source="127.0.0.5").json
    assert seen["status"] == "applied", seen
    got = (seen["client"], seen["scheme"], seen["host"], seen["port"])
    assert got == ("127.0.0.5", "http", f"127.0.0.1:{port}", port), seen
    assert seen["url"] == f"http://127.0.0.1:{port}/echo"
    assert "for=127.0.0.5" in seen["raw"]["forwarded"]


def test_forwarded_tls(front: Running) -> None:
    port = front.ports.tls_port
    seen = fetch(front.tls_url("/echo"), source="127.0.0.6").json
    assert seen["status"] == "applied", seen
    got = (seen["client"], seen["scheme"], seen["host"], seen["port"])
    assert got == ("127.0.0.6", "https", f"localhost:{port}", port), seen
    assert seen["url"] == f"https://localhost:{port}/echo"


def test_forwarded_ipv6_client(front: Running) -> None:
    """nginx (map) and lighttpd write ``for="[::1]"``, as RFC 7239 section 6 says.
    HAProxy's ``%[src]`` and Apache's ``%{REMOTE_ADDR}`` write a bare ``for=::1``, which
    the RFC does not allow; trustproxy accepts it because such configs are common, and
    a bare IPv6 node cannot carry a port, so there is nothing to misread."""
    port = front.ports.port6
    seen = fetch(front.url6("/echo"), [("Forwarded", "for=6.6.6.6")], source="::1").json
    assert seen["status"] == "applied", seen
    assert seen["client"] == "::1"
    assert seen["host"] == f"[::1]:{port}"
    written = 'for="[::1]"' if front.kind.forwarded_quotes_ipv6 else "for=::1;"
    assert written in seen["raw"]["forwarded"], seen


@pytest.mark.parametrize("forged", FORGED)
def test_forwarded_forged(front: Running, forged: list[tuple[str, str]]) -> None:
    """A forged element never wins: the client is the source, or (when the client's own
    text is malformed and swallows the proxy's element) nothing is applied at all."""
    port = front.ports.port
    for source in SOURCES:
        seen = fetch(front.url("/echo"), forged, source=source).json
        if seen["status"] == "applied":
            got = (seen["client"], seen["scheme"], seen["host"])
            assert got == (source, "http", f"127.0.0.1:{port}"), seen
        else:
            assert seen["status"] == "unresolved", seen
            assert (seen["client"], seen["scheme"]) == ("127.0.0.1", "http"), seen


@pytest.mark.parametrize("forged", FORGED)
def test_forwarded_app_reached_directly(app: str, forged: list[tuple[str, str]]) -> None:
    for source in SOURCES:
        seen = fetch(f"http://{app}/echo", forged, source=source).json
        assert seen["status"] in ("untrusted-peer", None), seen
        assert (seen["client"], seen["scheme"], seen["host"]) == (source, "http", app), seen


@pytest.mark.parametrize("case", hostile.HOSTILE)
def test_forwarded_hostile_host(front: Running, case: hostile.Case) -> None:
    """The proxy's own element carries ``host="<the client's Host>"``: a Host that ends the
    quoted string and starts an element (``a",for=6.6.6.6;host="evil.example``) must be
    refused at the edge, or the app would credit the client's element to the proxy
    (issue 10, item 1)."""
    hostile.check(hostile.send(front.url("/echo"), case))


@pytest.mark.parametrize("host", hostile.GOOD)
def test_forwarded_plain_host(front: Running, host: str) -> None:
    hostile.check_good(hostile.send(front.url("/echo"), hostile.good_case(host)), host)
