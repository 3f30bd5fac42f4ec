#!/usr/bin/env python3
"""PROXY protocol in uvicorn: requests per second, CPU and instructions per request, and
the parse's cost per connection.

Two uvicorn servers (httptools, one worker, the same one-line app, no access log), one
HAProxy in TCP mode on loopback with two frontends:

* ``plain``: HAProxy in plain TCP mode to stock uvicorn (``--http httptools``);
* ``proxy-v2``: HAProxy ``send-proxy-v2`` to ``uvicorn --http
  trustproxy.uvicorn:ProxyProtocol``.

wrk (``-t1``, keep-alive) sends requests through each, the two alternating round after
round (A/B, then B/A) so a slow spell of the shared machine hits both; per round and as
the median and quartiles of the per-round ratios: requests per second, and the uvicorn
process's CPU time per request (utime + stime from ``/proc/<pid>/stat`` over the run,
which moves much less with other load).  ``--pin`` runs both uvicorns on CPU 0 and
HAProxy and wrk on CPU 1 (taskset; only one uvicorn is busy at a time).  ``--control``
adds a second stock uvicorn behind plain TCP, measured in turn like the others: its
ratio to the first is what the machine's noise alone makes of two identical servers.

Then, without wrk: the instructions uvicorn executes per keep-alive request, counted by
valgrind's callgrind (exactly repeatable: stock ``H11Protocol``/``HttpToolsProtocol``
against trustproxy's, on a real asyncio socket transport, the client in the same
process and so the same in both); and the per-connection cost in µs:
:func:`trustproxy.proxy_protocol.parse` of the headers HAProxy sends, and
``connection_made`` + the header's ``data_received`` of ``ProxyProtocolHttpTools`` minus
uvicorn's own ``connection_made``.

    python3 benchmarks/proxy_protocol.py [--rounds 20] [--duration 3] [--connections 16]
        [--pin] [--control] [--only-parse] [--icount 2000]

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
"""
FRONTEND = """\
frontend {name}
    bind 127.0.0.1:{port}
    default_backend {name}
backend {name}
    server app 127.0.0.1:{app_port}{send}
"""
#: name -> (uvicorn's --http, HAProxy's server option, label)
VARIANTS = {
    "plain": ("httptools", "", "plain"),
    "pp": ("trustproxy.uvicorn:ProxyProtocol", " send-proxy-v2", "send-proxy-v2"),
    "control": ("httptools", "", "plain again"),
}


def start_uvicorn(folder: str, port: int, http: str, prefix: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), folder])
    env["TRUSTPROXY_PROXY_PROTOCOL_TRUSTED"] = "127.0.0.1"
    argv = [*prefix, sys.executable, "-m", "uvicorn", "ppbench:app", "--host", "127.0.0.1",
            "--port", str(port), "--http", http, "--no-access-log", "--log-level", "warning",
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


def wrk(url: str, duration: int, connections: int, prefix: list[str]) -> tuple[float, int]:
    argv = [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{duration}s", url]
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

        def set_protocol(self, protocol: Any) -> None:  # called once the header is read
            pass

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


def serve_child(variant: str, base: str, number: int) -> None:
    """``number`` keep-alive requests to uvicorn's protocol (``variant`` "stock") or
    trustproxy's ("proxy", after a version 1 header) on a real loopback socket, the
    client in the same event loop (run under callgrind by :func:`instructions`)."""
    import socket

    from uvicorn.config import Config
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    import trustproxy.uvicorn as tpu

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"ok"})

    if variant == "stock":
        cls: Any = H11Protocol if base == "h11" else HttpToolsProtocol
    else:
        cls = tpu.proxy_protocol(trusted="127.0.0.1", base=base)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    config = Config(app, lifespan="off", http=cls, access_log=False)
    config.load()
    state = ServerState()
    request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"

    async def main() -> None:
        server = await loop.create_server(
            lambda: cls(config=config, server_state=state, app_state={}, _loop=loop),
            "127.0.0.1",
            0,
        )
        port = server.sockets[0].getsockname()[1]
        with socket.socket() as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", port))
            if variant != "stock":
                host, sport = sock.getsockname()[:2]
                header = f"PROXY TCP4 {host} 127.0.0.1 {sport} {port}\r\n"
                await loop.sock_sendall(sock, header.encode())
            for _ in range(number + 2):  # two to warm up, then the ones counted
                await loop.sock_sendall(sock, request)
                # A fixed number of loop turns for the server to read, run the app and
                # write (loopback delivers at once): then one recv gets the reply, and
                # the count does not depend on timing.
                for _ in range(6):
                    await asyncio.sleep(0)
                got = b""
                while not got.endswith(b"ok"):
                    got += await loop.sock_recv(sock, 4096)
        server.close()
        await server.wait_closed()

    loop.run_until_complete(main())
    loop.close()


