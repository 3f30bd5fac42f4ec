#!/usr/bin/env python3
"""Requests per second through real servers, with and without trustproxy (wrk).

Runs ``wrk`` on loopback against gunicorn (WSGI) and, when ``trustproxy.asgi`` exists,
uvicorn (ASGI), each serving a minimal app either bare or wrapped in trustproxy, and with
``--peer`` also with the peer's own proxy handling (werkzeug ``ProxyFix(x_for=1,
x_proto=1)`` around the gunicorn app; uvicorn's ``--proxy-headers
--forwarded-allow-ips 127.0.0.1``).  Every request looks like one hop behind a trusted
proxy: it comes from 127.0.0.1 (trusted) with ``X-Forwarded-For: 203.0.113.7`` and
``X-Forwarded-Proto: https``, sent as wrk ``-H`` headers straight to the app server.
With ``--rotate N`` a wrk Lua script gives every request a different X-Forwarded-For
instead, cycling through N clients (70 % IPv4, 30 % IPv6, as ``traffic.py``): the traffic
a site sees, and Core v2's throughput measure (``--rotate 100000``).  The variants
alternate, round after round, so a slow spell of a shared machine hits all of them; the
report gives each round's ratios and the medians.  Two ratios: of requests per second
(what wrk saw; on a shared machine other sessions' load moves it by tens of percent) and
of the server's CPU time per request (read from /proc for the server's process group: a
server that needs 3% more CPU per request serves 3% fewer requests when it is the
bottleneck, and this figure barely moves with other load).  ``--pin`` runs the server on
CPU 0 and wrk on CPU 1 (taskset).

    python3 benchmarks/throughput.py [--rounds 5] [--duration 5] [--connections 16]
                                     [--rotate 100000] [--peer] [--pin]
                                     [--servers gunicorn,uvicorn] [--worker gthread|sync]

The app is as small as an app can be (it returns the client address), so the ratio is
the worst case: a real app spends more per request and the middleware's share shrinks.
The results are in docs/benchmarks-throughput.md.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

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


# What the server should serve: "0" the bare app, "1" trustproxy, "peer" the peer's own
# (werkzeug's ProxyFix for WSGI; for ASGI uvicorn's --proxy-headers around the bare app).
_WRAP = os.environ.get("TRUSTPROXY_BENCH_WRAP", "0")

wsgi_app: Any = _bare_wsgi
asgi_app: Any = _bare_asgi
if _WRAP == "1":
    from trustproxy import WSGIMiddleware

    wsgi_app = WSGIMiddleware(_bare_wsgi, **SETTINGS)
    if importlib.util.find_spec("trustproxy.asgi") is not None:
        from trustproxy.asgi import ASGIMiddleware

        asgi_app = ASGIMiddleware(_bare_asgi, **SETTINGS)
elif _WRAP == "peer" and importlib.util.find_spec("werkzeug") is not None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    wsgi_app = ProxyFix(_bare_wsgi, x_for=1, x_proto=1)

#: The variants a run compares, in this order: label -> TRUSTPROXY_BENCH_WRAP.
VARIANTS = {"bare": "0", "peer": "peer", "trustproxy": "1"}


# --- the runner ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_argv(server: str, port: int, variant: str, worker: str) -> list[str]:
    if server == "gunicorn":
        # gthread: keep-alive connections, as behind a proxy that pools them
        threads = ["--threads", "4"] if worker == "gthread" else []
        return [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1",
                "-k", worker, *threads, "--forwarded-allow-ips", "",
                "--log-level", "warning", "throughput:wsgi_app"]  # fmt: skip
    proxy = (["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"] if variant == "peer"
             else ["--no-proxy-headers"])  # fmt: skip
    return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            *proxy, "--no-access-log", "--log-level", "warning",
            "throughput:asgi_app"]  # fmt: skip


def start(server: str, variant: str, worker: str, pin: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(HERE), env.get("PYTHONPATH", "")])
    env["TRUSTPROXY_BENCH_WRAP"] = VARIANTS[variant]
    argv = server_argv(server, port, variant, worker)
    if pin:
        argv = ["taskset", "-c", "0", *argv]
    proc = subprocess.Popen(argv, env=env, start_new_session=True,
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
    expected = "127.0.0.1 http" if variant == "bare" else "203.0.113.7 https"
    if body != expected:  # the wrapped app must really apply the headers
        stop(proc)
        raise RuntimeError(f"{server} {variant} answered {body!r}, not {expected!r}")
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


def rotate_script(clients: int, directory: str) -> str:
    """A wrk Lua script giving every request the next of ``clients`` client addresses.

    70 % IPv4 (20.0.0.7-119.255.255.7), 30 % IPv6 (2a00::/16), none trusted; the
    X-Forwarded-Proto stays ``https``.  Building each request in Lua costs wrk, not the
    server (with ``--pin`` they run on different CPUs).
    """
    script = f"""-- written by benchmarks/throughput.py --rotate {clients}
