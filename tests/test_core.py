"""The shared scenario table (tests/scenarios.py) run through ``Resolver.resolve``."""

from __future__ import annotations

import pytest

import trustproxy
from scenarios import SCENARIOS, Outcome, Scenario
from trustproxy import Resolution, Resolver


def check(result: Resolution, expected: Outcome) -> None:
    """Compare a Resolution with the table's expected outcome, field by field."""
    got = (
        result.status,
        result.client,
        result.client_port,
        result.scheme,
        result.host,
        result.port,
        result.prefix,
    )
    want = (
        expected.status,
        expected.client,
        expected.client_port,
        expected.scheme,
        expected.host,
        expected.port,
        expected.prefix,
    )
    assert got == want, result.reason
    assert result.reason
    assert len(result.ignored) == len(expected.ignored), result.ignored
    for entry, part in zip(sorted(result.ignored), sorted(expected.ignored)):
        assert entry.startswith(part), result.ignored
    assert ("for" in result.applied) == expected.forwarded, result.applied


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.id) for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    resolver = Resolver(**scenario.config())
    request = scenario.request
    result = resolver.resolve(
        scenario.peer,
        list(scenario.lines),
        scheme=request.scheme,
        host=request.host,
        port=request.port,
        prefix=request.prefix,
    )
    check(result, scenario.expected)
    if result.status == trustproxy.UNTRUSTED_PEER:
        # Nothing was read: the trail holds the peer alone.
        assert len(result.hops) == 1
        assert result.proxies == ()
        assert result.applied == ()
    if result.status == trustproxy.UNRESOLVED:
        assert result.applied == ()
    # Resolving again (now from the memo, when the policy is cacheable) gives the same.
    again = resolver.resolve(
        scenario.peer,
        list(scenario.lines),
        scheme=request.scheme,
        host=request.host,
        port=request.port,
        prefix=request.prefix,
    )
    assert again == result
