"""The one set of request builders: a WSGI environ, an ASGI ``http`` scope and an ASGI
``websocket`` scope, each as a server hands it to the application, from one description
of a request (socket peer, forwarding header lines in arrival order, the request's own
scheme, Host, port and prefix).

Used by the scenario runner (tests/test_scenarios.py), the other tests, the fuzz
harnesses (fuzz/invariants.py) and importable by benchmarks/: it needs nothing but the
standard library (no pytest, no trustproxy).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, Optional

__all__ = [
    "EMPTY_INPUT",
    "PATH",
    "PEER_PORT",
    "WS",
    "aiohttp_request",
    "environ",
    "header_key",
    "scope",
    "server_name",
    "websocket_scope",
    "wire",
]

#: The path every built request asks for, below its prefix.
PATH = "/index"
#: The socket peer's port.
PEER_PORT = 54321
#: The WebSocket spelling of each HTTP scheme (RFC 6455 §3).
WS = {"http": "ws", "https": "wss"}

Lines = Iterable[tuple[str, str]]

#: The request body stream of every environ: empty, so one shared object serves all (and
#: two environs built alike compare equal).
EMPTY_INPUT = io.BytesIO(b"")


def server_name(host: str) -> str:
    """The host name part of a Host value: ``[::1]:80`` -> ``[::1]``, ``a:80`` -> ``a``."""
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.partition(":")[0]


def header_key(name: str) -> str:
    """The CGI/WSGI environ key of a header: ``X-Forwarded-For`` -> ``HTTP_X_FORWARDED_FOR``."""
    return "HTTP_" + name.upper().replace("-", "_")


def wire(text: str) -> bytes:
    """Header bytes as sent: latin-1 when it fits, else UTF-8 (which an ASGI middleware
    then reads as latin-1 mojibake, never as digits or letters of an address)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def environ(
    peer: Optional[str],
    headers: Lines = (),
    scheme: str = "http",
    host: Optional[str] = "app.example",
    port: Optional[int] = 80,
    prefix: str = "",
    *,
    name: Optional[str] = None,
    peer_port: Optional[int] = PEER_PORT,
    path: str = PATH,
) -> dict[str, Any]:
    """An environ as a WSGI server builds it (PEP 3333): repeated header lines joined
    with ``,`` in arrival order, names upper-cased with ``-`` -> ``_``.  ``name`` is
    SERVER_NAME (the host name part of ``host`` unless given); a ``None`` peer (a UNIX
    socket) has no REMOTE_ADDR, a ``None`` host no HTTP_HOST, a ``None`` port no
    SERVER_PORT."""
    built: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": EMPTY_INPUT,
        "SERVER_NAME": name if name is not None else server_name(host or "app.example"),
        "SCRIPT_NAME": prefix,
    }
    if peer is not None:
        built["REMOTE_ADDR"] = peer
    if peer_port is not None:
        built["REMOTE_PORT"] = str(peer_port)
    if host is not None:
        built["HTTP_HOST"] = host
    if port is not None:
        built["SERVER_PORT"] = str(port)
    for header, value in headers:
        key = header_key(header)
        built[key] = f"{built[key]},{value}" if key in built else value
    return built


def scope(
    peer: Optional[str],
    headers: Lines = (),
    scheme: str = "http",
    host: Optional[str] = "app.example",
    port: Optional[int] = 80,
    prefix: str = "",
    *,
    name: Optional[str] = None,
    peer_port: int = PEER_PORT,
    path: str = PATH,
    kind: str = "http",
) -> dict[str, Any]:
    """A scope as an ASGI server builds it: header lines in arrival order (the ``host``
    line first), names in lower case, values as bytes; ``path`` starts with
    ``root_path``.  ``scheme`` is given in HTTP terms; a websocket scope spells it
    ``ws``/``wss``."""
    lines = [] if host is None else [(b"host", host.encode("latin-1"))]
    lines.extend((header.lower().encode("latin-1"), wire(value)) for header, value in headers)
    full_path = prefix + path
    built: dict[str, Any] = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": WS.get(scheme, scheme) if kind == "websocket" else scheme,
        "path": full_path,
        "raw_path": full_path.encode("latin-1"),
        "query_string": b"",
        "root_path": prefix,
        "headers": lines,
        "client": None if peer is None else (peer, peer_port),
    }
    if port is None:
        built["server"] = None
    else:
        server = name if name is not None else server_name(host or "app.example")
        built["server"] = (server, port)
    if kind == "http":
        built["method"] = "GET"
    else:
        built["subprotocols"] = []
    return built


def websocket_scope(
    peer: Optional[str],
    headers: Lines = (),
    scheme: str = "http",
    host: Optional[str] = "app.example",
    port: Optional[int] = 80,
    prefix: str = "",
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`scope` of type ``websocket`` (scheme ``ws``/``wss``)."""
    return scope(peer, headers, scheme, host, port, prefix, kind="websocket", **kwargs)


class _Transport:
    """What an aiohttp request reads of its connection: ``get_extra_info``."""

    __slots__ = ("_extra",)

    def __init__(self, peername: object, sockname: object) -> None:
        self._extra = {"peername": peername, "sockname": sockname, "sslcontext": None}

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        return False


class _Protocol:
    """What an aiohttp request reads of its server's protocol object (aiohttp's
    ``RequestHandler``): plain attributes, no mocks, so a benchmark times the middleware
    and not ``unittest.mock``."""

    __slots__ = ("peername", "sockname", "ssl_context", "transport")

    def __init__(self, transport: _Transport, ssl_context: object) -> None:
        self.transport = transport
        self.peername = transport.get_extra_info("peername")
        self.sockname = transport.get_extra_info("sockname")
        self.ssl_context = ssl_context


def aiohttp_request(
    peer: Optional[str],
    headers: Lines = (),
    scheme: str = "http",
    host: Optional[str] = "app.example",
    port: Optional[int] = 80,
    *,
    peer_port: int = PEER_PORT,
    path: str = PATH,
) -> Any:
    """An ``aiohttp.web.Request`` as aiohttp's server builds it: the Host line first,
    then the header lines in arrival order (repeated lines kept) in a new
    ``CIMultiDictProxy``, the transport's ``peername`` (``""`` for a UNIX socket, as
    asyncio reports an unnamed peer) and ``sockname``.  aiohttp has no root path.
    Imports aiohttp (only this function does)."""
    from aiohttp import web
    from aiohttp.http import HttpVersion11, RawRequestMessage
    from aiohttp.streams import EMPTY_PAYLOAD
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL

    lines = [] if host is None else [("Host", host)]
    lines.extend(headers)
    proxy = CIMultiDictProxy(CIMultiDict(lines))
    raw = tuple((name.encode("utf-8"), value.encode("utf-8")) for name, value in lines)
    message = RawRequestMessage(
        "GET", path, HttpVersion11, proxy, raw, False, None, False, False, URL(path)
    )
    peername: object = "" if peer is None else (peer, peer_port)
    sockname: object = "/run/app.sock" if port is None else ("127.0.0.1", port)
    # aiohttp's scheme is "https" exactly when the connection has an SSL context.
    context = object() if scheme == "https" else None
    protocol = _Protocol(_Transport(peername, sockname), context)
    return web.Request(message, EMPTY_PAYLOAD, protocol, None, None, None)  # type: ignore[arg-type]
