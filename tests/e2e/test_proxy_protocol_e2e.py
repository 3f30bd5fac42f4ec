"""PROXY protocol end to end: real L4 balancers in front of real uvicorn.

uvicorn runs from the command line exactly as the docs say
(``uvicorn ... --http trustproxy.uvicorn:ProxyProtocol``, trust from
``TRUSTPROXY_PROXY_PROTOCOL_TRUSTED``); in front of it, on loopback and in TCP mode:
HAProxy ``send-proxy``, ``send-proxy-v2`` and ``send-proxy-v2-ssl`` (TLS ending at HAProxy),
nginx ``stream { proxy_protocol on; }`` and Envoy's ``upstream_proxy_protocol`` (v2).
Each is started once for the module; clients bind 127.0.0.5 or ::1 to be told apart.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest

from .lab import Proc, find_binary, free_port, free_port_pair, python
from .servers import SRC

APP = """
import json

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return
    header = scope.get("extensions", {}).get("trustproxy.proxy_protocol")
    ssl = header.ssl if header is not None else None
    seen = {
        "client": list(scope["client"]) if scope["client"] else None,
        "server": list(scope["server"]) if scope["server"] else None,
        "version": header.version if header else None,
        "command": header.command if header else None,
        "authority": header.authority if header else None,
        "ssl": None if ssl is None else {"tls": ssl.tls, "version": ssl.version,
                                         "cipher": ssl.cipher},
    }
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(seen)})
        await send({"type": "websocket.close"})
        return
    body = json.dumps(seen).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""

WSGI_APP = """
import json
from trustproxy import WSGIMiddleware

def inner(environ, start_response):
    body = json.dumps({"client": [environ["REMOTE_ADDR"], int(environ["REMOTE_PORT"])],
                       "proxy": environ.get("PROXY_ADDR")}).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]

# The L7 proxy behind the balancer, when there is one, is 10.1.2.3.
app = WSGIMiddleware(inner, trusted="10.1.2.3")
"""

HAPROXY = """\
global
    log stderr format short local0 warning
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend v1
    bind 127.0.0.1:{v1}
    bind ipv6@::1:{v1}
    default_backend v1
frontend v2
    bind 127.0.0.1:{v2}
    bind ipv6@::1:{v2}
    default_backend v2
frontend gunicorn
    bind 127.0.0.1:{gunicorn}
    bind ipv6@::1:{gunicorn}
    default_backend gunicorn
frontend tls
    bind 127.0.0.1:{tls} ssl crt {both}
    default_backend v2ssl
backend v1
    server app 127.0.0.1:{app} send-proxy
backend v2
    server app 127.0.0.1:{app} send-proxy-v2
backend gunicorn
    server app 127.0.0.1:{gunicorn_app} send-proxy-v2
backend v2ssl
    server app 127.0.0.1:{app} send-proxy-v2-ssl proxy-v2-options ssl-cipher,authority
"""

NGINX = """\
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
pid nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
stream {{
    server {{
        listen 127.0.0.1:{port};
        listen [::1]:{port};
        proxy_pass 127.0.0.1:{app};
        proxy_protocol on;
    }}
}}
"""

ENVOY = """\
static_resources:
  listeners:
  - name: l4
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: l4
          cluster: app
  clusters:
  - name: app
    type: STATIC
    load_assignment:
      cluster_name: app
      endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address:
        {{address: 127.0.0.1, port_value: {app}}}}}}}}}]}}]
    transport_socket:
      name: envoy.transport_sockets.upstream_proxy_protocol
      typed_config:
        "@type": {upstream_type}
        config: {{version: V2}}
        transport_socket:
          name: envoy.transport_sockets.raw_buffer
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
"""


UPSTREAM_TYPE = (
    "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3"
    ".ProxyProtocolUpstreamTransport"
)


class Lab(NamedTuple):
    app: int
    ports: dict[str, int]
    uvicorn: Proc
    gunicorn: int


def _listening(port: int, host: str = "127.0.0.1") -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        return sock.connect_ex((host, port)) == 0


