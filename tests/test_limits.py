"""Limits: the work per request follows the hops walked, and nothing grows between requests.

The work is counted, not timed: header values are passed as a ``str`` subclass that
records every ``rfind`` the walk makes (each call scans at most ``MAX_ITEM_LENGTH``
characters), and the trail of hops examined is checked against the chain.
"""

from __future__ import annotations

import gc
import itertools
import weakref
from typing import Any, Optional

import pytest

import builders
from trustproxy import APPLIED, UNRESOLVED, Resolver, WSGIMiddleware, _address, _values, trust
from trustproxy._forwarded import MAX_ELEMENT_LENGTH
from trustproxy._lists import MAX_EMPTY_ITEMS, MAX_ITEM_LENGTH, MAX_LINES, TOO_LONG, nth_from_right
from trustproxy._memo import MEMO_KEY_LENGTH, MEMO_SIZE
from trustproxy._resolve import MAX_HOPS
from trustproxy.asgi import ASGIMiddleware

PROXY = "127.0.0.1"
CLIENT = "203.0.113.9"


class Counting(str):
    """A header value that records the range of every ``rfind`` made on it."""

    calls: list[tuple[int, int]]

    def rfind(self, sub: str, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        self.calls.append((start, end))
        return super().rfind(sub, start, end)


def counting(text: str) -> Counting:
    value = Counting(text)
    value.calls = []
    return value


def _assert_bounded_scans(value: Counting, steps: int) -> None:
    """At most ``steps`` scans for the decision and as many again for the explanation
    (the hop trail, built by a second walk when it is first read), each bounded."""
    assert 0 < len(value.calls) <= 2 * steps
    for start, end in value.calls:
        assert end - start <= MAX_ITEM_LENGTH


@pytest.mark.parametrize("junk", [0, 10, 100_000], ids=["no-junk", "10-items", "100k-items"])
@pytest.mark.parametrize("trusted_hops", [0, 1, 5, MAX_HOPS - 1])
def test_limit_work_follows_hops_walked(junk: int, trusted_hops: int) -> None:
    value = counting("6.6.6.6, " * junk + ", ".join([CLIENT] + ["10.0.0.1"] * trusted_hops))
    resolver = Resolver(trusted="127.0.0.1, 10.0.0.0/8")
    result = resolver._resolve(PROXY, (value, None, None, None, None), "http", None, None, "")
    assert (result.status, result.client) == (APPLIED, CLIENT)
    # The decision: one scan per hop (none for a lone item, read without the scanner).
    decision = len(value.calls)
    assert decision == (trusted_hops + 1 if junk or trusted_hops else 0)
    assert len(result.hops) == trusted_hops + 2  # the peer, the proxies, the client
    _assert_bounded_scans(value, trusted_hops + 1)
    assert len(value.calls) - decision == trusted_hops + 1  # the explanation's walk


def test_limit_hops_walked_capped() -> None:
    value = counting(", ".join(["10.0.0.1"] * 10_000))
    result = Resolver(trusted="127.0.0.1, 10.0.0.0/8").resolve(PROXY, {"X-Forwarded-For": value})
    assert result.status == UNRESOLVED
    assert len(result.hops) == MAX_HOPS + 1
    _assert_bounded_scans(value, MAX_HOPS)


@pytest.mark.parametrize("hops", [1, 3, MAX_HOPS])
def test_limit_hop_count_walks_no_further(hops: int) -> None:
    value = counting(", ".join(["198.51.100.1"] * 10_000))
    result = Resolver(trusted="*", hops=hops).resolve(PROXY, {"X-Forwarded-For": value})
    assert (result.status, len(result.hops)) == (APPLIED, hops + 1)
    _assert_bounded_scans(value, hops)


def test_limit_item_length() -> None:
    padded = " " * (MAX_ITEM_LENGTH - len(CLIENT)) + CLIENT  # exactly at the limit: read
    assert Resolver().resolve(PROXY, {"X-Forwarded-For": padded}).client == CLIENT
    over = counting("6.6.6.6," + " " + padded)
    result = Resolver().resolve(PROXY, {"X-Forwarded-For": over})
    assert (result.status, result.hops[-1].text) == (UNRESOLVED, TOO_LONG)
    _assert_bounded_scans(over, 1)


@pytest.mark.parametrize("empty", [MAX_EMPTY_ITEMS, MAX_EMPTY_ITEMS + 1, 1_000_000])
def test_limit_empty_items(empty: int) -> None:
    value = counting(CLIENT + ", " * empty)
    result = Resolver().resolve(PROXY, {"X-Forwarded-For": value})
    expected = APPLIED if empty <= MAX_EMPTY_ITEMS else UNRESOLVED
    assert result.status == expected
    _assert_bounded_scans(value, MAX_EMPTY_ITEMS + 2)


@pytest.mark.parametrize("empty", [MAX_EMPTY_ITEMS, 1_000_000])
def test_limit_empty_items_in_other_fields(empty: int) -> None:
    value = counting("https" + "," * empty)
    item, _ = nth_from_right(value, 1)
    assert item == ("https" if empty <= MAX_EMPTY_ITEMS else TOO_LONG)
    _assert_bounded_scans(value, MAX_EMPTY_ITEMS + 2)


# --- nothing unbounded kept between requests ----------------------------------------------


def _sizes(resolver: Resolver) -> dict[str, int]:
    policy = resolver.policy
    assert resolver._memo is not None and policy._cache is not None
    assert policy._peers is not None
    return {
        "memo": len(resolver._memo),
        "policy": len(policy._cache),
        "peers": len(policy._peers),
        "address": len(_address._cache),
        "host": len(_values._host_cache),
        "prefix": len(_values._prefix_cache),
    }


def test_limit_caches_bounded_after_distinct_inputs() -> None:
    resolver = Resolver(fields="for,proto,host,port,prefix")
    peak = dict.fromkeys(_sizes(resolver), 0)
    for i in range(3 * _address.CACHE_SIZE):
        client = f"2001:db8::{i:x}"
        resolver.resolve(
            PROXY,
            {
                "X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}, {client}",
                "X-Forwarded-Host": f"h{i}.example",
                "X-Forwarded-Prefix": f"/p{i}",
            },
        )
        resolver.resolve(f"198.51.{i >> 8 & 255}.{i & 255}", {"X-Forwarded-For": client})
        for name, size in _sizes(resolver).items():
            peak[name] = max(peak[name], size)
    assert peak["memo"] == MEMO_SIZE
    for name in ("host", "prefix"):
        assert peak[name] == _address.CACHE_SIZE, name
    assert peak["peers"] == trust.PEERS_SIZE  # every request a new socket peer
    # The decision parses uncached; the hop cache (the explanation's walk) and the
    # address cache serve other callers and are bounded all the same.
    assert peak["policy"] <= _address.CACHE_SIZE
    assert peak["address"] <= _address.CACHE_SIZE


@pytest.mark.parametrize("field", ["for", "host", "prefix", "peer-untrusted"])
def test_limit_long_values_never_cached(field: str) -> None:
    resolver = Resolver(fields="for,proto,host,port,prefix")
    headers: dict[str, str] = {"X-Forwarded-For": CLIENT}
    peer = PROXY
    for i in range(50):
        long = f"{i}" + "x" * 100_000
        if field == "for":
            headers["X-Forwarded-For"] = long + f", {CLIENT}"
        elif field == "host":
            headers["X-Forwarded-Host"] = long
        elif field == "prefix":
            headers["X-Forwarded-Prefix"] = "/" + long
        else:
            peer = "198.51.100.1"
            headers["X-Forwarded-For"] = long
        resolver.resolve(peer, headers)
    kept = [
        *[key for key in resolver._memo or {} for part in key if _long(part)],
        # The walk hands the policy no item over MAX_ITEM_LENGTH (it stops at the marker).
        *[key for key in resolver.policy._cache or {} if len(key) > MAX_ITEM_LENGTH],
        *[key for key in _values._host_cache if len(key) > _values.MAX_HOST_LENGTH],
        *[key for key in _values._prefix_cache if len(key) > _values.MAX_PREFIX_LENGTH],
    ]
    assert kept == []


def _long(part: object) -> bool:
    if isinstance(part, tuple):
        return sum(len(v) for v in part if v) > MEMO_KEY_LENGTH
    return isinstance(part, str) and len(part) > MEMO_KEY_LENGTH


def test_limit_single_header_long_value_not_cached() -> None:
    resolver = Resolver(headers="x-real-ip", fields="for")
    for i in range(20):
        result = resolver.resolve(PROXY, {"X-Real-IP": f"{i}" + "1" * 100_000})
        assert result.status == UNRESOLVED
        assert len(result.hops[-1].text) <= MAX_ITEM_LENGTH
    assert [k for k in _address._cache if len(k) > _address.MAX_NODE_LENGTH] == []


def test_limit_nodes_over_the_address_limit_never_cached() -> None:
    """A node longer than the address limit but within the item limit reaches the address
    parser whole (with a callable trust entry the policy caches nothing, so the parser's
    own cache is the one in use) and is never cached: the cache would keep it alive."""
    resolver = Resolver(trusted=["loopback", lambda address: False])
    assert _address.MAX_NODE_LENGTH + 12 < MAX_ITEM_LENGTH
    for i in range(50):
        item = f"{i:02}" + "1" * (_address.MAX_NODE_LENGTH + 10)
        result = resolver.resolve(PROXY, {"X-Forwarded-For": f"{CLIENT}, {item}"})
        assert result.status == UNRESOLVED
        assert result.hops[-1].text == item  # read whole, not cut by the scanner
    assert [key for key in _address._cache if len(key) > _address.MAX_NODE_LENGTH] == []


class Environ(dict):  # type: ignore[type-arg]
    """An environ that can be watched with a weak reference."""


def test_limit_wsgi_middleware_keeps_nothing_per_request() -> None:
    """Nothing of a request outlives it in the middleware: no attribute is added or
    rebound, and no environ is kept alive (memos keep checked values, never the
    request)."""
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["REMOTE_ADDR"])
        return []

    middleware = WSGIMiddleware(app, fields="for,proto,host,port,prefix")
    before = {name: id(value) for name, value in vars(middleware).items()}
    watched = []
    for i in range(100):
        environ = Environ(builders.environ(PROXY, [("X-Forwarded-For", f"198.51.100.{i}")]))
        middleware(environ, lambda *a: None)
        watched.append(weakref.ref(environ))
        del environ
    gc.collect()
    assert seen == [f"198.51.100.{i}" for i in range(100)]
    assert {name: id(value) for name, value in vars(middleware).items()} == before
    assert [ref for ref in watched if ref() is not None] == []


