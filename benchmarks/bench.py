"""What each proxy middleware adds per request, on the traffic a real server sees.

    PYTHONPATH=src python3 benchmarks/bench.py [--rounds 15] [--number 2000] [--quick]
                                               [--only wsgi|asgi] [--clock cpu|wall]
                                               [--json] [--profile] [--combine RUN.json ...]

The one runner for the in-process benchmarks (``bench_wsgi.py`` and ``bench_asgi.py``
run it for one interface).  WSGI middleware is measured against werkzeug's ``ProxyFix``
and ASGI middleware against uvicorn's ``ProxyHeadersMiddleware``, each wrapping the same
do-nothing app and called directly, with no server and no event loop (an ASGI coroutine
is stepped with ``send(None)``).  The requests come from ``traffic.py``: by default a new
client address on every request and every header value a new ``str`` or ``bytes``, as
gunicorn and uvicorn hand them over; the repeated-client and identical-object cases are
measured beside it.

How it is timed:

* For every contender, every round builds ``--number`` fresh requests, in chunks of 50
  (two for 90 KB headers) so that what the middleware reads is still in the CPU caches,
  as in a server that has just parsed it, and times each pass over a chunk.  Building is
  never timed.  A middleware edits the environ or scope it is given, so every contender
  gets its own requests, built the same way.
* Every round runs every row, and within a row every contender, in an order that rotates
  each round: all of them see the same machine, in turns.
* The figure for a contender is the median over rounds of (its time per request - the
  bare app's time per request in the same round, on requests of the same shape): the
  *added* cost.  The quartiles over rounds are printed beside it.
* The garbage collector stays on, as in a server; each prebuilt chunk is frozen
  (``gc.freeze``) before the clock starts so that collections do not walk it and bill it
  to whichever contender allocates most.  Python's adaptive interpreter is warmed up on
  every contender before the first round.

"Memos off" is trustproxy with every memo of request values disabled (see
:func:`memos_off`): the speed left is the path's, not remembering's.  The targets are
Core v2's (issue 11), each a ratio of added costs measured in the same run; the report
says for each whether it is met.  A benchmark, not a test: the figures depend on the
machine, so read them side by side, and run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib
import ipaddress
import json
import math
import operator
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Optional

import traffic
from hypercorn.middleware.proxy_fix import ProxyFixMiddleware as HypercornProxyFix
from traffic import FIVE, FOR_PROTO, FORWARDED, IDENTICAL, LONG, NEW, NO_HEADERS, REPEATED, Shape
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware as UvicornProxyHeaders
from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

import trustproxy

HERE = Path(__file__).resolve().parent
RESOLUTION_KEY = "trustproxy.resolution"
TRUSTED = traffic.PEER
FIVE_FIELDS = ("for", "proto", "host", "port", "prefix")

# --- the apps being wrapped ---------------------------------------------------------------


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    return ()


def start_response(*args: Any) -> None:
    return None


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    return None


async def receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def send(message: dict[str, Any]) -> None:
    return None


def do_nothing_wsgi(app: Any) -> Any:
    """The cheapest possible WSGI wrapper: the floor any middleware pays."""

    def wrapper(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return app(environ, start_response)  # type: ignore[no-any-return]

    return wrapper


class DoNothingASGI:
    """The cheapest possible pure-ASGI wrapper: the floor any middleware pays."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


#: What the runs are timed with: this thread's CPU time by default (time spent waiting
#: for a CPU that another process holds is not counted, so a shared machine's load moves
#: the figures far less), or the wall clock (``--clock wall``).
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def run_wsgi(app: Any, environs: Sequence[dict[str, Any]]) -> float:
    """Seconds per request for one pass over ``environs``."""
    begin = clock()
    for environ in environs:
        app(environ, start_response)
    return (clock() - begin) / len(environs)


def run_asgi(app: Any, scopes: Sequence[dict[str, Any]]) -> float:
    """Seconds per request for one pass over ``scopes`` (no event loop: nothing awaits)."""
    begin = clock()
    for scope in scopes:
        coroutine = app(scope, receive, send)
        try:
            while True:
                coroutine.send(None)
        except StopIteration:
            pass
    return (clock() - begin) / len(scopes)


# --- switching trustproxy's memos off -------------------------------------------------------


class Forgetful(dict):  # type: ignore[type-arg]
    """A memo that never remembers: every lookup misses, every store is dropped.

    ``__setitem__`` is :func:`operator.is_`, a C function that takes two arguments and
    keeps neither, so a store costs about what a real one does (a Python-level method
    would bill the memo-off figure for a call the library does not make).
    """

    __slots__ = ()
    __setitem__ = operator.is_  # type: ignore[assignment]


