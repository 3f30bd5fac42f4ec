"""The hop trail of a :class:`~trustproxy.Resolution`, told: each hop's source and
decision, the items left of the stop, the required headers as shown.

The pieces ``trustproxy explain`` (text and ``--json``) and ``whoami`` are built from;
the output is described in ``docs/cli.md``.  Reading is bounded: a huge header costs
what a short one does (``docs/security.md``, whoami's limits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Union

from ._config import BOTH
from ._display import items_from_right
from ._forwarded import elements_from_right
from ._lists import MAX_EMPTY_ITEMS
from ._resolve import APPLIED, UNTRUSTED_PEER, Resolution, Resolver
from ._tenant import HIDDEN

__all__ = [
    "JSON",
    "NOT_EXAMINED_COUNTED",
    "NOT_EXAMINED_SHOWN",
    "NotExamined",
    "elements",
    "family_header",
    "hop_rows",
    "left_of_stop",
    "not_examined",
    "note",
    "secrets_shown",
    "source",
]

JSON = Union[None, bool, int, str, Sequence["JSON"], Mapping[str, "JSON"]]

# With both families the walk is over Forwarded; X-Forwarded-* is the cross-check.
_FAMILY_HEADER = {"x-forwarded": "X-Forwarded-For", "forwarded": "Forwarded", BOTH: "Forwarded"}


def family_header(resolver: Resolver) -> str:
    return _FAMILY_HEADER.get(resolver.family, resolver.family)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def source(resolver: Resolver, index: int) -> str:
    if index == 0:
        return "socket peer"
    return f"{family_header(resolver)}, {ordinal(index)} from right"


#: How many of the items left of the stop ``explain --json`` and ``whoami`` list, and how
#: far beyond them they count: both bound the work and the output, whatever the header size.
NOT_EXAMINED_SHOWN = 64
NOT_EXAMINED_COUNTED = 1000


class NotExamined(NamedTuple):
    """The address-header items left of where the walk stopped (never looked at)."""

    #: the items nearest the stop, left to right (at most the number asked for)
    items: tuple[str, ...]
    #: how many more items lie further left (a lower bound unless ``complete``)
    more: int
    #: whether the header was read to its left end, so ``more`` is exact
    complete: bool


def not_examined(
    resolver: Resolver,
    result: Resolution,
    lines: Sequence[tuple[str, str]],
    shown: int = NOT_EXAMINED_SHOWN,
) -> NotExamined:
    """Up to ``shown`` of the items left of the stop, and a bounded count of the rest.

    Reading is bounded (:func:`~trustproxy._display.items_from_right`): a 6 MB header of
    junk costs what a short one does, and the list shown stays short.
    """
    if result.status == UNTRUSTED_PEER:
        return NotExamined((), 0, True)
    examined = len(result.hops) - 1
    steps = examined + shown + NOT_EXAMINED_COUNTED + MAX_EMPTY_ITEMS
    if resolver.family in ("forwarded", BOTH):
        items, complete = elements(lines, steps)
    else:
        name = "x-forwarded-for" if resolver.family == "x-forwarded" else resolver.family
        values = [value for key, value in lines if key.lower() == name]
        items, complete = items_from_right(values, steps)
    left = items[examined:]
    return NotExamined(tuple(reversed(left[:shown])), max(0, len(left) - shown), complete)


def elements(lines: Sequence[tuple[str, str]], steps: int) -> tuple[list[str], bool]:
    """The Forwarded elements as written, rightmost first, at most ``steps`` of them, and
    whether the header was read to its left end (each element is bounded in length)."""
    joined = ",".join(value for key, value in lines if key.lower() == "forwarded")
    items: list[str] = []
    for element in elements_from_right(joined):
        if len(items) >= steps:
            return items, False
        items.append(element.text)
        if element.params is None and element.error.startswith(("longer", "more than")):
            return items, False  # the scan stopped there: what is left of it is unread
    return items, True


def left_of_stop(resolver: Resolver, lines: Sequence[tuple[str, str]]) -> bool:
    """Whether the address header holds a second item (a few bounded steps only)."""
    if resolver.family in ("forwarded", BOTH):
        return len(elements(lines, 2)[0]) > 1
    name = "x-forwarded-for" if resolver.family == "x-forwarded" else resolver.family
    values = [value for key, value in lines if key.lower() == name]
    return len(items_from_right(values, 2 + MAX_EMPTY_ITEMS)[0]) > 1


def note(result: Resolution, index: int, hops: int) -> str:
    """What happened at hop ``index`` of the trail."""
    hop = result.hops[index]
    last = index == len(result.hops) - 1
    if not last:
        return "trusted proxy, walk goes on"
    if result.status == UNTRUSTED_PEER:
        return "STOP: peer not trusted, headers not read"
    if result.status != APPLIED:
        return f"STOP: {result.status}"
    if index == 0:
        return "STOP: the peer is the client"
    if hop.trusted_by is None:
        return "STOP: first untrusted address = client"
    if hops == index:
        return f"STOP: hops={hops} reached = client"
    return "STOP: end of list = client"


def hop_rows(resolver: Resolver, result: Resolution) -> list[dict[str, JSON]]:
    hops = resolver.policy.hops or 0
    return [
        {
            "index": index,
            "source": source(resolver, index),
            "text": hop.text,
            "address": hop.address,
            "port": hop.port,
            "trusted_by": hop.trusted_by,
            "note": note(result, index, hops),
        }
        for index, hop in enumerate(result.hops)
    ]


def secrets_shown(
    resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]
) -> list[dict[str, JSON]]:
    """Each required header (``require_headers``) as it arrived, its value ``<hidden>``:
    ``explain`` is pasted into tickets and chats, and a secret must not travel with it."""
    given = {name.lower() for name, _ in lines}
    return [
        {"name": name, "value": HIDDEN if name in given else None}
        for name in resolver.required_names
    ]