@pytest.mark.parametrize("junk", [0, 100_000], ids=["no-junk", "100k-elements"])
@pytest.mark.parametrize("trusted_hops", [0, 3, MAX_HOPS - 1])
def test_limit_forwarded_work_follows_hops_walked(junk: int, trusted_hops: int) -> None:
    chain = [f"for={CLIENT}"] + ["for=10.0.0.1;proto=https"] * trusted_hops
    value = counting("for=6.6.6.6, " * junk + ", ".join(chain))
    resolver = Resolver(trusted="127.0.0.1, 10.0.0.0/8", headers="forwarded")
    result = resolver.resolve(PROXY, {"Forwarded": value})
    assert (result.status, result.client, len(result.hops)) == (APPLIED, CLIENT, trusted_hops + 2)
    assert len(value.calls) <= trusted_hops + 1
    for start, end in value.calls:
        assert end - start <= MAX_ELEMENT_LENGTH


@pytest.mark.parametrize("empty", [MAX_EMPTY_ITEMS, MAX_EMPTY_ITEMS + 1, 500_000])
@pytest.mark.parametrize("filler", [",", ", ;"])
def test_limit_forwarded_empty_elements(empty: int, filler: str) -> None:
    value = counting(f"for={CLIENT}" + filler * empty)
    result = Resolver(headers="forwarded").resolve(PROXY, {"Forwarded": value})
    assert result.status == (APPLIED if empty <= MAX_EMPTY_ITEMS else UNRESOLVED)
    assert len(value.calls) <= MAX_EMPTY_ITEMS + 2


