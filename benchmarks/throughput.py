#!/usr/bin/env python3
"""Requests per second through real servers, with and without trustproxy (wrk).

Runs ``wrk`` on loopback against gunicorn (WSGI) and, when ``trustproxy.asgi`` exists,
uvicorn (ASGI), each serving a minimal app either bare or wrapped in trustproxy.  Every
request looks like one hop behind a trusted proxy: it comes from 127.0.0.1 (trusted)
with ``X-Forwarded-For: 203.0.113.7`` and ``X-Forwarded-Proto: https``, sent as wrk
``-H`` headers straight to the app server.  Bare and wrapped runs alternate, round after
round, so a slow spell of a shared machine hits both; the report gives each round's
ratios and the medians.  Two ratios: of requests per second (what wrk saw; on a shared
machine other sessions' load moves it by tens of percent) and of the server's CPU time
per request (read from /proc for the server's process group: a server that needs 3%
more CPU per request serves 3% fewer requests when it is the bottleneck, and this figure
barely moves with other load).

    python3 benchmarks/throughput.py [--rounds 5] [--duration 5] [--connections 16]

The app is as small as an app can be (it returns the client address), so the ratio is
the worst case: a real app spends more per request and the middleware's share shrinks.
The results are in docs/benchmarks-throughput.md.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable, NamedTuple

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
HEADERS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
SETTINGS: dict[str, Any] = {"trusted": "127.0.0.1"}  # fields: ("for", "proto"), the default


# --- the apps the servers import (``throughput:wsgi_app`` / ``throughput:asgi_app``) ---


def _bare_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = f"{environ['REMOTE_ADDR']} {environ['wsgi.url_scheme']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


async def _bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    client = scope.get("client") or ("", 0)
    body = f"{client[0]} {scope['scheme']}".encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _wrap() -> bool:
    return os.environ.get("TRUSTPROXY_BENCH_WRAP") == "1"


if _wrap():
    from trustproxy import WSGIMiddleware

    wsgi_app: Any = WSGIMiddleware(_bare_wsgi, **SETTINGS)
    if importlib.util.find_spec("trustproxy.asgi") is not None:
        from trustproxy.asgi import ASGIMiddleware

        asgi_app: Any = ASGIMiddleware(_bare_asgi, **SETTINGS)
else:
    wsgi_app = _bare_wsgi
    asgi_app = _bare_asgi


# --- the runner ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_argv(server: str, port: int) -> list[str]:
    if server == "gunicorn":
        # gthread: keep-alive connections, as behind a proxy that pools them
        return [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1",
                "-k", "gthread", "--threads", "4", "--forwarded-allow-ips", "",
                "--log-level", "warning", "throughput:wsgi_app"]  # fmt: skip
    return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--no-proxy-headers", "--no-access-log", "--log-level", "warning",
            "throughput:asgi_app"]  # fmt: skip


def start(server: str, wrapped: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(HERE), env.get("PYTHONPATH", "")])
    env["TRUSTPROXY_BENCH_WRAP"] = "1" if wrapped else "0"
    proc = subprocess.Popen(server_argv(server, port), env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    request = urllib.request.Request(url, headers=HEADERS)
    for _ in range(300):  # bounded: 15 s
        try:
            with urllib.request.urlopen(request, timeout=1) as reply:
                body = reply.read().decode()
            break
        except OSError:
            time.sleep(0.05)
    else:
        stop(proc)
        raise RuntimeError(f"{server} did not start")
    expected = "203.0.113.7 https" if wrapped else "127.0.0.1 http"
    if body != expected:  # the wrapped app must really apply the headers
        stop(proc)
        raise RuntimeError(f"{server} wrapped={wrapped} answered {body!r}, not {expected!r}")
    return proc, url


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by every process in group ``pgid``."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp; utime and stime are fields 14 and 15 of stat
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, duration: int, connections: int) -> tuple[float, int]:
    """(requests per second, requests done)."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in HEADERS.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or done is None or errors is not None:
        raise RuntimeError(f"wrk failed:\n{out}")
    return float(match.group(1)), int(done.group(1))


def measure(proc: subprocess.Popen[bytes], url: str, duration: int, connections: int) -> Run:
    before = group_cpu(proc.pid)
    rps, done = wrk(url, duration, connections)
    return Run(rps, (group_cpu(proc.pid) - before) / done * 1e6)


class Run(NamedTuple):
    rps: float  # requests per second (wall clock: other load on the machine shows here)
    cpu_us: float  # the server's CPU time per request, in µs (steadier on a shared machine)


