"""trustproxy.uvicorn: real uvicorn servers on loopback, fed PROXY headers by hand.

Each server runs in a thread with its own event loop, on 127.0.0.1 and ::1, built by
``proxy_protocol(trusted="127.0.0.1, ::1", base=..., timeout=0.5)``.  A client on
127.0.0.5 is therefore an untrusted peer.  The balancers themselves are in
tests/e2e/test_proxy_protocol_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

import pytest
import uvicorn
from uvicorn.config import Config

import trustproxy.uvicorn as tpu
from trustproxy import ASGIMiddleware, ConfigError, _uvicorn_settings
from trustproxy._warn import Limiter

ENC_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(source: str, destination: str, sport: int, dport: int, *, local: bool = False) -> bytes:
    """A version 2 header with addresses and no TLV (the test's own encoder)."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    block = (
        socket.inet_pton(family, source)
        + socket.inet_pton(family, destination)
        + sport.to_bytes(2, "big")
        + dport.to_bytes(2, "big")
    )
    command = 0x20 if local else 0x21
    pair = 0x21 if family == socket.AF_INET6 else 0x11
    return ENC_SIGNATURE + bytes([command, pair]) + len(block).to_bytes(2, "big") + block


def v1(source: str, destination: str, sport: int, dport: int) -> bytes:
    kind = "TCP6" if ":" in source else "TCP4"
    return f"PROXY {kind} {source} {destination} {sport} {dport}\r\n".encode()


CALLS: list[str] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return
    header = scope.get("extensions", {}).get(tpu.EXTENSION)
    seen = {
        "client": list(scope["client"]) if scope["client"] else None,
        "server": list(scope["server"]) if scope["server"] else None,
        "path": scope["path"],
        "header": None if header is None else [header.version, header.command, header.source],
    }
    CALLS.append(scope["path"])
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(seen)})
        await send({"type": "websocket.close"})
        return
    body = json.dumps(seen).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


behind_l7 = ASGIMiddleware(app, trusted="10.1.2.3")


class Running:
    def __init__(self, protocol: type[asyncio.Protocol], ws: str, asgi: Any = app) -> None:
        self.sockets = []
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            sock = socket.socket(family)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, 0))
            self.sockets.append(sock)
        self.port = self.sockets[0].getsockname()[1]
        self.port6 = self.sockets[1].getsockname()[1]
        config = Config(asgi, http=protocol, ws=ws, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=self.sockets)), daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "no start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        for sock in self.sockets:
            sock.close()


@pytest.fixture(autouse=True)
def _own_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_uvicorn_settings, "limiter", Limiter())


@pytest.fixture(scope="module", params=["h11", "httptools"])
def server(request: pytest.FixtureRequest) -> Iterator[Running]:
    protocol = tpu.proxy_protocol(trusted="127.0.0.1, ::1", base=request.param, timeout=0.5)
    running = Running(protocol, "websockets-sansio")
    yield running
    running.stop()


def connect(server: Running, client: str = "127.0.0.1") -> socket.socket:
    ipv6 = ":" in client
    sock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET)
    sock.settimeout(5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((client, 0))
    sock.connect(("::1" if ipv6 else "127.0.0.1", server.port6 if ipv6 else server.port))
    return sock


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, Any]]]:
    """Read ``count`` responses with Content-Length bodies; fewer if the server closes."""
    data = b""
    found: list[tuple[int, dict[str, Any]]] = []
    while len(found) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) >= length:
                status = int(head.split(b" ", 2)[1])
                body = rest[:length]
                found.append((status, json.loads(body) if status == 200 else {"text": body}))
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return found


