"""The one right-to-left list scanner: header text -> items, read from the right.

Knows nothing of trust.  Every comma-separated list the library reads (X-Forwarded-*,
``Forwarded`` elements, werkzeug's positions in :mod:`trustproxy.proxyfix`) is read one
item at a time with :func:`item_left_of`; the limits below are documented in
``docs/security.md`` (limits table).

X-Forwarded-* values (and RFC 7239 lists) are comma-separated lists that every proxy
extends on the *right*, so the resolver reads them from the right and stops as soon as it
has what it needs: the work follows the hops walked, never the header size.  A
10,000-item header costs the same as a two-item one.

RFC 9110 §5.3: several lines of a list header are one list, joined with commas in arrival
order, so callers join lines before scanning (the rightmost :data:`MAX_LINES` of them:
no walk reads further).  RFC 9110 §5.6.1: empty list elements and
the optional whitespace (SP / HTAB) around them are ignored.  X-Forwarded-For has no
quoting at all: a ``"`` is an invalid character of its own item, never a reason to merge
items (werkzeug's quote-aware split lets a lone ``"`` swallow the whole header).
"""

from __future__ import annotations

from typing import Optional

from ._status import MAX_HOPS

__all__ = [
    "MAX_EMPTY_ITEMS",
    "MAX_FOR_READ",
    "MAX_ITEM_LENGTH",
    "MAX_LINES",
    "TOO_LONG",
    "item_left_of",
    "nth_from_right",
]

#: The most characters (whitespace included) examined for one item.  Every valid item is
#: far shorter; a longer one is reported as too long without reading it further.
MAX_ITEM_LENGTH = 128

#: The most empty list elements (``,,`` or ``, ,``) skipped in one header.  RFC 9110
#: §5.6.1 allows them, but a run of commas would otherwise cost one step each: with
#: this cap a walk takes at most ``hops + MAX_EMPTY_ITEMS`` steps of at most
#: :data:`MAX_ITEM_LENGTH` characters, whatever the header size.
MAX_EMPTY_ITEMS = 64

#: The most lines of one header read: its rightmost ones.  Every walk (X-Forwarded-For,
#: ``Forwarded``, the hop-aligned values, :func:`nth_from_right`) stops by the
#: ``MAX_HOPS + MAX_EMPTY_ITEMS``-th item from the right (at most 64 non-empty items, and
#: the 65th empty one ends it), and each line holds at least one item, so no walk reaches
#: a line further left: leaving them out changes no decision, while joining a client's
#: 40,000 lines (RFC 9110 §5.3) would cost time for nothing.
MAX_LINES = MAX_HOPS + MAX_EMPTY_ITEMS + 1

#: The most characters of an X-Forwarded-For value, counted from its right end, that any
#: walk reads: at most ``MAX_HOPS`` addresses and ``MAX_EMPTY_ITEMS + 1`` empty items,
#: each step at most ``MAX_ITEM_LENGTH`` characters, and one item more to spare.  An
#: adapter that must decode a longer value (ASGI headers are bytes) decodes only this
#: much of its right end: the walk takes the same steps on it.
MAX_FOR_READ = (MAX_LINES + 1) * (MAX_ITEM_LENGTH + 1)

#: Returned in place of an item longer than :data:`MAX_ITEM_LENGTH`.
TOO_LONG = "\x00too-long"


def item_left_of(value: str, end: int, limit: int = MAX_ITEM_LENGTH) -> tuple[Optional[str], int]:
    """The item of ``value`` that ends at ``end``, trimmed, and where the scan goes next.

    Returns ``(item, start)``: ``start`` is the index of the comma left of the item (``-1``
    at the left end: the list is done), to pass as the next ``end``.  The scan looks at
    most ``limit`` characters to the left of ``end``: an item longer than that is
    ``(None, -1)``, never read to its start.  An empty element gives ``""`` (RFC 9110
    §5.6.1: callers skip it, and count it against :data:`MAX_EMPTY_ITEMS`).
    """
    window = end - limit if end > limit else 0
    start = value.rfind(",", window, end)
    if start < 0 and window > 0:
        return None, -1
    return value[start + 1 : end].strip(" \t"), start


def nth_from_right(value: str, n: int, limit: int = MAX_ITEM_LENGTH) -> tuple[Optional[str], int]:
    """Return the ``n``-th non-empty item from the right (1-based) and its index.

    If the list has fewer than ``n`` items, the leftmost item and its index are returned;
    if it has none, ``(None, 0)``.  An item longer than ``limit`` characters (by default
    :data:`MAX_ITEM_LENGTH`), or one reached only after more than :data:`MAX_EMPTY_ITEMS`
    empty elements, is returned as :data:`TOO_LONG`.
    """
    end = len(value)
    found: Optional[str] = None
    index = 0
    empty = 0
    while end >= 0 and index < n:
        item, end = item_left_of(value, end, limit)
        if item is None:
            return TOO_LONG, index + 1
        if item:
            index += 1
            found = item
        else:
            empty += 1
            if empty > MAX_EMPTY_ITEMS:
                return TOO_LONG, index + 1
    return found, index
