"""What each ASGI proxy middleware adds per request, interleaved in one process.

    PYTHONPATH=src python3 benchmarks/bench_asgi.py [--rounds N]

Each middleware wraps a do-nothing ASGI app and is driven directly, without an event
loop: the coroutine is stepped with ``send(None)`` until ``StopIteration`` (none of
them awaits anything but the app).  Every call gets a fresh shallow copy of a prepared
scope (uvicorn edits the scope in place); the bare app gets the same copy, so the copy
is part of the baseline and cancels out.  Candidates take turns in short batches over
many rounds and the fastest batch of each is kept (timeit's advice: on a shared machine
noise only ever adds time), so drift hits them all alike.  Reported:
the cost each adds over calling the bare app, per request, and the ratios the targets
are stated in (issue 4):

* one hop: trustproxy <= 0.6 x uvicorn's added cost;
* 10,000 trusted CIDRs and a new client address on every request: <= 1.5 x the
  one-CIDR cost.

A benchmark, not a test: numbers depend on the machine; read them side by side.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any, Callable

from hypercorn.middleware.proxy_fix import ProxyFixMiddleware as HypercornProxyFix
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware as UvicornProxyHeaders

from trustproxy import ASGIMiddleware, ProxyHeadersMiddleware

Scope = dict[str, Any]
App = Callable[..., Any]

BATCH_SECONDS = 0.005


async def bare(scope: Scope, receive: Any, send: Any) -> None:
    return None


async def receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def send(message: dict[str, Any]) -> None:
    return None


class DoNothing:
    """The cheapest possible pure-ASGI wrapper: the floor any middleware pays."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def scope(extra: Sequence[tuple[bytes, bytes]] = ()) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/orders/42",
        "raw_path": b"/orders/42",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"shop.example"),
            (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101"),
            (b"accept", b"text/html,application/xhtml+xml"),
            (b"accept-encoding", b"gzip, deflate, br"),
            (b"cookie", b"session=0123456789abcdef"),
            *extra,
        ],
        "client": ("127.0.0.1", 51234),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def batch(app: App, scopes: Sequence[Scope], start: int, n: int) -> float:
    """Seconds per request for ``n`` calls, scopes taken in turn from ``start``."""
    count = len(scopes)
    index = start
    clock = time.perf_counter
    begin = clock()
    for _ in range(n):
        coroutine = app(dict(scopes[index]), receive, send)
        try:
            while True:
                coroutine.send(None)
        except StopIteration:
            pass
        index += 1
        if index == count:
            index = 0
    return (clock() - begin) / n


def calibrate(app: App, scopes: Sequence[Scope]) -> tuple[int, int]:
    """A batch size that takes about BATCH_SECONDS, and the next scope to use (scopes
    already seen are not reused before the list wraps: caches must not flatter)."""
    n, used = 1, 0
    while True:
        elapsed = batch(app, scopes, used % len(scopes), n) * n
        used += n
        if elapsed >= BATCH_SECONDS or n >= 1 << 20:
            return n, used % len(scopes)
        n *= 2


def measure(candidates: dict[str, tuple[App, Sequence[Scope]]], rounds: int) -> dict[str, float]:
    """Best seconds per request of each candidate, batches interleaved."""
    sizes: dict[str, int] = {}
    offsets: dict[str, int] = {}
    for name, (app, scopes) in candidates.items():
        sizes[name], offsets[name] = calibrate(app, scopes)
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, (app, scopes) in candidates.items():
            n = sizes[name]
            samples[name].append(batch(app, scopes, offsets[name], n))
            offsets[name] = (offsets[name] + n) % len(scopes)
    return {name: min(values) for name, values in samples.items()}


def fresh_addresses(count: int) -> list[str]:
    # 100.64.0.0/10 (RFC 6598), none of them trusted; more distinct addresses than any
    # cache holds, so every request meets an address it has not seen lately.
    return [f"100.{64 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}" for i in range(count)]


