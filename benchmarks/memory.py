"""Memory stays flat: a million requests with distinct client addresses through WSGIMiddleware.

Not a unit test (it takes a while); run it by hand and record the figures in
docs/security.md::

    PYTHONPATH=src python3 benchmarks/memory.py [--requests 1000000] [--every 100000]
                                                [--no-tracemalloc] [--long-headers]

Every request comes from a distinct client (an IPv4 or IPv6 address never seen before)
through a trusted proxy, with a distinct forwarded host and prefix, so every cache misses
and fills.  With ``--long-headers`` every request also carries a 4 KB X-Forwarded-For and
a distinct 4 KB Host, the case where a cache keyed by header text would keep the most
alive.  Printed at each interval: the memory Python has allocated (tracemalloc, current
and peak since start) and the process RSS (from /proc on Linux).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from typing import Any

from trustproxy import WSGIMiddleware


def rss_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # peak, not current


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return []


def start_response(*args: Any) -> None:
    return None


def environ_for(n: int, long_headers: bool) -> dict[str, Any]:
    if n % 2:
        client = f"2001:db8:{n >> 32 & 0xFFFF:x}:{n >> 16 & 0xFFFF:x}:{n & 0xFFFF:x}::1"
    else:
        client = f"100.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    padding = ("6.6.6.6, " * 455) if long_headers else ""
    return {
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": f"app{n}.example" + ("x" * 4000 if long_headers else ""),
        "SERVER_NAME": "app.example",
        "SERVER_PORT": "80",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "HTTP_X_FORWARDED_FOR": f"{padding}{client}, 10.0.{n >> 8 & 255}.{n & 255}",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": f"h{n}.example",
        "HTTP_X_FORWARDED_PREFIX": f"/p{n}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--long-headers", action="store_true")
    args = parser.parse_args(argv)
    middleware = WSGIMiddleware(app, trusted="loopback, 10.0.0.0/8", fields="for,proto,host,prefix")
    trace = not args.no_tracemalloc
    # Warm up imports and code paths, then start counting from a settled heap.
    for n in range(1000):
        middleware(environ_for(n, args.long_headers), start_response)
    gc.collect()
    if trace:
        tracemalloc.start()
    print(f"python {sys.version.split()[0]}, {args.requests:,} requests, long headers:"
          f" {args.long_headers}, tracemalloc: {trace}")  # fmt: skip
    print(f"{'requests':>10} {'traced KiB':>11} {'peak KiB':>9} {'RSS KiB':>8} {'seconds':>8}")
    started = time.perf_counter()
    first_rss = rss_kib()
    for n in range(1000, 1000 + args.requests):
        environ = environ_for(n, args.long_headers)
        middleware(environ, start_response)
        done = n - 999
        if done % args.every == 0:
            current, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
            print(
                f"{done:>10,} {current // 1024:>11,} {peak // 1024:>9,} {rss_kib():>8,}"
                f" {time.perf_counter() - started:>8.1f}"
            )
    print(f"RSS growth over the run: {rss_kib() - first_rss:,} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
