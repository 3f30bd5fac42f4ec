"""Two real proxies in a chain: client -> HAProxy -> nginx -> gunicorn + trustproxy.

HAProxy connects from 127.0.0.3 (``source``) and nginx from 127.0.0.2 (``proxy_bind``),
so every hop is a distinct address.  The app is configured two ways: with the proxies'
network (``trusted=["127.0.0.2/31"]``) and with a hop count (``hops=2``).  Clients
connect from 127.0.0.4 ... 127.0.0.9.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import hostile
from .hop_by_hop import FORWARDING_HEADERS, connection_naming, forge_all, unwritten_fields
from .lab import fetch
from .proxies import CHAIN, Running
from .recipes import RECIPES
from .servers import SERVERS, AppServers

SETTINGS = {"trusted": RECIPES["chain-trusted"], "hops": RECIPES["chain-hops"]}
SOURCES = [f"127.0.0.{n}" for n in range(4, 10)]
FORGED = [
    ("X-Forwarded-For", "6.6.6.6"),
    ("X_Forwarded_For", "7.7.7.7"),
    ("Forwarded", "for=6.6.6.6;proto=https"),
    ("X-Forwarded-Host", "evil.test"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Port", "1"),
    ("X-Real-IP", "6.6.6.6"),
]


@dataclass
class Chain:
    config: str
    app: str
    front: Running
    inner: Running


@pytest.fixture(scope="module", params=[(s, c) for s in SERVERS for c in SETTINGS],
                ids=lambda p: f"{p[0]}-{p[1]}")  # fmt: skip
def chain(
    request: pytest.FixtureRequest, lab: Path, certs: dict[str, Path], app_servers: AppServers
) -> Iterator[Chain]:
    server, config = request.param
    app = app_servers.get(server, SETTINGS[config])
    inner = CHAIN["nginx"].start(lab, app, certs, {"source": "127.0.0.2"})
    try:
        nginx = f"127.0.0.1:{inner.ports.port}"
        front = CHAIN["haproxy"].start(lab, nginx, certs, {"source": "127.0.0.3"})
        try:
            yield Chain(config, app, front, inner)
        finally:
            front.stop()
    finally:
        inner.stop()


def test_chain_finds_the_client(chain: Chain) -> None:
    port = chain.front.ports.port
    for source in SOURCES:
        seen = fetch(chain.front.url("/echo"), FORGED, source=source).json
        assert seen["status"] == "applied", seen
        got = (seen["client"], seen["scheme"], seen["host"], seen["port"])
        assert got == (source, "http", f"127.0.0.1:{port}", port), seen
        assert seen["url"] == f"http://127.0.0.1:{port}/echo"
        assert seen["peer"] == "127.0.0.2"
        # what arrived: the client's forged item, then one item per hop
        assert seen["raw"]["x-forwarded-for"] == f"6.6.6.6, {source}, 127.0.0.3"


def test_chain_tls_at_the_front(chain: Chain) -> None:
    port = chain.front.ports.tls_port
    seen = fetch(chain.front.tls_url("/echo"), FORGED, source="127.0.0.8").json
    assert seen["status"] == "applied", seen
    got = (seen["client"], seen["scheme"], seen["host"], seen["port"])
    assert got == ("127.0.0.8", "https", f"localhost:{port}", port), seen
    assert seen["url"] == f"https://localhost:{port}/echo"
    # nginx appended its own "http": the hop-aligned item is HAProxy's
    assert seen["raw"]["x-forwarded-proto"] == "https, http"


def test_chain_inner_proxy_reached_directly(chain: Chain) -> None:
    """A client that reaches nginx, bypassing HAProxy.

    With the proxies' addresses trusted, the walk stops at the client (an untrusted
    address) and nginx's own items are used.  With ``trusted="*", hops=2`` the count
    is all that protects the app: the client's forged item is taken.  That is why the
    docs say a hop count needs a network where only the front proxy reaches the rest.
    """
    port = chain.inner.ports.port
    seen = fetch(chain.inner.url("/echo"), FORGED, source="127.0.0.9").json
    assert seen["status"] == "applied", seen
    if chain.config == "trusted":
        got = (seen["client"], seen["scheme"], seen["host"], seen["port"])
        assert got == ("127.0.0.9", "http", f"127.0.0.1:{port}", port), seen
    else:
        assert seen["client"] == "6.6.6.6", seen
        assert seen["scheme"] == "https", seen


def test_chain_app_reached_directly(chain: Chain) -> None:
    seen = fetch(f"http://{chain.app}/echo", FORGED, source="127.0.0.9").json
    if chain.config == "trusted":
        assert seen["status"] == "untrusted-peer", seen
        assert (seen["client"], seen["scheme"]) == ("127.0.0.9", "http"), seen
    else:  # trusted="*": only the hop count; one item short of two hops
        assert seen["status"] == "unresolved", seen
        assert (seen["client"], seen["scheme"]) == ("127.0.0.9", "http"), seen


@pytest.mark.parametrize("case", hostile.HOSTILE)
def test_chain_hostile_host(chain: Chain, case: hostile.Case) -> None:
    """HAProxy's ``req.hdr(host)`` keeps the last comma item of the Host, nginx appends the
    whole Host: ``evil.example,good.example`` made the app take ``evil.example``, a host
    neither proxy wrote (issue 10, item 14).  The front refuses such a Host."""
    hostile.check(hostile.send(chain.front.url("/echo"), case))


@pytest.mark.parametrize("case", hostile.HOSTS)
def test_chain_inner_refuses_hostile_host(chain: Chain, case: hostile.Case) -> None:
    """nginx appends the Host it received to X-Forwarded-Host, so it refuses a Host that
    is not plain too, for a client that reaches it directly and for anything a front
    configured differently lets through."""
    reply = hostile.send(chain.inner.url("/echo"), case, "127.0.0.9")
    assert 400 <= reply.status < 500, (reply.status, reply.body[:300])


@pytest.mark.parametrize("host", hostile.GOOD)
def test_chain_plain_host(chain: Chain, host: str) -> None:
    hostile.check_good(hostile.send(chain.front.url("/echo"), hostile.good_case(host)), host)


@pytest.mark.parametrize("header", FORWARDING_HEADERS)
def test_chain_connection_naming_a_forwarding_header(chain: Chain, header: str) -> None:
    """A client names a forwarding header in ``Connection`` at the front: neither hop
    loses what it wrote (HAProxy and nginx do not strip the names a client gives)."""
    for scheme in ("http", "https"):
        url = chain.front.tls_url if scheme == "https" else chain.front.url
        port = chain.front.ports.tls_port if scheme == "https" else chain.front.ports.port
        host = f"{'localhost' if scheme == 'https' else '127.0.0.1'}:{port}"
        for headers in connection_naming(header, scheme):
            seen = fetch(url("/echo"), headers, source="127.0.0.5").json
            got = (seen["status"], seen["client"], seen["scheme"], seen["host"], seen["port"])
            assert got == ("applied", "127.0.0.5", scheme, host, port), (headers, seen)


def test_chain_settings_apply_only_what_the_proxies_write(chain: Chain) -> None:
    """Each field of the page's settings arrives as a header both hops wrote, and the
    app takes the front's value, not the client's (a forged header or a Host port)."""
    fields = SETTINGS[chain.config]["fields"]
    assert isinstance(fields, list)
    port = chain.front.ports.port
    forged = [*forge_all("http"), ("Host", "127.0.0.1:1234")]
    seen = fetch(chain.front.url("/echo"), forged, source="127.0.0.5").json
    assert unwritten_fields(seen, fields) == [], seen
    truth = {
        "for": seen["client"] == "127.0.0.5",
        "proto": seen["scheme"] == "http",
        "host": seen["host"] == f"127.0.0.1:{port}",  # the client's Host, HAProxy's port
        "port": seen["port"] == port,
    }
    assert [field for field in fields if not truth[field]] == [], seen


# -- Cloudflare -> nginx -> app (docs/deploy/cloudflare.md) -------------------------------
#
# The page's nginx is the chain's inner nginx, which connects to the app from 127.0.0.2
# (proxy_bind).  Cloudflare cannot run here: the app reads the cloudflare preset from a
# file (TRUSTPROXY_CLOUDFLARE_FILE, as an operator refreshes the ranges) listing one
# loopback address, 127.0.0.9, that stands for a Cloudflare edge; that "edge" sends what
# Cloudflare documents (the visitor appended to X-Forwarded-For, X-Forwarded-Proto).

CF_EDGE = "127.0.0.9"
VISITOR = "203.0.113.1"


@pytest.fixture(scope="module", params=SERVERS)
def cloudflare_nginx(
    request: pytest.FixtureRequest, lab: Path, certs: dict[str, Path], app_servers: AppServers
) -> Iterator[Running]:
    ranges = lab / "cloudflare-ranges.txt"
    ranges.write_text(f"# stands for Cloudflare's published ranges\n{CF_EDGE}/32\n")
    env = {"TRUSTPROXY_CLOUDFLARE_FILE": str(ranges)}
    app = app_servers.get(request.param, RECIPES["cloudflare-nginx"], env)
    inner = CHAIN["nginx"].start(lab, app, certs, {"source": "127.0.0.2"})
    try:
        yield inner
    finally:
        inner.stop()


def test_cloudflare_then_nginx(cloudflare_nginx: Running) -> None:
    """The page's settings trust the address its nginx really connects from: requests
    from the Cloudflare edge resolve to the visitor with the visitor's scheme, and a
    client that reaches nginx directly resolves to itself.  (The page trusted 127.0.0.1:
    every request came from 127.0.0.2 and was ``untrusted-peer``.)"""
    forged = [("X-Forwarded-For", f"6.6.6.6,{VISITOR}"), ("X-Forwarded-Proto", "https"),
              ("CF-Connecting-IP", VISITOR)]  # fmt: skip
    seen = fetch(cloudflare_nginx.url("/echo"), forged, source=CF_EDGE).json
    assert seen["peer"] == "127.0.0.2", seen
    got = (seen["status"], seen["client"], seen["scheme"])
    assert got == ("applied", VISITOR, "https"), seen
    bypass = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https")]
    seen = fetch(cloudflare_nginx.url("/echo"), bypass, source="127.0.0.5").json
    got = (seen["status"], seen["client"], seen["scheme"])
    assert got == ("applied", "127.0.0.5", "http"), seen


def test_cloudflare_then_nginx_settings_apply_only_what_nginx_writes(
    cloudflare_nginx: Running,
) -> None:
    fields = RECIPES["cloudflare-nginx"]["fields"]
    assert isinstance(fields, list)
    seen = fetch(cloudflare_nginx.url("/echo"), forge_all("http"), source="127.0.0.5").json
    assert unwritten_fields(seen, fields) == [], seen
    assert (seen["client"], seen["scheme"]) == ("127.0.0.5", "http"), seen