#: Process-wide memos keyed by request text (module, attribute).
MODULE_MEMOS = (
    ("trustproxy._address", "_cache"),
    ("trustproxy._values", "_host_cache"),
    ("trustproxy._values", "_prefix_cache"),
)


class ModuleMemosOff:
    """While a memo-off contender runs, the process-wide memos are forgetful ones.

    Entered and left outside the timed part; the real memos are put back afterwards, so
    memo-on contenders keep theirs.
    """

    def __init__(self) -> None:
        self.places = []
        for module_name, name in MODULE_MEMOS:
            module = importlib.import_module(module_name)
            if not isinstance(getattr(module, name, None), dict):
                raise RuntimeError(
                    f"{module_name}.{name} is gone: update MODULE_MEMOS / memos_off() in"
                    " benchmarks/bench.py to switch the new core's memos off"
                )
            self.places.append((module, name))
        self.saved: list[Any] = []

    def __enter__(self) -> None:
        self.saved = [getattr(module, name) for module, name in self.places]
        for module, name in self.places:
            setattr(module, name, Forgetful())

    def __exit__(self, *exc: object) -> None:
        for (module, name), saved in zip(self.places, self.saved):
            setattr(module, name, saved)


def memos_off(middleware: Any) -> Any:
    """Switch off every per-instance memo of request values in a trustproxy middleware.

    trustproxy has no switch for this today, so it is done from here, the least invasive
    way: the memos the code already skips when they are ``None`` (the path it takes when
    ``trusted`` holds a callable) are set to ``None`` — the resolver's ``_memo`` and
    the trust policy's hop cache ``_cache``; the resolver's always-on ``_checked_memo``
    becomes a :class:`Forgetful` dict; the process-wide parse caches are swapped by
    :class:`ModuleMemosOff` while the contender runs.  The adapters keep no outcome
    memo (there is none to switch off).  Not switched off: the ASGI
    adapter's ``_plain`` set of header *names* that are not forwarding headers (it holds
    nothing about a request's values).

    When the core gets its one memo type and a switch (Core v2), replace this body with
    that switch.  It fails loudly rather than measure memos on as memos off.
    """
    resolver = middleware.resolver
    places: list[tuple[Any, str, Any]] = [
        (resolver, "_memo", None),
        (resolver, "_checked_memo", Forgetful()),
        (resolver.policy, "_cache", None),
    ]
    for owner, name, off in places:
        if not hasattr(owner, name):
            raise RuntimeError(
                f"{type(owner).__name__}.{name} is gone: update memos_off() in"
                " benchmarks/bench.py to switch the new core's memos off"
            )
        setattr(owner, name, off)
    return middleware


# --- what is measured --------------------------------------------------------------------


@dataclass
class Contender:
    """One middleware (or the bare app) on one shape of request."""

    name: str
    app: Any
    shape: Shape = FOR_PROTO
    memos: Optional[bool] = None  # True/False for trustproxy, None for everything else
    versus: Optional[str] = None  # the contender its ratio is against, in the same row
    scale: float = 1.0  # fraction of --number (for peers that take milliseconds)
    bare: bool = False


@dataclass
class Row:
    key: str
    title: str
    interface: str  # "wsgi" or "asgi"
    mode: str
    contenders: list[Contender]
    samples: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One bare-app baseline per shape of request in the row.
        shapes: list[Shape] = []
        for contender in self.contenders:
            if contender.shape not in shapes:
                shapes.append(contender.shape)
        bare = wsgi_app if self.interface == "wsgi" else asgi_app
        self.contenders[:0] = [
            Contender(bare_name(shape, len(shapes)), bare, shape, bare=True) for shape in shapes
        ]

    def baseline(self, contender: Contender) -> str:
        shapes = {c.shape for c in self.contenders if c.bare}
        return bare_name(contender.shape, len(shapes))


def bare_name(shape: Shape, shapes: int) -> str:
    if shapes == 1:
        return "bare app"
    return f"bare app ({shape.padding + 1:,} item{'s' if shape.padding else ''})"


@dataclass(frozen=True)
class Target:
    label: str
    row: str
    numerator: str
    denominator: str
    limit: float


def wsgi_trustproxy(fields: Sequence[str], memos: bool, **options: Any) -> Any:
    options.setdefault("trusted", TRUSTED)
    middleware = trustproxy.WSGIMiddleware(wsgi_app, fields=fields, **options)
    return middleware if memos else memos_off(middleware)


