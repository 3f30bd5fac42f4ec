"""The core beyond the scenario table (tests/test_scenarios.py runs the table): long
headers, callable trust, request schemes in any case, hops without addresses."""

from __future__ import annotations

from typing import Any, Optional

import pytest

import trustproxy
from trustproxy import Hop, Resolver
from trustproxy._resolve import MAX_HOPS

CLIENT = "203.0.113.9"
XFF = "X-Forwarded-For"


class NoSplit(str):
    """A header value that fails the test if anything splits or iterates it whole."""

    def split(self, *args: object, **kwargs: object) -> list[str]:
        raise AssertionError("the header was split whole")

    def rsplit(self, *args: object, **kwargs: object) -> list[str]:
        raise AssertionError("the header was split whole")

    def partition(self, *args: object, **kwargs: object) -> tuple[str, str, str]:
        raise AssertionError("the header was partitioned whole")

    def __iter__(self) -> Any:
        raise AssertionError("the header was iterated character by character")


def _values(xff: str, proto: Optional[str] = None) -> tuple[Optional[str], ...]:
    return (NoSplit(xff), None if proto is None else NoSplit(proto), None, None, None)


def test_10000_item_header_resolves_like_a_short_one() -> None:
    """Issue 2 §4: a 10,000-item header is scanned from the right, never split whole;
    the walk examines the same two items as for the two-item header."""
    long = ", ".join(["6.6.6.6"] * 9_998 + [CLIENT, "127.0.0.2"])
    proto = ", ".join(["http"] * 9_999 + ["https", "http"])
    resolver = Resolver()
    calls: list[str] = []
    hop = resolver.policy.hop

    def counting_hop(text: str) -> Optional[Hop]:
        calls.append(text)
        return hop(text)

    resolver.policy.hop = counting_hop  # type: ignore[method-assign]
    result = resolver._resolve("127.0.0.1", _values(long, proto), "http", None, None, "")
    # The full walk (the hop trail) runs when the explanation is first read.
    assert len(result.hops) == 3
    # Only the two items walked (the peer is looked up for the decision and again for the
    # explanation).
    assert [text for text in calls if text != "127.0.0.1"] == ["127.0.0.2", CLIENT]
    short = Resolver().resolve(
        "127.0.0.1", [(XFF, f"{CLIENT}, 127.0.0.2"), ("X-Forwarded-Proto", "https, http")]
    )
    assert result == short
    assert (result.client, result.scheme) == (CLIENT, "https")


def test_10000_trusted_items_stop_at_the_walk_limit() -> None:
    long = ", ".join(["127.0.0.3"] * 10_000)
    resolver = Resolver()
    result = resolver._resolve("127.0.0.1", _values(long), "http", None, None, "")
    assert result.status == trustproxy.UNRESOLVED
    assert len(result.hops) == MAX_HOPS + 1  # the peer and MAX_HOPS items, no more


def test_10000_items_with_hops_reads_hops_items() -> None:
    long = ", ".join(["6.6.6.6"] * 9_997 + [CLIENT, "198.51.100.1", "198.51.100.2"])
    resolver = Resolver(trusted="*", hops=3)
    result = resolver._resolve("198.51.100.3", _values(long), "http", None, None, "")
    assert result.client == CLIENT
    assert len(result.hops) == 4


def test_10000_character_item_is_not_read_whole() -> None:
    result = Resolver()._resolve("127.0.0.1", _values("1" * 10_000), "http", None, None, "")
    assert result.status == trustproxy.UNRESOLVED
    assert "longer than" in result.reason


def test_callable_trust_is_asked_on_every_request() -> None:
    """A callable's answer may change (say, a reloaded list): results are not memoised."""
    answers = {"trust": True}
    resolver = Resolver(trusted=lambda address: answers["trust"])
    lines = [(XFF, CLIENT)]
    assert resolver.resolve("10.0.0.1", lines).client == CLIENT
    answers["trust"] = False
    result = resolver.resolve("10.0.0.1", lines)
    assert result.status == trustproxy.UNTRUSTED_PEER
    assert result.client == "10.0.0.1"


