#!/usr/bin/env python3
"""PROXY protocol in uvicorn: requests per second, and the parse's cost per connection.

Two uvicorn servers (httptools, one worker, the same one-line app), one HAProxy in TCP
mode on loopback with two frontends:

* ``plain``: HAProxy in plain TCP mode to stock uvicorn (``--http httptools``);
* ``proxy-v2``: HAProxy ``send-proxy-v2`` to ``uvicorn --http
  trustproxy.uvicorn:ProxyProtocol``.

wrk sends keep-alive requests through each, the two alternating round after round so a
slow spell of the shared machine hits both; reported per round and as medians: the
requests per second and the server's CPU time per request (from /proc, steadier).  Then,
in process, the per-connection cost in µs: :func:`trustproxy.proxy_protocol.parse` of
the headers HAProxy sends, and ``connection_made`` + the header's ``data_received`` of
``ProxyProtocolHttpTools`` minus uvicorn's own ``connection_made``.

    python3 benchmarks/proxy_protocol.py [--rounds 5] [--duration 5] [--connections 16]

The results are in docs/benchmarks.md ("PROXY protocol in uvicorn").  Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))

from throughput import free_port, group_cpu, stop  # noqa: E402

APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""

HAPROXY = """\
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend plain
    bind 127.0.0.1:{plain}
    default_backend plain
frontend pp
    bind 127.0.0.1:{pp}
    default_backend pp
backend plain
    server app 127.0.0.1:{plain_app}
backend pp
    server app 127.0.0.1:{pp_app} send-proxy-v2
"""


def start_uvicorn(folder: str, port: int, http: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), folder])
    env["TRUSTPROXY_PROXY_PROTOCOL_TRUSTED"] = "127.0.0.1"
    argv = [sys.executable, "-m", "uvicorn", "ppbench:app", "--host", "127.0.0.1", "--port",
            str(port), "--http", http, "--no-access-log", "--log-level", "warning",
            "--lifespan", "off"]  # fmt: skip
    return subprocess.Popen(argv, env=env, start_new_session=True, cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def wait_http(url: str) -> None:
    for _ in range(300):  # bounded: 15 s
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def wrk(url: str, duration: int, connections: int) -> tuple[float, int]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(out.split("Requests/sec:")[1].split()[0])
    done = int(out.split(" requests in")[0].split()[-1])
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return rps, done


def per_connection_us() -> dict[str, float]:
    """In-process µs per connection (best of 5 repeats), this thread's CPU time."""
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    import trustproxy.uvicorn as tpu
    from trustproxy.proxy_protocol import parse

    v1 = b"PROXY TCP4 203.0.113.9 10.0.0.5 56324 443\r\n"
    v2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([203, 0, 113, 9, 10, 0, 0, 5])
          + (56324).to_bytes(2, "big") + (443).to_bytes(2, "big"))  # fmt: skip
    # What HAProxy sends with proxy-v2-options authority,unique-id,ssl,crc32c over TLS.
    import proxy_encoder as enc

    ssl_value = enc.ssl(0x01, 0, [(0x21, b"TLSv1.3"), (0x23, b"TLS_AES_256_GCM_SHA384")])
    tlvs = [(0x02, b"app.example"), (0x05, b"conn-203.0.113.9-56324"), (0x20, ssl_value)]
    rich = enc.v2(addresses=enc.inet("203.0.113.9", "10.0.0.5", 56324, 443), tlvs=tlvs, crc=True)
    results: dict[str, float] = {}
    number = 20000
    timer = time.thread_time
    for name, data in (("parse v1", v1), ("parse v2", v2), ("parse v2 + TLVs", rich)):
        assert parse(data) is not None
        best = min(timeit.repeat(lambda d=data: parse(d), repeat=5, number=number, timer=timer))
        results[name] = best / number * 1e6

    loop = asyncio.new_event_loop()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    os.environ["TRUSTPROXY_PROXY_PROTOCOL_TRUSTED"] = "127.0.0.1"
    config = Config(app, lifespan="off", http=tpu.ProxyProtocolHttpTools)
    config.load()
    state = ServerState()

    class Transport:
        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
                name, default
            )

    def nothing(self: Any, *args: Any) -> None:
        return None

    # A transport's methods are plain attributes, as on asyncio's (not __getattr__).
    for name in tpu._Endpoints._FORWARDED:
        setattr(Transport, name, nothing)
    transport = Transport()
    proxied = tpu.ProxyProtocolHttpTools

    def stock() -> None:
        protocol = HttpToolsProtocol(config=config, server_state=state, app_state={}, _loop=loop)
        protocol.connection_made(transport)  # type: ignore[arg-type]
        state.connections.discard(protocol)

    def with_header(data: bytes = v2) -> None:
        protocol = proxied(config=config, server_state=state, app_state={}, _loop=loop)  # type: ignore[call-arg]
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(data)
        state.connections.discard(protocol)

    number = 5000
    base = min(timeit.repeat(stock, repeat=5, number=number, timer=timer)) / number * 1e6
    for name, data in (("connection, v1", v1), ("connection, v2", v2)):
        cost = min(
            timeit.repeat(lambda d=data: with_header(d), repeat=5, number=number, timer=timer)
        )
        results[f"uvicorn {name} (added to {base:.1f} µs)"] = cost / number * 1e6 - base
    loop.close()
    return results