def overhead_us() -> float:
    """The middleware's own cost per request, in-process (µs): wrapped minus bare call.

    Steadier than wrk on a shared machine; with the bare server's req/s it predicts the
    ratio: 1 / (1 + overhead * bare req/s).
    """
    import timeit

    from trustproxy import WSGIMiddleware

    wrapped = WSGIMiddleware(_bare_wsgi, **SETTINGS)
    environ = {"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "wsgi.url_scheme": "http",
               "HTTP_HOST": "127.0.0.1:8000", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
               "SCRIPT_NAME": "", "HTTP_X_FORWARDED_FOR": "203.0.113.7",
               "HTTP_X_FORWARDED_PROTO": "https"}  # fmt: skip

    def start_response(*args: Any) -> None:
        return None

    def best(app: Any) -> float:
        runs = timeit.repeat(lambda: app(dict(environ), start_response), number=20000, repeat=5)
        return min(runs) / 20000 * 1e6

    return best(wrapped) - best(_bare_wsgi)


def asgi_overhead_us() -> float:
    """:func:`overhead_us` for ASGIMiddleware: one request driven without an event loop."""
    import timeit

    from trustproxy.asgi import ASGIMiddleware

    wrapped = ASGIMiddleware(_bare_asgi, **SETTINGS)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
             "root_path": "", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"x-forwarded-for", b"203.0.113.7"),
                         (b"x-forwarded-proto", b"https")],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def once(app: Any) -> None:
        coroutine = app(dict(scope), receive, send)
        # nothing awaits for real: the coroutine finishes in one step
        with contextlib.suppress(StopIteration):
            coroutine.send(None)

    def best(app: Any) -> float:
        runs = timeit.repeat(lambda: once(app), number=20000, repeat=5)
        return min(runs) / 20000 * 1e6

    return best(wrapped) - best(_bare_asgi)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(SRC))  # measure this tree's trustproxy, as the servers do
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    servers = ["gunicorn"]
    if importlib.util.find_spec("trustproxy.asgi") is not None:
        servers.append("uvicorn")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, rounds={args.rounds}, "
          f"{args.duration}s each, {args.connections} connections, headers {HEADERS}")  # fmt: skip
    costs = {"gunicorn": overhead_us()}
    print(f"WSGIMiddleware cost in-process: {costs['gunicorn']:.2f} us per request")
    if "uvicorn" in servers:
        costs["uvicorn"] = asgi_overhead_us()
        print(f"ASGIMiddleware cost in-process: {costs['uvicorn']:.2f} us per request")
    for server in servers:
        procs = {wrapped: start(server, wrapped) for wrapped in (False, True)}
        try:
            for wrapped in (False, True):  # warm-up, not counted
                wrk(procs[wrapped][1], 1, args.connections)
            runs: dict[bool, list[Run]] = {False: [], True: []}
            rps_ratios, cpu_ratios = [], []
            for n in range(args.rounds):
                order = (False, True) if n % 2 == 0 else (True, False)
                got = {w: measure(procs[w][0], procs[w][1], args.duration, args.connections)
                       for w in order}  # fmt: skip
                for w in (False, True):
                    runs[w].append(got[w])
                rps_ratios.append(got[True].rps / got[False].rps)
                cpu_ratios.append(got[False].cpu_us / got[True].cpu_us)
                print(f"{server:9} round {n + 1}: bare {got[False].rps:7.0f} req/s "
                      f"{got[False].cpu_us:6.1f} us/req | trustproxy {got[True].rps:7.0f} req/s "
                      f"{got[True].cpu_us:6.1f} us/req | ratio req/s {rps_ratios[-1]:.3f}, "
                      f"by CPU {cpu_ratios[-1]:.3f}")  # fmt: skip
            med = statistics.median
            bare_cpu = med(r.cpu_us for r in runs[False])
            print(f"{server:9} MEDIAN: bare {med(r.rps for r in runs[False]):.0f} req/s, "
                  f"{bare_cpu:.1f} us/req; trustproxy {med(r.rps for r in runs[True]):.0f} req/s, "
                  f"{med(r.cpu_us for r in runs[True]):.1f} us/req; "
                  f"ratio req/s {med(rps_ratios):.3f} (min {min(rps_ratios):.3f}, "
                  f"max {max(rps_ratios):.3f}); ratio by CPU {med(cpu_ratios):.3f} "
                  f"(min {min(cpu_ratios):.3f}, max {max(cpu_ratios):.3f})")  # fmt: skip
            if server in costs:
                predicted = bare_cpu / (bare_cpu + costs[server])
                print(f"{server:9} ratio predicted from the in-process cost: {predicted:.3f}")
        finally:
            for proc, _ in procs.values():
                stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
