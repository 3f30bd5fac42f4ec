"""The X-Forwarded-Proto/-Host/-Port/-Prefix values aligned with the client's hop, checked.

Hop alignment (``docs/walk.md``, "Scheme, host, port and prefix"): the ``k``-th item from
the right of each header, or its leftmost when it has fewer, ``k`` being the hop the
client was found at.  The values depend only on ``k``, those headers and the request's
own scheme, Host, port and prefix, never on the client, so a new client behind the same
proxies reuses them from the resolver's memo (``docs/benchmarks.md``).
"""

from __future__ import annotations

from typing import Optional

from ._address import MISSING
from ._lists import MAX_ITEM_LENGTH, nth_from_right
from ._memo import MEMO_KEY_LENGTH, remember
from ._request import Request
from ._values import _SCHEMES, FIELDS, ITEM_LIMITS, Checked, check_values

__all__ = ["aligned_values", "lone_scheme"]

# Per-field item limits, in field order (see _values.ITEM_LIMITS).
_LIMITS = tuple(ITEM_LIMITS[field] for field in FIELDS)


def aligned_values(
    memo: Optional[dict[object, Checked]], positions: tuple[int, ...], k: int, request: Request
) -> Checked:
    """The checked values of hop ``k`` for the configured fields at ``positions`` (indexes
    of the request's values, X-Forwarded-For being 0), through ``memo`` when it is given.

    A key holding more than ``MEMO_KEY_LENGTH`` characters of header text is not even
    hashed (``docs/security.md``, limits).
    """
    _, values, scheme, host, port, prefix = request
    rest = values[1:]
    size = len(host) if host else 0  # _memo.key_length(rest, host), inlined
    for value in rest:
        if value:
            size += len(value)
    if size > MEMO_KEY_LENGTH:
        memo = None
    key = (k, rest, scheme, host, port, prefix)
    checked = memo.get(key, MISSING) if memo is not None else MISSING
    if checked is MISSING:
        raw: list[Optional[str]] = [None, None, None, None]
        for position in positions:
            header = values[position]
            if header:
                limit = _LIMITS[position]
                if len(header) <= limit and "," not in header:
                    # One item (what a single proxy writes): every k reads it, as
                    # nth_from_right would, without its loop.
                    raw[position - 1] = header.strip(" \t") or None
                else:
                    raw[position - 1] = nth_from_right(header, k, limit)[0]
        checked = check_values(raw[0], raw[1], raw[2], raw[3], request)
        if memo is not None:
            remember(memo, key, checked)
    return checked  # type: ignore[no-any-return]


def lone_scheme(proto: str) -> Optional[str]:
    """The scheme a one-item X-Forwarded-Proto names, whatever ``k`` (the decision
    path's shortcut for the default fields), or ``None``: a list, or not a scheme
    :func:`~trustproxy._values.valid_scheme` maps without lower-casing (ask
    :func:`aligned_values`)."""
    if len(proto) > MAX_ITEM_LENGTH or "," in proto:
        return None
    return _SCHEMES.get(proto.strip(" \t"))
