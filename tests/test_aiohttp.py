"""trustproxy.aiohttp on a real aiohttp server (web.AppRunner on 127.0.0.1), and a
differential test against aiohttp-remotes on well-formed input.

The scenario table runs through the adapter too (tests/test_scenarios.py::test_aiohttp);
here: the docs recipe, the access log, WebSocket handshakes, refusals, UNIX sockets, and
the middlewares of aiohttp-remotes that docs/migrate-aiohttp-remotes.md maps.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import re
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

pytest.importorskip("aiohttp")  # the aiohttp extra; scripts/test installs it

from aiohttp import ClientSession, TCPConnector, UnixConnector, WSServerHandshakeError, web
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

import builders
import test_tenant as tenant
import trustproxy
import trustproxy._warn
import trustproxy.aiohttp as adapter
from trustproxy import Resolution
from trustproxy.presets import shipped

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "recipes"))

CLIENT = "203.0.113.50"
FORWARDED = {
    "X-Forwarded-For": CLIENT,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
    "X-Forwarded-Prefix": "/api",
}


@pytest.fixture(autouse=True)
def _own_warning_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())


@asynccontextmanager
async def serving(
    app: web.Application, *, unix: Optional[str] = None, **runner: Any
) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (or the UNIX socket ``unix``); yield its base URL."""
    app_runner = web.AppRunner(app, **runner)
    await app_runner.setup()
    site: web.BaseSite
    if unix is not None:
        site = web.UnixSite(app_runner, unix)
    else:
        site = web.TCPSite(app_runner, "127.0.0.1", 0)
    await site.start()
    try:
        if unix is not None:
            yield "http://localhost"
        else:
            port = app_runner.addresses[0][1]
            yield f"http://127.0.0.1:{port}"
    finally:
        await app_runner.cleanup()


def session(source: str = "127.0.0.1") -> ClientSession:
    """A new client (and connection) from the loopback address ``source``."""
    return ClientSession(connector=TCPConnector(local_addr=(source, 0), force_close=True))


async def get(url: str, headers: Any, source: str = "127.0.0.1") -> Any:
    """GET ``url`` with a new client from ``source``; the reply's body, JSON or text."""
    async with session(source) as client, client.get(url, headers=headers) as reply:
        if reply.content_type == "application/json":
            return await reply.json()
        return await reply.text()


async def first_message(url: str, headers: Any) -> Any:
    """The first WebSocket message of ``url``, as JSON."""
    async with session() as client, client.ws_connect(url, headers=headers) as ws:
        return await ws.receive_json()


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


# -- the docs recipe ----------------------------------------------------------------------


def recipe_app() -> web.Application:
    """The recipe's app, imported afresh: an aiohttp app serves on one event loop only."""
    import importlib

    import aiohttp_app

    return importlib.reload(aiohttp_app).app  # type: ignore[no-any-return]


def test_recipe_behind_proxy() -> None:
    app = recipe_app()

    async def main() -> tuple[Any, int, str, Any]:
        async with serving(app) as base, session() as client:
            async with client.get(f"{base}/", headers=FORWARDED) as reply:
                body = await reply.json()
            async with client.get(
                f"{base}/login", headers=FORWARDED, allow_redirects=False
            ) as reply:
                status, location = reply.status, reply.headers["Location"]
            async with client.ws_connect(f"{base}/ws", headers=FORWARDED) as ws:
                message = await ws.receive_json()
        return body, status, location, message

    body, status, location, message = run(main())
    assert body == {
        "client": CLIENT,
        "scheme": "https",
        "host": "example.com",
        "url": "https://example.com/api/",
    }
    assert (status, location) == (302, "/api/")
    # The WebSocket handler sees the same values (aiohttp says http/https there too).
    assert message == {"client": CLIENT, "scheme": "https"}


@pytest.mark.parametrize("source", ["127.0.0.5", "127.0.0.1"])
def test_recipe_forged_headers(source: str) -> None:
    """From another local process (127.0.0.5) nothing is read; from the proxy, a forged
    item left of the proxy's own is not the client."""
    app = recipe_app()
    headers = dict(FORWARDED)
    if source == "127.0.0.1":
        headers["X-Forwarded-For"] = f"6.6.6.6, {CLIENT}"

    async def main() -> Any:
        async with serving(app) as base:
            return await get(f"{base}/", headers, source)

    body = run(main())
    if source == "127.0.0.5":
        host = body["host"]
        assert host.startswith("127.0.0.1:")
        assert body == {"client": source, "scheme": "http", "host": host,
                        "url": f"http://{host}/"}  # fmt: skip
    else:
        assert body["client"] == CLIENT


