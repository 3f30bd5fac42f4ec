"""Single-address headers (X-Real-IP, CF-Connecting-IP, True-Client-IP, …).

Rules: read only when the socket peer is trusted; exactly one line holding exactly one
address (a port is allowed); anything else is unresolved; a missing header changes nothing.
The table of requests is ``single/*`` in tests/scenarios/single.py, run through the core
and every adapter by tests/test_scenarios.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustproxy import APPLIED, UNRESOLVED, ConfigError, Resolver
from trustproxy._address import parse_address

PEER = "127.0.0.1"


def resolve(lines: list[tuple[str, str]], *, peer: str = PEER, name: str = "x-real-ip") -> Any:
    return Resolver(headers=name).resolve(peer, lines, scheme="http", host="origin.test", port=80)


def test_missing_header_applies_nothing() -> None:
    result = resolve([])
    assert result.applied == ()
    assert "no x-real-ip header" in result.reason


@pytest.mark.parametrize(
    "name", ["cf-connecting-ip", "True-Client-IP", "fastly-client-ip", "fly-client-ip"]
)
def test_any_header_name_is_read_in_lower_case(name: str) -> None:
    assert Resolver(headers=name).header_names == (name.lower(),)


def test_default_fields_for_a_single_header_are_for_only() -> None:
    assert Resolver(headers="x-real-ip").fields == frozenset({"for"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"headers": "x-real-ip", "fields": "for,proto"}, "only the client", id="proto"
        ),
        pytest.param({"headers": "x real ip"}, "not a header", id="space-in-name"),
        pytest.param({"headers": "x-real-ip:"}, "not a header", id="colon-in-name"),
        pytest.param({"headers": ""}, "not a header", id="empty"),
        pytest.param({"headers": "x-forwarded-for"}, "x-forwarded", id="xff-is-a-family"),
        pytest.param({"headers": ("x-real-ip", "forwarded")}, "only the tuple", id="mixed-tuple"),
        pytest.param({"headers": 7}, "family", id="not-a-string"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Resolver(**kwargs)


@given(st.text(max_size=80))
def test_arbitrary_text_gives_the_peer_or_one_canonical_address(text: str) -> None:
    result = resolve([("X-Real-IP", text)])
    assert result.status in (APPLIED, UNRESOLVED)
    if result.status == UNRESOLVED:
        assert result.client == PEER
    else:
        assert result.client is not None
        assert parse_address(result.client) is not None
        assert "," not in text
