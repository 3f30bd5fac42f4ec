"""What the PROXY header changes in the scopes of its connection, set once per connection.

uvicorn's protocols (HTTP, and WebSocket after an upgrade) read the socket's addresses
in `connection_made` into their `client` and `server` attributes and put those into
every scope they build.  So, once the header is read:

* `substitute()` sets the header's endpoints on the protocol, right after uvicorn's own
  `connection_made`: every request on the connection then has them, and uvicorn keeps
  the real transport, so the wrapper adds nothing per request;
* `with_header()` is the application the protocol calls, putting the header at
  `scope["extensions"]["trustproxy.proxy_protocol"]` (one dictionary per request, the
  only work left per request);
* `websocket_class()` makes the WebSocket protocol uvicorn upgrades to do the same.

`LOCAL` (a health check) and `UNKNOWN`/`UNSPEC` keep the socket's own addresses
(section 2.2 of the specification: "use the real connection endpoints"); a `UNIX`
source makes `client` `None`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Callable

from ._uvicorn_settings import EXTENSION
from .proxy_protocol import ProxyHeader

App = Callable[[Any, Any, Any], Awaitable[None]]


def substitute(protocol: Any, header: ProxyHeader) -> None:
    """Give `protocol` (after its `connection_made`) the header's endpoints."""
    if header.command != "PROXY":
        return  # LOCAL: the balancer's own connection, its own endpoints
    if header.source is not None:
        protocol.client = (header.source, header.source_port or 0)
        protocol.server = (header.destination, header.destination_port)
    elif header.family == "UNIX":
        protocol.client = None  # the server stays the socket's own
    # UNSPEC: "use the real connection endpoints" (section 2.2)


def with_header(app: App, header: ProxyHeader) -> App:
    """`app`, with the header at `scope["extensions"][EXTENSION]` of every scope."""

    def proxied(scope: Any, receive: Any, send: Any) -> Awaitable[None]:
        if "extensions" in scope:  # WebSocket scopes have it; uvicorn's HTTP ones do not
            scope["extensions"][EXTENSION] = header
        else:
            scope["extensions"] = {EXTENSION: header}
        return app(scope, receive, send)

    return proxied


def websocket_class(ws_class: Any, app: App, header: ProxyHeader) -> Callable[..., Any]:
    """A stand-in for uvicorn's WebSocket protocol class: its instances call `app` and
    take the header's endpoints when uvicorn hands them the connection."""

    def ws_protocol(**kwargs: Any) -> Any:
        protocol = ws_class(**kwargs)
        protocol.app = app
        made = protocol.connection_made

        def connection_made(transport: Any) -> None:
            made(transport)
            substitute(protocol, header)

        protocol.connection_made = connection_made
        return protocol

    return ws_protocol
