"""Runtime warnings through the ``trustproxy`` logger, once per cause and rate-limited.

The adapters call :func:`note` with every :class:`~trustproxy.Resolution` they act on.
A healthy request (``status == "applied"`` and nothing ignored) costs one comparison and
one attribute read; only a request that went wrong reaches :class:`Limiter`.

These kinds of trouble are reported, because each usually means the *configuration* is
wrong rather than the request:

``untrusted-peer``
    forwarding headers arrived from a peer that is not trusted: either a client forging
    them (harmless: they were ignored) or your proxy missing from ``trusted``;
``short-chain``
    X-Forwarded-For holds fewer addresses than ``hops``: a proxy does not append, or
    ``hops`` is too high;
``unresolved``
    the walk met something that is not an address (``unknown``, junk);
``conflict`` (or any other status a later header family adds)
    the headers disagree; logged per peer;
``ignored``
    a forwarded scheme, host, port or prefix was invalid and left out;
``server-applied``
    an ``untrusted-peer`` whose address is also the rightmost X-Forwarded-For item (or
    the single-address header): the server rewrote the peer from the headers before
    trustproxy saw them (uvicorn's default), or trustproxy runs twice — adding that
    "peer", the client, to ``trusted`` would be exactly wrong.

:mod:`trustproxy._hints` adds the hints about a working but incomplete configuration
(``unapplied-field``, ``applied-twice``) through the same :class:`Limiter`.

A *cause* is what the operator would fix: the peer for ``untrusted-peer`` and
``unresolved``, the chain length for ``short-chain``, the peer and field for ``ignored``.
Each cause is logged the first time it is seen and again at most every ``repeat``
seconds; on top of that each kind has a token bucket (``burst`` lines, refilled at
``rate`` per second), so a flood of distinct causes — say, forged headers from many
addresses — still yields a handful of lines.  Memory is bounded by ``max_causes``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Callable, Optional

from ._address import parse_node
from ._lists import MAX_ITEM_LENGTH, item_left_of
from ._resolve import APPLIED, MAX_HOPS, UNRESOLVED, UNTRUSTED_PEER, Resolution

__all__ = ["LOGGER_NAME", "Limiter", "hint", "note"]

LOGGER_NAME = "trustproxy"


class _Bucket:
    """A token bucket: ``burst`` tokens, refilled at ``rate`` tokens per second."""

    __slots__ = ("last", "suppressed", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.last = now
        self.suppressed = 0


#: What a server that applies proxy headers itself is told to switch off.
SERVER_FIX = (
    "uvicorn does this for peers in --forwarded-allow-ips (default 127.0.0.1): run it with"
    " --no-proxy-headers (under gunicorn's uvicorn worker, gunicorn's forwarded_allow_ips"
    " is what uvicorn trusts)"
)


def _rightmost_is_peer(result: Resolution, values: Sequence[Optional[str]]) -> bool:
    """Whether the rightmost address of the client-address header is the peer itself."""
    peer = result.hops[0].address
    if peer is None or not values:
        return False
    # X-Forwarded-For is values[1] when Forwarded is read too (values[0]); a Forwarded
    # list alone is not looked at (no server rewrites the peer from it by default).
    value = values[1] if len(values) == 6 else values[0]
    if not value or value.lstrip()[:4].lower() == "for=":
        return False
    item = item_left_of(value, len(value), MAX_ITEM_LENGTH)[0]
    address = parse_node(item) if item else None
    return address is not None and address.text == peer


def classify(
    result: Resolution, values: Sequence[Optional[str]] = ()
) -> Optional[tuple[str, str, str]]:
    """``(kind, cause, message)`` for a resolution worth a warning, else ``None``.

    ``values`` are the header values the resolver read (aligned with its
    ``header_names``), used only to tell a server-applied peer from a stranger."""
    peer = result.hops[0].text or "a UNIX socket"
    if result.status == UNTRUSTED_PEER:
        if _rightmost_is_peer(result, values):
            return (
                "server-applied",
                peer,
                f"forwarding headers from {peer} were ignored: {peer} is not a trusted proxy,"
                " but it is also the rightmost forwarded address, so the server (or an outer"
                " trustproxy) already replaced the proxy's address with the client's before"
                f" trustproxy ran; {SERVER_FIX}; do not add {peer} to trusted",
            )
        return (
            "untrusted-peer",
            peer,
            f"forwarding headers from {peer}, which is not a trusted proxy, were ignored;"
            " if it is your proxy, add its address to trusted",
        )
    if result.status not in (APPLIED, UNRESOLVED):
        # e.g. "conflict": the headers disagree; the status names the kind.
        return (result.status, peer, f"request via {peer}: {result.status}: {result.reason}")
    if result.status == UNRESOLVED:
        last = result.hops[-1]
        seen = len(result.hops) - 1
        if last.trusted_by is not None and seen < MAX_HOPS:
            return (
                "short-chain",
                f"{peer} {seen}",
                f"request via {peer} left unresolved: {result.reason}"
                " (does every proxy append to X-Forwarded-For? is hops too high?)",
            )
        return ("unresolved", peer, f"request via {peer} left unresolved: {result.reason}")
    if result.ignored:
        fields = " ".join(sorted({item.split(" ", 1)[0] for item in result.ignored}))
        return (
            "ignored",
            f"{peer} {fields}",
            f"invalid forwarded values from {peer} were ignored: {'; '.join(result.ignored)}",
        )
    return None


class Limiter:
    """Log each cause once, then at most every ``repeat`` seconds, within a per-kind budget.

    :param logger: where lines go (default: the ``trustproxy`` logger).
    :param clock: a monotonic clock in seconds; tests inject a fake one.
    :param burst: lines a kind may log in a burst.
    :param rate: lines per second a kind earns back.
    :param repeat: seconds before a cause already logged is logged again.
    :param max_causes: causes remembered; the oldest is forgotten first.
    """

    def __init__(
        self,
        logger: Optional[logging.Logger] = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        burst: float = 5.0,
        rate: float = 1.0 / 60.0,
        repeat: float = 3600.0,
        max_causes: int = 256,
    ) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self.clock = clock
        self.burst = burst
        self.rate = rate
        self.repeat = repeat
        self.max_causes = max_causes
        self._seen: dict[tuple[str, str], float] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def __call__(self, result: Resolution, values: Sequence[Optional[str]] = ()) -> bool:
        """Consider one resolution; return True when a line was logged."""
        found = classify(result, values)
        return found is not None and self.report(*found)

    def report(self, kind: str, cause: str, message: str) -> bool:
        """Log ``message`` unless ``(kind, cause)`` was logged lately or ``kind``'s budget
        is spent; return True when a line was logged.  Also for trouble that is not a
        :class:`~trustproxy.Resolution` (a refused PROXY protocol connection)."""
        if not self.logger.isEnabledFor(logging.WARNING):
            return False
        key = (kind, cause)
        with self._lock:
            now = self.clock()
            last = self._seen.get(key)
            if last is not None and now - last < self.repeat:
                return False
            bucket = self._buckets.get(kind)
            if bucket is None:
                bucket = self._buckets[kind] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.last) * self.rate)
            bucket.last = now
            if bucket.tokens < 1.0:
                bucket.suppressed += 1
                return False
            bucket.tokens -= 1.0
            suppressed, bucket.suppressed = bucket.suppressed, 0
            self._seen.pop(key, None)
            if len(self._seen) >= self.max_causes:
                # dicts keep insertion order: the first key is the oldest logged.
                del self._seen[next(iter(self._seen))]
            self._seen[key] = now
        if suppressed:
            message = f"{message} ({suppressed} similar {kind} warning(s) suppressed)"
        self.logger.warning("%s", message, extra={"trustproxy_kind": kind})
        return True


_default = Limiter()


def note(result: Resolution, values: Sequence[Optional[str]] = ()) -> None:
    """Warn about ``result`` if it shows a configuration problem (cheap when it does not).

    ``values``: the header values read, aligned with the resolver's ``header_names``."""
    if result.status != APPLIED or result.ignored:
        _default(result, values)


def hint(kind: str, cause: str, message: str) -> None:
    """Log a hint (see :mod:`trustproxy._hints`) through the same limits as the warnings."""
    _default.report(kind, cause, message)