# -- the access log -------------------------------------------------------------------------


def captured(name: str) -> tuple[io.StringIO, logging.Handler, logging.Logger]:
    """A logger of its own writing into a string (the caller removes the handler)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return stream, handler, logger


def access_lines(access_log_class: Optional[type] = None) -> list[str]:
    """One request through a real server; the lines aiohttp's access logger wrote."""
    stream, handler, logger = captured("test.aiohttp.access")

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    app = web.Application(middlewares=[adapter.middleware(trusted="127.0.0.1")])
    app.router.add_get("/", hello)
    runner: dict[str, Any] = {"access_log": logger, "access_log_format": '%a "%r" %s'}
    if access_log_class is not None:
        runner["access_log_class"] = access_log_class

    async def main() -> str:
        async with serving(app, **runner) as base:
            return await get(f"{base}/", {"X-Forwarded-For": CLIENT})  # type: ignore[no-any-return]

    try:
        assert run(main()) == CLIENT
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


def test_access_log_shows_the_client() -> None:
    """aiohttp's ``%a`` is ``request.remote`` of the server's request, not of the clone
    a middleware passes on: trustproxy.aiohttp.AccessLogger writes from the clone."""
    assert access_lines(adapter.AccessLogger) == [f'{CLIENT} "GET / HTTP/1.1" 200']


def test_aiohttps_own_access_logger_shows_the_proxy() -> None:
    """Why the logger class exists: without it, the line names the proxy."""
    assert access_lines() == ['127.0.0.1 "GET / HTTP/1.1" 200']


# -- refusals, WebSocket, UNIX sockets, absolute-form targets ------------------------------


async def report(request: web.Request) -> web.Response:
    resolution = request.get(adapter.RESOLUTION_KEY)
    return web.json_response(
        {
            "client": request.remote,
            "scheme": request.scheme,
            "host": request.host,
            "status": resolution.status if resolution else None,
            "prefix": request.get(adapter.PREFIX_KEY),
        }
    )


async def socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"client": request.remote, "scheme": request.scheme,
                        "host": request.host})  # fmt: skip
    await ws.close()
    return ws


def report_app(**options: Any) -> web.Application:
    app = web.Application(middlewares=[adapter.middleware(**options)])
    app.router.add_get("/echo", report)
    app.router.add_get("/ws", socket)
    return app


CONFLICTING = {"Forwarded": "for=198.51.100.1", "X-Forwarded-For": "198.51.100.2"}


@pytest.mark.parametrize(
    ("options", "headers"),
    [
        pytest.param({"headers": ("forwarded", "x-forwarded")}, CONFLICTING, id="conflict"),
        pytest.param({"strict": True}, {"X-Forwarded-For": "not-an-address"}, id="strict"),
    ],
)
def test_refused_with_400_http_and_websocket(
    options: dict[str, Any], headers: dict[str, str]
) -> None:
    app = report_app(trusted="127.0.0.1", **options)

    async def main() -> tuple[int, str, int]:
        async with serving(app) as base, session() as client:
            async with client.get(f"{base}/echo", headers=headers) as reply:
                status, body = reply.status, await reply.text()
            with pytest.raises(WSServerHandshakeError) as refused:
                await client.ws_connect(f"{base}/ws", headers=headers)
        return status, body, refused.value.status

    status, body, ws_status = run(main())
    assert status == 400
    assert body.startswith("Bad Request: ")
    assert ws_status == 400


def test_websocket_sees_the_resolved_values() -> None:
    app = report_app(trusted="127.0.0.1", fields=("for", "proto", "host", "port"))
    headers = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "example.com", "X-Forwarded-Port": "8443"}  # fmt: skip

    async def main() -> Any:
        async with serving(app) as base:
            return await first_message(f"{base}/ws", headers)

    assert run(main()) == {"client": CLIENT, "scheme": "https", "host": "example.com:8443"}


def test_repeated_lines_are_one_list_in_order() -> None:
    app = report_app(trusted="127.0.0.1")
    lines = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", CLIENT)]

    async def main() -> Any:
        async with serving(app) as base:
            return await get(f"{base}/echo", lines)

    seen = run(main())
    assert (seen["status"], seen["client"]) == ("applied", CLIENT)


