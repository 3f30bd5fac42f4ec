"""whoami's work and answer are bounded whatever the request's size (issue 10, item 10).

A 6.3 MB request (100 header lines of 63 KB, within http.server's limits) once gave a
179 MB answer after 2.8 s and 1.3 GB of memory: one caveat per bad X-Forwarded-For item.
The work is counted, not timed, as in ``tests/test_limits.py``: header values are passed
as a ``str`` subclass that records every scanning method called on it with the number of
characters it spans, and separately every Python and C call is counted with
``sys.setprofile`` — both must be the same for a 6 MB header as for a 600 KB one.
"""

from __future__ import annotations

import gc
import http.client
import json
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, Callable, Optional

import pytest

from trustproxy import Resolver, _address, _values
from trustproxy._display import MAX_SHOWN, items_from_right
from trustproxy._explain import NOT_EXAMINED_SHOWN
from trustproxy._suggest import MAX_ITEMS, suggest
from trustproxy._whoami import MAX_LINES_SHOWN, make_server, render_html, whoami

XFF = "X-Forwarded-For"
PEER = "127.0.0.1"

# Every str method that reads the whole value unless given a range.
_SCANNING = (
    "rfind", "find", "rindex", "index", "count", "startswith", "endswith", "split",
    "rsplit", "splitlines", "strip", "lstrip", "rstrip", "lower", "upper", "casefold",
    "replace", "partition", "rpartition", "encode", "translate", "isprintable", "isascii",
    "__contains__", "__iter__", "__str__", "__mod__", "__add__", "__mul__",
)  # fmt: skip
_RANGED = frozenset({"rfind", "find", "rindex", "index", "count", "startswith", "endswith"})


class Recording(str):
    """A header value that records ``(method, characters spanned)`` for every scan."""

    calls: list[tuple[str, int]]

    def __getitem__(self, key: Any) -> str:
        span = len(range(*key.indices(len(self)))) if isinstance(key, slice) else 1
        self.calls.append(("__getitem__", span))
        return str.__getitem__(self, key)


def _recorder(name: str) -> Callable[..., Any]:
    method = getattr(str, name)

    def record(self: Recording, *args: Any, **kwargs: Any) -> Any:
        if name in _RANGED:
            start, end, _ = slice(*(list(args[1:3]) or [None])).indices(len(self))
            span = max(0, end - start)
        else:
            span = len(self)
        self.calls.append((name, span))
        return method(self, *args, **kwargs)

    return record


for _name in _SCANNING:
    setattr(Recording, _name, _recorder(_name))


def recording(text: str) -> Recording:
    value = Recording(text)
    value.calls = []
    return value


def _answer(lines: list[tuple[str, str]]) -> tuple[str, str]:
    """The HTML and the JSON whoami gives for ``lines``."""
    data = whoami(Resolver(), PEER, lines)
    return render_html(data), json.dumps(data, indent=2)


# Junk items (each a caveat before the fix), addresses (each a suggested proxy and a
# not-examined item), runs of commas, one over-long item, HTML-special characters.
BODIES = {
    "junk-items": "x,",
    "address-items": "10.0.0.1, ",
    "empty-items": ",",
    "one-long-item": "x",
    "quotes": '"',
}


