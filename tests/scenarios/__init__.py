"""The one scenario table: every header family, strict mode and every outcome, as plain
data run through the core and every adapter by tests/test_scenarios.py.

Each :class:`Scenario` holds a configuration (``trusted``, ``hops``, ``fields``,
``headers``, ``strict``), the socket peer, the forwarding header lines in arrival order
(repeated lines included), the request's own scheme/host/port/prefix, and the
:class:`Outcome` every adapter must produce: ``applied``, ``untrusted-peer``,
``unresolved`` or ``conflict``, and whether the request is refused (a conflict, or
unresolved with ``strict``).  Ids start with the family:

``x-forwarded/``  X-Forwarded-* (tests/scenarios/x_forwarded.py)
``forwarded/``    RFC 7239 ``Forwarded`` (forwarded.py)
``both/``         both families, agreeing or in conflict (both.py)
``single/``       one-address headers such as X-Real-IP (single.py)
``strict/``       ``strict=True`` (strict.py)
"""

from __future__ import annotations

import dataclasses
import itertools

from . import both, forwarded, single, strict, x_forwarded
from ._model import (
    ALL_FIELDS,
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    UNTRUSTED_PEER,
    Outcome,
    Request,
    Scenario,
    server_name,
    trust_tens,
)

__all__ = [
    "ALL_FIELDS",
    "APPLIED",
    "CONFLICT",
    "FAMILIES",
    "SCENARIOS",
    "UNRESOLVED",
    "UNTRUSTED_PEER",
    "Outcome",
    "Request",
    "Scenario",
    "server_name",
    "trust_tens",
]

FAMILIES = ("x-forwarded", "forwarded", "both", "single", "strict")


def _all() -> tuple[Scenario, ...]:
    xf = [dataclasses.replace(row, id=f"x-forwarded/{row.id}") for row in x_forwarded.rows()]
    base = tuple(itertools.chain(xf, forwarded.rows(), both.rows(), single.rows()))
    rows = base + tuple(strict.rows(base))
    ids = [row.id for row in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate scenario ids: {duplicates}")
    return rows


SCENARIOS: tuple[Scenario, ...] = _all()