@pytest.mark.parametrize("trusted", ["unix", "loopback"])
def test_unix_socket_peer(tmp_path: Path, trusted: str) -> None:
    """A UNIX socket has no peer address: trusted only with the ``unix`` preset."""
    app = report_app(trusted=trusted)
    path = str(tmp_path / "app.sock")

    async def main() -> Any:
        async with serving(app, unix=path) as base:
            client = ClientSession(connector=UnixConnector(path))
            try:
                reply = await client.get(f"{base}/echo", headers={"X-Forwarded-For": CLIENT})
                return await reply.json()
            finally:
                await client.close()

    seen = run(main())
    if trusted == "unix":
        assert (seen["status"], seen["client"]) == ("applied", CLIENT)
    else:
        assert seen["status"] == "untrusted-peer"
        assert seen["client"] != CLIENT


def test_absolute_form_target_with_a_forwarded_port() -> None:
    """``GET http://app/echo`` (RFC 9112 §3.2.2) with a forwarded Host carrying a port:
    aiohttp puts a cloned Host into an absolute target's URL, which takes no port — the
    clone raised ValueError and the client got a 500."""
    app = report_app(trusted="127.0.0.1", fields=("for", "host", "port"))

    async def main() -> tuple[int, Any]:
        async with serving(app) as base:
            host, port = base.rsplit("/", 1)[1].split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                b"GET http://app/echo HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 203.0.113.50"
                b"\r\nX-Forwarded-Host: example.com\r\nX-Forwarded-Port: 8443\r\n"
                b"Connection: close\r\n\r\n"
            )
            data = await reader.read()
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        import json

        return int(head.split()[1]), json.loads(body) if body.startswith(b"{") else body

    status, seen = run(main())
    assert status == 200, seen
    assert (seen["client"], seen["host"]) == (CLIENT, "example.com:8443")


