"""Clients with real IPv6 and IPv4 documentation addresses, inside a network namespace.

The test makes its own namespace holding only ``lo`` (no route anywhere), gives ``lo``
the documentation-range addresses 198.51.100.10/.20 (RFC 5737) and 2001:db8:1::10/::20
(RFC 3849), and runs the app server, the proxy and the client all inside it.  The root
namespace is never touched.  Needs root (``ip netns``); CI runs as root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .lab import APPS, IN_CI, Proc, netns_fetch
from .proxies import FORWARDED, KINDS, ProxyKind, Running
from .recipes import RECIPES
from .servers import SERVERS, SRC, argv
from .test_forwarded import _has_forwarded

CLIENT6, PROXY6 = "2001:db8:1::10", "2001:db8:1::20"
CLIENT4, PROXY4 = "198.51.100.10", "198.51.100.20"
APP_PORT, PROXY_PORT, TLS_PORT = 8000, 8080, 8443  # a fresh namespace: no one else here

if os.geteuid() != 0 or shutil.which("ip") is None:
    reason = "ip netns needs root and iproute2"
    if IN_CI:
        raise RuntimeError(reason)  # CI runs as root: a failure, not a skip
    pytest.skip(reason, allow_module_level=True)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    name = f"tpe2e-{uuid.uuid4().hex[:8]}"
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "set", "lo", "up")
        for addr in (f"{CLIENT4}/32", f"{PROXY4}/32"):
            ip("-n", name, "addr", "add", addr, "dev", "lo")
        for addr in (f"{CLIENT6}/128", f"{PROXY6}/128"):
            ip("-n", name, "addr", "add", addr, "dev", "lo", "nodad")
        yield name
    finally:
        ip("netns", "del", name)


def _values(kind: ProxyKind) -> dict[str, object]:
    return {
        "listen": f"{PROXY4}:{PROXY_PORT}",
        "listen6": f"[{PROXY6}]:{PROXY_PORT}",
        "tls_listen": f"{PROXY4}:{TLS_PORT}",
        "bind": PROXY4,
        "port": PROXY_PORT,
        "tls_port": TLS_PORT,
        "listen_check": f"{PROXY4}:{PROXY_PORT}",
    }


def _app(lab: Path, netns: str, server: str, recipe: str) -> Iterator[str]:
    folder = lab / f"netns-{server}-{recipe}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    env = {
        "TRUSTPROXY_SETTINGS": json.dumps(RECIPES[recipe]),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(APPS)]),
        "TRUSTPROXY_SERVER": server,
    }
    proc = Proc(server, ["ip", "netns", "exec", netns, *argv(server, APP_PORT)], folder, env)
    try:
        proc.wait_ready(f"http://127.0.0.1:{APP_PORT}/health", netns=netns)
        yield f"127.0.0.1:{APP_PORT}"
    finally:
        proc.stop()


CASES = [
    pytest.param("nginx", "single", id="nginx-x-forwarded"),
    pytest.param("nginx-forwarded", "forwarded", id="nginx-forwarded"),
    pytest.param("lighttpd-forwarded", "forwarded", id="lighttpd-forwarded"),
]
KIND = {"nginx": KINDS["nginx"], **{k.name: k for k in FORWARDED.values()}}


@pytest.fixture(scope="module", params=[(s, *c.values) for s in SERVERS for c in CASES],
                ids=[f"{s}-{c.id}" for s in SERVERS for c in CASES])  # fmt: skip
def front(
    request: pytest.FixtureRequest, lab: Path, certs: dict[str, Path], netns: str
) -> Iterator[Running]:
    server, proxy, recipe = request.param
    if RECIPES[recipe].get("headers") == "forwarded" and not _has_forwarded():
        pytest.skip("this trustproxy has no RFC 7239 support yet (issue 3)")
    for app in _app(lab, netns, server, recipe):
        kind = KIND[proxy]
        running = kind.start(lab, app, certs, _values(kind), netns=netns)
        try:
            yield running
        finally:
            running.stop()


@pytest.mark.parametrize(
    ("client", "proxy", "host"),
    [
        pytest.param(CLIENT6, PROXY6, f"[{PROXY6}]:{PROXY_PORT}", id="ipv6"),
        pytest.param(CLIENT4, PROXY4, f"{PROXY4}:{PROXY_PORT}", id="ipv4"),
    ],
)
def test_documentation_addresses(
    front: Running, netns: str, client: str, proxy: str, host: str
) -> None:
    url = f"http://{host}/echo"
    forged = [("X-Forwarded-For", "6.6.6.6"), ("Forwarded", 'for="[2001:db8::6]"')]
    seen = json.loads(netns_fetch(netns, url, forged, source=client).body)
    assert seen["status"] == "applied", seen
    got = (seen["client"], seen["scheme"], seen["host"], seen["port"])
    assert got == (client, "http", host, PROXY_PORT), seen
    assert seen["url"] == f"http://{host}/echo"
    if "forwarded" in front.kind.name and ":" in client:
        assert f'for="[{client}]"' in seen["raw"]["forwarded"]  # RFC 7239 section 6
