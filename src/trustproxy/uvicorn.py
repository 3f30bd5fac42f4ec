"""PROXY protocol for uvicorn: the balancer's header read before any HTTP.

Behind an L4 balancer that sends a PROXY header (HAProxy ``send-proxy`` or
``send-proxy-v2``, nginx ``stream { proxy_protocol on; }``, AWS NLB, Traefik TCP):

```sh
TRUSTPROXY_PROXY_PROTOCOL_TRUSTED=10.0.0.0/8 \\
    uvicorn app:app --http trustproxy.uvicorn:ProxyProtocol
```

``ProxyProtocol`` is uvicorn's own HTTP protocol (httptools when installed, else h11;
``ProxyProtocolH11`` and ``ProxyProtocolHttpTools`` choose) with the header read first,
on every connection, by :func:`trustproxy.proxy_protocol.parse`:

* who may send the header: the environment variable ``TRUSTPROXY_PROXY_PROTOCOL_TRUSTED``
  (the syntax of ``trusted=``: addresses, networks, presets, ``unix``) when it is set,
  otherwise uvicorn's ``--forwarded-allow-ips`` (default ``127.0.0.1,::1``); or
  :func:`proxy_protocol` ``(trusted=...)`` for ``uvicorn.run(app, http=...)``;
* the header is required, as section 2 of the specification says a listener must: a
  peer that is not trusted, first bytes that are not a valid header, or a header not
  complete within ``timeout`` seconds (default 5) close the connection before any HTTP is
  read, with a rate-limited warning on the ``trustproxy`` logger naming the reason;
* after a ``PROXY`` header with IPv4 or IPv6 addresses, every request on the connection
  (keep-alive, pipelined, a WebSocket upgrade) has ``scope["client"]`` = the header's
  source and ``scope["server"]`` = its destination; ``LOCAL`` (a health check) and
  ``UNKNOWN``/``UNSPEC`` keep the socket's own addresses (section 2.2: "use the real
  connection endpoints"), and a ``UNIX`` source makes ``client`` ``None``;
* the :class:`~trustproxy.proxy_protocol.ProxyHeader` (TLVs included) is at
  ``scope["extensions"]["trustproxy.proxy_protocol"]``.

Anything after the header is the connection's data, so a second PROXY header is HTTP
garbage (uvicorn answers 400), never a second header.  :class:`~trustproxy.ASGIMiddleware`
and uvicorn's ``--proxy-headers`` read ``scope["client"]``, so the header's source is
their socket peer: X-Forwarded-For from an L7 proxy behind the balancer resolves by the
usual rules, with that proxy's address in their ``trusted``.

uvicorn's own TLS (``--ssl-certfile``) cannot be combined: asyncio puts TLS *below* the
protocol, so the balancer's header would reach the TLS handshake first.  Terminate TLS at
the balancer (HAProxy ``send-proxy-v2-ssl`` passes what it saw in the SSL TLV) and
uvicorn refuses the combination at start-up with a :class:`~trustproxy.ConfigError`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import weakref
from collections.abc import Awaitable
from typing import Any, Callable, Literal, Optional, cast

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_remote_addr

from ._warn import LOGGER_NAME, Limiter
from .errors import ConfigError, HeaderError
from .proxy_protocol import MAX_LENGTH, ProxyHeader, parse
from .trust import Deliberate, TrustPolicy, TrustSpec

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_TRUSTED",
    "EXTENSION",
    "ProxyProtocol",
    "ProxyProtocolH11",
    "ProxyProtocolHttpTools",
    "proxy_protocol",
]

#: Seconds a connection may take to deliver its whole header (a balancer sends it at
#: once; a client that trickles bytes is holding a connection open).
DEFAULT_TIMEOUT = 5.0
#: The environment variable naming who may send a header (the syntax of ``trusted=``).
ENV_TRUSTED = "TRUSTPROXY_PROXY_PROTOCOL_TRUSTED"
#: The key of the parsed header in ``scope["extensions"]``.
EXTENSION = "trustproxy.proxy_protocol"

Base = Literal["auto", "h11", "httptools"]
_App = Callable[[Any, Any, Any], Awaitable[None]]

logger = logging.getLogger(LOGGER_NAME)
#: Refused connections are logged apart from the middlewares' warnings, so that a flood
#: of one does not use up the budget of the other.
limiter = Limiter()

_WAITING, _READY, _CLOSED = 0, 1, 2
_EVERYTHING = Deliberate(("0.0.0.0/0", "::/0", "unix"))


def _tls_refused(config: Config) -> None:
    if config.is_ssl or getattr(config, "ssl_context_factory", None) is not None:
        raise ConfigError(
            "trustproxy.uvicorn cannot read a PROXY header under uvicorn's own TLS"
            " (--ssl-certfile): asyncio decrypts before the protocol sees a byte, so the"
            " balancer's header would reach the TLS handshake. Terminate TLS at the"
            " balancer (HAProxy: send-proxy-v2-ssl) and run uvicorn without --ssl-*"
        )


def _trusted_from(config: Config) -> TrustPolicy:
    """The environment variable, else ``--forwarded-allow-ips``, as a trust policy."""
    spec = os.environ.get(ENV_TRUSTED)
    if spec is not None:
        return _policy(spec, ENV_TRUSTED)
    allowed = config.forwarded_allow_ips
    entries = [e.strip() for e in (allowed.split(",") if isinstance(allowed, str) else allowed)]
    entries = [entry for entry in entries if entry]
    if "*" in entries:
        # uvicorn's documented meaning of "*" (every peer), kept, and said out loud.
        logger.warning(
            "trustproxy.uvicorn: --forwarded-allow-ips='*' lets any peer that reaches this"
            " port send a PROXY header and be taken for any client; set %s to your"
            " balancers' addresses",
            ENV_TRUSTED,
        )
        return TrustPolicy(_EVERYTHING)
    if not entries:
        raise ConfigError(
            f"trustproxy.uvicorn: --forwarded-allow-ips is empty, so no balancer may send"
            f" a PROXY header; set {ENV_TRUSTED} to the balancers' addresses"
        )
    return _policy(entries, "--forwarded-allow-ips")


def _policy(spec: TrustSpec, origin: str) -> TrustPolicy:
    if isinstance(spec, str) and "*" in (part.strip() for part in spec.split(",")):
        raise ConfigError(
            f"{origin}='*' for PROXY protocol would let any peer claim any client address;"
            " name the balancers' addresses or networks (e.g. 10.0.0.0/8)"
        )
    try:
        return TrustPolicy(spec)
    except ConfigError as error:
        raise ConfigError(f"{origin}: {error}") from None


class _Meta(type):
    """Gives the classes a start-up check: uvicorn's ``Config.load()`` reads the HTTP
    protocol class's ``alpn_protocols`` before it builds the TLS context (uvicorn 0.54),
    and that read is the one moment the class sees the configuration before serving."""

    @property
    def alpn_protocols(cls) -> None:
        candidate = sys._getframe(1).f_locals.get("self")
        if isinstance(candidate, Config):
            cls._pp_settings(candidate)  # type: ignore[attr-defined]
        return None


class _Settings:
    __slots__ = ("max_length", "policy", "timeout")

    def __init__(self, policy: TrustPolicy, timeout: float, max_length: int) -> None:
        self.policy = policy
        self.timeout = timeout
        self.max_length = max_length


class _Socket:
    """The socket as uvicorn's ``get_remote_addr``/``get_local_addr`` see it: the
    header's endpoints; anything else is the real socket's."""

    def __init__(self, sock: Any, peer: Optional[tuple[str, int]], local: Any) -> None:
        self._sock = sock
        self._peer = peer
        self._local = local

    def getpeername(self) -> Any:
        return self._peer if self._peer is not None else ""

    def getsockname(self) -> Any:
        return self._local

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Endpoints:
    """The connection's transport, with the header's endpoints as its addresses.

    Handed to uvicorn's HTTP protocol, and by it to the WebSocket protocol on an upgrade,
    so both build every scope from the header.  The methods uvicorn calls per request are
    the real transport's bound methods, set on the instance: no extra call on the hot path.
    """

    _FORWARDED = (
        "abort", "can_write_eof", "close", "get_protocol", "get_write_buffer_limits",
        "get_write_buffer_size", "is_closing", "is_reading", "pause_reading",
        "resume_reading", "set_protocol", "set_write_buffer_limits", "write", "write_eof",
        "writelines",
    )  # fmt: skip

    def __init__(
        self, transport: asyncio.Transport, peer: Optional[tuple[str, int]], local: Any
    ) -> None:
        self._transport = transport
        self._peer = peer
        self._local = local
        sock = transport.get_extra_info("socket")
        self._socket = None if sock is None else _Socket(sock, peer, local)
        for name in self._FORWARDED:
            method = getattr(transport, name, None)
            if method is not None:  # a transport need not have them all (test doubles)
                setattr(self, name, method)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._peer
        if name == "sockname":
            return self._local
        if name == "socket":
            return self._socket
        if default is None:  # as uvicorn calls it (and test doubles take one argument)
            return self._transport.get_extra_info(name)
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _endpoints(transport: asyncio.Transport, header: ProxyHeader) -> Any:
    if header.command != "PROXY":
        return transport  # LOCAL: the balancer's own connection, its own endpoints
    if header.source is not None:
        local = (header.destination, header.destination_port)
        return _Endpoints(transport, (header.source, header.source_port or 0), local)
    if header.family == "UNIX":
        sock = transport.get_extra_info("socket")
        local = sock.getsockname() if sock is not None else transport.get_extra_info("sockname")
        return _Endpoints(transport, None, local)
    return transport  # UNSPEC: "use the real connection endpoints" (section 2.2)


class _Reader(asyncio.Protocol, metaclass=_Meta):
    """Reads the PROXY header, then becomes the uvicorn protocol it is mixed into."""

    # Set by uvicorn's protocol (the class this is mixed into).
    config: Config
    app: _App
    loop: asyncio.AbstractEventLoop
    connections: set[Any]
    ws_protocol_class: Any
    # Set by proxy_protocol().
    _pp_trusted: Optional[TrustPolicy]
    _pp_timeout: float
    _pp_max_length: int
    _pp_cache: weakref.WeakKeyDictionary[Config, _Settings]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pp = type(self)._pp_settings(self.config)
        self._pp_state = _WAITING
        self._pp_buffer = b""
        self._pp_raw: Optional[asyncio.Transport] = None
        self._pp_peer = ""
        self._pp_timer: Optional[asyncio.TimerHandle] = None

    @classmethod
    def _pp_settings(cls, config: Config) -> _Settings:
        settings = cls._pp_cache.get(config)
        if settings is None:
            _tls_refused(config)
            policy = cls._pp_trusted or _trusted_from(config)
            settings = _Settings(policy, cls._pp_timeout, cls._pp_max_length)
            cls._pp_cache[config] = settings
        return settings

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._pp_raw = transport = cast(asyncio.Transport, transport)
        # Counted at once, so that uvicorn's shutdown also closes connections still
        # waiting for their header.
        self.connections.add(self)
        peer = get_remote_addr(transport)
        hop = self._pp.policy.peer(peer[0] if peer else None)
        self._pp_peer = hop.text or "a UNIX socket"
        if hop.trusted_by is None:
            self._pp_refuse(
                "proxy-untrusted-peer",
                f"connection from {self._pp_peer} closed: it is not a trusted balancer, so"
                f" its PROXY header cannot be believed; if it is your balancer, add it to"
                f" {ENV_TRUSTED} (or --forwarded-allow-ips)",
            )
            return
        self._pp_timer = self.loop.call_later(self._pp.timeout, self._pp_timed_out)

    def data_received(self, data: bytes) -> None:
        if self._pp_state != _WAITING:
            if self._pp_state == _READY:  # a transport that kept the first bound method
                super().data_received(data)
            return
        buffer = self._pp_buffer + data if self._pp_buffer else data
        try:
            found = parse(buffer, max_length=self._pp.max_length)
        except HeaderError as error:
            self._pp_refuse(
                "proxy-invalid-header",
                f"connection from {self._pp_peer} closed: no valid PROXY header: {error}",
            )
            return
        if found is None:
            self._pp_buffer = buffer
            return
        header, consumed = found
        self._pp_cancel()
        self._pp_state = _READY
        self._pp_buffer = b""
        # From now on the transport calls uvicorn's method directly.
        self.data_received = super().data_received  # type: ignore[method-assign]
        self._pp_extend(header)
        super().connection_made(_endpoints(self._pp_raw, header))  # type: ignore[arg-type]
        if consumed < len(buffer):
            super().data_received(buffer[consumed:])

    def _pp_extend(self, header: ProxyHeader) -> None:
        """Put the header in every scope of this connection, WebSocket ones included."""
        inner = self.app

        def app(scope: Any, receive: Any, send: Any) -> Awaitable[None]:
            extensions = scope.get("extensions")
            if extensions is None:
                scope["extensions"] = {EXTENSION: header}
            else:
                extensions[EXTENSION] = header
            return inner(scope, receive, send)

        self.app = app
        ws_class = self.ws_protocol_class
        if ws_class is not None:

            def ws_protocol(**kwargs: Any) -> Any:
                protocol = ws_class(**kwargs)
                protocol.app = app
                return protocol

            self.ws_protocol_class = ws_protocol

    def _pp_timed_out(self) -> None:
        self._pp_timer = None
        if self._pp_state == _WAITING:
            self._pp_refuse(
                "proxy-timeout",
                f"connection from {self._pp_peer} closed: no complete PROXY header within"
                f" {self._pp.timeout:g} s ({len(self._pp_buffer)} bytes received)",
            )

    def _pp_cancel(self) -> None:
        if self._pp_timer is not None:
            self._pp_timer.cancel()
            self._pp_timer = None

    def _pp_refuse(self, kind: str, message: str) -> None:
        self._pp_state = _CLOSED
        self._pp_cancel()
        self._pp_buffer = b""
        limiter.report(kind, self._pp_peer, message)
        if self._pp_raw is not None:
            self._pp_raw.close()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self._pp_state == _READY:
            super().connection_lost(exc)
            return
        self._pp_state = _CLOSED
        self._pp_cancel()
        self.connections.discard(self)

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown; a connection without its header is just closed."""
        if self._pp_state == _READY:
            super().shutdown()  # type: ignore[misc]
        elif self._pp_raw is not None:
            self._pp_state = _CLOSED
            self._pp_raw.close()