local clients = {clients}
local i = 0
request = function()
  i = i % clients + 1
  local client
  if i % 10 < 3 then
    client = string.format("2a00:%x:%x::%x", math.floor(i / 65536) + 1, i % 65536, i % 251 + 1)
  else
    client = string.format("%d.%d.%d.7", 20 + math.floor(i / 65536) % 100,
                           math.floor(i / 256) % 256, i % 256)
  end
  return wrk.format(nil, nil, {{["X-Forwarded-For"] = client, ["X-Forwarded-Proto"] = "https"}})
end
"""
    path = os.path.join(directory, "rotate.lua")
    with open(path, "w") as handle:
        handle.write(script)
    return path


def wrk(
    url: str, duration: int, connections: int, script: Optional[str], pin: bool
) -> tuple[float, int]:
    """(requests per second, requests done)."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        argv += ["-s", script]
    else:
        for name, value in HEADERS.items():
            argv += ["-H", f"{name}: {value}"]
    if pin:
        argv = ["taskset", "-c", "1", *argv]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or done is None or errors is not None:
        raise RuntimeError(f"wrk failed:\n{out}")
    return float(match.group(1)), int(done.group(1))


class Run(NamedTuple):
    rps: float  # requests per second (wall clock: other load on the machine shows here)
    cpu_us: float  # the server's CPU time per request, in µs (steadier on a shared machine)


def measure(
    proc: subprocess.Popen[bytes], url: str, args: argparse.Namespace, script: Optional[str]
) -> Run:
    before = group_cpu(proc.pid)
    rps, done = wrk(url, args.duration, args.connections, script, args.pin)
    return Run(rps, (group_cpu(proc.pid) - before) / done * 1e6)


