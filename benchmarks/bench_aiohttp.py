"""trustproxy.aiohttp against aiohttp-remotes' XForwardedFiltered: the cost each adds.

    PYTHONPATH=src python3 benchmarks/bench_aiohttp.py [--rounds 15] [--number 2000]

Each contender is called the way aiohttp's server calls a middleware,
`middleware(request, handler)`, on a do-nothing handler, with no server and no event
loop (the coroutine is stepped with `send(None)`: nothing in it awaits).  The requests
are aiohttp's own `web.Request` objects (as tests/builders.py builds them): from the
proxy 127.0.0.1, with `X-Forwarded-For: <a new client>` (traffic.py's pool: 70 % IPv4,
30 % IPv6, none seen lately) and `X-Forwarded-Proto: https`; every request and its
header objects are built afresh, outside the clock, in chunks of 50, each chunk
`gc.freeze`-d before it is timed.  The figure is the median over rounds of (time per
request - the bare handler's, in the same round, on requests built alike), the
contenders taking turns in an order that rotates each round.

Both middlewares hand the handler a new request with the client and scheme:
aiohttp-remotes calls `request.clone(remote=…, scheme=…)`; trustproxy makes the same
object by copying the request's attributes (trustproxy._aiohttp_clone, checked against
`clone` on the first request).  Two more rows, in the same rounds, show what the clone
itself costs: trustproxy made to call `request.clone` (`public_clone`), and
`request.clone(remote=…, scheme=…)` alone.  Neither middleware keeps a memo of outcomes
(each request is from a new client); trustproxy's trust lookups of the peer are cached.

The target (issue 15): trustproxy adds at most 0.5x what XForwardedFiltered adds.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import traffic  # noqa: E402

import builders  # noqa: E402

CHUNK = 50
TARGET = 0.5


def contenders() -> dict[str, Callable[..., Any]]:
    from aiohttp import web
    from aiohttp_remotes import XForwardedFiltered

    import trustproxy.aiohttp

    response = web.Response(text="ok")

    async def handler(request: web.Request) -> web.StreamResponse:
        return response

    from trustproxy import _aiohttp_clone

    ours = trustproxy.aiohttp.middleware(trusted="127.0.0.1")
    # aiohttp-remotes never checks the peer; its trusted list names the proxies *inside*
    # X-Forwarded-For.  One proxy, so nothing in the header is trusted.
    theirs = XForwardedFiltered({"10.0.0.1"}).middleware

    def trustproxy_with(public: bool) -> Callable[[Any], Any]:
        def call(request: Any) -> Any:
            # Both trustproxy rows pay this one assignment.
            _aiohttp_clone.public_clone = public
            return ours(request, handler)

        return call

    return {
        "bare": lambda request: handler(request),
        "trustproxy": trustproxy_with(False),
        "aiohttp-remotes XForwardedFiltered": lambda request: theirs(request, handler),
        "trustproxy with request.clone": trustproxy_with(True),
        "request.clone(remote, scheme) alone": lambda request: handler(
            request.clone(remote="203.0.113.7", scheme="https")
        ),
    }


def build(clients: list[str], start: int, n: int) -> list[Any]:
    return [
        builders.aiohttp_request(
            traffic.PEER,
            [
                ("X-Forwarded-For", clients[(start + i) % len(clients)]),
                ("X-Forwarded-Proto", "https"),
            ],
        )
        for i in range(n)
    ]


def run(call: Callable[..., Any], requests: Sequence[Any]) -> float:
    clock = time.thread_time
    start = clock()
    for request in requests:
        coroutine = call(request)
        try:
            coroutine.send(None)
        except StopIteration:
            pass
        else:  # pragma: no cover - the contenders never await
            raise RuntimeError("a contender awaited something")
    return (clock() - start) / len(requests)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args(argv)
    from trustproxy import _aiohttp_clone

    try:
        return measure(args)
    finally:
        _aiohttp_clone.public_clone = False  # as it was: the tests run this in-process


def measure(args: argparse.Namespace) -> int:
    calls = contenders()
    names = list(calls)
    clients = traffic.client_pool()
    cursor = 0
    # Warm up the adaptive interpreter on every contender.
    for call in calls.values():
        run(call, build(clients, 0, 200))
    added: dict[str, list[float]] = {name: [] for name in names[1:]}
    for round_number in range(args.rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        per_request: dict[str, float] = {}
        for name in order:
            total, done = 0.0, 0
            while done < args.number:
                chunk = build(clients, cursor, min(CHUNK, args.number - done))
                cursor += len(chunk)
                gc.freeze()
                total += run(calls[name], chunk) * len(chunk)
                done += len(chunk)
                gc.unfreeze()
            per_request[name] = total / done
        for name in names[1:]:
            added[name].append(per_request[name] - per_request["bare"])
    ours = statistics.median(added["trustproxy"])
    theirs = statistics.median(added["aiohttp-remotes XForwardedFiltered"])
    print(f"{args.rounds} rounds x {args.number} requests, thread CPU time, µs added:")
    for name, values in added.items():
        q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
        print(f"  {name:38} {statistics.median(values) * 1e6:6.2f}"
              f"  (quartiles {q[0] * 1e6:.2f}-{q[2] * 1e6:.2f})")  # fmt: skip
    ratio = ours / theirs
    verdict = "met" if ratio <= TARGET else "not met"
    print(f"  trustproxy / aiohttp-remotes: {ratio:.2f}x (target <= {TARGET}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