def _base(base: str) -> type[asyncio.Protocol]:
    if base == "h11":
        return H11Protocol
    if base not in ("auto", "httptools"):
        raise ConfigError(f"base={base!r}: choose 'auto', 'h11' or 'httptools'")
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        if base == "httptools":
            raise ConfigError(
                "base='httptools' needs httptools: pip install httptools, or use base='h11'"
            ) from None
        return H11Protocol
    return HttpToolsProtocol


def proxy_protocol(
    trusted: Optional[TrustSpec] = None,
    *,
    base: Base = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    max_length: int = MAX_LENGTH,
) -> type[asyncio.Protocol]:
    """A uvicorn HTTP protocol class that requires a PROXY header on every connection.

    :param trusted: who may send the header, as for ``trusted=`` elsewhere; ``None``:
        ``TRUSTPROXY_PROXY_PROTOCOL_TRUSTED`` if set, else ``--forwarded-allow-ips``.
    :param base: uvicorn's protocol to wrap: ``"h11"``, ``"httptools"``, or ``"auto"``
        (httptools when installed, as uvicorn's own ``auto``).
    :param timeout: seconds the whole header may take to arrive.
    :param max_length: the longest version 2 header accepted (see
        :func:`trustproxy.proxy_protocol.parse`).
    :raises ConfigError: for any bad value, here rather than when serving; ``trusted``
        ``"*"`` is refused (any peer could claim any address).

    Use it as ``uvicorn.run(app, http=proxy_protocol(trusted="10.0.0.0/8"))``.
    """
    base_class = _base(base)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not (timeout > 0 and math.isfinite(timeout))
    ):
        raise ConfigError(f"timeout={timeout!r}: give a positive number of seconds")
    parse(b"", max_length=max_length)  # its ConfigError names the range
    policy = None if trusted is None else _policy(trusted, "trusted")
    name = "ProxyProtocol" + ("H11" if base_class is H11Protocol else "HttpTools")
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"uvicorn's {base_class.__name__}, reading a PROXY header first.",
        "_pp_trusted": policy,
        "_pp_timeout": float(timeout),
        "_pp_max_length": max_length,
        "_pp_cache": weakref.WeakKeyDictionary(),
    }
    return cast("type[asyncio.Protocol]", _Meta(name, (_Reader, base_class), namespace))


# Declared for readers and linters; built by __getattr__ below on first use, so that
# importing the module does not need httptools.
ProxyProtocol: type[asyncio.Protocol]
ProxyProtocolH11: type[asyncio.Protocol]
ProxyProtocolHttpTools: type[asyncio.Protocol]
_DEFAULTS: dict[str, Base] = {
    "ProxyProtocol": "auto",
    "ProxyProtocolH11": "h11",
    "ProxyProtocolHttpTools": "httptools",
}
_made: dict[str, type[asyncio.Protocol]] = {}


def __getattr__(name: str) -> type[asyncio.Protocol]:
    base = _DEFAULTS.get(name)
    if base is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made = _made.get(name)
    if made is None:
        made = _made[name] = proxy_protocol(base=base)
    return made
