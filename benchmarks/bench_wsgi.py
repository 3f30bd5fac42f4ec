"""WSGI: the cost each middleware adds per request, measured side by side.

Run:  python benchmarks/bench_wsgi.py [--rounds 15] [--number 20000]

Every contender wraps the same do-nothing app.  For each scenario the contenders are timed
in interleaved rounds (the order rotates every round) in this one process; the figure
reported is the median over rounds of (time per call - time of calling the bare app).
Each call gets a fresh copy of the environ, as a server would pass, and the copy's cost is
in the bare baseline too, so it cancels out.

"cold" scenarios give every request a client address the caches have not seen (the
addresses cycle through 200,000 values, far more than any cache holds), so no memo or
parse cache helps: that is the cost for a new client.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Callable

from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

import trustproxy

Environ = dict[str, Any]
App = Callable[[Environ, Any], Iterable[bytes]]


def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
    return ()


def do_nothing(inner: App) -> App:
    def wrapper(environ: Environ, start_response: Any) -> Iterable[bytes]:
        return inner(environ, start_response)

    return wrapper


BASE: Environ = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/",
    "SCRIPT_NAME": "",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "51000",
    "HTTP_HOST": "127.0.0.1:8000",
    "wsgi.url_scheme": "http",
}
FIVE = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "example.com",
    "HTTP_X_FORWARDED_PORT": "443",
    "HTTP_X_FORWARDED_PREFIX": "/app",
}


def cycle_clients(count: int) -> Iterator[Environ]:
    """Environs with a new client address each time (198.18.0.0/15 benchmark range).

    Built one at a time: holding hundreds of thousands of dicts alive would make every
    garbage collection slow and bill that to whichever contender allocates most.
    """
    fixed = {**BASE, **FIVE}
    while True:
        for i in range(count):
            yield {
                **fixed,
                "HTTP_X_FORWARDED_FOR": f"198.{18 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}",
            }


def contenders() -> dict[str, App]:
    five = ("for", "proto", "host", "port", "prefix")
    found: dict[str, App] = {
        "do-nothing wrapper": do_nothing(app),
        "werkzeug ProxyFix": WerkzeugProxyFix(
            app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
        ),
        "trustproxy WSGIMiddleware": trustproxy.WSGIMiddleware(app, fields=five),
    }
    # The same middleware with both memos off: what the walk itself costs, for comparing
    # a 10,000-item header (never memoised: keys over 2 KB are refused) on equal terms.
    unmemoised = trustproxy.WSGIMiddleware(app, fields=five)
    unmemoised._plans = None
    unmemoised.resolver._memo = None
    found["trustproxy, memos off"] = unmemoised
    found["trustproxy, Forwarded"] = trustproxy.WSGIMiddleware(
        app, headers="forwarded", fields=("for", "proto", "host")
    )
    proxy_fix = getattr(trustproxy, "ProxyFix", None)
    if proxy_fix is not None:
        found["trustproxy ProxyFix"] = proxy_fix(
            app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
        )
    return found


def scenarios() -> dict[str, Callable[[], Environ]]:
    def fixed(extra: Environ) -> Callable[[], Environ]:
        environ = {**BASE, **extra}
        return lambda: environ.copy()

    cold = cycle_clients(200_000)
    return {
        "no forwarding headers": fixed({}),
        "one hop, five fields": fixed({**FIVE, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
        "one hop, five fields, cold": lambda: next(cold).copy(),
        "one hop, Forwarded (for, proto, host)": fixed(
            {"HTTP_FORWARDED": 'for=203.0.113.9;proto=https;host="example.com"'}
        ),
        "50-item X-Forwarded-For": fixed(
            {**FIVE, "HTTP_X_FORWARDED_FOR": ", ".join(["6.6.6.6"] * 49 + ["203.0.113.9"])}
        ),
        "10,000-item X-Forwarded-For": fixed(
            {**FIVE, "HTTP_X_FORWARDED_FOR": ", ".join(["6.6.6.6"] * 9_999 + ["203.0.113.9"])}
        ),
    }


def time_calls(target: App, make: Callable[[], Environ], number: int) -> float:
    environs = [make() for _ in range(number)]
    clock = time.perf_counter
    start = clock()
    for environ in environs:
        target(environ, None)
    return (clock() - start) / number


def run(rounds: int, number: int) -> dict[str, dict[str, float]]:
    apps = {"bare app": app, **contenders()}
    results: dict[str, dict[str, float]] = {}
    for scenario, make in scenarios().items():
        n = number if "10,000" not in scenario else max(number // 10, 200)
        samples: dict[str, list[float]] = {name: [] for name in apps}
        names = list(apps)
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(time_calls(apps[name], make, n))
        bare = statistics.median(samples["bare app"])
        results[scenario] = {
            name: max(statistics.median(times) - bare, 0.0) * 1e6
            for name, times in samples.items()
            if name != "bare app"
        }
    return results


def report(results: dict[str, dict[str, float]]) -> str:
    lines = [f"python {sys.version.split()[0]}, trustproxy {trustproxy.__version__}", ""]
    for scenario, costs in results.items():
        if "Forwarded (" in scenario:
            # werkzeug cannot read Forwarded: compare with its cost for the same one-hop
            # request written as X-Forwarded-*.
            forwarded = costs["trustproxy, Forwarded"]
            reference = results["one hop, five fields"]["werkzeug ProxyFix"]
            lines.append(f"{scenario}  (ratio to werkzeug ProxyFix on one hop, five fields)")
            lines.append(
                f"  {'trustproxy, Forwarded':<28} {forwarded:10.2f} µs   "
                f"{forwarded / reference:6.2f}x"
            )
            lines.append("")
            continue
        costs = {
            k: v
            for k, v in costs.items()
            if k != "trustproxy, Forwarded"
            and ("memos off" not in k or "hop" in scenario or "item" in scenario)
        }
        reference = costs["werkzeug ProxyFix"]
        lines.append(f"{scenario}  (added cost per request, µs; ratio to werkzeug ProxyFix)")
        for name, cost in costs.items():
            ratio = cost / reference if reference else float("nan")
            lines.append(f"  {name:<28} {cost:10.2f} µs   {ratio:6.2f}x")
        lines.append("")
    one = results["one hop, five fields"]
    big = results["10,000-item X-Forwarded-For"]
    walk = big["trustproxy, memos off"] / one["trustproxy, memos off"]
    shipped = big["trustproxy WSGIMiddleware"] / one["trustproxy WSGIMiddleware"]
    lines.append(
        "trustproxy WSGIMiddleware, 10,000 items vs one item (all five fields):"
        f" {walk:.2f}x with the memos off on both; {shipped:.2f}x as shipped"
        " (the one-item request is memoised, the 10,000-item one never is)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args()
    print(report(run(args.rounds, args.number)))


if __name__ == "__main__":
    main()
