"""The aiohttp adapter: a ``web.middleware`` that answers with ``request.clone(…)``.

aiohttp is neither WSGI nor ASGI, and since 2.3 it reads no forwarding header itself.
:func:`middleware` takes the keywords of every other adapter and returns an aiohttp
middleware; the handler is called with a **clone** of the server's request (the server's
own object stays as it was) in which, as the core decides:

=====================  ===========================================================
``request.remote``     the client address (canonical)
``request.scheme``     ``http`` or ``https`` (aiohttp says ``http``/``https`` on a
                       WebSocket request too)
``request.host``       the forwarded Host (with the forwarded port, if any);
                       ``request.url`` is built from it and the scheme
=====================  ===========================================================

``request.headers`` are the server's (the ``Host`` line included): only the values above
change.  aiohttp has no root path, so the forwarded prefix is not applied to any request
value: it is kept under :data:`PREFIX_KEY`, and links are built with it (see
``docs/frameworks.md``)::

    prefix = request.get(trustproxy.aiohttp.PREFIX_KEY, "")
    url = prefix + str(request.app.router["echo"].url_for())

Whenever a forwarding header arrived, the request (the clone, and the server's too)
holds ``request[RESOLUTION_KEY]``, the :class:`~trustproxy.Resolution`, and
``request[PREFIX_KEY]``, the prefix (``""`` when none was applied).  A request with no
forwarding header at all is passed on as it came, without either key.

The socket peer is the transport's ``peername`` (a UNIX socket has none: it is trusted
only with the ``unix`` preset).  Repeated header lines are read in order from
``request.headers`` and joined with ``,`` (RFC 9110 §5.3; the rightmost 129, beyond which
no walk reads).

A ``"conflict"`` (RFC 7239 ``Forwarded`` disagreeing with X-Forwarded-*), and with
``strict=True`` an ``"unresolved"`` request, is answered ``400 Bad Request`` without
calling the handler; a WebSocket handshake is refused the same way (the handler never
prepares its ``WebSocketResponse``).

aiohttp writes its access log from the server's request, so ``%a`` would show the proxy:
pass ``access_log_class=trustproxy.aiohttp.AccessLogger`` to ``web.run_app`` or
``web.AppRunner`` and the line is written from the clone the handler saw.

This module imports aiohttp; ``import trustproxy`` does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any, Callable, Optional, Union

from aiohttp import web
from aiohttp.web_log import AccessLogger as _AiohttpAccessLogger

from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options, options_from
from ._lists import MAX_LINES
from ._resolve import APPLIED, CONFLICT, FIELDS, UNRESOLVED, Resolution, Resolver
from ._warn import note
from .trust import TrustSpec
from .wsgi import bad_request

__all__ = ["PREFIX_KEY", "REQUEST_KEY", "RESOLUTION_KEY", "AccessLogger", "middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

# aiohttp >= 3.13 warns about plain string keys in a request's storage and offers typed
# keys; older releases take the strings.
_RequestKey: Any = getattr(web, "RequestKey", None)


def _key(name: str, kind: type) -> Any:
    return name if _RequestKey is None else _RequestKey(name, kind)


#: ``request[RESOLUTION_KEY]``: the :class:`~trustproxy.Resolution`.
RESOLUTION_KEY: Any = _key("trustproxy.resolution", Resolution)
#: ``request[PREFIX_KEY]``: the forwarded path prefix, ``""`` when none was applied.
PREFIX_KEY: Any = _key("trustproxy.prefix", str)
#: On the server's request only: the clone the handler was given (read by
#: :class:`AccessLogger`; the clone holds no reference back, so no cycle is made).
REQUEST_KEY: Any = _key("trustproxy.request", web.BaseRequest)


def middleware(
    *,
    trusted: TrustSpec = DEFAULT_TRUSTED,
    hops: Optional[int] = None,
    fields: Union[str, Iterable[str], None] = None,
    headers: Union[str, Iterable[str]] = DEFAULT_HEADERS,
    strict: bool = False,
    options: Optional[Options] = None,
    presets_dir: Optional[str] = None,
) -> Middleware:
    """An aiohttp middleware applying forwarding headers from trusted proxies.

    ``web.Application(middlewares=[trustproxy.aiohttp.middleware(trusted="127.0.0.1")])``

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
    options = options_from(options, trusted, hops, fields, headers, strict, presets_dir)
    resolver = Resolver(options)
    decide = resolver.decide
    names = resolver.header_names
    triggers = resolver.trigger_names
    # X-Forwarded-* of a field not applied is never read by the walk (nor reported), so
    # it is not even looked up: None stands for it, as for an absent header.
    wanted = tuple(
        i
        for i, name in enumerate(names)
        if resolver.family != "x-forwarded" or i == 0 or FIELDS[i] in options.fields
    )
    width = len(names)
    refuse = {CONFLICT, UNRESOLVED} if options.strict else {CONFLICT}

    @web.middleware
    async def trustproxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        found = request.headers
        for name in triggers:
            if name in found:
                break
        else:
            return await handler(request)
        transport = request.transport
        if transport is None:
            # The connection is gone: nobody reads the answer; apply nothing.
            return await handler(request)
        peername = transport.get_extra_info("peername")
        # TCP: (host, port[, flow, scope]); a UNIX socket: "" or a path, which is no peer.
        peer = peername[0] if isinstance(peername, (tuple, list)) and peername else None
        sockname = transport.get_extra_info("sockname")
        port = sockname[1] if isinstance(sockname, (tuple, list)) and len(sockname) > 1 else None
        values: list[Optional[str]] = [None] * width
        for i in wanted:
            lines = found.getall(names[i], None)
            if lines is not None:
                # RFC 9110 §5.3: one list, in order; no walk reads beyond MAX_LINES.
                values[i] = lines[0] if len(lines) == 1 else ",".join(lines[-MAX_LINES:])
        host = found.get("Host")
        result = decide(peer, tuple(values), request.scheme, host, port, "")
        if result.status != APPLIED or result.ignored:
            note(result)
            if result.status in refuse:
                _, response_headers, body = bad_request(result)
                return web.Response(status=400, body=body, headers=response_headers)
        request[RESOLUTION_KEY] = result
        request[PREFIX_KEY] = result.prefix
        applied = result.applied
        if not applied:
            return await handler(request)
        changes: dict[str, Any] = {}
        if "for" in applied and result.client is not None:
            changes["remote"] = result.client
        if "proto" in applied:
            changes["scheme"] = result.scheme
        if result.host is not None and result.host != host:
            changes["host"] = result.host
            if not request.raw_path.startswith("/"):
                # An absolute-form target (RFC 9112 §3.2.2): aiohttp would put the Host
                # into that URL, which takes no port ("a.example:8443" raised
                # ValueError, a 500); the relative target takes the Host as it is.
                changes["rel_url"] = request.rel_url
        if not changes:  # the prefix alone: nothing on the request changes
            return await handler(request)
        clone = request.clone(**changes)
        request[REQUEST_KEY] = clone
        return await handler(clone)

    # For introspection, as the other adapters' attributes: what it was built with.
    trustproxy_middleware.resolver = resolver  # type: ignore[attr-defined]
    trustproxy_middleware.strict = options.strict  # type: ignore[attr-defined]
    return trustproxy_middleware


class AccessLogger(_AiohttpAccessLogger):
    """aiohttp's access logger, writing the line from the request the handler saw.

    aiohttp logs the server's request, not the clone a middleware passed on, so ``%a``
    (``request.remote``) would be the proxy.  Use it with
    ``web.run_app(app, access_log_class=AccessLogger)`` or
    ``web.AppRunner(app, access_log_class=AccessLogger)``; the format is aiohttp's.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        seen = request.get(REQUEST_KEY) if request is not None else None
        super().log(request if seen is None else seen, response, time)
