"""werkzeug's positions: what :class:`~trustproxy.proxyfix.ProxyFix` reads, as changes.

werkzeug's ``ProxyFix`` counts each X-Forwarded-* header on its own (``x_proto=2``: the
second value from the right of X-Forwarded-Proto, whatever X-Forwarded-For holds), so its
decision is not a trust walk's and cannot come from :class:`~trustproxy.Resolver`.  This
module makes that decision — the items read through the core's list scanner
(`_lists.item_left_of`), each value through the core's validators — and states it as an
`_outcome.Changes`, the translation every adapter maps onto its server's shapes.  The
rules, and where they depart from werkzeug, are in ``docs/migrate-werkzeug.md``.
"""

from __future__ import annotations

from typing import Optional

from ._address import parse_node, parse_port
from ._lists import item_left_of
from ._outcome import NOTHING, Changes
from ._values import ITEM_LIMITS, host_port, valid_prefix, valid_scheme
from .errors import ConfigError
from .trust import TrustPolicy

__all__ = ["FOR_LIMIT", "Counts", "HeaderValues", "check_count", "decide", "nth", "walk"]

# The most characters read for one item, optional whitespace included: the same limits
# as the core (_values.ITEM_LIMITS).  A longer item is refused without reading it to its
# end, so a huge header costs no more than a short one.
FOR_LIMIT = ITEM_LIMITS["for"]
_SHORT_LIMIT = ITEM_LIMITS["proto"]  # proto and port
_HOST_LIMIT = ITEM_LIMITS["host"]
_PREFIX_LIMIT = ITEM_LIMITS["prefix"]

#: X-Forwarded-Proto, -Host, -Port, -Prefix and the request's own HTTP_HOST.
HeaderValues = tuple[Optional[str], Optional[str], Optional[str], Optional[str], Optional[str]]
#: ``x_proto``, ``x_host``, ``x_port``, ``x_prefix``.
Counts = tuple[int, int, int, int]


def check_count(name: str, value: object) -> int:
    """A per-header count, checked: an ``int`` >= 0, or :class:`~trustproxy.ConfigError`."""
    # werkzeug compares the count with len() and indexes with -count at request time, so
    # a str or float fails on the first request and a negative count silently picks a
    # value from the left (client-written) end.  Fail at start-up instead.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int >= 0 (a number of proxies), not {value!r}")
    if value < 0:
        raise ConfigError(f"{name} must be >= 0 (a number of proxies), not {value!r}")
    return value


def nth(value: str, n: int, limit: int) -> Optional[str]:
    """The ``n``-th comma-separated item from the right, trimmed of spaces and tabs.

    ``None`` when the list has fewer than ``n`` items, the item is empty, or an item
    examined is ``limit`` characters or longer.  werkzeug's positions: an empty element
    counts as one (werkzeug splits on every comma), which is why this is not
    `_lists.nth_from_right` (RFC 9110 §5.6.1 skips empty elements); the scan is the same
    `_lists.item_left_of`, so the header is never split whole.
    """
    end = len(value)
    while True:
        item, end = item_left_of(value, end, limit)
        n -= 1
        if n == 0:
            return item or None  # None also for an item longer than any valid value
        if end < 0:
            return None  # fewer than n items (or one too long to be valid)


def walk(policy: TrustPolicy, value: str, count: int) -> Optional[str]:
    """With ``trusted=``: the first untrusted address from the right, or the ``count``-th
    (as WSGIMiddleware walks with ``hops=count``); ``None`` when an item on the way is
    not an address (an empty one included: werkzeug counts it) or there are too few.

    Not the core's walk: that one skips empty elements (RFC 9110 §5.6.1), and here an
    empty element is a position, as in werkzeug.
    """
    end = len(value)
    for step in range(1, count + 1):
        if end < 0:
            return None
        item, end = item_left_of(value, end, FOR_LIMIT)
        hop = policy.hop(item) if item else None
        if hop is None:
            return None
        if hop.trusted_by is None or step == count:
            return hop.address
    return None  # count is 0: X-Forwarded-For is off


def client_at(value: str, count: int) -> Optional[str]:
    """Without ``trusted=``: the canonical address at werkzeug's ``count``-th position,
    or ``None`` when there is none there (``count`` >= 1)."""
    item = nth(value, count, FOR_LIMIT)
    address = parse_node(item) if item else None
    return None if address is None else address.text


def decide(counts: Counts, values: HeaderValues) -> tuple[Changes, bool]:
    """What the counts take from X-Forwarded-Proto, -Host, -Port and -Prefix, validated.

    The answer's ``host`` is the new ``HTTP_HOST``, ``port`` the new ``SERVER_PORT`` and
    ``prefix`` the whole new ``SCRIPT_NAME`` (werkzeug *replaces* it: ``added`` is
    empty).  The client is not in it: it differs with every request and is read apart
    (:func:`walk`, :func:`client_at`).

    The second item says whether ``SERVER_NAME`` follows the new Host: werkzeug sets it
    from X-Forwarded-Host, and leaves it alone when only X-Forwarded-Port rebuilt the
    Host (the WSGI middleware sets it from any new Host).
    """
    x_proto, x_host, x_port, x_prefix = counts
    proto, forwarded_host, forwarded_port, forwarded_prefix, http_host = values
    scheme = host = prefix = None
    port: Optional[int] = None
    named = False
    if x_proto and proto:
        item = nth(proto, x_proto, _SHORT_LIMIT)
        scheme = None if item is None else valid_scheme(item)
    if x_host and forwarded_host:
        item = nth(forwarded_host, x_host, _HOST_LIMIT)
        parsed = None if item is None else host_port(item)
        if item is not None and parsed is not None:
            host = http_host = item
            port = parsed[1]
            named = True
    if x_port and forwarded_port:
        item = nth(forwarded_port, x_port, _SHORT_LIMIT)
        new_port = None if item is None else parse_port(item)
        if new_port is not None:
            # Only a valid Host gets the port: the request's own Host was never checked,
            # and "x@evil.example" or "[::1" rebuilt with a port would be a forged or
            # broken Host no client sent ("x@evil.example:443", "[::443").
            split = host_port(http_host) if http_host else None
            if split is not None:
                host = f"{split[0]}:{new_port}"
            port = new_port
    if x_prefix and forwarded_prefix:
        item = nth(forwarded_prefix, x_prefix, _PREFIX_LIMIT)
        # Without its trailing "/" (werkzeug keeps it): SCRIPT_NAME is "" or
        # "/segment…" (PEP 3333), so "/" means the root, and "/" + PATH_INFO "/x" would
        # rebuild as "//x", a network-path reference (RFC 3986 §4.2).
        prefix = None if item is None else valid_prefix(item)
    if scheme is None and host is None and port is None and prefix is None:
        return NOTHING, False
    return Changes(None, None, scheme, host, port, prefix, "", ()), named