def in_process_us(server: str, new_clients: bool, repeat: int = 5, number: int = 5000) -> float:
    """The middleware's own cost per request, in-process (µs): wrapped minus bare call.

    Steadier than wrk on a shared machine (timed like ``bench.py``: this thread's CPU
    time, the best of ``repeat``); with the bare server's CPU per request it predicts the
    ratio.  The requests come from ``traffic.py``: a new client and fresh
    values each time with ``--rotate``, else one prepared request copied.
    """
    import bench
    import traffic

    load = traffic.Traffic(traffic.CLIENTS if new_clients else 1000)
    mode = traffic.NEW if new_clients else traffic.IDENTICAL
    if server == "gunicorn":
        from trustproxy import WSGIMiddleware

        wrapped: Any = WSGIMiddleware(_bare_wsgi, **SETTINGS)
        bare: Any = _bare_wsgi
        build, run = load.wsgi, bench.run_wsgi
    else:
        from trustproxy.asgi import ASGIMiddleware

        wrapped = ASGIMiddleware(_bare_asgi, **SETTINGS)
        bare = _bare_asgi
        build, run = load.asgi, bench.run_asgi

    def once(app: Any) -> float:
        # In chunks of 50, as bench.py times them: a server's request is hot in cache.
        total = 0.0
        for _ in range(number // 50):
            total += run(app, build(traffic.FOR_PROTO, mode, 50)) * 50
        return total / (number // 50 * 50)

    best = {"bare": math.inf, "wrapped": math.inf}
    for _ in range(repeat):
        for name, app in (("bare", bare), ("wrapped", wrapped)):
            best[name] = min(best[name], once(app))
    return (best["wrapped"] - best["bare"]) * 1e6


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rotate", type=int, default=0, metavar="N",
                        help="rotate X-Forwarded-For over N clients (wrk Lua script)")  # fmt: skip
    parser.add_argument("--peer", action="store_true",
                        help="also werkzeug's ProxyFix / uvicorn's --proxy-headers")  # fmt: skip
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, wrk on CPU 1")
    parser.add_argument("--servers", default="gunicorn,uvicorn")
    parser.add_argument("--worker", choices=("gthread", "sync"), default="gthread",
                        help="gunicorn worker class (gthread: 4 threads)")  # fmt: skip
    args = parser.parse_args(argv)
    sys.path.insert(0, str(SRC))  # measure this tree's trustproxy, as the servers do
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    if args.pin and shutil.which("taskset") is None:
        print("--pin needs taskset (util-linux)", file=sys.stderr)
        return 2
    servers = [name for name in args.servers.split(",") if name]
    if importlib.util.find_spec("trustproxy.asgi") is None and "uvicorn" in servers:
        servers.remove("uvicorn")
    variants = ["bare", "peer", "trustproxy"] if args.peer else ["bare", "trustproxy"]
    traffic_text = (f"X-Forwarded-For rotating over {args.rotate:,} clients" if args.rotate
                    else f"headers {HEADERS}")  # fmt: skip
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, rounds={args.rounds}, "
          f"{args.duration}s each, {args.connections} connections, {traffic_text}, "
          f"gunicorn -k {args.worker}, pinned: {args.pin}, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    costs = {server: in_process_us(server, bool(args.rotate)) for server in servers}
    for server, cost in costs.items():
        print(f"{server:9} trustproxy's cost in-process: {cost:.2f} us per request")
    with tempfile.TemporaryDirectory() as directory:
        script = rotate_script(args.rotate, directory) if args.rotate else None
        for server in servers:
            run_server(server, variants, args, script, costs[server])
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


def run_server(
    server: str,
    variants: list[str],
    args: argparse.Namespace,
    script: Optional[str],
    cost: float,
) -> None:
    procs = {variant: start(server, variant, args.worker, args.pin) for variant in variants}
    med = statistics.median
    try:
        for variant in variants:  # warm-up, not counted
            wrk(procs[variant][1], 1, args.connections, script, args.pin)
        runs: dict[str, list[Run]] = {variant: [] for variant in variants}
        for n in range(args.rounds):
            shift = n % len(variants)
            order = variants[shift:] + variants[:shift]
            got = {v: measure(procs[v][0], procs[v][1], args, script) for v in order}
            for variant in variants:
                runs[variant].append(got[variant])
            parts = [f"{v} {got[v].rps:7.0f} req/s {got[v].cpu_us:6.1f} us/req" for v in variants]
            print(f"{server:9} round {n + 1}: " + " | ".join(parts))
        bare_cpu = med(r.cpu_us for r in runs["bare"])
        summary = [f"{v} {med(r.rps for r in runs[v]):.0f} req/s, "
                   f"{med(r.cpu_us for r in runs[v]):.1f} us/req" for v in variants]  # fmt: skip
        print(f"{server:9} MEDIAN: " + "; ".join(summary))
        comparisons = (("trustproxy", "bare"), ("peer", "bare"), ("trustproxy", "peer"))
        for variant, reference in comparisons:
            if variant not in runs or reference not in runs:
                continue
            pairs = list(zip(runs[variant], runs[reference]))
            rps = [a.rps / b.rps for a, b in pairs]
            cpu = [b.cpu_us / a.cpu_us for a, b in pairs]
            extra = med(a.cpu_us - b.cpu_us for a, b in pairs)
            print(f"{server:9} {variant} / {reference}: req/s {med(rps):.3f} "
                  f"(min {min(rps):.3f}, max {max(rps):.3f}); by CPU {med(cpu):.3f} "
                  f"(min {min(cpu):.3f}, max {max(cpu):.3f}); "
                  f"CPU per request {extra:+.1f} us")  # fmt: skip
        predicted = bare_cpu / (bare_cpu + cost)
        print(f"{server:9} trustproxy / bare predicted from the in-process cost: {predicted:.3f}")
    finally:
        for proc, _ in procs.values():
            stop(proc)


if __name__ == "__main__":
    sys.exit(main())
