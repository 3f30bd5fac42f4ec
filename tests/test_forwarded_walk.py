"""The RFC 7239 walk beyond the scenario table (its rows are ``forwarded/*`` in
tests/scenarios/forwarded.py, run by tests/test_scenarios.py): reasons, the hop trail,
huge headers, configuration and properties.

The RFC's 192.0.2.0/24 example addresses are rewritten to 203.0.113.0/24 (see
test_forwarded_parse).  The socket peer is 127.0.0.1 (trusted)
"""

from __future__ import annotations

from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustproxy import APPLIED, UNRESOLVED, ConfigError, Resolver

PEER = "127.0.0.1"
TRUSTED = "loopback, 10.0.0.0/8, 198.51.100.17, 2001:db8:cafe::/48"


def resolve(value: Optional[str], *, peer: str = PEER, hops: Optional[int] = None) -> Any:
    resolver = Resolver(
        trusted=TRUSTED, hops=hops, headers="forwarded", fields=("for", "proto", "host")
    )
    headers = [] if value is None else [("Forwarded", value)]
    return resolver.resolve(peer, headers, scheme="http", host="origin.test", port=80)


def test_unresolved_reasons_name_the_problem() -> None:
    assert "unknown" in resolve("for=unknown").reason
    assert "obfuscated" in resolve("for=_x").reason
    assert "no 'for'" in resolve("proto=https").reason
    assert "malformed" in resolve("for=1;for=2").reason


def test_trail_and_proxies() -> None:
    result = resolve("for=1.2.3.4, for=10.0.0.1")
    assert [hop.text for hop in result.hops] == [PEER, "10.0.0.1", "1.2.3.4"]
    assert [hop.text for hop in result.proxies] == [PEER, "10.0.0.1"]


def test_a_huge_header_is_not_read_beyond_the_client() -> None:
    value = ", ".join(["for=_junk"] * 20_000 + ["for=1.2.3.4"])
    assert resolve(value).client == "1.2.3.4"
    value = "for=" + "x" * 10_000 + ", for=10.0.0.1"
    assert resolve(value).status == UNRESOLVED


def test_more_than_max_hops_trusted_is_unresolved() -> None:
    value = ", ".join(["for=10.0.0.1"] * 100)
    result = resolve(value)
    assert result.status == UNRESOLVED
    assert "more than" in result.reason


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param("forwarded", id="lower"),
        pytest.param(" Forwarded ", id="spaces-and-case"),
        pytest.param(("forwarded",), id="one-tuple"),
    ],
)
def test_forwarded_family_reads_only_forwarded(headers: Any) -> None:
    resolver = Resolver(headers=headers)
    assert resolver.header_names == ("forwarded",)
    assert resolver.trigger_names == ("forwarded",)
    result = resolver.resolve(PEER, [("X-Forwarded-For", "1.2.3.4")])
    assert result.client == PEER  # no fallback to X-Forwarded-For


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"fields": "for,port"}, "no port", id="port"),
        pytest.param({"fields": "prefix"}, "no prefix", id="prefix"),
    ],
)
def test_forwarded_has_no_port_or_prefix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Resolver(headers="forwarded", **kwargs)


def test_x_forwarded_family_ignores_forwarded() -> None:
    result = Resolver().resolve(PEER, [("Forwarded", "for=1.2.3.4")])
    assert result.client == PEER


# -- properties --------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_arbitrary_forwarded_text_never_raises(text: str) -> None:
    result = resolve(text)
    assert result.status in (APPLIED, UNRESOLVED)
    assert result.scheme in ("http", "https")
    if result.status == UNRESOLVED:
        assert (result.client, result.applied) == (PEER, ())


@given(st.text(max_size=100))
def test_text_a_client_prepends_never_changes_the_result(prefix: str) -> None:
    """RFC 7239 §8.1: only what trusted proxies appended counts.  Whatever the client
    sent, split on every comma, the element the proxy appended is read the same."""
    proxy_element = "for=1.2.3.4;proto=https"
    result = resolve(f"{prefix},{proxy_element}")
    assert (result.status, result.client, result.scheme) == (APPLIED, "1.2.3.4", "https")