def test_importing_trustproxy_does_not_import_aiohttp() -> None:
    import subprocess

    code = "import sys, trustproxy; print('aiohttp' in sys.modules)"
    env = {"PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)  # fmt: skip
    assert done.stdout.strip() == "False"


def test_bad_configuration_is_refused_at_construction() -> None:
    with pytest.raises(trustproxy.ConfigError):
        adapter.middleware(trusted="10.0.0.0/33")
    with pytest.raises(trustproxy.ConfigError):
        adapter.middleware(options=trustproxy._config.Options(), strict=True)


# -- differential: aiohttp-remotes on well-formed input --------------------------------------

remotes = pytest.importorskip("aiohttp_remotes")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def seen_through(middleware: Any, request: web.Request) -> Optional[tuple[Any, ...]]:
    """(remote, scheme, host) the handler saw, or None when the middleware refused."""
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        return web.Response(text="ok")

    async def call() -> web.StreamResponse:
        try:
            return await middleware(request, handler)  # type: ignore[no-any-return]
        except web.HTTPException as refused:
            return refused

    coroutine = call()
    with pytest.raises(StopIteration):
        coroutine.send(None)
    if not seen:
        return None
    return seen[0].remote, seen[0].scheme, seen[0].host


def build(peer: str, lines: list[tuple[str, str]]) -> web.Request:
    return builders.aiohttp_request(peer, lines, host="app.example")


PROXIES = [f"10.0.{n}.{m}" for n in range(3) for m in (1, 2)]
addresses = st.builds(
    lambda a, b: f"{a}.{b}", st.sampled_from(["198.51.100", "203.0.113", "100.64.7"]),
    st.integers(1, 254),
)  # fmt: skip
ipv6 = st.integers(1, 0xFFFF).map(lambda n: f"2001:db8::{n:x}")
clients = st.one_of(addresses, ipv6)
protos = st.sampled_from(["http", "https"])
hosts = st.sampled_from(["example.com", "a.example:8443", "[2001:db8::1]:443", "b.example"])


@settings(max_examples=300, deadline=None)
@given(
    client=clients,
    forged=st.lists(clients, max_size=2),
    chain=st.lists(st.sampled_from(PROXIES), max_size=3),
    proto=st.lists(protos, max_size=4),
    host=st.one_of(st.none(), hosts),
)
def test_x_forwarded_filtered(
    client: str, forged: list[str], chain: list[str], proto: list[str], host: Optional[str]
) -> None:
    """``XForwardedFiltered(trusted)`` skips trusted addresses from the right of
    X-Forwarded-For and takes the first other one; proto and host are the items at that
    position from the right, or the leftmost.  It never checks the socket peer:
    trustproxy does, so its ``trusted`` adds the proxy the app hears from (127.0.0.1)."""
    lines = [("X-Forwarded-For", ", ".join([*forged, client, *chain]))]
    if proto:
        lines.append(("X-Forwarded-Proto", ", ".join(proto)))
    if host is not None:
        lines.append(("X-Forwarded-Host", host))
    theirs = remotes.XForwardedFiltered(PROXIES).middleware
    ours = adapter.middleware(trusted=["127.0.0.1", *PROXIES], fields=("for", "proto", "host"))
    want = seen_through(theirs, build("127.0.0.1", lines))
    got = seen_through(ours, build("127.0.0.1", lines))
    assert got == want
    assert got is not None and got[0] == str(ipaddress.ip_address(client))


@settings(max_examples=300, deadline=None)
@given(
    client=clients,
    chain=st.lists(st.sampled_from([0, 1]), min_size=0, max_size=2),
    proto=st.one_of(st.none(), protos),
    host=st.one_of(st.none(), hosts),
    forwarded=st.booleans(),
)
def test_strict_families(
    client: str, chain: list[int], proto: Optional[str], host: Optional[str], forwarded: bool
) -> None:
    """``XForwardedStrict`` / ``ForwardedStrict(trusted)``: one set of addresses per
    proxy, nearest first, and exactly one forwarded item per proxy.  trustproxy: the
    union of the sets as ``trusted``, their number as ``hops``.  Each proxy writes one
    item (the edge proxy the client's scheme and Host, the others none).

    ``ForwardedStrict`` is compared with one proxy and IPv4 clients only: it refuses
    every longer chain and fails on every IPv6 node (test_where_aiohttp_remotes_fails).
    """
    if forwarded:
        chain, client = [], client if ":" not in client else "198.51.100.77"
    sets = [["127.0.0.1"], ["10.0.0.1"], ["10.0.1.1"]][: len(chain) + 1]
    # The peer is the nearest proxy; each farther proxy is named by the one in front.
    nodes = [client, *[sets[i][0] for i in range(len(sets) - 1, 0, -1)]]
    lines: list[tuple[str, str]]
    if forwarded:
        elements = []
        for i, node in enumerate(nodes):
            text = f'for="[{node}]"' if ":" in node else f"for={node}"
            if i == 0 and proto is not None:
                text += f";proto={proto}"
            if i == 0 and host is not None:
                text += f';host="{host}"'
            elements.append(text)
        lines = [("Forwarded", ", ".join(elements))]
        theirs = remotes.ForwardedStrict(sets).middleware
        family = "forwarded"
    else:
        lines = [("X-Forwarded-For", ", ".join(nodes))]
        if proto is not None:
            lines.append(("X-Forwarded-Proto", proto))
        if host is not None:
            lines.append(("X-Forwarded-Host", host))
        theirs = remotes.XForwardedStrict(sets).middleware
        family = "x-forwarded"
    trusted = [entry for hop in sets for entry in hop]
    ours = adapter.middleware(
        trusted=trusted, hops=len(sets), headers=family, fields=("for", "proto", "host")
    )
    want = seen_through(theirs, build("127.0.0.1", lines))
    got = seen_through(ours, build("127.0.0.1", lines))
    assert got == want
    assert got is not None and got[0] == str(ipaddress.ip_address(client))


@pytest.mark.parametrize(
    ("lines", "sets", "client"),
    [
        pytest.param([("Forwarded", 'for="[2001:db8::1]"')], [["127.0.0.1"]], "2001:db8::1",
                     id="forwarded-ipv6"),
        pytest.param([("Forwarded", "for=198.51.100.1, for=10.0.0.1")],
                     [["127.0.0.1"], ["10.0.0.1"]], "198.51.100.1", id="forwarded-two-proxies"),
    ],
)  # fmt: skip
def test_where_aiohttp_remotes_fails(
    lines: list[tuple[str, str]], sets: list[list[str]], client: str
) -> None:
    """Well-formed RFC 7239 input ``ForwardedStrict`` (1.4.0) cannot take: an IPv6 node
    (RFC 7239 §6 quotes it in brackets; ``ip_address("[…]")`` raises, a 500) and two
    proxies (it checks the count after each element, so the first check of a longer
    chain fails: a 400).  docs/migrate-aiohttp-remotes.md says so."""
    request = build("127.0.0.1", lines)
    try:
        theirs = seen_through(remotes.ForwardedStrict(sets).middleware, request)
    except ValueError:
        theirs = None
    assert theirs is None
    trusted = [entry for hop in sets for entry in hop]
    ours = adapter.middleware(trusted=trusted, hops=len(sets), headers="forwarded")
    assert seen_through(ours, build("127.0.0.1", lines)) == (client, "http", "app.example")


CHAIN = [
    ("X-Forwarded-For", "198.51.100.1, 10.0.0.1"),
    ("X-Forwarded-Host", "example.com, inner.example"),
    ("X-Forwarded-Proto", "https, http"),
]


@pytest.mark.parametrize(
    ("theirs", "peer", "lines", "want_theirs", "ours", "want_ours"),
    [
        pytest.param(
            lambda: remotes.XForwardedFiltered(["10.0.0.1"]), "198.51.100.9",
            [("X-Forwarded-For", "6.6.6.6")], ("6.6.6.6", "http", "app.example"),
            {"trusted": ["10.0.0.1"]}, ("198.51.100.9", "http", "app.example"),
            id="filtered-never-checks-the-peer",
        ),
        pytest.param(
            lambda: remotes.XForwardedFiltered(["10.0.0.1"]), "127.0.0.1",
            [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", CLIENT)], None,
            {"trusted": ["127.0.0.1", "10.0.0.1"]}, (CLIENT, "http", "app.example"),
            id="two-lines-refused-vs-one-list",
        ),
        pytest.param(
            lambda: remotes.XForwardedStrict([["127.0.0.1"], ["10.0.0.1"]]), "127.0.0.1",
            CHAIN, ("198.51.100.1", "https", "inner.example"),
            {"trusted": ["127.0.0.1", "10.0.0.1"], "hops": 2, "fields": "for,proto,host"},
            ("198.51.100.1", "https", "example.com"),
            id="strict-host-is-the-inner-proxys",
        ),
        pytest.param(
            lambda: remotes.XForwardedFiltered(["10.0.0.1"]), "127.0.0.1",
            [("X-Forwarded-For", CLIENT), ("X-Forwarded-Proto", "javascript"),
             ("X-Forwarded-Host", "a b")], (CLIENT, "javascript", "a b"),
            {"trusted": ["127.0.0.1"], "fields": "for,proto,host"},
            (CLIENT, "http", "app.example"),
            id="invalid-proto-and-host-applied-vs-ignored",
        ),
    ],
)  # fmt: skip
def test_where_aiohttp_remotes_differs(
    theirs: Callable[[], Any],
    peer: str,
    lines: list[tuple[str, str]],
    want_theirs: Any,
    ours: dict[str, Any],
    want_ours: Any,
) -> None:
    """The rows of docs/migrate-aiohttp-remotes.md's table of differences: aiohttp-remotes
    1.4.0 as it behaves, trustproxy as it does.  ``XForwardedFiltered`` reads the headers
    of any peer (a client reaching the app directly names itself); two X-Forwarded-For
    lines are a 400 there and one list here (RFC 9110 §5.3); ``XForwardedStrict`` takes
    the rightmost X-Forwarded-Host item (the inner proxy's Host) with the leftmost proto."""
    assert seen_through(theirs().middleware, build(peer, lines)) == want_theirs
    assert seen_through(adapter.middleware(**ours), build(peer, lines)) == want_ours


class _Ranges:
    """A stand-in for the ``aiohttp.ClientSession`` ``Cloudflare`` fetches its ranges
    with (tests reach no network): it answers with trustproxy's bundled list."""

    def __init__(self, networks: list[str]) -> None:
        self.body = "\n".join(networks)

    def get(self, url: str) -> _Ranges:
        return self

    async def __aenter__(self) -> _Ranges:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def text(self) -> str:
        return self.body


CLOUDFLARE = [str(network) for network in shipped("cloudflare").networks]


@pytest.mark.parametrize(
    ("peer", "header"),
    [
        pytest.param(str(next(ipaddress.ip_network(n).hosts())), CLIENT, id=n)
        for n in CLOUDFLARE[:3] + CLOUDFLARE[-2:]
    ]
    + [pytest.param("198.51.100.9", CLIENT, id="not-cloudflare")],
)
def test_cloudflare(peer: str, header: str) -> None:
    """``Cloudflare()`` applies CF-Connecting-IP from Cloudflare's ranges and answers 400
    to any other peer; ``trusted="cloudflare", headers="cf-connecting-ip"`` applies the
    same and passes any other peer on unchanged (docs/migrate-aiohttp-remotes.md)."""
    cloudflare = remotes.Cloudflare(client=_Ranges(CLOUDFLARE))
    app = web.Application()
    run(cloudflare.setup(app))
    lines = [("CF-Connecting-IP", header)]
    want = seen_through(cloudflare.middleware, build(peer, lines))
    ours = adapter.middleware(trusted="cloudflare", headers="cf-connecting-ip")
    got = seen_through(ours, build(peer, lines))
    if peer == "198.51.100.9":
        assert want is None  # aiohttp-remotes refuses
        assert got == (peer, "http", "app.example")
    else:
        assert got == want == (header, "http", "app.example")


def test_resolution_is_kept() -> None:
    request = build("127.0.0.1", [("X-Forwarded-For", CLIENT)])
    ours = adapter.middleware()
    assert seen_through(ours, request) == (CLIENT, "http", "app.example")
    assert isinstance(request[adapter.RESOLUTION_KEY], Resolution)


def test_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/bench_aiohttp.py, one tiny round: both contenders measured, a ratio."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_aiohttp

    assert bench_aiohttp.main(["--rounds", "1", "--number", "50"]) == 0
    out = capsys.readouterr().out
    assert "aiohttp-remotes XForwardedFiltered" in out
    assert "trustproxy with request.clone" in out and "request.clone(remote, scheme) alone" in out
    from trustproxy import _aiohttp_clone

    assert _aiohttp_clone.public_clone is False  # left as it was for the other tests
    assert re.search(r"trustproxy / aiohttp-remotes: \d+\.\d\dx", out), out


# -- tenant binding (require_headers): tests/test_tenant.py's table, through aiohttp ------


def secret_lines(request: web.BaseRequest) -> list[Any]:
    """The ``X-Origin-Verify`` lines of a request, parsed and raw."""
    name = tenant.NAME.lower()
    parsed = [(k, v) for k, v in request.headers.items() if k.lower() == name]
    raw = [line for line in request.raw_headers if line[0].lower() == name.encode()]
    return parsed + raw


@pytest.fixture(params=[False, True], ids=["copy", "public-clone"])
def clone_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways of making the handler's request: the checked copy, and
    ``request.clone`` itself (what the adapter falls back to)."""
    from trustproxy import _aiohttp_clone

    monkeypatch.setattr(_aiohttp_clone, "public_clone", request.param)
    return bool(request.param)


@pytest.mark.parametrize("strict", tenant.STRICT)
@pytest.mark.parametrize("row", tenant.PARAMS)
def test_tenant_binding(
    row: Any, strict: bool, clone_mode: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Absent, wrong, right (and every other row of the table): the status, the client,
    403 when strict, and the secret never in the handler's ``headers``/``raw_headers``
    (nor the server's request edited)."""
    monkeypatch.setenv(tenant.ENV, tenant.SECRET)
    before = build(row.peer, list(row.lines))
    server_lines = list(before.raw_headers)
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        return web.Response(text="ok")

    middleware = adapter.middleware(**tenant.CONFIG, strict=strict)
    coroutine = middleware(before, handler)
    with pytest.raises(StopIteration) as stopped:
        coroutine.send(None)
    response = stopped.value.value
    assert list(before.raw_headers) == server_lines  # the server's request is as it came
    if strict and row.refused:
        assert seen == []
        assert response.status == 403
        assert response.body.startswith(b"Forbidden")
        return
    assert response.status == 200
    (request,) = seen
    assert secret_lines(request) == []
    assert not tenant.carries_secret((request.headers, request.raw_headers), row)
    assert request.remote == row.client
    # Every other line is kept, in order, parsed and raw.
    kept = [line for line in server_lines if line[0].lower() != tenant.NAME.lower().encode()]
    assert list(request.raw_headers) == kept
    if row.status is None:
        assert adapter.RESOLUTION_KEY not in request
        assert (request is before) == (not secret_lines(before))
        return
    tenant.check_resolution(request[adapter.RESOLUTION_KEY], row)
    proto = row.status == trustproxy.APPLIED and tenant.PROTO in row.lines
    assert request.scheme == ("https" if proto else "http")


def test_tenant_binding_refused_for_the_middleware() -> None:
    with pytest.raises(trustproxy.ConfigError, match="require_headers"):
        adapter.middleware(require_headers={"X-Forwarded-For": "s"})
    with pytest.raises(trustproxy.ConfigError, match="not both"):
        adapter.middleware(options=trustproxy._config.Options(), require_headers={"A": "b"})


def tenant_app(strict: bool = False) -> web.Application:
    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"client": request.remote, "secret": repr(secret_lines(request))})
        await ws.close()
        return ws

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"client": request.remote, "secret": repr(secret_lines(request))})

    app = web.Application(
        middlewares=[
            adapter.middleware(
                trusted="127.0.0.1", strict=strict, require_headers={tenant.NAME: tenant.SECRET}
            )
        ]
    )
    app.router.add_get("/echo", echo)
    app.router.add_get("/ws", socket)
    return app


