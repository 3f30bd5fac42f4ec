"""Strict-mode rows (``strict=True``): an unresolved request is refused like a conflict
(400; a WebSocket handshake: close 1008); every other outcome passes as without strict.

Written out: the rows of the old strict tables (tests/test_conflicts.py, the refusal
table of tests/test_django.py).  Generated: the strict twin of every row of the
``forwarded``, ``both`` and ``single`` families and of the X-Forwarded-For walk rows
(``x-forwarded/walk/*``), so each family meets each outcome in strict mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ._model import (
    BOTH,
    CONFLICT,
    UNRESOLVED,
    UNTRUSTED_PEER,
    Scenario,
    case,
    strict_twin,
)

CLIENT = "203.0.113.9"
TWINNED = ("forwarded/", "both/", "single/", "x-forwarded/walk/")


def rows(others: Iterable[Scenario]) -> Iterator[Scenario]:
    yield case(
        "strict/unresolved-refused", [("X-Forwarded-For", "unknown")], strict=True,
        status=UNRESOLVED,
    )  # fmt: skip
    yield case(
        "strict/applied-passes", [("X-Forwarded-For", "1.2.3.4")], strict=True,
        client="1.2.3.4",
    )  # fmt: skip
    yield case(
        "strict/untrusted-peer-passes", [("X-Forwarded-For", "unknown")], strict=True,
        peer="6.6.6.6", status=UNTRUSTED_PEER,
    )  # fmt: skip
    yield case("strict/no-headers-passes", [], strict=True)
    yield case(
        "strict/forwarded-obfuscated-refused", [("Forwarded", 'for="_hidden"')],
        headers="forwarded", strict=True, status=UNRESOLVED,
    )  # fmt: skip
    yield case(
        "strict/chain-shorter-than-hops-refused", [("X-Forwarded-For", CLIENT)],
        trusted="*", hops=2, strict=True, status=UNRESOLVED,
    )  # fmt: skip
    yield case(
        "strict/conflict-refused", [("Forwarded", "for=6.6.6.6"), ("X-Forwarded-For", CLIENT)],
        headers=BOTH, strict=True, status=CONFLICT,
    )  # fmt: skip
    for row in others:
        if row.id.startswith(TWINNED):
            yield strict_twin(row)