def closed_without_reply(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: app.example\r\n\r\n".encode()


@pytest.mark.parametrize("make", [v1, v2], ids=["v1", "v2"])
@pytest.mark.parametrize(
    ("client", "source", "destination"),
    [("127.0.0.1", "203.0.113.9", "10.0.0.5"), ("::1", "2001:db8::9", "2001:db8::5")],
    ids=["ipv4", "ipv6"],
)
def test_every_request_on_the_connection_has_the_header_endpoints(
    server: Running, make: Any, client: str, source: str, destination: str
) -> None:
    """Keep-alive: three requests, one after the other, then three pipelined."""
    with connect(server, client) as sock:
        sock.sendall(make(source, destination, 56324, 443))
        for n in range(3):
            sock.sendall(get(f"/ka{n}"))
            [(status, seen)] = read_responses(sock, 1)
            assert status == 200
            assert seen["client"] == [source, 56324]
            assert seen["server"] == [destination, 443]
            assert seen["header"] == [int(make.__name__[1]), "PROXY", source]
        sock.sendall(get("/p0") + get("/p1") + get("/p2"))
        replies = read_responses(sock, 3)
    assert [seen["path"] for _, seen in replies] == ["/p0", "/p1", "/p2"]
    assert all(seen["client"] == [source, 56324] for _, seen in replies)


def test_local_keeps_the_socket_addresses(server: Running) -> None:
    with connect(server) as sock:
        sock.sendall(v2("0.0.0.0", "0.0.0.0", 0, 0, local=True) + get("/local"))
        [(_, seen)] = read_responses(sock, 1)
        assert seen["client"] == list(sock.getsockname()[:2])
        assert seen["server"] == ["127.0.0.1", server.port]
        assert seen["header"] == [2, "LOCAL", None]


def test_unknown_keeps_the_socket_addresses(server: Running) -> None:
    with connect(server) as sock:
        sock.sendall(b"PROXY UNKNOWN\r\n" + get("/unknown"))
        [(_, seen)] = read_responses(sock, 1)
        assert seen["client"] == list(sock.getsockname()[:2])


def test_unix_source_is_no_client(server: Running) -> None:
    block = b"/run/client.sock".ljust(108, b"\0") + b"/run/lb.sock".ljust(108, b"\0")
    header = ENC_SIGNATURE + b"\x21\x31" + len(block).to_bytes(2, "big") + block
    with connect(server) as sock:
        sock.sendall(header + get("/unix"))
        [(_, seen)] = read_responses(sock, 1)
    assert seen["client"] is None
    assert seen["server"] == ["127.0.0.1", server.port]


def test_header_one_byte_per_segment(server: Running) -> None:
    """The header split over many TCP segments (TCP_NODELAY, one byte per send)."""
    data = v1("198.51.100.7", "10.0.0.5", 1234, 80) + get("/split")
    with connect(server) as sock:
        for byte in data:
            sock.send(bytes([byte]))
            time.sleep(0.001)
        [(_, seen)] = read_responses(sock, 1)
    assert seen["client"] == ["198.51.100.7", 1234]


def test_websocket_upgrade_has_the_header_endpoints(server: Running) -> None:
    from websockets.sync.client import connect as ws_connect

    sock = connect(server)
    sock.sendall(v2("203.0.113.9", "10.0.0.5", 4242, 443))
    with ws_connect(f"ws://127.0.0.1:{server.port}/ws", sock=sock) as ws:
        seen = json.loads(ws.recv(timeout=5))
    assert seen["client"] == ["203.0.113.9", 4242]
    assert seen["server"] == ["10.0.0.5", 443]
    assert seen["header"] == [2, "PROXY", "203.0.113.9"]


@pytest.mark.parametrize("base", ["h11", "httptools"])
@pytest.mark.parametrize("ws", ["websockets", "websockets-sansio", "wsproto"])
def test_websocket_implementations(ws: str, base: Any) -> None:
    running = Running(tpu.proxy_protocol(trusted="127.0.0.1", base=base), ws)
    try:
        from websockets.sync.client import connect as ws_connect

        sock = connect(running)
        sock.sendall(v1("203.0.113.9", "10.0.0.5", 4242, 443))
        with ws_connect(f"ws://127.0.0.1:{running.port}/ws", sock=sock) as conn:
            seen = json.loads(conn.recv(timeout=5))
        assert seen["client"] == ["203.0.113.9", 4242]
        assert seen["server"] == ["10.0.0.5", 443]
        assert seen["header"] == [1, "PROXY", "203.0.113.9"]
    finally:
        running.stop()


def refused(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [r.getMessage() for r in caplog.records if r.name == "trustproxy"]
        if any(words in line for line in lines):
            return lines
        time.sleep(0.01)
    raise AssertionError(f"no log line with {words!r}: {caplog.records}")


def test_untrusted_peer_is_closed_before_http(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """A PROXY header sent by a peer that is not a balancer is never honoured."""
    before = len(CALLS)
    with connect(server, "127.0.0.5") as sock:
        sock.sendall(v1("203.0.113.9", "10.0.0.5", 1, 2) + get("/forged"))
        assert closed_without_reply(sock)
    assert "/forged" not in CALLS[before:]
    refused(caplog, "connection from 127.0.0.5 closed: it is not a trusted balancer")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(get("/plain"), "not a PROXY protocol header", id="plain-http"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01", "not a PROXY protocol header", id="tls"),
        pytest.param(b"PROXY TCP4 1.2.3.04 1.2.3.4 1 2\r\n", "PROXY", id="v1-bad"),
        pytest.param(ENC_SIGNATURE + b"\x21\x11\xff\xff", "over 4096", id="v2-oversized"),
        pytest.param(ENC_SIGNATURE + b"\x22\x11\x00\x0c", "0x22", id="v2-bad-command"),
    ],
)
def test_invalid_first_bytes_close_the_connection(
    server: Running, caplog: pytest.LogCaptureFixture, data: bytes, words: str
) -> None:
    before = len(CALLS)
    with connect(server) as sock:
        sock.sendall(data + get("/after"))
        assert closed_without_reply(sock)
    assert CALLS[before:] == []
    lines = refused(caplog, "no valid PROXY header")
    assert any(words in line for line in lines), lines


def test_second_header_is_http_not_a_header(server: Running) -> None:
    """Only the first header counts: a second one is the start of (bad) HTTP."""
    before = len(CALLS)
    with connect(server) as sock:
        sock.sendall(v1("203.0.113.9", "10.0.0.5", 1, 2) + v1("6.6.6.6", "6.6.6.6", 6, 6))
        sock.sendall(get("/second"))
        replies = read_responses(sock, 1)
    assert [status for status, _ in replies] == [400]
    assert "/second" not in CALLS[before:]


def test_slow_header_times_out(server: Running, caplog: pytest.LogCaptureFixture) -> None:
    with connect(server) as sock:
        sock.sendall(b"PROXY TCP4 203.0.")
        started = time.monotonic()
        assert closed_without_reply(sock)
        assert 0.4 < time.monotonic() - started < 3
    refused(caplog, "no complete PROXY header within 0.5 s (17 bytes received)")


def test_refusals_are_rate_limited(server: Running, caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(20):
        with connect(server) as sock:
            sock.sendall(b"junk\r\n")
            assert closed_without_reply(sock)
    time.sleep(0.1)
    lines = [r for r in caplog.records if "no valid PROXY header" in r.getMessage()]
    assert len(lines) == 1  # one cause (kind, peer): logged once, then held back


def test_shutdown_closes_connections_waiting_for_a_header() -> None:
    running = Running(tpu.proxy_protocol(trusted="127.0.0.1", timeout=30), "none")
    sock = connect(running)
    sock.sendall(b"PROXY ")
    time.sleep(0.1)
    started = time.monotonic()
    running.stop()
    assert not running.thread.is_alive()
    assert time.monotonic() - started < 5  # not the 30 s header timeout
    assert closed_without_reply(sock)
    sock.close()


@pytest.fixture(scope="module")
def middleware_server() -> Iterator[Running]:
    running = Running(tpu.proxy_protocol(trusted="127.0.0.1"), "none", behind_l7)
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("source", "expected"),
    [("10.1.2.3", "198.51.100.7"), ("203.0.113.9", "203.0.113.9")],
    ids=["l7-proxy-trusted", "client-forging-xff"],
)
def test_asgi_middleware_sees_the_header_source_as_the_peer(
    middleware_server: Running, source: str, expected: str
) -> None:
    """L4 balancer -> L7 proxy (10.1.2.3, appends X-Forwarded-For) -> uvicorn."""
    request = b"GET /mw HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n"
    with connect(middleware_server) as sock:
        sock.sendall(v2(source, "10.0.0.5", 999, 80) + request)
        [(_, seen)] = read_responses(sock, 1)
    assert seen["client"][0] == expected
    assert seen["header"] == [2, "PROXY", source]


# Configuration: who may send a header, and what is refused at start-up.


def settings(monkeypatch: pytest.MonkeyPatch, env: Optional[str], **config: Any) -> Any:
    if env is None:
        monkeypatch.delenv(tpu.ENV_TRUSTED, raising=False)
    else:
        monkeypatch.setenv(tpu.ENV_TRUSTED, env)
    protocol = tpu.proxy_protocol()
    conf = Config(app, http=protocol, lifespan="off", **config)
    conf.load()
    return protocol._pp_cache[conf]  # type: ignore[attr-defined]


def trusts(policy: Any, address: str) -> bool:
    return policy.peer(address).trusted_by is not None


def test_env_is_preferred_to_forwarded_allow_ips(monkeypatch: pytest.MonkeyPatch) -> None:
    found = settings(monkeypatch, "10.0.0.0/8, unix", forwarded_allow_ips="127.0.0.1")
    assert trusts(found.policy, "10.9.9.9") and not trusts(found.policy, "127.0.0.1")
    assert found.policy.peer(None).trusted_by == "unix"


def test_forwarded_allow_ips_when_no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    found = settings(monkeypatch, None, forwarded_allow_ips="192.168.0.0/16,::1")
    assert trusts(found.policy, "192.168.1.1") and trusts(found.policy, "::1")
    assert not trusts(found.policy, "127.0.0.1")


def test_forwarded_allow_ips_star_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    found = settings(monkeypatch, None, forwarded_allow_ips="*")
    assert trusts(found.policy, "203.0.113.9")
    assert any("--forwarded-allow-ips='*'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("env", "allowed", "words"),
    [
        ("*", "127.0.0.1", "would let any peer claim any client address"),
        ("lb.example", "127.0.0.1", f"{tpu.ENV_TRUSTED}: trusted entry 'lb.example'"),
        (None, "", "--forwarded-allow-ips is empty"),
        (None, "/run/lb.sock", "--forwarded-allow-ips: trusted entry"),
    ],
)
def test_bad_trust_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, env: Optional[str], allowed: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        settings(monkeypatch, env, forwarded_allow_ips=allowed)


@pytest.mark.parametrize("tls", [{"ssl_certfile": "c.pem", "ssl_keyfile": "k.pem"}])
def test_uvicorn_tls_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, tls: dict[str, str]
) -> None:
    """Config.load() fails before the TLS context is even built (the files need not exist)."""
    with pytest.raises(ConfigError, match="Terminate TLS at the balancer"):
        settings(monkeypatch, "127.0.0.1", **tls)


def test_tls_context_factory_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="own TLS"):
        settings(monkeypatch, "127.0.0.1", ssl_context_factory=lambda config, default: None)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"trusted": "*"}, "any peer"),
        ({"trusted": "10.0.0.1/8"}, "trusted: "),
        ({"base": "zttp"}, "choose 'auto', 'h11' or 'httptools'"),
        ({"timeout": 0}, "positive number"),
        ({"timeout": float("inf")}, "positive number"),
        ({"timeout": True}, "positive number"),
        ({"max_length": 100}, "max_length=100"),
    ],
)
def test_factory_refuses_bad_values(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        tpu.proxy_protocol(**kwargs)


def test_module_names() -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert issubclass(tpu.ProxyProtocolH11, H11Protocol)
    assert issubclass(tpu.ProxyProtocolHttpTools, HttpToolsProtocol)
    assert issubclass(tpu.ProxyProtocol, HttpToolsProtocol)  # httptools is installed
    assert tpu.ProxyProtocol is tpu.ProxyProtocol
    with pytest.raises(AttributeError):
        tpu.ProxyProtocolZttp


def test_command_line_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--http trustproxy.uvicorn:ProxyProtocol`` goes through uvicorn's import path."""
    monkeypatch.setenv(tpu.ENV_TRUSTED, "10.0.0.0/8")
    conf = Config(app, http="trustproxy.uvicorn:ProxyProtocolH11", lifespan="off")
    conf.load()
    assert conf.http_protocol_class is tpu.ProxyProtocolH11
    found = tpu.ProxyProtocolH11._pp_cache[conf]  # type: ignore[attr-defined]
    assert trusts(found.policy, "10.0.0.1")


def test_logging_is_on_the_trustproxy_logger() -> None:
    assert tpu.limiter.logger is logging.getLogger("trustproxy")


class KeepingTransport:
    """A transport that keeps the protocol's bound ``data_received`` (as uvloop's does)
    and takes it again on ``set_protocol``; it feeds what the test sends through it."""

    def __init__(self, protocol: Any) -> None:
        self.written: list[bytes] = []
        self.closed = False
        self.set_protocol(protocol)

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol
        self.feed = protocol.data_received

    def get_protocol(self) -> Any:
        return self.protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def serve_in_process(cls: Any, *chunks: bytes) -> tuple[Any, KeepingTransport]:
    """``cls`` on a KeepingTransport, fed ``chunks`` one by one (each run to its reply)."""
    from uvicorn.server import ServerState

    loop = asyncio.new_event_loop()
    try:
        config = Config(app, http=cls, lifespan="off", log_level="warning")
        config.load()
        protocol = cls(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        transport = KeepingTransport(protocol)
        protocol.connection_made(transport)

        async def feed() -> None:
            for chunk in chunks:
                transport.feed(chunk)
                for _ in range(5):
                    await asyncio.sleep(0)

        loop.run_until_complete(feed())
    finally:
        loop.close()
    return protocol, transport


@pytest.mark.parametrize("base", ["h11", "httptools"])
def test_after_the_header_requests_run_uvicorns_own_code(base: Any) -> None:
    """Once the header is read the wrapper is out of the data path: uvicorn's own
    data_received (also for a transport that kept the bound method), the real transport,
    and uvicorn's instance attributes plus that one method (CPython shares at most 30
    with the class; more would slow every attribute uvicorn reads)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    cls = tpu.proxy_protocol(trusted="127.0.0.1", base=base)
    stock_cls = H11Protocol if base == "h11" else HttpToolsProtocol
    header = v2("203.0.113.9", "10.0.0.5", 4242, 443)
    protocol, transport = serve_in_process(cls, header, get("/a"), get("/b"))
    stock, _ = serve_in_process(stock_cls, get("/a"), get("/b"))
    uvicorns = stock_cls.data_received
    assert protocol.data_received.__func__ is uvicorns
    assert transport.feed.__func__ is uvicorns  # set_protocol() made it look again
    assert protocol.transport is transport
    assert (protocol.client, protocol.server) == (("203.0.113.9", 4242), ("10.0.0.5", 443))
    replies = b"".join(transport.written)
    assert replies.count(b"HTTP/1.1 200") == 2 and b'"client": ["203.0.113.9", 4242]' in replies
    assert set(vars(protocol)) - set(vars(stock)) == {"data_received"}
    assert len(vars(protocol)) <= 30