def _scans(body: str, size: int) -> tuple[list[tuple[str, int]], str, str]:
    value = recording(body * (size // len(body)) + "203.0.113.9")
    html, text = _answer([(XFF, value), ("Host", "app.example")])
    return value.calls, html, text


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_whoami_scans_a_bounded_part_of_a_huge_header(body: str) -> None:
    small, _, _ = _scans(body, 600_000)
    calls, html, text = _scans(body, 6_000_000)
    assert calls, "the value is read at all"
    # No method reads more than one value's worth shown (the slice for the table) ...
    assert max(span for _, span in calls) <= MAX_SHOWN, sorted(calls, key=lambda c: -c[1])[:5]
    # ... the walk, the not-examined list and the suggestion make the same bounded steps
    # for 6 MB as for 600 KB ...
    assert len(calls) == len(small)
    # ... and all of them together touch a small part of the value.
    assert sum(span for _, span in calls) <= 400_000
    assert len(html) < 100_000
    assert len(text) < 100_000


def _cold() -> None:
    """Empty every parse cache, so a count does not depend on the tests run before."""
    import trustproxy._explain
    import trustproxy._suggest_text

    _address._cache.clear()
    _values._host_cache.clear()
    _values._prefix_cache.clear()
    for policy in (trustproxy._explain._PRIVATE, trustproxy._suggest_text._PRIVATE):
        if policy._cache is not None:
            policy._cache.clear()


def _events(lines: list[tuple[str, str]]) -> int:
    """Python and C calls made by whoami() and both renderings (deterministic)."""
    resolver = Resolver()
    _cold()
    count = 0

    def profile(frame: FrameType, event: str, arg: Optional[object]) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    # A collection in the middle would run other tests' finalizers and gc callbacks,
    # and count their calls.
    gc.collect()
    gc.disable()
    sys.setprofile(profile)
    try:
        data = whoami(resolver, PEER, lines)
        render_html(data)
        json.dumps(data, indent=2)
    finally:
        sys.setprofile(None)
        gc.enable()
    return count


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_whoami_calls_do_not_grow_with_the_header(body: str) -> None:
    def lines(size: int) -> list[tuple[str, str]]:
        return [(XFF, body * (size // len(body)) + "203.0.113.9"), ("Host", "app.example")]

    small = _events(lines(600_000))
    big = _events(lines(6_000_000))
    assert big <= small, (small, big)


@pytest.mark.parametrize("body", ["a-", "user-", "x"], ids=["parts", "identity-parts", "one"])
def test_whoami_calls_do_not_grow_with_a_header_name(body: str) -> None:
    def lines(size: int) -> list[tuple[str, str]]:
        return [(body * (size // len(body)), "v")] * 99

    small = _events(lines(6_000))
    big = _events(lines(60_000))
    assert big <= small, (small, big)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = make_server(Resolver(trusted="loopback", fields="for,proto,host"), PEER, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _fetch(port: int, lines: list[tuple[str, str]]) -> bytes:
    connection = http.client.HTTPConnection(PEER, port, timeout=60)
    try:
        connection.putrequest("GET", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in lines:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
@pytest.mark.parametrize("body", ["x,", "10.0.0.1,", '"'], ids=["junk", "addresses", "quotes"])
def test_multi_megabyte_request_gets_a_small_answer(port: int, accept: str, body: str) -> None:
    line = body * (63_000 // len(body)) + "203.0.113.9"
    lines = [(XFF, line)] * 97 + [("Host", "h" * 63_000), ("Accept", accept)]
    assert sum(len(n) + len(v) for n, v in lines) > 6_000_000
    answer = _fetch(port, lines)
    # 99 lines (all http.server takes) of at most MAX_SHOWN characters each,
    # HTML-escaped (at most 6 times longer).
    assert len(answer) < 100 * MAX_SHOWN * 6
    text = answer.decode()
    assert "[truncated: 63,011 characters in all]" in text  # each X-Forwarded-For line
    assert "[truncated: 63,000 characters in all]" in text  # the Host, in the table
    if accept == "application/json":
        data = json.loads(text)
        assert len(data["resolution"]["not_examined"]) <= NOT_EXAMINED_SHOWN
        assert data["resolution"]["not_examined_complete"] is False  # not read to the end
        assert data["suggestion"]["summary"].startswith("nothing suggested")
        assert len(data["suggestion"]["caveats"]) <= 5
        host = data["resolution"]["host"]
        assert host.startswith("h" * MAX_SHOWN + "…")
        assert host.endswith("[truncated: 63,000 characters in all]")
        assert all(len(value) < MAX_SHOWN + 64 for _, value in data["headers"])


def test_header_lines_shown_are_capped_with_a_count() -> None:
    lines = [(f"X-Line-{i}", "v") for i in range(MAX_LINES_SHOWN + 50)]
    data = whoami(Resolver(), PEER, lines)
    shown = data["headers"]
    assert isinstance(shown, list)
    assert len(shown) == MAX_LINES_SHOWN
    assert data["headers_not_shown"] == 50
    assert "50 more header lines not shown" in render_html(data)


def test_suggestion_caps_bad_item_caveats() -> None:
    items = [f"junk{i}" for i in range(MAX_ITEMS - 1)]
    proposal = suggest(PEER, [(XFF, ", ".join(["203.0.113.9", *items]))])
    listed = [c for c in proposal.caveats if c.startswith("the proxy item")]
    assert len(listed) == 3
    assert f"… and {MAX_ITEMS - 4} more proxy items that are not addresses" in proposal.caveats
    assert proposal.config == ""


@pytest.mark.parametrize(
    ("count", "summary"),
    [
        pytest.param(MAX_ITEMS, f"{MAX_ITEMS} proxies seen", id="longest-chain"),
        pytest.param(MAX_ITEMS + 1, "nothing suggested", id="one-too-many"),
    ],
)
def test_suggestion_reads_at_most_a_chain(count: int, summary: str) -> None:
    # The peer and count - 1 items are proxies; the leftmost item is the client.
    chain = [f"10.0.{i // 256}.{i % 256}" for i in range(count - 1)]
    proposal = suggest("10.1.0.1", [(XFF, ", ".join(["203.0.113.9", *chain]))])
    assert proposal.summary.startswith(summary)


@pytest.mark.parametrize(
    ("values", "steps", "items", "complete"),
    [
        pytest.param(["a, b", "c"], 10, ["c", "b", "a"], True, id="lines-right-to-left"),
        pytest.param(["a,,  ,b"], 10, ["b", "a"], True, id="empty-elements-skipped"),
        pytest.param(["a, b, c"], 2, ["c", "b"], False, id="step-budget"),
        pytest.param(["a," + "x" * 300 + ",b"], 10, ["b", "x" * 128 + "…", "a"], True,
                     id="long-item-cut"),
        pytest.param(["x" * 1000], 3, [], False, id="long-item-over-budget"),
        pytest.param([""], 1, [], True, id="empty-line"),
    ],
)  # fmt: skip
def test_items_from_right(values: list[str], steps: int, items: list[str], complete: bool) -> None:
    assert items_from_right(values, steps) == (items, complete)


# The suggestion also reads Forwarded (through the walk), X-Forwarded-Proto/-Host/-Port/
# -Prefix (counted against the proxies) and single-address headers (issue 14, item 3).
OTHER_HEADERS = {
    "forwarded": ("Forwarded", "for=10.0.0.1, "),
    "x-forwarded-port": ("X-Forwarded-Port", "443, "),
    "x-forwarded-prefix": ("X-Forwarded-Prefix", "/a,"),
    "x-real-ip": ("X-Real-IP", "x"),
}


@pytest.mark.parametrize(("name", "body"), OTHER_HEADERS.values(), ids=OTHER_HEADERS.keys())
def test_suggestion_work_does_not_grow_with_the_other_headers(name: str, body: str) -> None:
    def lines(size: int) -> list[tuple[str, str]]:
        # A single-address header is read only when no X-Forwarded-For came with it.
        chain = [] if name == "X-Real-IP" else [(XFF, "203.0.113.9")]
        return [*chain, (name, body * (size // len(body)) + "203.0.113.9"), ("Host", "h")]

    small = _events(lines(600_000))
    big = _events(lines(6_000_000))
    assert big <= small, (small, big)
    proposal = suggest(PEER, lines(6_000_000))
    assert len(proposal.caveats) + len(proposal.flags) <= 12