LONG_HOST = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61  # 253 characters


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param("x-forwarded", id="x-forwarded"),
        pytest.param(("forwarded", "x-forwarded"), id="both-families"),
    ],
)
@pytest.mark.parametrize("hops", [1, 2], ids=["nearest-hop", "second-hop"])
def test_a_longest_valid_host_is_read_at_any_hop(headers: object, hops: int) -> None:
    """Item limits follow the field: a 253-character DNS name is a valid Host (RFC 1035
    §2.3.4) whichever hop it is aligned with, and on every header-family path."""
    resolver = Resolver(trusted="*", hops=hops, fields=("for", "host"), headers=headers)  # type: ignore[arg-type]
    xff = ", ".join(["203.0.113.7"] + ["198.51.100.1"] * (hops - 1))
    hosts = ", ".join([LONG_HOST] + ["inner.example"] * (hops - 1))
    result = resolver.resolve("127.0.0.1", [("X-Forwarded-For", xff), ("X-Forwarded-Host", hosts)])
    assert result.status == "applied", result.reason
    assert result.host == LONG_HOST
    # One character past the field's limit is refused without reading it whole.
    too_long = "e" * 400
    result = resolver.resolve(
        "127.0.0.1",
        [("X-Forwarded-For", xff), ("X-Forwarded-Host", ", ".join([too_long] * hops))],
        host="origin.example",
    )
    assert result.host == "origin.example"
    assert result.ignored


@pytest.mark.parametrize(
    ("scheme", "lines", "expected"),
    [
        pytest.param("HTTP", [("X-Forwarded-Host", "a.example")], ("http", "a.example", 80),
                     id="host-on-HTTP"),
        pytest.param("HTTPS", [("X-Forwarded-Host", "a.example")], ("https", "a.example", 443),
                     id="host-on-HTTPS"),
        pytest.param("Https", [("X-Forwarded-Proto", "https")], ("https", None, None),
                     id="same-scheme-other-case-changes-nothing"),
        pytest.param("HTTPS", [("X-Forwarded-Proto", "http")], ("http", None, 80),
                     id="proto-on-HTTPS"),
        pytest.param("ftp", [("X-Forwarded-Host", "a.example")], ("ftp", "a.example", None),
                     id="unknown-scheme-keeps-its-port"),
    ],
)  # fmt: skip
def test_request_scheme_in_any_case(
    scheme: str, lines: list[tuple[str, str]], expected: tuple[str, Optional[str], Optional[int]]
) -> None:
    """issue 10 §11: a scheme is case-insensitive (RFC 3986 §3.1); "HTTP" with a forwarded
    host raised KeyError looking up the default port."""
    resolver = Resolver(fields=("for", "proto", "host"))
    result = resolver.resolve("127.0.0.1", lines, scheme=scheme)
    assert result.status == trustproxy.APPLIED, result.reason
    assert (result.scheme, result.host, result.port) == expected


def test_adapter_scheme_in_capitals_does_not_crash() -> None:
    """The adapters pass the server's scheme straight to the core: a server writing
    wsgi.url_scheme "HTTPS" must not turn a forwarded Host into a 500."""
    seen: dict[str, Any] = {}
    middleware = trustproxy.WSGIMiddleware(
        lambda environ, start_response: seen.update(environ) or [], fields=("for", "host")
    )
    environ = {"REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "HTTPS", "SERVER_PORT": "8443",
               "HTTP_HOST": "app.example:8443", "HTTP_X_FORWARDED_HOST": "a.example"}  # fmt: skip
    middleware(environ, lambda status, headers: None)
    assert (seen["HTTP_HOST"], seen["SERVER_PORT"]) == ("a.example", "443")


@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize(
    ("headers", "lines"),
    [
        pytest.param("x-forwarded", [("X-Forwarded-Proto", "https")], id="x-forwarded-no-for"),
        pytest.param("x-forwarded", [("X-Forwarded-For", ","), ("X-Forwarded-Proto", "https")],
                     id="x-forwarded-empty-items"),
        pytest.param("x-forwarded", [], id="x-forwarded-no-header"),
        pytest.param("forwarded", [("Forwarded", "")], id="forwarded-empty"),
        pytest.param("forwarded", [("Forwarded", ", ;,")], id="forwarded-no-element"),
        pytest.param("forwarded", [], id="forwarded-no-header"),
        pytest.param("x-real-ip", [], id="single-no-header"),
    ],
)  # fmt: skip
def test_no_address_with_hops_is_shorter_than_hops(
    headers: str, lines: list[tuple[str, str]], hops: int
) -> None:
    """issue 10 §17: zero items is a chain shorter than hops, for every header family:
    unresolved, nothing applied (it was "applied", with the client's own proto)."""
    resolver = Resolver(trusted="*", hops=hops, headers=headers)
    result = resolver.resolve("127.0.0.1", lines)
    assert (result.status, result.client, result.scheme) == (
        trustproxy.UNRESOLVED, "127.0.0.1", "http",
    ), result.reason  # fmt: skip
    assert result.applied == ()
    assert "shorter than configured" in result.reason
    # Without hops the same request is the peer's own, as before.
    assert Resolver(trusted="loopback", headers=headers).resolve("127.0.0.1", lines).status == (
        trustproxy.APPLIED
    )