@pytest.mark.parametrize("value", [tenant.SECRET, "guess", None], ids=["right", "wrong", "absent"])
def test_tenant_binding_real_server(value: Optional[str]) -> None:
    """On a real server: the HTTP and WebSocket handlers never see the header, the
    client is applied only with the right value, and strict answers 403 to both."""
    headers = {"X-Forwarded-For": CLIENT}
    if value is not None:
        headers[tenant.NAME] = value
    client = CLIENT if value == tenant.SECRET else "127.0.0.1"

    async def main() -> tuple[Any, Any, int, Optional[int]]:
        async with serving(tenant_app()) as base:
            page = await get(f"{base}/echo", headers)
            message = await first_message(f"{base}/ws", headers)
        async with serving(tenant_app(strict=True)) as base, session() as http:
            async with http.get(f"{base}/echo", headers=headers) as reply:
                strict_status = reply.status
            try:
                await first_message(f"{base}/ws", headers)
                ws_status = None
            except WSServerHandshakeError as refused:
                ws_status = refused.status
        return page, message, strict_status, ws_status

    page, message, strict_status, ws_status = run(main())
    assert page == message == {"client": client, "secret": "[]"}
    if value == tenant.SECRET:
        assert (strict_status, ws_status) == (200, None)
    else:
        assert (strict_status, ws_status) == (403, 403)


