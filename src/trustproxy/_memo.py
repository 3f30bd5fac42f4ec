"""The one bounded memo: a plain ``dict`` that is emptied, never grown, when full.

A memo is kept only where a benchmark shows it pays on the traffic a server sees (see
``docs/benchmarks.md``), and only for values that do not depend on the client: a server's
next request is mostly from a client not seen lately, so a memo of per-client outcomes
costs a key, a hash and a store and is rarely hit.  Sizes and the key-length bound are
the limits listed in ``docs/security.md``.
"""

from __future__ import annotations

from typing import Optional, TypeVar

__all__ = ["CACHE_SIZE", "MEMO_KEY_LENGTH", "MEMO_SIZE", "key_length", "remember"]

#: Entries of a memo of one parsed text (addresses, trust per node, hosts, prefixes).
CACHE_SIZE = 4096
#: Entries of a memo of combined values (the checked X-Forwarded-* values, ProxyFix's
#: writes, the resolver's results).
MEMO_SIZE = 1024
#: The most client-sent characters one memo key may hold: a longer key is neither looked
#: up (hashing a fresh 90 KB header costs more than the walk) nor kept (the memo must not
#: keep megabytes of client text alive between requests).
MEMO_KEY_LENGTH = 2048

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, size: int = MEMO_SIZE) -> V:
    """Store ``value`` under ``key``, emptying ``memo`` first when it holds ``size``."""
    if len(memo) >= size:
        memo.clear()
    memo[key] = value
    return value


def key_length(values: tuple[Optional[str], ...], extra: Optional[str]) -> int:
    """How many characters of client-sent text a key made of these holds."""
    total = len(extra) if extra else 0
    for value in values:
        if value:
            total += len(value)
    return total