def assert_keeps_no_long_text(middleware: Any) -> None:
    """No container held by the adapter keeps client text longer than a memo key may."""
    for name, held in vars(middleware).items():
        if isinstance(held, (dict, set, list)):
            parts = [*held, *(held.values() if isinstance(held, dict) else ())]
            long = [p for p in parts if isinstance(p, (str, bytes)) and len(p) > MEMO_KEY_LENGTH]
            assert not long, f"{name} keeps {len(long)} long client values"


def test_limit_asgi_keeps_no_long_client_bytes() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    middleware = ASGIMiddleware(app)
    for i in range(100):
        long = str(i).encode() + b"x" * 50_000
        for peer in ("127.0.0.1", "198.51.100.1"):
            scope = {
                "type": "http",
                "client": (peer, 1),
                "server": ("app.example", 80),
                "scheme": "http",
                "root_path": "",
                "path": "/",
                "headers": [(b"x-forwarded-for", long), (long, b"v"), (b"host", long)],
            }
            coroutine = middleware(scope, None, None)
            with pytest.raises(StopIteration):
                coroutine.send(None)
    # The adapter keeps no outcome memo; the resolver's memos keep no long text.
    assert_keeps_no_long_text(middleware)
    memo = middleware.resolver._checked_memo
    kept = [part for key in memo for part in key[1] if isinstance(part, str)]
    assert all(len(part) <= MEMO_KEY_LENGTH for part in kept)
    assert all(len(name) <= 64 for name in middleware._plain)
    before = len(memo)
    short = {
        "type": "http",
        "client": ("127.0.0.1", 1),
        # A list of protos: a lone one is decided without the checked-values memo.
        "headers": [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-proto", b"http, https")],
    }
    coroutine = middleware(short, None, None)
    with pytest.raises(StopIteration):
        coroutine.send(None)
    assert len(memo) == before + 1  # the memo itself still works


def test_limit_wsgi_plans_keep_no_long_client_text() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return []

    middleware = WSGIMiddleware(app, fields="for,proto,host,port,prefix")
    for i in range(100):
        long = f"{i}" + "x" * 50_000
        for peer in (PROXY, "198.51.100.1"):
            environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": long, "HTTP_HOST": long}
            middleware(environ, lambda *a: None)
    # The adapter keeps no outcome memo; the checked-values memo keeps no long text.
    assert_keeps_no_long_text(middleware)
    memo = middleware.resolver._checked_memo
    assert memo == {}
    middleware({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": CLIENT}, lambda *a: None)
    assert len(memo) == 1  # the memo itself still works


# --- repeated header lines ------------------------------------------------------------------
#
# RFC 9110 §5.3: the lines of one list header are one list, joined in order.  Joining each
# line onto the value so far copies the whole value again per line: quadratic in the
# number of lines, before the peer is even checked.  Lines are counted, not timed: every
# line is an instrumented str (bytes for ASGI) that records the characters each Python-
# level concatenation or formatting involving it copies, and the values handed to the walk
# are captured to show how many lines they hold.

COPIED: list[int] = []
LINES = 5_000  # old code: 12.5 million concatenations' worth of copying per header


class CountingLine(str):
    def __add__(self, other: str) -> str:  # type: ignore[override]
        COPIED.append(len(self) + len(other))
        return str.__add__(self, other)

    def __radd__(self, other: str) -> str:
        COPIED.append(len(other) + len(self))
        return str.__add__(other, str(self))

    def __format__(self, spec: str) -> str:
        COPIED.append(len(self))
        return str.__format__(self, spec)


class CountingBytes(bytes):
    def __add__(self, other: bytes) -> bytes:  # type: ignore[override]
        COPIED.append(len(self) + len(other))
        return bytes.__add__(self, other)

    def __radd__(self, other: bytes) -> bytes:
        COPIED.append(len(other) + len(self))
        return bytes.__add__(other, bytes(self))


def _captured(resolver: Resolver) -> list[tuple[Optional[str], ...]]:
    """Record the header values every resolution is computed from."""
    seen: list[tuple[Optional[str], ...]] = []
    inner = resolver._resolve

    def spy(peer: Any, values: tuple[Optional[str], ...], *rest: Any) -> Any:
        seen.append(values)
        return inner(peer, values, *rest)

    resolver._resolve = spy  # type: ignore[method-assign]
    return seen


# (family, the line the client forged many times, the trusted proxies' lines, the client's)
REPEATED = {
    "x-forwarded": ("X-Forwarded-For", "6.6.6.6", "10.0.0.1", CLIENT),
    "forwarded": ("Forwarded", "for=6.6.6.6", "for=10.0.0.1", f"for={CLIENT};proto=https"),
}


def _repeated_lines(family: str) -> list[tuple[str, str]]:
    name, forged, proxy, client = REPEATED[family]
    lines = [(name, forged)] * LINES + [(name, client)] + [(name, proxy)] * 3
    if family == "x-forwarded":
        lines += [("X-Forwarded-Proto", "http")] * LINES + [("X-Forwarded-Proto", "https")] * 4
    return lines


def _full_join(resolver: Resolver, lines: list[tuple[str, str]]) -> tuple[Optional[str], ...]:
    joined: dict[str, list[str]] = {}
    for name, value in lines:
        joined.setdefault(name.lower(), []).append(value)
    return tuple(
        ",".join(joined[name]) if name in joined else None for name in resolver.header_names
    )


@pytest.mark.parametrize("family", list(REPEATED))
@pytest.mark.parametrize("peer", [PROXY, "198.51.100.1"], ids=["trusted-peer", "untrusted-peer"])
def test_limit_repeated_lines_core(family: str, peer: str) -> None:
    resolver = Resolver(trusted="127.0.0.1, 10.0.0.0/8", headers=family)
    lines = [(name, CountingLine(value)) for name, value in _repeated_lines(family)]
    expected = Resolver(trusted="127.0.0.1, 10.0.0.0/8", headers=family)._resolve(
        peer, _full_join(resolver, lines), "http", None, None, ""
    )
    seen = _captured(resolver)
    COPIED.clear()
    result = resolver.resolve(peer, lines)
    # The decision is the one reading every line gives...
    assert result == expected
    if peer == PROXY:
        assert (result.status, result.client, result.scheme) == (APPLIED, CLIENT, "https")
    # ...from at most MAX_LINES lines per header, joined once: no per-line copying.
    assert sum(COPIED) <= MAX_LINES * 32
    for values in seen:
        for value in values:
            assert value is None or value.count(",") < MAX_LINES


@pytest.mark.parametrize("family", list(REPEATED))
@pytest.mark.parametrize("peer", [PROXY, "198.51.100.1"], ids=["trusted-peer", "untrusted-peer"])
def test_limit_repeated_lines_asgi(family: str, peer: str) -> None:
    def scope(lines: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        return {**builders.scope(peer, peer_port=1, path="/"), "headers": lines}

    def app(scope: Any, receive: Any, send: Any) -> Any:
        return None

    raw = _repeated_lines(family)
    middleware = ASGIMiddleware(app, trusted="127.0.0.1, 10.0.0.0/8", headers=family)
    lines = [(n.lower().encode(), CountingBytes(v.encode())) for n, v in raw]
    # The same request with each header on one line, as a server that joins them sends it.
    reference = ASGIMiddleware(app, trusted="127.0.0.1, 10.0.0.0/8", headers=family)
    joined = [
        (name.encode(), value.encode())
        for name, value in zip(reference.resolver.header_names, _full_join(reference.resolver, raw))
        if value is not None
    ]
    expected = reference.rewrite(scope(joined))
    seen = _captured(middleware.resolver)
    COPIED.clear()
    new = middleware.rewrite(scope(lines))
    assert new is not None and expected is not None
    assert new["trustproxy.resolution"] == expected["trustproxy.resolution"]
    for key in ("client", "scheme", "server", "headers"):
        if key != "headers" or new[key] is not lines:
            assert new[key] == expected[key], key
    if peer == PROXY:
        assert new["client"] == (CLIENT, 0)
    assert sum(COPIED) <= MAX_LINES * 32
    for values in seen:
        for value in values:
            assert value is None or value.count(",") < MAX_LINES


# Shapes around the bound: (trusted hops right of the client, empty lines among them,
# lines the client wrote left of it).  The decision from the bounded read must be the
# decision from every line, whatever the shape.
SHAPES = list(
    itertools.product(
        [0, 1, MAX_HOPS - 1, MAX_HOPS, MAX_HOPS + 1, 200],
        [0, MAX_EMPTY_ITEMS, MAX_EMPTY_ITEMS + 1, 200],
        [0, 1, 300],
    )
)
CONFIGS: dict[str, dict[str, Any]] = {
    "x-forwarded": {"fields": "for,proto,host"},
    "x-forwarded-hops": {"fields": "for,proto,host", "trusted": "*", "hops": 3},
    "forwarded": {"headers": "forwarded", "fields": "for,proto"},
    "both": {"headers": ("forwarded", "x-forwarded"), "fields": "for,proto,host"},
    "single": {"headers": "x-real-ip"},
}


def _shape_lines(trusted: int, empty: int, left: int) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for name, item in (("X-Forwarded-For", "{}"), ("Forwarded", "for={};proto=https")):
        chain = [item.format("6.6.6.6")] * left + [item.format(CLIENT)]
        chain += [item.format("10.0.0.1")] * trusted
        # Empty lines spread through the proxies' part, from the right.
        for i in range(empty):
            chain.insert(len(chain) - (i % (trusted + 1)), "")
        lines += [(name, value) for value in chain]
    lines += [("X-Forwarded-Proto", "https")] * (left + trusted + 1)
    lines += [("X-Forwarded-Host", f"h{i}.example") for i in range(left + trusted + 1)]
    lines += [("X-Real-IP", CLIENT)] * (1 + left)
    return lines


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize(("trusted", "empty", "left"), SHAPES)
def test_limit_bounded_lines_decide_as_all_lines(
    config: str, trusted: int, empty: int, left: int
) -> None:
    options = {"trusted": "127.0.0.1, 10.0.0.0/8", **CONFIGS[config]}
    resolver = Resolver(**options)
    lines = _shape_lines(trusted, empty, left)
    bounded = resolver.resolve(PROXY, lines)
    every = Resolver(**options)._resolve(PROXY, _full_join(resolver, lines), "http", None, None, "")
    if config == "single":
        # Two lines of a single-address header are refused either way; the reason quotes
        # the start of the value read, which is the kept lines.
        assert bounded.status == every.status
        assert bounded._replace(reason="", hops=()) == every._replace(reason="", hops=())
    else:
        assert bounded == every


# --- ASGI decodes only the right end of a long X-Forwarded-For -----------------------------

_FAR = "x" * 100 + ","  # filler left of what any walk reaches


@pytest.mark.parametrize(
    ("config", "tail"),
    [
        # The longest walk there is: MAX_HOPS trusted addresses and MAX_EMPTY_ITEMS empty
        # items, every one as long as an item may be.
        (
            {"trusted": "loopback"},
            "203.0.113.9,"
            + ("127.0.0.1".ljust(MAX_ITEM_LENGTH - 1) + "," + " " * (MAX_ITEM_LENGTH - 1) + ",")
            * MAX_HOPS,
        ),
        (
            {"trusted": "loopback"},
            "203.0.113.9,"
            + (" " * (MAX_ITEM_LENGTH - 1) + ",") * (MAX_EMPTY_ITEMS + 1)
            + ("127.0.0.1".ljust(MAX_ITEM_LENGTH - 1) + ",") * (MAX_HOPS - 1),
        ),
        # MAX_HOPS trusted addresses, each after an empty item.
        ({"trusted": "loopback"}, ", ," * 1 + (" 127.0.0.1 , ," * MAX_HOPS)),
        ({"trusted": "loopback"}, "," * MAX_EMPTY_ITEMS + (" 127.0.0.1," * (MAX_HOPS - 1))),
        ({"trusted": "loopback", "hops": MAX_HOPS}, "203.0.113.9," + "127.0.0.1," * (MAX_HOPS - 1)),
        ({"trusted": "loopback"}, "203.0.113.9, " + "127.0.0.1" + " " * (MAX_ITEM_LENGTH - 10)),
        ({"trusted": "loopback"}, "203.0.113.9," + "127.0.0.1 ," * (MAX_HOPS - 1)),
    ],
    ids=[
        "longest-walk",
        "longest-walk-65-empties",
        "max-hops-and-empties",
        "max-empties",
        "hops-64",
        "padded-item",
        "63-proxies",
    ],
)
def test_limit_asgi_long_for_decides_as_the_whole_value(config: dict[str, Any], tail: str) -> None:
    """The ASGI adapter decodes only ``MAX_FOR_READ`` characters of a longer
    X-Forwarded-For; the walks at their longest decide exactly as on the whole value."""
    from trustproxy._lists import MAX_FOR_READ

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["trustproxy.resolution"])

    middleware = ASGIMiddleware(app, **config)
    for filler in (0, 1, 200):
        value = _FAR * filler + tail.rstrip(",")
        assert len(value) > MAX_FOR_READ or filler < 200
        scope = builders.scope("127.0.0.1", [("X-Forwarded-For", value)])
        coroutine = middleware(scope, None, None)
        with pytest.raises(StopIteration):
            coroutine.send(None)
        expected = Resolver(**config).resolve(
            "127.0.0.1", [("X-Forwarded-For", value)], host="app.example", port=80
        )
        assert seen[-1] == expected  # decision, reason and the hop trail
