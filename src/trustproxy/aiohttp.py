"""The aiohttp adapter: a `web.middleware` that hands the handler a clone of the request.

aiohttp is neither WSGI nor ASGI, and since 2.3 it reads no forwarding header itself.
[`middleware`][trustproxy.aiohttp.middleware] takes the keywords of every other adapter
and returns an aiohttp middleware; the handler is called with a **clone** of the server's
request (the server's own object stays as it was) in which, as the core decides:

| attribute | becomes |
| --- | --- |
| `request.remote` | the client address (canonical) |
| `request.scheme` | `http` or `https` (also on a WebSocket request, as aiohttp says) |
| `request.host` | the forwarded Host (with the forwarded port, if any) |

`request.url` is built from the new scheme and Host.

`request.headers` are the server's (the `Host` line included), less the
`require_headers` lines: only the values above change.  aiohttp has no root path, so the
forwarded prefix is not applied to any request value: it is kept under `PREFIX_KEY`, and
links are built with it (see `docs/frameworks.md`):

```python
prefix = request.get(trustproxy.aiohttp.PREFIX_KEY, "")
url = prefix + str(request.app.router["echo"].url_for())
```

Whenever a forwarding header arrived, the request (the clone, and the server's too)
holds `request[RESOLUTION_KEY]`, the [`Resolution`][trustproxy.Resolution], and
`request[PREFIX_KEY]`, the prefix (`""` when none was applied).  A request with no
forwarding header at all is passed on as it came, without either key.  When nothing
changes (the peer is not trusted, the client is the peer itself, only the prefix was
applied) the handler gets the server's request, with the keys: no clone is made.

The clone is the object `request.clone(remote=…, scheme=…, host=…)` returns, made by
copying the request's attributes (a quarter of the cost): the first request a process
serves is cloned both ways and the copy is used only if the two are equal
(`trustproxy._aiohttp_clone`).

The socket peer is the transport's `peername` (a UNIX socket has none: it is trusted
only with the `unix` preset).  Repeated header lines are read in order from
`request.headers` and joined with `,` (RFC 9110 §5.3; the rightmost 129, beyond which
no walk reads).

A `"conflict"` (RFC 7239 `Forwarded` disagreeing with X-Forwarded-*), and with
`strict=True` an `"unresolved"` request, is answered `400 Bad Request` without calling
the handler; a WebSocket handshake is refused the same way (the handler never prepares
its `WebSocketResponse`).

With `require_headers` (tenant binding, `docs/tenant.md`) a request from a trusted peer
without every required header and its value has status `"unverified-peer"`: nothing is
applied, and with `strict=True` it is answered `403 Forbidden` (a WebSocket handshake
too).  The required headers are removed from the request the handler gets, whatever the
peer: from `request.headers` and `request.raw_headers` of the clone (a clone is made for
that alone when nothing else changes).  Put this middleware first: a middleware before
it sees the server's request, secret included.

aiohttp writes its access log from the server's request, so `%a` would show the proxy
(and `%{X-Origin-Verify}i` a secret): pass
`access_log_class=trustproxy.aiohttp.AccessLogger` to `web.run_app` or `web.AppRunner`
and the line is written from the clone the handler saw.

This module imports aiohttp; `import trustproxy` does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, Callable, Optional, Union

from aiohttp import web
from aiohttp.web_log import AccessLogger as _AiohttpAccessLogger

from ._aiohttp_clone import connection, derive
from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options, options_from
from ._lists import MAX_LINES
from ._outcome import changes
from ._resolve import (
    APPLIED,
    CONFLICT,
    FIELDS,
    UNRESOLVED,
    UNVERIFIED_PEER,
    Resolution,
    Resolver,
)
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


#: `request[RESOLUTION_KEY]`: the [`Resolution`][trustproxy.Resolution].
RESOLUTION_KEY: Any = _key("trustproxy.resolution", Resolution)
#: `request[PREFIX_KEY]`: the forwarded path prefix, `""` when none was applied.
PREFIX_KEY: Any = _key("trustproxy.prefix", str)
#: On the server's request only: the clone the handler was given (read by
#: [`AccessLogger`][trustproxy.aiohttp.AccessLogger]; the clone holds no reference
#: back, so no cycle is made).
REQUEST_KEY: Any = _key("trustproxy.request", web.BaseRequest)


def middleware(
    *,
    trusted: TrustSpec = DEFAULT_TRUSTED,
    hops: Optional[int] = None,
    fields: Union[str, Iterable[str], None] = None,
    headers: Union[str, Iterable[str]] = DEFAULT_HEADERS,
    strict: bool = False,
    require_headers: Optional[Mapping[str, str]] = None,
    options: Optional[Options] = None,
    presets_dir: Optional[str] = None,
) -> Middleware:
    """An aiohttp middleware applying forwarding headers from trusted proxies.

    `web.Application(middlewares=[trustproxy.aiohttp.middleware(trusted="127.0.0.1")])`

    :param trusted: the proxies you control (addresses, networks, presets, callables).
    :param hops: the number of proxies in front of the app, if known.
    :param fields: which values to apply: any of `"for"`, `"proto"`, `"host"`, `"port"`,
        `"prefix"`; by default `("for", "proto")`, or `("for",)` for a single-address
        header.
    :param headers: the header family to read.
    :param strict: answer 400 when the headers could not be resolved, 403 when a required
        header is missing or wrong.  Conflicts are always answered with 400.
    :param require_headers: tenant binding: headers a trusted proxy must carry, name ->
        value (literal, `"env:NAME"` or `"file:PATH"`, read now); removed from the
        request the handler gets.
    :param options: an [`Options`][trustproxy._config.Options] instead of the keywords
        above.
    :param presets_dir: a folder of presets refreshed by `trustproxy presets update`
        (default: `TRUSTPROXY_PRESETS_DIR`).
    :raises ConfigError: for any malformed option.
    """
    options = options_from(
        options, trusted, hops, fields, headers, strict, presets_dir, require_headers
    )
    resolver = Resolver(options)
    decide = resolver.decide
    #: The header names read, forwarding ones then the required ones (read_names order).
    names = resolver.read_names
    count = len(resolver.header_names)
    triggers = resolver.trigger_names
    #: The secret headers' names (lower case), removed from the handler's request.
    hidden = frozenset(resolver.required_names)
    # X-Forwarded-* of a field not applied is never read by the walk (nor reported), so
    # it is not even looked up: None stands for it, as for an absent header.
    wanted = tuple(
        i
        for i in range(len(names))
        if i >= count or resolver.family != "x-forwarded" or i == 0 or FIELDS[i] in options.fields
    )
    width = len(names)
    refuse = {CONFLICT, UNRESOLVED, UNVERIFIED_PEER} if options.strict else {CONFLICT}

    @web.middleware
    async def trustproxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        found = request.headers
        for name in triggers:
            if name in found:
                break
        else:
            if hidden and any(name in found for name in hidden):
                return await _strip(request, handler, hidden)
            return await handler(request)
        connected = connection(request)
        if connected is None:
            # The connection is gone: nobody reads the answer; apply nothing.
            if hidden and any(name in found for name in hidden):
                return await _strip(request, handler, hidden)
            return await handler(request)
        peername, sockname = connected
        # TCP: (host, port[, flow, scope]); a UNIX socket: "" or a path, which is no peer.
        peer = peername[0] if isinstance(peername, (tuple, list)) and peername else None
        port = sockname[1] if isinstance(sockname, (tuple, list)) and len(sockname) > 1 else None
        values: list[Optional[str]] = [None] * width
        for i in wanted:
            lines = found.getall(names[i], None)
            if lines is not None:
                # RFC 9110 §5.3: one list, in order; no walk reads beyond MAX_LINES.
                values[i] = lines[0] if len(lines) == 1 else ",".join(lines[-MAX_LINES:])
        # Whether a secret line came (then the handler gets a clone without it).
        secret = hidden and any(value is not None for value in values[count:])
        host = found.get("Host")
        scheme = request.scheme
        result = decide(peer, tuple(values), scheme, host, port, "")
        # Positional reads (status, ignored; see _result.Resolution): per request.
        status = result[0]
        if status != APPLIED or result[8]:
            note(result, values[:count])
            if status in refuse:
                line, response_headers, body = bad_request(result)
                if secret:
                    # Logged from a clone without the secret (AccessLogger).
                    request[REQUEST_KEY] = derive(request, {}, hidden)
                return web.Response(status=int(line[:3]), body=body, headers=response_headers)
        request[RESOLUTION_KEY] = result
        request[PREFIX_KEY] = result.prefix
        cache: dict[str, str] = {}
        if result[7]:  # something applied
            client, _, new_scheme, new_host, _, _, _, _ = changes(result, host, port, "")
            if client is not None and client != peer:
                cache["remote"] = client
            if new_scheme is not None and new_scheme != scheme:
                cache["scheme"] = new_scheme
            if new_host is not None:
                cache["host"] = new_host
        if not cache and not secret:  # nothing on the request changes
            return await handler(request)
        clone = derive(request, cache, hidden if secret else _NONE)
        request[REQUEST_KEY] = clone
        return await handler(clone)

    # For introspection, as the other adapters' attributes: what it was built with.
    trustproxy_middleware.resolver = resolver  # type: ignore[attr-defined]
    trustproxy_middleware.strict = options.strict  # type: ignore[attr-defined]
    return trustproxy_middleware


_NONE: frozenset[str] = frozenset()


async def _strip(
    request: web.Request, handler: Handler, hidden: frozenset[str]
) -> web.StreamResponse:
    """Call the handler with a clone of ``request`` without the ``hidden`` headers."""
    clone = derive(request, {}, hidden)
    request[REQUEST_KEY] = clone
    return await handler(clone)


class AccessLogger(_AiohttpAccessLogger):
    """aiohttp's access logger, writing the line from the request the handler saw.

    aiohttp logs the server's request, not the clone a middleware passed on, so `%a`
    (`request.remote`) would be the proxy, and `%{X-Origin-Verify}i` a `require_headers`
    secret.  Use it with `web.run_app(app, access_log_class=AccessLogger)` or
    `web.AppRunner(app, access_log_class=AccessLogger)`; the format is aiohttp's.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        seen = request.get(REQUEST_KEY) if request is not None else None
        super().log(request if seen is None else seen, response, time)