def asgi_trustproxy(memos: bool, **options: Any) -> Any:
    options.setdefault("trusted", TRUSTED)
    middleware = trustproxy.ASGIMiddleware(asgi_app, **options)
    return middleware if memos else memos_off(middleware)


def many_networks() -> list[str]:
    """10,000 trusted networks of mixed prefix lengths, as a cloud provider's list has
    (a lookup costs one probe per distinct length): 7,000 IPv4 /20-/28 inside 10.0.0.0/8,
    2,999 IPv6 /32-/64 inside fd42::/16, and the proxy's 127.0.0.0/8."""
    networks = []
    for i in range(7_000):
        length = 20 + i % 9
        value = (10 << 24) | (i // 9) << (32 - length)
        networks.append(f"{ipaddress.IPv4Address(value)}/{length}")
    for i in range(2_999):
        length = 32 + 8 * (i % 5)
        value = (0xFD42 << 112) | (i // 5) << (128 - length)
        networks.append(f"{ipaddress.IPv6Address(value)}/{length}")
    networks.append("127.0.0.0/8")
    return networks


# Contender names the rows and the targets share.
WZ = "werkzeug ProxyFix(x_for=1, x_proto=1)"
WZ_FIVE = "werkzeug ProxyFix, all five =1"
UV = "uvicorn ProxyHeadersMiddleware"
TP = "trustproxy WSGIMiddleware"
TPA = "trustproxy ASGIMiddleware"
OFF = "trustproxy, memos off"
ONE, LONG_ = "trustproxy, 1 item", "trustproxy, 10,000 items"
ONE_NET, MANY_NET = "trustproxy, 1 network", "trustproxy, 10,000 networks"
MODES = ((NEW, "new"), (REPEATED, "repeated"), (IDENTICAL, "identical"))


def off(name: str) -> str:
    return name + ", memos off"


def wsgi_rows() -> list[Row]:
    for_proto = ("for", "proto")
    found = []
    for mode, suffix in MODES:
        found.append(Row(f"wsgi-for-proto-{suffix}", f"WSGI, for + proto, {mode}", "wsgi", mode, [
            Contender(WZ, WerkzeugProxyFix(wsgi_app, x_for=1, x_proto=1)),
            Contender(TP, wsgi_trustproxy(for_proto, True), memos=True, versus=WZ),
            Contender(OFF, wsgi_trustproxy(for_proto, False), memos=False, versus=WZ),
            Contender("trustproxy ProxyFix (drop-in)",
                      trustproxy.ProxyFix(wsgi_app, x_for=1, x_proto=1), versus=WZ),
            Contender("do-nothing wrapper", do_nothing_wsgi(wsgi_app)),
        ]))  # fmt: skip
    five = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1, "x_prefix": 1}
    for mode, suffix in MODES:
        found.append(Row(f"wsgi-five-{suffix}", f"WSGI, all five fields, {mode}", "wsgi", mode, [
            Contender(WZ_FIVE, WerkzeugProxyFix(wsgi_app, **five), FIVE),
            Contender(TP, wsgi_trustproxy(FIVE_FIELDS, True), FIVE, True, WZ_FIVE),
            Contender(OFF, wsgi_trustproxy(FIVE_FIELDS, False), FIVE, False, WZ_FIVE),
            Contender("trustproxy ProxyFix (drop-in)", trustproxy.ProxyFix(wsgi_app, **five),
                      FIVE, versus=WZ_FIVE),
        ]))  # fmt: skip
    found.append(Row("wsgi-no-headers", "WSGI, no forwarding headers, fresh str", "wsgi",
                     REPEATED, [
        Contender(WZ, WerkzeugProxyFix(wsgi_app, x_for=1, x_proto=1), NO_HEADERS),
        Contender(TP, wsgi_trustproxy(for_proto, True), NO_HEADERS, True, WZ),
        Contender("do-nothing wrapper", do_nothing_wsgi(wsgi_app), NO_HEADERS),
    ]))  # fmt: skip
    forwarded = ("for", "proto", "host")
    found.append(Row("wsgi-forwarded-new", "WSGI, Forwarded (for, proto, host), new client",
                     "wsgi", NEW, [
        Contender("trustproxy, Forwarded",
                  wsgi_trustproxy(forwarded, True, headers="forwarded"), FORWARDED, True),
        Contender(off("trustproxy, Forwarded"),
                  wsgi_trustproxy(forwarded, False, headers="forwarded"), FORWARDED, False,
                  "trustproxy, Forwarded"),
    ]))  # fmt: skip
    found.append(Row("wsgi-long-new", "WSGI, 10,000-item X-Forwarded-For vs one item,"
                     " new rightmost client", "wsgi", NEW, [
        Contender("werkzeug, 1 item", WerkzeugProxyFix(wsgi_app, x_for=1, x_proto=1)),
        Contender("werkzeug, 10,000 items", WerkzeugProxyFix(wsgi_app, x_for=1, x_proto=1),
                  LONG, versus="werkzeug, 1 item", scale=0.05),
        Contender(ONE, wsgi_trustproxy(for_proto, True), memos=True, versus="werkzeug, 1 item"),
        Contender(LONG_, wsgi_trustproxy(for_proto, True), LONG, True, ONE),
        Contender(off(ONE), wsgi_trustproxy(for_proto, False), memos=False),
        Contender(off(LONG_), wsgi_trustproxy(for_proto, False), LONG, False, off(ONE)),
    ]))  # fmt: skip
    networks = many_networks()
    found.append(Row("wsgi-cidrs-new", "WSGI, 10,000 trusted networks vs one, new client",
                     "wsgi", NEW, [
        Contender(ONE_NET, wsgi_trustproxy(for_proto, True, trusted="127.0.0.0/8"), memos=True),
        Contender(MANY_NET, wsgi_trustproxy(for_proto, True, trusted=networks), memos=True,
                  versus=ONE_NET),
        Contender(off(ONE_NET), wsgi_trustproxy(for_proto, False, trusted="127.0.0.0/8"),
                  memos=False),
        Contender(off(MANY_NET), wsgi_trustproxy(for_proto, False, trusted=networks),
                  memos=False, versus=off(ONE_NET)),
    ]))  # fmt: skip
    return found


def asgi_rows() -> list[Row]:
    found = []
    for mode, suffix in MODES:
        contenders = [
            Contender(UV, UvicornProxyHeaders(asgi_app, trusted_hosts=TRUSTED)),
            Contender(TPA, asgi_trustproxy(True), memos=True, versus=UV),
            Contender(OFF, asgi_trustproxy(False), memos=False, versus=UV),
            Contender("trustproxy ProxyHeadersMiddleware (drop-in)",
                      trustproxy.ProxyHeadersMiddleware(asgi_app, TRUSTED), versus=UV),
            Contender("do-nothing wrapper", DoNothingASGI(asgi_app)),
        ]  # fmt: skip
        if mode == NEW:
            contenders.append(Contender("hypercorn ProxyFixMiddleware(legacy, 1)",
                                        HypercornProxyFix(asgi_app, "legacy", 1),
                                        versus=UV, scale=0.25))  # fmt: skip
        found.append(Row(f"asgi-one-hop-{suffix}", f"ASGI, one hop, {mode}", "asgi", mode,
                         contenders))  # fmt: skip
    found.append(Row("asgi-no-headers", "ASGI, no forwarding headers, fresh bytes", "asgi",
                     REPEATED, [
        Contender(UV, UvicornProxyHeaders(asgi_app, trusted_hosts=TRUSTED), NO_HEADERS),
        Contender(TPA, asgi_trustproxy(True), NO_HEADERS, True, UV),
        Contender("do-nothing wrapper", DoNothingASGI(asgi_app), NO_HEADERS),
    ]))  # fmt: skip
    found.append(Row("asgi-long-new", "ASGI, 10,000-item X-Forwarded-For vs one item,"
                     " new rightmost client", "asgi", NEW, [
        Contender("uvicorn, 1 item", UvicornProxyHeaders(asgi_app, trusted_hosts=TRUSTED)),
        Contender("uvicorn, 10,000 items", UvicornProxyHeaders(asgi_app, trusted_hosts=TRUSTED),
                  LONG, versus="uvicorn, 1 item", scale=0.25),
        Contender(ONE, asgi_trustproxy(True), memos=True, versus="uvicorn, 1 item"),
        Contender(LONG_, asgi_trustproxy(True), LONG, True, ONE),
        Contender(off(ONE), asgi_trustproxy(False), memos=False),
        Contender(off(LONG_), asgi_trustproxy(False), LONG, False, off(ONE)),
    ]))  # fmt: skip
    networks = many_networks()
    found.append(Row("asgi-cidrs-new", "ASGI, 10,000 trusted networks vs one, new client",
                     "asgi", NEW, [
        Contender("uvicorn, 1 network", UvicornProxyHeaders(asgi_app, trusted_hosts="127.0.0.0/8")),
        Contender("uvicorn, 10,000 networks", UvicornProxyHeaders(asgi_app, trusted_hosts=networks),
                  versus="uvicorn, 1 network", scale=0.005),
        Contender(ONE_NET, asgi_trustproxy(True, trusted="127.0.0.0/8"), memos=True,
                  versus="uvicorn, 1 network"),
        Contender(MANY_NET, asgi_trustproxy(True, trusted=networks), memos=True, versus=ONE_NET),
        Contender(off(ONE_NET), asgi_trustproxy(False, trusted="127.0.0.0/8"), memos=False),
        Contender(off(MANY_NET), asgi_trustproxy(False, trusted=networks), memos=False,
                  versus=off(ONE_NET)),
    ]))  # fmt: skip
    return found


def rows(only: Optional[str]) -> list[Row]:
    return (wsgi_rows() if only != "asgi" else []) + (asgi_rows() if only != "wsgi" else [])


#: Core v2's targets (issue 11): (label, row, numerator, denominator, at most).
TARGETS = (
    ("WSGI new client, for+proto: trustproxy / werkzeug", "wsgi-for-proto-new", TP, WZ, 0.5),
    ("  ... memos off / werkzeug", "wsgi-for-proto-new", OFF, WZ, 0.5),
    ("  ... memos off / memos on", "wsgi-for-proto-new", OFF, TP, 1.3),
    ("WSGI new client, all five: trustproxy / werkzeug", "wsgi-five-new", TP, WZ_FIVE, 0.3),
    ("  ... memos off / werkzeug", "wsgi-five-new", OFF, WZ_FIVE, 0.3),
    ("  ... memos off / memos on", "wsgi-five-new", OFF, TP, 1.3),
    ("WSGI 10,000-item XFF / one item", "wsgi-long-new", LONG_, ONE, 2.0),
    ("  ... memos off", "wsgi-long-new", off(LONG_), off(ONE), 2.0),
    ("WSGI no forwarding headers: trustproxy / werkzeug", "wsgi-no-headers", TP, WZ, 0.5),
    ("WSGI 10,000 trusted networks / one", "wsgi-cidrs-new", MANY_NET, ONE_NET, 1.5),
    ("  ... memos off", "wsgi-cidrs-new", off(MANY_NET), off(ONE_NET), 1.5),
    ("ASGI new client, one hop: trustproxy / uvicorn", "asgi-one-hop-new", TPA, UV, 0.5),
    ("  ... memos off / uvicorn", "asgi-one-hop-new", OFF, UV, 0.5),
    ("  ... memos off / memos on", "asgi-one-hop-new", OFF, TPA, 1.3),
    ("ASGI repeated client: trustproxy / uvicorn", "asgi-one-hop-repeated", TPA, UV, 0.5),
    ("  ... memos off / uvicorn", "asgi-one-hop-repeated", OFF, UV, 0.5),
    ("  ... memos off / memos on", "asgi-one-hop-repeated", OFF, TPA, 1.3),
    ("ASGI 10,000-item XFF / one item", "asgi-long-new", LONG_, ONE, 2.0),
    ("  ... memos off", "asgi-long-new", off(LONG_), off(ONE), 2.0),
    ("ASGI 10,000 trusted networks / one", "asgi-cidrs-new", MANY_NET, ONE_NET, 1.5),
    ("  ... memos off", "asgi-cidrs-new", off(MANY_NET), off(ONE_NET), 1.5),
)


def targets(only: Optional[str]) -> list[Target]:
    return [Target(*entry) for entry in TARGETS if only is None or entry[1].startswith(only)]


# --- running -----------------------------------------------------------------------------


def time_one(
    load: traffic.Traffic, row: Row, contender: Contender, number: int, module_off: ModuleMemosOff
) -> float:
    """Seconds per request over about ``number`` requests (scaled for the contender).

    Built and timed in chunks small enough to stay in the CPU caches: a server calls the
    app right after building the environ or scope, while it is still hot.  A batch of
    thousands built ahead would bill every contender for cache misses no server has.
    """
    shape = contender.shape
    n = max(5, round(number * shape.batch_scale * contender.scale))
    build = load.wsgi if row.interface == "wsgi" else load.asgi
    run = run_wsgi if row.interface == "wsgi" else run_asgi
    app = contender.app
    total = 0.0
    done = 0
    with module_off if contender.memos is False else contextlib.nullcontext():
        while done < n:
            inputs = build(shape, row.mode, min(shape.chunk, n - done))
            gc.freeze()  # the chunk is not the contender's garbage
            total += run(app, inputs) * len(inputs)
            done += len(inputs)
    return total / done


def check_memos_off(load: traffic.Traffic, row: Row, contender: Contender) -> None:
    """A memo-off contender must build a new Resolution for a repeated request."""
    seen: list[Any] = []

    def capture_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(environ.get(RESOLUTION_KEY))
        return ()

    async def capture_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope.get(RESOLUTION_KEY))

    middleware = contender.app
    inner = middleware.app
    middleware.app = capture_wsgi if row.interface == "wsgi" else capture_asgi
    try:
        inputs = (load.wsgi if row.interface == "wsgi" else load.asgi)(contender.shape, REPEATED, 2)
        with ModuleMemosOff():
            (run_wsgi if row.interface == "wsgi" else run_asgi)(middleware, inputs)
    finally:
        middleware.app = inner
    if len(seen) != 2 or seen[0] is None or seen[0] is seen[1]:
        raise RuntimeError(
            f"{row.key} / {contender.name}: a repeated request was answered from a memo"
            " with the memos off; update memos_off() in benchmarks/bench.py"
        )