@pytest.mark.parametrize("strict", [False, True])
def test_tenant_binding_access_log(strict: bool) -> None:
    """With trustproxy's AccessLogger a format naming the header logs ``-``: the line is
    written from the request without it (also when the request is refused)."""
    stream, handler, logger = captured("test.aiohttp.tenant.access")
    runner: dict[str, Any] = {
        "access_log": logger,
        "access_log_format": "%a %s %{X-Origin-Verify}i",
        "access_log_class": adapter.AccessLogger,
    }
    wrong = {"X-Forwarded-For": CLIENT, tenant.NAME: "guess"}
    right = {"X-Forwarded-For": CLIENT, tenant.NAME: tenant.SECRET}

    async def main() -> None:
        async with serving(tenant_app(strict), **runner) as base:
            await get(f"{base}/echo", right)
            await get(f"{base}/echo", wrong)
            await get(f"{base}/echo", {tenant.NAME: tenant.SECRET})  # no forwarding header

    try:
        run(main())
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    status = 403 if strict else 200
    assert lines == [f"{CLIENT} 200 -", f"127.0.0.1 {status} -", "127.0.0.1 200 -"]


def test_the_copy_is_what_clone_builds_on_this_aiohttp() -> None:
    """The first request a process serves is cloned both ways; on the installed aiohttp
    the copy must agree (else every request pays for ``request.clone``)."""
    from trustproxy import _aiohttp_clone

    before = build("127.0.0.1", [("X-Forwarded-For", CLIENT), ("X-Forwarded-Proto", "https")])
    assert _aiohttp_clone._check(before, {"remote": CLIENT, "scheme": "https"})
    assert _aiohttp_clone._check(before, {"host": "example.com:8443"})
    for cache in ({"remote": CLIENT}, {"scheme": "https", "host": "a.example"}):
        copied = _aiohttp_clone._copy(before, cache, frozenset())
        cloned = before.clone(**cache)
        for name in ("remote", "scheme", "host", "url", "headers", "raw_headers", "path"):
            assert getattr(copied, name) == getattr(cloned, name), name
        assert copied is not before and before.remote == "127.0.0.1"
    # Refused where __init__ would build differently: then clone() is used.
    assert not _aiohttp_clone._check(_absolute(), {"host": "example.com"})


