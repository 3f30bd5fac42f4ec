"""The ASGI adapter: translate between an ASGI scope and the pure core.

:class:`ASGIMiddleware` handles ``http`` and ``websocket`` scopes; ``lifespan`` and any
other scope type is passed on untouched.  When a trusted proxy forwarded the request it
calls the application with a **new scope** (a shallow copy of the server's, never the
server's own dict, which stays as it was) in which, as the core decides:

| scope key | becomes |
| --- | --- |
| ``client`` | ``(address, port)``: the client address (canonical) and its port (1) |
| ``scheme`` | ``http``/``https``; ``ws``/``wss`` on a WebSocket scope |
| ``headers`` | a new list whose ``host`` line holds the forwarded Host (2) |
| ``server`` | ``(host name, port)`` of the forwarded Host / port |
| ``root_path`` | the forwarded prefix *prepended* to the existing root path |
| ``path`` | the same prefix prepended, so ``path`` still starts with ``root_path`` (3) |

(1) The port the forwarded item carried, or ``0`` when it carried none: the proxy's port
would be a lie, and ``0`` is what uvicorn reports too.  (2) Added when the request had
none; every other line is kept.  (3) The convention of uvicorn >= 0.26, Starlette, Django
and Quart; ``raw_path`` likewise when present.

Two scope keys are added to the new scope whenever a forwarding header was present,
named like the WSGI environ keys:

* ``scope["trustproxy.resolution"]``: the :class:`~trustproxy.Resolution` (status,
  reason, the hops examined…);
* ``scope["trustproxy.orig"]``: the server's own scope, unchanged: its ``client``,
  ``scheme``, ``server``, ``root_path``, ``path``, ``raw_path`` and ``headers`` are the
  originals (treat it as read-only: it is the server's object).

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

With ``require_headers`` (tenant binding, ``docs/tenant.md``) a request from a trusted
peer without every required header and its value has status ``"unverified-peer"``:
nothing is applied, and with ``strict=True`` it is answered ``403 Forbidden`` (on a
WebSocket scope, the same close 1008).  The required headers' lines are left out of the
scope the application gets, whatever the peer, and out of ``trustproxy.orig`` too
(then a copy of the server's scope without them): a secret never reaches the app.

The server's access log is written from the server's scope, so it still shows the
proxy; see :mod:`trustproxy.accesslog` for the filter that makes it show the client.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Mapping
from typing import NoReturn, Optional, Union

from ._asgi_wire import ASGIApp, HeaderScan, Receive, Scope, Send, refuse
from ._checks import check_app, refuse_keywords
from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options, options_from
from ._hints import Watch
from ._lists import MAX_FOR_READ
from ._outcome import changes
from ._resolve import (
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    UNVERIFIED_PEER,
    Resolution,
    Resolver,
)
from ._tenant import drop_lines
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
_FROM_WS = {"ws": "http", "wss": "https"}


class ASGIMiddleware:
    """Apply forwarding headers from trusted proxies to an ASGI application.

    :param app: the ASGI application to wrap.
    :param trusted: the proxies you control (addresses, networks, presets, callables).
    :param hops: the number of proxies in front of the app, if known.
    :param fields: which values to apply: any of ``"for"``, ``"proto"``, ``"host"``,
        ``"port"``, ``"prefix"``; by default ``("for", "proto")``, or ``("for",)`` for a
        single-address header.
    :param headers: the header family to read.
    :param strict: answer 400 when the headers could not be resolved, 403 when a required
        header is missing or wrong.
    :param require_headers: tenant binding: headers a trusted proxy must carry, name ->
        value (literal, ``"env:NAME"`` or ``"file:PATH"``, read now); their lines are
        removed from every request before the application sees it.
    :param options: an :class:`~trustproxy._config.Options` instead of the keywords above.
    :param presets_dir: a folder of presets refreshed by ``trustproxy presets update``
        (default: ``TRUSTPROXY_PRESETS_DIR``).
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
        require_headers: Optional[Mapping[str, str]] = None,
        options: Optional[Options] = None,
        presets_dir: Optional[str] = None,
        **unknown: NoReturn,
    ) -> None:
        refuse_keywords(type(self).__name__, unknown)  # werkzeug's x_for=1, a typo...
        check_app(app, "asgi", type(self).__name__)
        self.app = app
        options = options_from(
            options, trusted, hops, fields, headers, strict, presets_dir, require_headers
        )
        self.resolver = Resolver(options)
        self.strict = strict = options.strict
        names = self.resolver.read_names
        #: The secret headers' names, whose lines are removed from every request.
        self._hidden = frozenset(name.encode("latin-1") for name in self.resolver.required_names)
        #: How many of the values are forwarding headers (the required ones follow).
        self._forwarding = len(self.resolver.header_names)
        header_scan = HeaderScan(names, self.resolver.policy)
        #: The scope's header lines -> the values to resolve and the Host line.
        self._scan = header_scan.scan
        #: Header names known not to be ours (bounded; see HeaderScan).
        self._plain = header_scan.plain
        #: Where X-Forwarded-For is in the values, when a cut value walks the same.
        self._for_position = 0 if self.resolver.family == "x-forwarded" else None
        # Positions of the headers whose presence means there is work to do.
        triggers = self.resolver.trigger_names
        self._triggers = tuple(i for i, name in enumerate(names) if name in triggers)
        self._watch = Watch(self.resolver, type(self).__name__)
        self._refuse = {CONFLICT, UNRESOLVED, UNVERIFIED_PEER} if strict else {CONFLICT}

    def __repr__(self) -> str:
        return f"ASGIMiddleware({self.app!r}, {self.resolver!r}, strict={self.strict!r})"

    def refuses(self, result: Resolution) -> bool:
        """Whether a request resolved so is answered 400 (a conflict; unresolved too when
        strict) or 403 (strict, a required header missing) instead of reaching the
        application."""
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
        result = new.get(RESOLUTION_KEY)  # absent when only secret lines were removed
        if result is not None and result.status in self._refuse:
            await refuse(kind, send, result.status)
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
            # Without a forwarding header there is nothing to resolve, but a secret's lines
            # still must not reach the application.
            if self._hidden:
                return {**scope, "headers": drop_lines(scope["headers"], self._hidden)}
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
        watch = self._watch
        if watch.left:  # the first forwarded requests only (see _hints)
            watch.see(result, values, scope)
        # Positional reads (status, ignored; see _result.Resolution): per request.
        if result[0] != APPLIED or result[8]:
            note(result, values[: self._forwarding])
        # The server's scope is never edited, so it *is* the record of the originals.
        new = {**scope}
        new[ORIGINAL_KEY] = scope
        if self._hidden:
            new["headers"] = drop_lines(scope["headers"], self._hidden)
            new[ORIGINAL_KEY] = {**scope, "headers": new["headers"]}
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
            _server(
                new,
                host if new_host is None else new_host,
                port if new_port is None else new_port,
                server,
            )
        if prefix is not None:
            new["root_path"] = prefix
            path = new.get("path")
            if path is not None:
                new["path"] = added + path
            raw_path = new.get("raw_path")
            if raw_path is not None:
                new["raw_path"] = added.encode("latin-1") + raw_path
        return new


def _server(
    new: Scope,
    host: Optional[str],
    port: Optional[int],
    server: Optional[tuple[str, Optional[int]]],
) -> None:
    """``server`` for a changed Host or port: the Host's name (brackets off) and port."""
    # The Host's name only when that Host is valid: the request's own Host was never
    # checked, and "x@evil.example" or "[::1" must not become the server's name.
    split = None if host is None else host_port(host)
    name = split[0] if split is not None else (server[0] if server else None)
    if name is not None and name.startswith("["):
        name = name[1:-1]
    if name is not None and port is not None:
        new["server"] = (name, port)
