"""ASGI: instructions each middleware adds per request, counted by valgrind's callgrind.

Run:  PYTHONPATH=src python benchmarks/icount_asgi.py [--requests 5000] [--scenarios NAME ...]

Wall-clock benchmarks (``bench_asgi.py``) move with whatever else the machine is doing;
instruction counts do not.  For each contender and scenario this runs the same script
under ``valgrind --tool=callgrind`` twice, with 0 and with N requests, and reports
``(count(N) - count(0)) / N`` minus the same figure for the bare app: the instructions
the middleware adds per request.  The requests come from ``traffic.py`` (``one-hop``: a
shallow copy of one prepared scope; ``one-hop-repeated``: one client, every scope built
afresh as uvicorn builds it; ``one-hop-new``: a new client each time, fresh bytes); building
them is counted for the bare app too, so it cancels out.  The coroutine is stepped with
``send(None)``: no event loop.  Instructions are not time (cache misses and branch
mispredictions are not counted), so read these beside the wall-clock figures.
Run it once first, or mind that the first child compiles the package's ``.pyc`` files.

Needs ``valgrind`` (Debian package) and the real interpreter binary: a launcher script
(such as a pyenv shim) would be measured instead of Python.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import callgrind

HERE = Path(__file__).resolve().parent
# Clients drawn for the "new" scenario: more than any cache holds, fewer than valgrind
# would take long to draw.
POOL = 20_000
SCENARIOS = ("no-headers", "one-hop", "one-hop-repeated", "one-hop-new")
CONTENDERS = ("do-nothing", "uvicorn", "trustproxy")


def child(contender: str, scenario: str, requests: int) -> None:
    """Run ``requests`` requests through one contender (inside valgrind)."""
    sys.path.insert(0, str(HERE))
    import bench
    import traffic
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    import trustproxy

    app = bench.asgi_app
    target = {
        "bare": app,
        "do-nothing": bench.DoNothingASGI(app),
        "uvicorn": ProxyHeadersMiddleware(app, traffic.PEER),
        "trustproxy": trustproxy.ASGIMiddleware(app, trusted=traffic.PEER),
    }[contender]
    shape, mode = {
        "no-headers": (traffic.NO_HEADERS, traffic.REPEATED),
        "one-hop": (traffic.FOR_PROTO, traffic.IDENTICAL),
        "one-hop-repeated": (traffic.FOR_PROTO, traffic.REPEATED),
        "one-hop-new": (traffic.FOR_PROTO, traffic.NEW),
    }[scenario]
    # The same pool, batch and client sequence in every child: building the requests
    # costs the bare app's run as much as the contender's, so it cancels out.
    scopes = traffic.Traffic(POOL).asgi(shape, mode, requests)
    receive, send = bench.receive, bench.send
    for scope in scopes:
        coroutine = target(scope, receive, send)
        try:
            while True:
                coroutine.send(None)
        except StopIteration:
            pass


def per_request(contender: str, scenario: str, requests: int) -> float:
    return callgrind.per_request(__file__, contender, scenario, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=SCENARIOS)
    parser.add_argument("--child", nargs=3, metavar=("CONTENDER", "SCENARIO", "N"))
    args = parser.parse_args()
    if args.child:
        contender, scenario, requests = args.child
        child(contender, scenario, int(requests))
        return
    callgrind.require_valgrind()
    print(f"python {sys.version.split()[0]}; instructions added per request, N={args.requests}")
    for scenario in args.scenarios:
        bare = per_request("bare", scenario, args.requests)
        added = {name: per_request(name, scenario, args.requests) - bare for name in CONTENDERS}
        reference = added["uvicorn"]
        print(f"\n{scenario}  (ratio to uvicorn ProxyHeadersMiddleware)")
        for name, value in added.items():
            print(f"  {name:<12} {value:10.0f}   {value / reference:5.2f}x")


if __name__ == "__main__":
    main()