def _absolute() -> web.Request:
    from aiohttp.test_utils import make_mocked_request

    return make_mocked_request("GET", "http://app/echo", headers={"Host": "app"})


def test_a_real_server_uses_the_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    from trustproxy import _aiohttp_clone

    monkeypatch.setattr(_aiohttp_clone, "_agrees", None)
    app = report_app(trusted="127.0.0.1")

    async def main() -> Any:
        async with serving(app) as base:
            return await get(f"{base}/echo", {"X-Forwarded-For": CLIENT})

    assert run(main())["client"] == CLIENT
    assert _aiohttp_clone._agrees is True


def test_secret_with_undecodable_bytes(clone_mode: bool) -> None:
    """A header value that is not UTF-8 (aiohttp decodes it with surrogate escapes):
    ``clone(headers=…)`` cannot encode it; the secret is removed all the same."""
    lines = [("X-Forwarded-For", CLIENT), (tenant.NAME, tenant.SECRET), ("X-Other", "caf\udce9")]
    request = build("127.0.0.1", [])
    message = request._message._replace(
        headers=CIMultiDictProxy(CIMultiDict([("Host", "app.example"), *lines])),
        raw_headers=((b"Host", b"app.example"), (b"X-Forwarded-For", CLIENT.encode()),
                     (tenant.NAME.encode(), tenant.SECRET.encode()), (b"X-Other", b"caf\xe9")),
    )  # fmt: skip
    request = web.Request(message, request._payload, request._protocol, None, None, None)  # type: ignore[arg-type]
    ours = adapter.middleware(trusted="127.0.0.1", require_headers={tenant.NAME: tenant.SECRET})
    got = handled(ours, request)
    assert got.remote == CLIENT and secret_lines(got) == []
    assert got.headers["X-Other"] == "caf\udce9"
    assert (b"X-Other", b"caf\xe9") in got.raw_headers


