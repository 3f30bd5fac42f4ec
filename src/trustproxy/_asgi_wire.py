"""What :class:`~trustproxy.asgi.ASGIMiddleware` reads from the server and sends back.

In: the scope's header lines, read once per request into the values the resolver takes
(:class:`HeaderScan`).  Out: the refusal (:func:`refuse`), an HTTP response or a
WebSocket close.  The rules (names in any case, repeated lines joined, latin-1, the
rightmost lines only) are in the :mod:`trustproxy.asgi` docstring and ``docs/api.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional

from ._lists import MAX_LINES
from ._status import CONFLICT, UNVERIFIED_PEER
from .trust import TrustPolicy

__all__ = ["ASGIApp", "HeaderScan", "Message", "Receive", "Scope", "Send", "refuse"]

# The ASGI callable's types (re-exported by trustproxy.asgi).
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Found = tuple[Optional[list[Optional[bytes]]], Optional[bytes]]

_PLAIN_SIZE = 512
_PLAIN_NAME_LENGTH = 64
_REFUSED = b"400 Bad Request: the forwarding headers of this request cannot be trusted\n"
_FORBIDDEN = b"403 Forbidden: not sent through the configured proxy\n"


class HeaderScan:
    """Reads a scope's header lines: the values of ``names``, in that order, and the Host.

    Built once per middleware; :meth:`scan` runs for every request.
    """

    __slots__ = ("_index", "_policy", "_width", "plain")

    def __init__(self, names: tuple[str, ...], policy: TrustPolicy) -> None:
        # Header name (bytes, lower-case) -> position in the values; ``host`` is read in
        # the same pass (-1).
        self._index = {name.encode("latin-1"): i for i, name in enumerate(names)}
        self._index[b"host"] = -1
        self._width = len(names)
        self._policy = policy
        #: Header names seen that are already lower case and not ours: skipped with one
        #: set probe.  A bounded cache of names, not of anything about a request.
        self.plain: set[bytes] = set()

    def scan(self, scope: Scope) -> Found:
        """The forwarding header values (``None``: none arrived) and the Host line, read
        line by line: names in any case, repeated lines joined (RFC 9110 §5.3)."""
        index = self._index
        plain = self.plain
        found: Optional[list[Optional[bytes]]] = None
        repeated: Optional[dict[int, list[bytes]]] = None
        host_line: Optional[bytes] = None
        for name, value in scope["headers"]:
            # Membership tests, not method calls: this loop runs for every header of
            # every request.
            if name in index:
                position = index[name]
            elif name in plain:
                continue
            else:
                # ASGI servers send lower-case names, but the spec only says "should".
                lower = name.lower()
                if lower == name:
                    # Names are client-sent: only short ones are remembered, so the set
                    # never keeps long client text alive between requests.
                    if len(name) <= _PLAIN_NAME_LENGTH:
                        if len(plain) >= _PLAIN_SIZE:
                            plain.clear()
                        plain.add(name)
                    continue
                if lower not in index:
                    continue
                position = index[lower]
            if position < 0:
                host_line = value
                continue
            if found is None:
                found = [None] * self._width
            previous = found[position]
            if previous is None:
                found[position] = value
                continue
            # RFC 9110 §5.3: repeated lines are one comma-separated list, in order.  They
            # are collected and joined once below: joining each line onto the value so far
            # copies it again per line (quadratic in the lines a client sends).
            if repeated is None:
                repeated = {}
            kept = repeated.get(position)
            if kept is None:
                repeated[position] = [previous, value]
            else:
                kept.append(value)
                if len(kept) > 2 * MAX_LINES:
                    del kept[:-MAX_LINES]  # memory stays bounded; amortised O(1) per line
        if found is not None and repeated is not None:
            self._join(scope, found, repeated)
        return found, host_line

    def _join(
        self,
        scope: Scope,
        found: list[Optional[bytes]],
        repeated: dict[int, list[bytes]],
    ) -> None:
        """Put the joined lines of each repeated header into ``found``: its rightmost
        :data:`~trustproxy._lists.MAX_LINES`, which is all any walk reads."""
        client = scope.get("client")
        policy = self._policy
        if policy.cacheable and policy.peer(client[0] if client else None).trusted_by is None:
            # Nothing is read from an untrusted peer, whatever its lines say: the first
            # line stands for each header, and nothing is joined.  (Only when the answer
            # is cached: a callable entry is asked once per request.)
            return
        for position, kept in repeated.items():
            found[position] = b",".join(kept[-MAX_LINES:])


async def refuse(kind: str, send: Send, status: str = CONFLICT) -> None:
    """Answer a refused request: 403 (no required headers), else 400; on a WebSocket
    scope, a close with code 1008."""
    if kind == "websocket":
        # RFC 6455 §7.4.1: 1008 = policy violation.  Closing before accepting makes the
        # server refuse the handshake (ASGI WebSocket spec, "Close - send event").
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    # 403 for a request without its required headers: not from a proxy we serve.
    code, body = (403, _FORBIDDEN) if status == UNVERIFIED_PEER else (400, _REFUSED)
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