def instructions(number: int) -> dict[str, tuple[float, float]]:
    """Instructions per keep-alive request, stock uvicorn and with the header read."""
    import callgrind

    results = {}
    for base in ("httptools", "h11"):
        stock, proxied = (
            callgrind.per_request(__file__, variant, base, number) for variant in ("stock", "proxy")
        )
        results[base] = (stock, proxied)
    return results


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pin", action="store_true", help="uvicorn on CPU 0, the rest on 1")
    parser.add_argument("--control", action="store_true",
                        help="a second stock uvicorn, measured in turn: the noise")  # fmt: skip
    parser.add_argument("--only-parse", action="store_true", help="skip the wrk runs")
    parser.add_argument("--icount", type=int, default=2000, metavar="N",
                        help="requests counted by callgrind (0: skip)")  # fmt: skip
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "BASE", "N"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.child:
        serve_child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    sys.path.insert(0, str(HERE.parent / "fuzz"))  # the tests' encoder: fuzz/proxy_encoder
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    if not args.only_parse:
        tools = ("wrk", "haproxy", *(("taskset",) if args.pin else ()))
        for tool in tools:
            if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
                print(f"{tool} is not installed", file=sys.stderr)
                return 2
        run_wrk(args)
    if args.icount and shutil.which("valgrind") is None:
        print("\nvalgrind is not installed: no instruction counts")
    elif args.icount:
        print(f"\ninstructions per keep-alive request (callgrind, {args.icount} requests):")
        for base, (stock, proxied) in instructions(args.icount).items():
            print(f"  {base:<10} uvicorn {stock:9.0f}, with the PROXY header read"
                  f" {proxied:9.0f}: {proxied - stock:+.0f} ({stock / proxied:.4f})")  # fmt: skip
    print("\nper connection, in process (µs, best of 5):")
    for name, value in per_connection_us().items():
        print(f"  {name:<42} {value:6.2f}")
    return 0


def quartiles(values: list[float]) -> str:
    low, _, high = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return f"median {statistics.median(values):.3f}, quartiles {low:.3f}-{high:.3f}," \
        f" range {min(values):.3f}-{max(values):.3f}"  # fmt: skip


def run_wrk(args: argparse.Namespace) -> None:
    pin_uvicorn = ["taskset", "-c", "0"] if args.pin else []
    pin_rest = ["taskset", "-c", "1"] if args.pin else []
    names = ["plain", "pp", *(["control"] if args.control else [])]
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "ppbench.py").write_text(APP)
        ports = {name: (free_port(), free_port()) for name in names}
        servers = {
            name: start_uvicorn(folder, ports[name][1], VARIANTS[name][0], pin_uvicorn)
            for name in names
        }
        config = HAPROXY + "".join(
            FRONTEND.format(name=name, port=ports[name][0], app_port=ports[name][1],
                            send=VARIANTS[name][1])
            for name in names
        )  # fmt: skip
        Path(folder, "haproxy.cfg").write_text(config)
        haproxy_bin = shutil.which("haproxy") or "/usr/sbin/haproxy"
        haproxy = subprocess.Popen([*pin_rest, haproxy_bin, "-db", "-f", "haproxy.cfg"],
                                   cwd=folder, start_new_session=True)  # fmt: skip
        try:
            urls = {name: f"http://127.0.0.1:{ports[name][0]}/" for name in servers}
            for url in urls.values():
                wait_http(url)
                wrk(url, 1, args.connections, pin_rest)  # warm-up, not counted
            rows: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            for n in range(args.rounds):
                # Each variant first, in the middle and last in turn (A/B, then B/A).
                order = names[n % len(names) :] + names[: n % len(names)]
                for name in order if n % 2 == 0 else order[::-1]:
                    before = group_cpu(servers[name].pid)
                    rps, done = wrk(urls[name], args.duration, args.connections, pin_rest)
                    cpu = (group_cpu(servers[name].pid) - before) / done * 1e6
                    rows[name].append((rps, cpu))
                plain = rows["plain"][-1]
                print(f"round {n + 1:2}: plain {plain[0]:6.0f} req/s {plain[1]:5.1f} µs CPU"
                      + "".join(f"; {VARIANTS[name][2]} {rows[name][-1][0]:6.0f} req/s"
                                f" {rows[name][-1][1]:5.1f} µs CPU"
                                f" (ratios {rows[name][-1][0] / plain[0]:.3f},"
                                f" CPU {plain[1] / rows[name][-1][1]:.3f})"
                                for name in names[1:]))  # fmt: skip
            for name in names:
                print(f"{VARIANTS[name][2]}: {statistics.median(r for r, _ in rows[name]):.0f}"
                      f" req/s, {statistics.median(c for _, c in rows[name]):.1f} µs CPU per"
                      " request (medians)")  # fmt: skip
            for name in names[1:]:
                label = VARIANTS[name][2]
                ratios = [p[0] / q[0] for p, q in zip(rows[name], rows["plain"])]
                cpu_ratios = [q[1] / p[1] for p, q in zip(rows[name], rows["plain"])]
                print(f"{label} / plain, req/s, per round: {quartiles(ratios)}")
                print(f"{label} / plain, CPU per request (plain's / {label}'s): "
                      f"{quartiles(cpu_ratios)}")  # fmt: skip
        finally:
            for proc in (*servers.values(), haproxy):
                stop(proc)


if __name__ == "__main__":
    sys.exit(main())
