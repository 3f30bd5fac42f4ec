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
from .hop_by_hop import FORWARDING_HEADERS, connection_naming, forge_all, last_forwarded_parameters
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
    """A forged element never wins, and malformed client text never costs the request:
    the client is the source every time.  Every comma ends an element, quotes or not
    (docs/forwarded.md), so a client's unbalanced ``"`` spoils only its own element and
    the proxy's element, appended after a comma or on a line of its own, is read."""
    port = front.ports.port
    for source in SOURCES:
        seen = fetch(front.url("/echo"), forged, source=source).json
        assert seen["status"] == "applied", seen
        got = (seen["client"], seen["scheme"], seen["host"])
        assert got == (source, "http", f"127.0.0.1:{port}"), seen


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


@pytest.mark.parametrize("header", FORWARDING_HEADERS)
def test_forwarded_connection_naming_a_forwarding_header(front: Running, header: str) -> None:
    """A client names a forwarding header in ``Connection``: the proxy's element still
    reaches the app.  Apache's mod_proxy_http removed it (``Connection: close,
    Forwarded``) after mod_headers appended it, and the app took Apache, 127.0.0.1, for
    the client of every such request; the recipe now edits such names out first."""
    for scheme in ("http", "https"):
        url = front.tls_url if scheme == "https" else front.url
        port = front.ports.tls_port if scheme == "https" else front.ports.port
        host = f"{'localhost' if scheme == 'https' else '127.0.0.1'}:{port}"
        for headers in connection_naming(header, scheme):
            seen = fetch(url("/echo"), headers, source="127.0.0.5").json
            got = (seen["status"], seen["client"], seen["scheme"], seen["host"])
            assert got == ("applied", "127.0.0.5", scheme, host), (headers, seen)


def test_forwarded_settings_apply_only_what_the_proxy_writes(front: Running) -> None:
    """Each field of the page's settings is a parameter of the element this proxy
    appended, and its value is the proxy's, whatever the client forged."""
    fields = SETTINGS["fields"]
    assert isinstance(fields, list)
    forged = [*forge_all("http"), ("Host", "127.0.0.1:1234")]
    seen = fetch(front.url("/echo"), forged, source="127.0.0.5").json
    written = last_forwarded_parameters(seen["raw"]["forwarded"] or "")
    assert [field for field in fields if field not in written] == [], seen
    truth = {
        "for": seen["client"] == "127.0.0.5",
        "proto": seen["scheme"] == "http",
        "host": seen["host"] == "127.0.0.1:1234",  # the Host the client used
    }
    assert [field for field in fields if not truth[field]] == [], seen