def measure(load: traffic.Traffic, table: list[Row], rounds: int, number: int) -> None:
    module_off = ModuleMemosOff()
    for row in table:
        for contender in row.contenders:
            if contender.memos is False:
                check_memos_off(load, row, contender)
            # Warm-up (code paths, specialisation, memos as a running server has them).
            time_one(load, row, contender, max(50, number // 20), module_off)
        row.samples = {contender.name: [] for contender in row.contenders}
    gc.collect()
    for round_index in range(rounds):
        for row in table:
            order = row.contenders
            shift = round_index % len(order)
            times = {
                c.name: time_one(load, row, c, number, module_off)
                for c in order[shift:] + order[:shift]
            }
            for contender in row.contenders:
                if not contender.bare:
                    added = times[contender.name] - times[row.baseline(contender)]
                    row.samples[contender.name].append(added * 1e6)
                else:
                    row.samples[contender.name].append(times[contender.name] * 1e6)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (median(values), median(values))
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def results(table: list[Row], goals: list[Target]) -> dict[str, Any]:
    by_key = {row.key: row for row in table}
    out_rows = []
    for row in table:
        medians = {name: median(values) for name, values in row.samples.items()}
        contenders = []
        for contender in row.contenders:
            values = row.samples[contender.name]
            low, high = quartiles(values)
            entry: dict[str, Any] = {
                "name": contender.name,
                "bare": contender.bare,
                "memos": contender.memos,
                "us": medians[contender.name],
                "quartiles": [low, high],
                "samples": values,
            }
            if contender.versus is not None:
                entry["versus"] = contender.versus
                entry["ratio"] = ratio(medians[contender.name], medians[contender.versus])
            contenders.append(entry)
        out_rows.append(
            {
                "key": row.key,
                "title": row.title,
                "interface": row.interface,
                "mode": row.mode,
                "contenders": contenders,
            }
        )
    out_targets = []
    for goal in goals:
        row = by_key[goal.row]
        value = ratio(median(row.samples[goal.numerator]), median(row.samples[goal.denominator]))
        out_targets.append(
            {
                "label": goal.label,
                "row": goal.row,
                "numerator": goal.numerator,
                "denominator": goal.denominator,
                "limit": goal.limit,
                "ratio": value,
                "met": bool(value <= goal.limit),
            }
        )
    return {"rows": out_rows, "targets": out_targets}


def describe(rounds: int, number: int, load: traffic.Traffic) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    v6 = sum(":" in client for client in load.clients)
    return {
        "python": platform.python_version(),
        "trustproxy": trustproxy.__version__,
        "trustproxy_path": str(Path(trustproxy.__file__).parent),
        "commit": commit,
        "werkzeug": version("werkzeug"),
        "uvicorn": version("uvicorn"),
        "hypercorn": version("hypercorn"),
        "cpus": os.cpu_count(),
        "rounds": rounds,
        "clock": "thread CPU time" if clock is time.thread_time else "wall clock",
        "number": number,
        "clients": len(load.clients),
        "ipv6_share": round(v6 / len(load.clients), 3),
    }


def format_report(meta: dict[str, Any], found: dict[str, Any]) -> str:
    lines = [
        f"trustproxy {meta['trustproxy']} ({meta['commit']}), python {meta['python']},"
        f" werkzeug {meta['werkzeug']}, uvicorn {meta['uvicorn']},"
        f" hypercorn {meta['hypercorn']}, {meta['cpus']} cpus",
        f"{meta['rounds']} rounds x {meta['number']:,} requests per contender, {meta['clock']};"
        f" {meta['clients']:,} clients ({meta['ipv6_share']:.0%} IPv6);"
        f" load average {meta['load_before']} before, {meta['load_after']} after;"
        f" max RSS {meta['max_rss_mib']} MiB",
        "added µs = median over rounds of (contender - bare app, same round);"
        " [quartiles]; ratio of medians",
    ]
    if "runs" in meta:
        lines[1] = f"median of {meta['runs']} runs, each " + lines[1]
        lines[2] = "added µs = median of the runs' medians; [lowest - highest run]; ratio of those"
    for row in found["rows"]:
        lines += ["", row["title"]]
        for entry in row["contenders"]:
            low, high = entry["quartiles"]
            if entry["bare"]:
                lines.append(f"  {entry['name']:<46} {entry['us']:9.2f} µs per call (baseline)")
                continue
            text = f"  {entry['name']:<46} {entry['us']:9.2f} µs [{low:8.2f} - {high:8.2f}]"
            if "ratio" in entry:
                text += f"  {entry['ratio']:6.2f}x {entry['versus']}"
            lines.append(text)
    lines += ["", "Core v2 targets (issue 11), ratios of added cost in this run"]
    if "runs" in meta:
        lines[-1] += " (medians of the runs)"
    for goal in found["targets"]:
        verdict = "met" if goal["met"] else "NOT MET"
        lines.append(
            f"  {goal['label']:<58} {goal['ratio']:6.2f}x  (<= {goal['limit']:.1f})  {verdict}"
        )
    return "\n".join(lines)


def combine(paths: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Several ``--json`` runs as one: each figure the median of the runs' medians."""
    runs = [json.loads(Path(path).read_text()) for path in paths]
    meta = dict(runs[0]["meta"])
    meta["runs"] = len(runs)
    meta["load_before"] = "-".join(
        str(f(r["meta"]["load_before"] for r in runs)) for f in (min, max)
    )
    meta["load_after"] = "-".join(str(f(r["meta"]["load_after"] for r in runs)) for f in (min, max))
    meta["max_rss_mib"] = max(r["meta"]["max_rss_mib"] for r in runs)
    meta["commit"] = ", ".join(sorted({r["meta"]["commit"] for r in runs}))
    figures: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        for row in run["rows"]:
            for entry in row["contenders"]:
                figures.setdefault((row["key"], entry["name"]), []).append(entry["us"])
    rows_out = []
    for row in runs[0]["rows"]:
        contenders = []
        for entry in row["contenders"]:
            values = figures[(row["key"], entry["name"])]
            combined = {**entry, "us": median(values), "quartiles": [min(values), max(values)],
                        "samples": values}  # fmt: skip
            contenders.append(combined)
        us = {entry["name"]: entry["us"] for entry in contenders}
        for entry in contenders:
            if "versus" in entry:
                entry["ratio"] = ratio(entry["us"], us[entry["versus"]])
        rows_out.append({**row, "contenders": contenders})
    by_key = {row["key"]: {e["name"]: e["us"] for e in row["contenders"]} for row in rows_out}
    targets_out = []
    for goal in runs[0]["targets"]:
        us = by_key[goal["row"]]
        value = ratio(us[goal["numerator"]], us[goal["denominator"]])
        targets_out.append({**goal, "ratio": value, "met": bool(value <= goal["limit"])})
    return meta, {"rows": rows_out, "targets": targets_out}


# --- the profile -------------------------------------------------------------------------


def profile(load: traffic.Traffic, number: int, only: Optional[str]) -> str:
    """cProfile call counts per request on the new-client paths, beyond the bare app's."""
    cases: list[tuple[str, str, Any, Shape]] = []
    if only in (None, "wsgi"):
        cases += [
            (
                "WSGI for+proto, new client: werkzeug ProxyFix(x_for=1, x_proto=1)",
                "wsgi",
                WerkzeugProxyFix(wsgi_app, x_for=1, x_proto=1),
                FOR_PROTO,
            ),
            (
                "WSGI for+proto, new client: trustproxy WSGIMiddleware",
                "wsgi",
                wsgi_trustproxy(("for", "proto"), True),
                FOR_PROTO,
            ),
            (
                "WSGI for+proto, new client: trustproxy WSGIMiddleware, memos off",
                "wsgi",
                wsgi_trustproxy(("for", "proto"), False),
                FOR_PROTO,
            ),
            (
                "WSGI all five, new client: trustproxy WSGIMiddleware",
                "wsgi",
                wsgi_trustproxy(FIVE_FIELDS, True),
                FIVE,
            ),
        ]
    if only in (None, "asgi"):
        cases += [
            (
                "ASGI one hop, new client: uvicorn ProxyHeadersMiddleware",
                "asgi",
                UvicornProxyHeaders(asgi_app, trusted_hosts=TRUSTED),
                FOR_PROTO,
            ),
            (
                "ASGI one hop, new client: trustproxy ASGIMiddleware",
                "asgi",
                asgi_trustproxy(True),
                FOR_PROTO,
            ),
            (
                "ASGI one hop, new client: trustproxy ASGIMiddleware, memos off",
                "asgi",
                asgi_trustproxy(False),
                FOR_PROTO,
            ),
        ]

    def counts(app: Any, interface: str, shape: Shape, memos: bool) -> dict[Any, tuple[int, float]]:
        build = load.wsgi if interface == "wsgi" else load.asgi
        run = run_wsgi if interface == "wsgi" else run_asgi
        run(app, build(shape, NEW, 50))  # warm-up
        inputs = build(shape, NEW, number)
        profiler = cProfile.Profile()
        if memos:
            profiler.runcall(run, app, inputs)
        else:
            with ModuleMemosOff():
                profiler.runcall(run, app, inputs)
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        return {key: (value[1], value[2]) for key, value in stats.items()}

    def name(key: tuple[str, int, str]) -> str:
        filename, line, function = key
        if filename == "~":
            return function
        path = Path(filename)
        parts = path.parts
        where = (
            "/".join(parts[parts.index("site-packages") + 1 :])
            if "site-packages" in parts
            else "/".join(parts[-2:])
        )
        return f"{where}:{line} {function}"

    lines = [
        f"cProfile, {number:,} requests each, new client every request, fresh values;"
        " calls per request beyond the bare app's; tottime is inflated by the profiler"
    ]
    bare = {
        "wsgi": counts(wsgi_app, "wsgi", FOR_PROTO, True),
        "asgi": counts(asgi_app, "asgi", FOR_PROTO, True),
    }
    for label, interface, app, shape in cases:
        memos = "memos off" not in label
        got = counts(app, interface, shape, memos)
        base = bare[interface]
        added = []
        for key, (calls, tottime) in got.items():
            extra = calls - base.get(key, (0, 0.0))[0]
            spent = tottime - base.get(key, (0, 0.0))[1]
            if extra > 0:
                added.append((key, extra / number, spent / number * 1e6))
        python = sum(c for key, c, _ in added if key[0] != "~")
        builtin = sum(c for key, c, _ in added if key[0] == "~")
        lines += [
            "",
            label,
            f"  {python:.1f} Python calls and {builtin:.1f} built-in calls per request",
        ]
        lines.append(f"  {'calls/req':>9} {'tottime µs/req':>14}  function")
        for key, per_request, spent in sorted(added, key=lambda item: -item[2]):
            if per_request >= 0.01:
                lines.append(f"  {per_request:9.2f} {spent:14.2f}  {name(key)}")
    return "\n".join(lines)


# --- command line ------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    parser.add_argument(
        "--number", type=int, default=2000, help="requests per contender and round (2000)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 3 rounds of 100 requests, 20,000 clients"
    )
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="cpu",
        help="time with this thread's CPU time (default) or the wall clock",
    )
    parser.add_argument("--only", choices=("wsgi", "asgi"), help="one interface only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print cProfile call counts per request instead of timing",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="JSON",
        help="report several --json runs as one (medians of their medians)",
    )
    args = parser.parse_args(argv)
    if args.combine:
        meta, found = combine(args.combine)
        print(
            json.dumps({"meta": meta, **found}, indent=1)
            if args.json
            else format_report(meta, found)
        )
        return 0
    global clock
    clock = CLOCKS[args.clock]
    rounds, number, clients = args.rounds, args.number, traffic.CLIENTS
    if args.quick:
        rounds, number, clients = 3, 100, 20_000
    load = traffic.Traffic(clients)
    if args.profile:
        print(profile(load, number if not args.quick else 200, args.only))
        return 0
    table = rows(args.only)
    goals = targets(args.only)
    meta = describe(rounds, number, load)
    meta["load_before"] = round(os.getloadavg()[0], 2)
    measure(load, table, rounds, number)
    meta["load_after"] = round(os.getloadavg()[0], 2)
    meta["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    found = results(table, goals)
    if args.json:
        print(json.dumps({"meta": meta, **found}, indent=1))
    else:
        print(format_report(meta, found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