def report(title: str, times: dict[str, float], baseline: str) -> dict[str, float]:
    base = times[baseline]
    added = {name: value - base for name, value in times.items() if name != baseline}
    print(f"\n{title}")
    print(f"  {'middleware':<44} {'per request':>12} {'added':>10}")
    print(f"  {baseline:<44} {base * 1e6:>10.2f}us {'':>10}")
    for name, value in added.items():
        print(f"  {name:<44} {times[name] * 1e6:>10.2f}us {value * 1e6:>8.2f}us")
    return added


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args(argv)

    one_hop = [scope([(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")])]
    plain = [scope()]
    candidates = {
        "bare app": bare,
        "do-nothing wrapper": DoNothing(bare),
        "uvicorn ProxyHeadersMiddleware": UvicornProxyHeaders(bare, "127.0.0.1"),
        "hypercorn ProxyFixMiddleware": HypercornProxyFix(bare, "legacy", 1),
        "trustproxy ASGIMiddleware": ASGIMiddleware(bare, trusted="127.0.0.1"),
        "trustproxy ProxyHeadersMiddleware": ProxyHeadersMiddleware(bare, "127.0.0.1"),
    }
    none_added = report(
        "No forwarding headers",
        measure({name: (app, plain) for name, app in candidates.items()}, args.rounds),
        "bare app",
    )
    hop_added = report(
        "One hop (X-Forwarded-For + X-Forwarded-Proto from 127.0.0.1)",
        measure({name: (app, one_hop) for name, app in candidates.items()}, args.rounds),
        "bare app",
    )

    networks = [f"10.{i >> 8}.{i & 255}.0/24" for i in range(9_999)] + ["127.0.0.0/8"]
    fresh = [
        scope([(b"x-forwarded-for", address.encode())]) for address in fresh_addresses(100_000)
    ]
    many = {
        "bare app": (bare, fresh),
        "trustproxy ASGIMiddleware, 1 CIDR": (
            ASGIMiddleware(bare, trusted="127.0.0.0/8"),
            fresh,
        ),
        "trustproxy ASGIMiddleware, 10,000 CIDRs": (
            ASGIMiddleware(bare, trusted=networks),
            fresh,
        ),
        "uvicorn ProxyHeadersMiddleware, 1 CIDR": (
            UvicornProxyHeaders(bare, "127.0.0.0/8"),
            fresh,
        ),
        "uvicorn ProxyHeadersMiddleware, 10,000 CIDRs": (
            UvicornProxyHeaders(bare, networks),
            fresh,
        ),
    }
    many_added = report(
        "A new client address on every request",
        measure(many, max(3, args.rounds // 8)),
        "bare app",
    )

    ours = hop_added["trustproxy ASGIMiddleware"]
    theirs = hop_added["uvicorn ProxyHeadersMiddleware"]
    scale = many_added["trustproxy ASGIMiddleware, 10,000 CIDRs"]
    one = many_added["trustproxy ASGIMiddleware, 1 CIDR"]
    uv_scale = many_added["uvicorn ProxyHeadersMiddleware, 10,000 CIDRs"]
    uv_one = many_added["uvicorn ProxyHeadersMiddleware, 1 CIDR"]
    print("\nRatios (target)")
    print(f"  one hop, trustproxy / uvicorn added cost:        {ours / theirs:6.2f}x  (<= 0.6)")
    print(f"  10,000 CIDRs / 1 CIDR, trustproxy:               {scale / one:6.2f}x  (<= 1.5)")
    print(f"  10,000 CIDRs / 1 CIDR, uvicorn:                  {uv_scale / uv_one:6.0f}x")
    quiet = none_added["trustproxy ASGIMiddleware"] / none_added["uvicorn ProxyHeadersMiddleware"]
    print(f"  no headers, trustproxy / uvicorn added cost:     {quiet:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