def handled(middleware: Any, request: web.Request) -> web.Request:
    """The request the handler was called with."""
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        return web.Response(text="ok")

    coroutine = middleware(request, handler)
    with pytest.raises(StopIteration):
        coroutine.send(None)
    (got,) = seen
    return got


@pytest.mark.parametrize(
    ("lines", "cloned"),
    [
        pytest.param([("X-Forwarded-For", "127.0.0.1")], False, id="client-is-the-peer"),
        pytest.param([("X-Forwarded-Proto", "http")], False, id="proto-as-it-came"),
        pytest.param([("X-Forwarded-Prefix", "/api"), ("X-Forwarded-For", "127.0.0.1")],
                     False, id="prefix-only"),
        pytest.param([("X-Forwarded-For", CLIENT)], True, id="client"),
        pytest.param([("X-Forwarded-Proto", "https")], True, id="proto"),
    ],
)  # fmt: skip
def test_no_clone_when_nothing_changes(lines: list[tuple[str, str]], cloned: bool) -> None:
    before = build("127.0.0.1", lines)
    ours = adapter.middleware(trusted="127.0.0.1", fields=("for", "proto", "prefix"))
    got = handled(ours, before)
    assert (got is not before) == cloned
    assert before[adapter.RESOLUTION_KEY].status == "applied"
    assert got[adapter.RESOLUTION_KEY] is before[adapter.RESOLUTION_KEY]
    assert (adapter.REQUEST_KEY in before) == cloned
    assert before.remote == "127.0.0.1" and before.scheme == "http"


def test_connection_read_from_the_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp < 3.10 keeps no peername on the request: the transport is asked, and a
    request whose connection is gone is passed on unchanged (less any secret)."""
    from trustproxy import _aiohttp_clone

    monkeypatch.setattr(_aiohttp_clone, "_CACHED_TRANSPORT", False)
    ours = adapter.middleware(trusted="127.0.0.1", require_headers={tenant.NAME: tenant.SECRET})
    lines = [("X-Forwarded-For", CLIENT), (tenant.NAME, tenant.SECRET)]
    assert handled(ours, build("127.0.0.1", lines)).remote == CLIENT
    gone = build("127.0.0.1", lines)
    monkeypatch.setattr(gone._protocol, "transport", None)
    got = handled(ours, gone)
    assert got.remote == "127.0.0.1" and adapter.RESOLUTION_KEY not in got
    assert secret_lines(got) == []
