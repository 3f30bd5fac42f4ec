"""Which header lines a configuration reads, and how they become the walk's values.

:func:`header_layout` names the headers of a header family (``docs/api.md``,
``headers=``); :func:`join_lines` turns a request's ``(name, value)`` lines into the
values ``Resolver.decide`` takes: each header's lines joined in arrival order (RFC 9110
§5.3), only its rightmost ``MAX_LINES`` (no walk reads further; ``docs/security.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Union

from ._config import BOTH, X_FORWARDED
from ._lists import MAX_LINES
from ._request import Values
from ._values import FIELDS

__all__ = ["Headers", "header_layout", "join_lines"]

#: A request's header lines: ``(name, value)`` in arrival order, or names to values.
Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


def header_layout(family: str, fields: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The header names a family reads, lower-case, in the order of the values the walk
    expects, and the names whose presence triggers a walk (a request with none of them
    is left alone)."""
    if family == "forwarded":
        return ("forwarded",), ("forwarded",)
    x_names = tuple(X_FORWARDED[f] for f in FIELDS)
    x_triggers = tuple(X_FORWARDED[f] for f in FIELDS if f == "for" or f in fields)
    if family == BOTH:
        # values[0] is Forwarded, values[1:] line up with X-Forwarded-* in field order.
        return ("forwarded", *x_names), ("forwarded", *x_triggers)
    if family == "x-forwarded":
        return x_names, x_triggers
    return (family,), (family,)


def join_lines(positions: Mapping[str, int], headers: Headers) -> Values:
    """The value of each header at ``positions`` (lower-case name -> index), ``None``
    where absent: names are case-insensitive, repeated lines joined with commas."""
    found: list[list[str]] = [[] for _ in positions]
    lines = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in lines:
        position = positions.get(name.lower())
        if position is not None:
            kept = found[position]
            kept.append(value)
            if len(kept) > 2 * MAX_LINES:
                del kept[:-MAX_LINES]  # memory stays bounded; amortised O(1) per line
    # One list, joined once (per-line joining is quadratic).  A lone line is passed as
    # it came.
    return tuple(
        None if not kept else kept[0] if len(kept) == 1 else ",".join(kept[-MAX_LINES:])
        for kept in found
    )