def _wait(proc: Proc, *ports: int) -> None:
    deadline = time.monotonic() + 20
    while not all(_listening(port) for port in ports):
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{proc.name} did not start:\n{proc.log()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pp(lab: Path, certs: dict[str, Path]) -> Iterator[Lab]:
    folder = lab / "proxy-protocol"
    folder.mkdir()
    (folder / "ppapp.py").write_text(APP)
    started: list[Proc] = []
    app_port = free_port()
    env = {
        "PYTHONPATH": os.pathsep.join([str(SRC), str(folder)]),
        "TRUSTPROXY_PROXY_PROTOCOL_TRUSTED": "127.0.0.1",
    }
    argv = [python(), "-m", "uvicorn", "ppapp:app", "--host", "127.0.0.1", "--port",
            str(app_port), "--http", "trustproxy.uvicorn:ProxyProtocol", "--ws", "auto",
            "--lifespan", "off", "--log-level", "warning"]  # fmt: skip
    try:
        uvicorn = Proc("uvicorn", argv, folder, env)
        started.append(uvicorn)
        _wait(uvicorn, app_port)
        (folder / "wsgiapp.py").write_text(WSGI_APP)
        gunicorn_app = free_port()
        gunicorn_argv = [python(), "-m", "gunicorn", "-b", f"127.0.0.1:{gunicorn_app}", "-w",
                         "1", "--proxy-protocol", "v2", "--proxy-allow-from", "127.0.0.1",
                         "--log-level", "warning", "wsgiapp:app"]  # fmt: skip
        gunicorn = Proc("gunicorn", gunicorn_argv, folder, env)
        started.append(gunicorn)
        _wait(gunicorn, gunicorn_app)
        ports = {"v1": free_port_pair(), "v2": free_port_pair(), "tls": free_port(),
                 "gunicorn": free_port_pair()}  # fmt: skip
        (folder / "haproxy.cfg").write_text(
            HAPROXY.format(**ports, app=app_port, gunicorn_app=gunicorn_app, **certs)
        )
        haproxy = Proc("haproxy", [find_binary("haproxy"), "-db", "-f", "haproxy.cfg"], folder)
        started.append(haproxy)
        ports["nginx"] = free_port_pair()
        (folder / "nginx.conf").write_text(NGINX.format(port=ports["nginx"], app=app_port))
        nginx_argv = [find_binary("nginx"), "-p", f"{folder}/", "-e", "stderr", "-c",
                      str(folder / "nginx.conf"), "-g", "daemon off;"]  # fmt: skip
        started.append(Proc("nginx", nginx_argv, folder))
        ports["envoy"] = free_port()
        (folder / "envoy.yaml").write_text(
            ENVOY.format(port=ports["envoy"], app=app_port, upstream_type=UPSTREAM_TYPE)
        )
        envoy_argv = [find_binary("envoy"), "-c", "envoy.yaml", "--disable-hot-restart",
                      "--concurrency", "1", "-l", "warn"]  # fmt: skip
        started.append(Proc("envoy", envoy_argv, folder))
        for proc in started[2:]:
            _wait(proc, *(port for name, port in ports.items() if name.startswith(proc.name)))
        _wait(haproxy, ports["v1"], ports["v2"], ports["tls"], ports["gunicorn"])
        yield Lab(app_port, ports, uvicorn, gunicorn_app)
    finally:
        for proc in started:
            proc.stop()


def _connect(port: int, client: str, tls: Optional[Path] = None) -> socket.socket:
    family = socket.AF_INET6 if ":" in client else socket.AF_INET
    sock = socket.socket(family)
    sock.settimeout(10)
    sock.bind((client, 0))
    sock.connect(("::1" if ":" in client else "127.0.0.1", port))
    if tls is not None:
        context = ssl.create_default_context(cafile=str(tls))
        sock = context.wrap_socket(sock, server_hostname="localhost")
    return sock


def _exchange(sock: socket.socket, path: str) -> dict[str, Any]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    result: dict[str, Any] = json.loads(body)
    return result


@pytest.mark.parametrize(
    ("balancer", "client", "version"),
    [
        ("v1", "127.0.0.5", 1),
        ("v1", "::1", 1),
        ("v2", "127.0.0.5", 2),
        ("v2", "::1", 2),
        ("nginx", "127.0.0.5", 1),
        ("nginx", "::1", 1),
        ("envoy", "127.0.0.5", 2),
    ],
    ids=lambda value: str(value).replace(":", "_"),
)
def test_client_seen_through_the_balancer(
    pp: Lab, balancer: str, client: str, version: int
) -> None:
    """Three keep-alive requests on one connection: each sees the real client."""
    port = pp.ports[balancer]
    with _connect(port, client) as sock:
        address, client_port = sock.getsockname()[:2]
        for n in range(3):
            seen = _exchange(sock, f"/{n}")
            assert seen["client"] == [address, client_port]
            assert seen["server"] == ["::1" if ":" in client else "127.0.0.1", port]
            assert (seen["version"], seen["command"]) == (version, "PROXY")


def test_send_proxy_v2_ssl(pp: Lab, certs: dict[str, Path]) -> None:
    """TLS ends at HAProxy; the SSL TLV says so, and the scope has the client."""
    with _connect(pp.ports["tls"], "127.0.0.5", tls=certs["cert"]) as sock:
        address, client_port = sock.getsockname()[:2]
        negotiated = sock.version()
        cipher = sock.cipher()
        seen = _exchange(sock, "/tls")
        again = _exchange(sock, "/tls2")
    assert seen["client"] == again["client"] == [address, client_port]
    assert seen["ssl"]["tls"] is True
    assert seen["ssl"]["version"] == negotiated
    assert seen["ssl"]["cipher"] == cipher[0]  # type: ignore[index]
    assert seen["authority"] == "localhost"  # the SNI


def test_websocket_through_haproxy(pp: Lab) -> None:
    from websockets.sync.client import connect

    sock = _connect(pp.ports["v2"], "127.0.0.5")
    address, client_port = sock.getsockname()[:2]
    with connect(f"ws://127.0.0.1:{pp.ports['v2']}/ws", sock=sock) as ws:
        seen = json.loads(ws.recv(timeout=10))
    assert seen["client"] == [address, client_port]
    assert seen["version"] == 2


def test_header_straight_to_uvicorn_from_an_untrusted_peer(pp: Lab) -> None:
    """A client that reaches uvicorn itself and writes a header is closed, and logged."""
    with _connect(pp.app, "127.0.0.5") as sock:
        sock.sendall(b"PROXY TCP4 6.6.6.6 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(65536) == b""

    deadline = time.monotonic() + 5
    while "127.0.0.5 closed: it is not a trusted balancer" not in pp.uvicorn.log():
        assert time.monotonic() < deadline, pp.uvicorn.log()
        time.sleep(0.05)


@pytest.mark.parametrize("client", ["127.0.0.5", "::1"], ids=["ipv4", "ipv6"])
def test_gunicorn_proxy_protocol_with_wsgi_middleware(pp: Lab, client: str) -> None:
    """gunicorn's own ``--proxy-protocol v2`` sets REMOTE_ADDR; the middleware takes it as
    the peer, so a forged X-Forwarded-For from the client changes nothing."""
    # gunicorn's sync worker closes after each response: one request per connection.
    with _connect(pp.ports["gunicorn"], client) as sock:
        address, client_port = sock.getsockname()[:2]
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data
    seen = json.loads(data.partition(b"\r\n\r\n")[2])
    assert seen["client"] == [address, client_port]
    assert seen["proxy"] == ("::1" if ":" in client else "127.0.0.1")


def test_gunicorn_header_from_an_untrusted_peer(pp: Lab) -> None:
    """gunicorn refuses a header from a peer outside --proxy-allow-from."""
    with _connect(pp.gunicorn, "127.0.0.5") as sock:
        v2 = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes(
            [6, 6, 6, 6, 127, 0, 0, 1, 0, 1, 0, 2]
        )
        sock.sendall(v2 + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    assert data.startswith(b"HTTP/1.1 403"), data  # gunicorn's ForbiddenProxyRequest