def per_request_us(rounds: int = 9, number: int = 20000) -> tuple[float, float]:
    """In-process µs of the server's CPU per keep-alive request, best of ``rounds``:
    uvicorn's HttpToolsProtocol, and ProxyProtocolHttpTools after a v2 header (the
    same app, a transport that only counts writes).  Steadier than wrk on a shared
    machine, and what the ratio of requests per second comes down to."""
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    import trustproxy.uvicorn as tpu

    os.environ["TRUSTPROXY_PROXY_PROTOCOL_TRUSTED"] = "127.0.0.1"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"ok"})

    class Transport:
        def __init__(self) -> None:
            self.out = 0

        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return {"peername": ("127.0.0.1", 4000), "sockname": ("127.0.0.1", 8000)}.get(
                name, default
            )

        def write(self, data: bytes) -> None:
            self.out += 1

        def is_closing(self) -> bool:
            return False

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

        def close(self) -> None:
            pass

    request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    v2 = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes(12)

    def run(cls: Any, header: bytes) -> float:
        loop = asyncio.new_event_loop()
        config = Config(app, lifespan="off", http=cls, access_log=False)
        config.load()
        transport = Transport()
        protocol = cls(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        protocol.connection_made(transport)
        if header:
            protocol.data_received(header)

        async def drive() -> None:
            for _ in range(number):
                protocol.data_received(request)
                await asyncio.sleep(0)
                await asyncio.sleep(0)

        start = time.thread_time()
        loop.run_until_complete(drive())
        took = time.thread_time() - start
        loop.close()
        if transport.out < number:
            raise RuntimeError(f"{transport.out} responses for {number} requests")
        return took / number * 1e6

    stock, wrapped = [], []
    for _ in range(rounds):
        stock.append(run(HttpToolsProtocol, b""))
        wrapped.append(run(tpu.ProxyProtocolHttpTools, v2))
    return min(stock), min(wrapped)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only-parse", action="store_true", help="skip the wrk runs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "fuzz"))  # the tests' encoder: fuzz/proxy_encoder
    if not args.only_parse:
        for tool in ("wrk", "haproxy"):
            if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
                print(f"{tool} is not installed", file=sys.stderr)
                return 2
        run_wrk(args)
    print("\nper connection, in process (µs, best of 5):")
    for name, value in per_connection_us().items():
        print(f"  {name:<42} {value:6.2f}")
    stock, wrapped = per_request_us()
    print(f"\nper keep-alive request, in process (µs of CPU, best of 9): uvicorn {stock:.2f},"
          f" with the PROXY header read {wrapped:.2f}; ratio {stock / wrapped:.3f}")  # fmt: skip
    return 0


def run_wrk(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "ppbench.py").write_text(APP)
        ports = {"plain": free_port(), "pp": free_port(), "plain_app": free_port(),
                 "pp_app": free_port()}  # fmt: skip
        servers = {
            "plain": start_uvicorn(folder, ports["plain_app"], "httptools"),
            "pp": start_uvicorn(folder, ports["pp_app"], "trustproxy.uvicorn:ProxyProtocol"),
        }
        Path(folder, "haproxy.cfg").write_text(HAPROXY.format(**ports))
        haproxy_bin = shutil.which("haproxy") or "/usr/sbin/haproxy"
        haproxy = subprocess.Popen([haproxy_bin, "-db", "-f", "haproxy.cfg"], cwd=folder,
                                   start_new_session=True)  # fmt: skip
        try:
            urls = {name: f"http://127.0.0.1:{ports[name]}/" for name in servers}
            for url in urls.values():
                wait_http(url)
            rows: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            for n in range(args.rounds):
                for name in ("plain", "pp") if n % 2 == 0 else ("pp", "plain"):
                    before = group_cpu(servers[name].pid)
                    rps, done = wrk(urls[name], args.duration, args.connections)
                    cpu = (group_cpu(servers[name].pid) - before) / done * 1e6
                    rows[name].append((rps, cpu))
                plain, pp = rows["plain"][-1], rows["pp"][-1]
                print(f"round {n + 1}: plain {plain[0]:8.0f} req/s {plain[1]:6.1f} µs CPU;"
                      f" send-proxy-v2 {pp[0]:8.0f} req/s {pp[1]:6.1f} µs CPU;"
                      f" ratio {pp[0] / plain[0]:.3f}")  # fmt: skip
            ratios = [p[0] / q[0] for p, q in zip(rows["pp"], rows["plain"])]
            cpu_ratios = [q[1] / p[1] for p, q in zip(rows["pp"], rows["plain"])]
            print(
                f"median: plain {statistics.median(r for r, _ in rows['plain']):.0f} req/s,"
                f" send-proxy-v2 {statistics.median(r for r, _ in rows['pp']):.0f} req/s;"
                f" req/s ratio {statistics.median(ratios):.3f}"
                f" (per-round {min(ratios):.3f}-{max(ratios):.3f});"
                f" CPU-per-request ratio (plain/pp) {statistics.median(cpu_ratios):.3f}"
            )
        finally:
            for proc in (*servers.values(), haproxy):
                stop(proc)


if __name__ == "__main__":
    sys.exit(main())
