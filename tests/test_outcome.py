"""The one translation (``trustproxy._outcome.changes``): what an adapter writes."""

from __future__ import annotations

import itertools
from typing import Optional

import pytest

from trustproxy import Resolution
from trustproxy._outcome import NOTHING, Changes, changes

FIELDS = ("for", "proto", "host", "port", "prefix")
APPLIED_SETS = [
    combo for n in range(len(FIELDS) + 1) for combo in itertools.combinations(FIELDS, n)
]


def reference(result: Resolution, host: Optional[str], port: Optional[int], prefix: str) -> Changes:
    """The rule, written out once without shortcuts."""
    applied = result.applied
    new_prefix = result.prefix if "prefix" in applied else None
    return Changes(
        result.client if "for" in applied else None,
        result.client_port if "for" in applied else None,
        result.scheme if "proto" in applied else None,
        result.host if result.host is not None and result.host != host else None,
        result.port if result.port is not None and result.port != port else None,
        new_prefix,
        new_prefix[: len(new_prefix) - len(prefix)] if new_prefix is not None else "",
        (),
    )


@pytest.mark.parametrize("applied", APPLIED_SETS, ids=lambda a: "+".join(a) or "nothing")
@pytest.mark.parametrize(
    ("new_host", "new_port"),
    [("app.example", 80), ("shop.example:8443", 8443), (None, None), ("app.example", None)],
)
def test_changes_follow_the_rule(
    applied: tuple[str, ...], new_host: Optional[str], new_port: Optional[int]
) -> None:
    if not {"proto", "host", "port"} & set(applied):
        # The resolver changes Host and port only with one of these (check_values).
        new_host, new_port = "app.example", 80
    result = Resolution(
        "applied", "reason", "203.0.113.9", 4711, "https", new_host, new_port,
        "/app/mount" if "prefix" in applied else "/mount", (), (), applied,
    )  # fmt: skip
    got = changes(result, "app.example", 80, "/mount")
    assert got == reference(result, "app.example", 80, "/mount")
    if not applied:
        assert got is NOTHING
    if "prefix" in applied:
        assert got.added == "/app"
