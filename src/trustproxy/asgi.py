"""The ASGI adapter: translate between an ASGI scope and the pure core.

:class:`ASGIMiddleware` handles ``http`` and ``websocket`` scopes; ``lifespan`` and any
other scope type is passed on untouched.  When a trusted proxy forwarded the request it
calls the application with a **new scope** (a shallow copy of the server's, never the
server's own dict, which stays as it was) in which, as the core decides:

===============  ==============================================================
``client``       ``(address, port)``: the client address (canonical) and the port
                 the forwarded item carried, or ``0`` when it carried none (the
                 proxy's port would be a lie; ``0`` is what uvicorn reports too)
``scheme``       ``http``/``https``; ``ws``/``wss`` on a WebSocket scope
``headers``      a new list in which the ``host`` line holds the forwarded Host
                 (added when the request had none); every other line is kept
``server``       ``(host name, port)`` of the forwarded Host / port
``root_path``    the forwarded prefix *prepended* to the existing root path
``path``         the same prefix prepended, so that ``path`` still starts with
                 ``root_path`` (the convention of uvicorn >= 0.26, Starlette,
                 Django and Quart); ``raw_path`` likewise when present
===============  ==============================================================

Two scope keys are added to the new scope whenever a forwarding header was present,
named like the WSGI environ keys:

``scope["trustproxy.resolution"]``
    the :class:`~trustproxy.Resolution` (status, reason, the hops examined…);
``scope["trustproxy.orig"]``
    the server's own scope, unchanged: its ``client``, ``scheme``, ``server``,
    ``root_path``, ``path``, ``raw_path`` and ``headers`` are the originals (treat it
    as read-only: it is the server's object).

A request with no forwarding header at all is passed on with the server's own scope,
without either key.  Header lines are read from the scope's list in order: repeated
lines of one header are joined with ``,`` (RFC 9110 §5.3; the rightmost 129, beyond
which no walk reads, and only when the peer is trusted), names are compared without
regard to case, values are decoded as latin-1 (RFC 9110 §5.5: octets, not text).

A peer of ``None`` (``scope["client"]`` absent or ``None``: a UNIX socket) is trusted
only when the policy holds the ``unix`` preset.

With ``strict=True`` a request whose headers could not be resolved (status
``"unresolved"``) is answered ``400 Bad Request`` without calling the application; a
``"conflict"`` (RFC 7239 ``Forwarded`` disagreeing with X-Forwarded-*) always is.  On a
WebSocket scope the answer is a ``websocket.close`` with code 1008 (policy violation,
RFC 6455 §7.4.1), which the server turns into a 403 refusal of the handshake.

The server's access log is written from the server's scope, so it still shows the
proxy; see :mod:`trustproxy.accesslog` for the filter that makes it show the client.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Iterable, MutableMapping
from typing import Any, Callable, Optional, Union

from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options, options_from
from ._lists import MAX_FOR_READ, MAX_LINES
from ._outcome import changes
from ._resolve import (
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    Resolution,
    Resolver,
)
from ._values import host_port
from ._warn import note
from .trust import TrustSpec

__all__ = [
    "ORIGINAL_KEY",
    "RESOLUTION_KEY",
    "ASGIApp",
    "ASGIMiddleware",
    "Receive",
    "Scope",
    "Send",
    "current",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RESOLUTION_KEY = "trustproxy.resolution"
ORIGINAL_KEY = "trustproxy.orig"

#: The new scope of the request being served, while the application runs (``None``
#: outside).  The access-log integration reads it: servers log from their own scope.
#: It is set only once an :class:`~trustproxy.accesslog.AccessLogFilter` exists (which
#: sets ``_tracking``), so requests do not pay for it otherwise.
_tracking = False
current: contextvars.ContextVar[Optional[Scope]] = contextvars.ContextVar(
    "trustproxy.current", default=None
)

_TO_WS = {"http": "ws", "https": "wss"}
_PLAIN_SIZE = 512
_PLAIN_NAME_LENGTH = 64
_FROM_WS = {"ws": "http", "wss": "https"}
_REFUSED = b"400 Bad Request: the forwarding headers of this request cannot be trusted\n"


class ASGIMiddleware:
    """Apply forwarding headers from trusted proxies to an ASGI application.

    :param app: the ASGI application to wrap.
    :param trusted: the proxies you control (addresses, networks, presets, callables).
    :param hops: the number of proxies in front of the app, if known.
    :param fields: which values to apply: any of ``"for"``, ``"proto"``, ``"host"``,
        ``"port"``, ``"prefix"``; by default ``("for", "proto")``, or ``("for",)`` for a
        single-address header.
    :param headers: the header family to read.
    :param strict: answer 400 when the headers could not be resolved.
    :param options: an :class:`~trustproxy._config.Options` instead of the keywords above.
    :raises ConfigError: for any malformed option.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted: TrustSpec = DEFAULT_TRUSTED,
        hops: Optional[int] = None,
        fields: Union[str, Iterable[str], None] = None,
        headers: Union[str, Iterable[str]] = DEFAULT_HEADERS,
        strict: bool = False,
        options: Optional[Options] = None,
    ) -> None:
        self.app = app
        options = options_from(options, trusted, hops, fields, headers, strict)
        self.resolver = Resolver(options)
        self.strict = strict = options.strict
        names = self.resolver.header_names
        # Header name (bytes, lower-case) -> position in the values tuple; ``host`` is
        # read in the same pass.
        self._index = {name.encode("latin-1"): i for i, name in enumerate(names)}
        self._index[b"host"] = -1
        self._width = len(names)
        #: Where X-Forwarded-For is in the values, when a cut value walks the same.
        self._for_position = 0 if self.resolver.family == "x-forwarded" else None
        # Header names seen that are already lower case and not ours: skipped with one
        # set probe.  A bounded cache of names, not of anything about a request.
        self._plain: set[bytes] = set()
        # Positions of the headers whose presence means there is work to do.
        triggers = self.resolver.trigger_names
        self._triggers = tuple(i for i, name in enumerate(names) if name in triggers)
        self._refuse = {CONFLICT, UNRESOLVED} if strict else {CONFLICT}

    def __repr__(self) -> str:
        return f"ASGIMiddleware({self.app!r}, {self.resolver!r}, strict={self.strict!r})"

    def refuses(self, result: Resolution) -> bool:
        """Whether a request resolved so is answered 400 (a conflict; unresolved too when
        strict) instead of reaching the application."""
        return result.status in self._refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        new = self.rewrite(scope)
        if new is None:
            await self.app(scope, receive, send)
            return
        if new[RESOLUTION_KEY].status in self._refuse:
            await _refuse(kind, send)
            return
        if not _tracking:
            await self.app(new, receive, send)
            return
        token = current.set(new)
        try:
            await self.app(new, receive, send)
        finally:
            current.reset(token)

    def rewrite(self, scope: Scope) -> Optional[Scope]:
        """The scope the application should see, or ``None`` when no forwarding header
        arrived.  Pure: the given scope is not modified."""
        found, host_line = self._scan(scope)
        if found is None:
            return None
        for position in self._triggers:
            if found[position] is not None:
                break
        else:
            return None
        try:
            # uvicorn, hypercorn and daphne always send these; subscripts beat .get().
            client = scope["client"]
            server = scope["server"]
            scheme = scope["scheme"]
            root_path = scope["root_path"]
        except KeyError:
            client = scope.get("client")
            server = scope.get("server")
            scheme = scope.get("scheme")
            root_path = scope.get("root_path", "")
        peer = client[0] if client else None
        kind_ws = scope["type"] == "websocket"
        tail = self._for_position
        if tail is not None:
            long = found[tail]
            if long is not None and len(long) > MAX_FOR_READ:
                # Only the right end a walk can reach is decoded (see MAX_FOR_READ): a
                # 90 KB header costs no more to decode than its last 17 KB.
                found[tail] = long[-MAX_FOR_READ:]
        values = tuple([None if value is None else value.decode("latin-1") for value in found])
        scheme = scheme or ("ws" if kind_ws else "http")
        root_path = root_path or ""
        host = None if host_line is None else host_line.decode("latin-1")
        port = server[1] if server else None
        # No memo of the outcome: it depends on the client, and a server's next request
        # is mostly from a client not seen lately (docs/benchmarks.md).
        result = self.resolver.decide(
            peer, values, _FROM_WS.get(scheme, scheme), host, port, root_path
        )
        # Positional reads (status, ignored; see _result.Resolution): per request.
        if result[0] != APPLIED or result[8]:
            note(result)
        # The server's scope is never edited, so it *is* the record of the originals.
        new = {**scope}
        new[ORIGINAL_KEY] = scope
        new[RESOLUTION_KEY] = result
        if not result[7]:  # nothing applied
            return new
        client, client_port, new_scheme, new_host, new_port, prefix, added, _ = changes(
            result, host, port, root_path
        )
        if client is not None:
            new["client"] = (client, client_port or 0)
        if new_scheme is not None:
            new["scheme"] = _TO_WS[new_scheme] if kind_ws else new_scheme
        if new_host is not None:
            host_line = new_host.encode("latin-1")
            headers = [line for line in new["headers"] if line[0].lower() != b"host"]
            headers.insert(0, (b"host", host_line))
            new["headers"] = headers
        if new_host is not None or new_port is not None:
            _server(new, result, server)
        if prefix is not None:
            new["root_path"] = prefix
            path = new.get("path")
            if path is not None:
                new["path"] = added + path
            raw_path = new.get("raw_path")
            if raw_path is not None:
                new["raw_path"] = added.encode("latin-1") + raw_path
        return new

    def _scan(self, scope: Scope) -> tuple[Optional[list[Optional[bytes]]], Optional[bytes]]:
        """The forwarding header values and the Host line, read line by line: names in
        any case, repeated lines joined (RFC 9110 §5.3)."""
        index = self._index
        plain = self._plain
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
        self, scope: Scope, found: list[Optional[bytes]], repeated: dict[int, list[bytes]]
    ) -> None:
        """Put the joined lines of each repeated header into ``found``: its rightmost
        :data:`~trustproxy._lists.MAX_LINES`, which is all any walk reads."""
        client = scope.get("client")
        policy = self.resolver.policy
        if policy.cacheable and policy.peer(client[0] if client else None).trusted_by is None:
            # Nothing is read from an untrusted peer, whatever its lines say: the first
            # line stands for each header, and nothing is joined.  (Only when the answer
            # is cached: a callable entry is asked once per request.)
            return
        for position, kept in repeated.items():
            found[position] = b",".join(kept[-MAX_LINES:])


def _server(new: Scope, result: Resolution, server: Optional[tuple[str, Optional[int]]]) -> None:
    """``server`` for a changed Host or port: the new Host's name (brackets off) and port."""
    # The Host's name only when that Host is valid: the request's own Host was never
    # checked, and "x@evil.example" or "[::1" must not become the server's name.
    new_host = result.host
    split = None if new_host is None else host_port(new_host)
    name = split[0] if split is not None else (server[0] if server else None)
    if name is not None and name.startswith("["):
        name = name[1:-1]
    if name is not None and result.port is not None:
        new["server"] = (name, result.port)


async def _refuse(kind: str, send: Send) -> None:
    if kind == "websocket":
        # RFC 6455 §7.4.1: 1008 = policy violation.  Closing before accepting makes the
        # server refuse the handshake (ASGI WebSocket spec, "Close - send event").
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_REFUSED)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _REFUSED})
