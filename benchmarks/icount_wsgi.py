"""WSGI: instructions each middleware adds per request, counted by valgrind's callgrind.

Run:  PYTHONPATH=src python3 benchmarks/icount_wsgi.py [--requests 5000] [--scenarios NAME ...]

Wall-clock benchmarks (``bench_wsgi.py``) move with whatever else the machine is doing;
instruction counts do not.  For each contender and scenario this runs the same script
under ``valgrind --tool=callgrind`` twice, with 0 and with N requests, and reports
``(count(N) - count(0)) / N`` minus the same figure for the bare app: the instructions
the middleware adds per request.  The requests come from ``traffic.py`` (``one-hop``: a
copy of one prepared environ; ``one-hop-repeated``: one client, every environ built afresh
as gunicorn builds it; ``one-hop-new``: a new client each time, fresh strings; all five
fields); building them is counted for the bare app too, so it cancels out.  Instructions
are not time (cache misses and branch mispredictions are not counted), so read these
beside the wall-clock figures.

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
SCENARIOS = ("no-headers", "one-hop", "one-hop-repeated", "one-hop-new", "forwarded")
CONTENDERS = ("werkzeug", "trustproxy", "trustproxy-proxyfix")


def child(contender: str, scenario: str, requests: int) -> None:
    """Run ``requests`` requests through one contender (inside valgrind)."""
    sys.path.insert(0, str(HERE))
    import bench
    import traffic
    from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

    import trustproxy

    five = ("for", "proto", "host", "port", "prefix")
    app = bench.wsgi_app
    target = {
        "bare": app,
        "werkzeug": WerkzeugProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1),
        "trustproxy": trustproxy.WSGIMiddleware(app, trusted=traffic.PEER, fields=five),
        "trustproxy-forwarded": trustproxy.WSGIMiddleware(
            app, trusted=traffic.PEER, headers="forwarded", fields=("for", "proto", "host")
        ),
        "trustproxy-proxyfix": trustproxy.ProxyFix(
            app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
        ),
    }[contender]
    shape, mode = {
        "no-headers": (traffic.NO_HEADERS, traffic.REPEATED),
        "one-hop": (traffic.FIVE, traffic.IDENTICAL),
        "one-hop-repeated": (traffic.FIVE, traffic.REPEATED),
        "one-hop-new": (traffic.FIVE, traffic.NEW),
        "forwarded": (traffic.FORWARDED, traffic.IDENTICAL),
    }[scenario]
    # The same pool, batch and client sequence in every child: building the requests
    # costs the bare app's run as much as the contender's, so it cancels out.
    environs = traffic.Traffic(POOL).wsgi(shape, mode, requests)
    for environ in environs:
        target(environ, bench.start_response)


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
        names = ("trustproxy-forwarded",) if scenario == "forwarded" else CONTENDERS
        added = {name: per_request(name, scenario, args.requests) - bare for name in names}
        reference_scenario = "one-hop" if scenario == "forwarded" else scenario
        reference = (
            added["werkzeug"]
            if "werkzeug" in added
            else per_request("werkzeug", reference_scenario, args.requests)
            - per_request("bare", reference_scenario, args.requests)
        )
        print(f"\n{scenario}  (ratio to werkzeug ProxyFix on {reference_scenario})")
        if "werkzeug" not in added:
            print(f"  {'werkzeug':<22} {reference:10.0f}   1.00x")
        for name, value in added.items():
            print(f"  {name:<22} {value:10.0f}   {value / reference:5.2f}x")


if __name__ == "__main__":
    main()
