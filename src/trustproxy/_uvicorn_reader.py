"""The part of `trustproxy.uvicorn`'s protocol classes that reads the PROXY header.

`HeaderReader` is mixed in before uvicorn's HTTP protocol (`H11Protocol` or
`HttpToolsProtocol`).  Until the header has arrived it owns the connection: it checks
the peer against the trust policy, arms the timeout and feeds the bytes to
`trustproxy.proxy_protocol.parse`; a refusal closes the connection before uvicorn has
seen it.  Once the header is read it steps out of the way:

* uvicorn's `connection_made` runs then, on the real transport, and `substitute()`
  replaces the `client` and `server` it read (see `trustproxy._uvicorn_scope`);
* uvicorn's own `data_received` is bound on the instance, where the transport looks it
  up, and the transport is told again who its protocol is (`set_protocol`), for
  transports that keep the bound method (uvloop does);
* the reader's state is one slot, not an instance attribute: uvicorn's protocols have
  close to the 30 attributes an instance can share with its class before CPython gives
  it a dictionary of its own, which would slow down every attribute uvicorn reads.

So each request on the connection runs uvicorn's code as without the wrapper, plus the
application shim that puts the header in `scope["extensions"]`.
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from typing import Any, Optional, cast

from uvicorn.config import Config
from uvicorn.protocols.utils import get_remote_addr

from . import _uvicorn_settings
from ._uvicorn_scope import App, substitute, websocket_class, with_header
from ._uvicorn_settings import ENV_TRUSTED, Settings, tls_refused, trusted_from
from .errors import HeaderError
from .proxy_protocol import ProxyHeader, parse
from .trust import TrustPolicy


class ReaderMeta(type):
    """Gives the classes a start-up check: uvicorn's `Config.load()` reads the HTTP
    protocol class's `alpn_protocols` before it builds the TLS context (uvicorn 0.54),
    and that read is the one moment the class sees the configuration before serving."""

    @property
    def alpn_protocols(cls) -> None:
        candidate = sys._getframe(1).f_locals.get("self")
        if isinstance(candidate, Config):
            cls._pp_settings(candidate)  # type: ignore[attr-defined]
        return None


class Waiting:
    """A connection's state until its header has been read (then it is dropped)."""

    __slots__ = ("buffer", "closed", "peer", "settings", "timer", "transport")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.buffer = b""
        self.closed = False
        self.peer = ""
        self.timer: Optional[asyncio.TimerHandle] = None
        self.transport: Optional[asyncio.Transport] = None

    def stop(self) -> None:
        """No more reading: cancel the timeout, drop what was buffered."""
        self.closed = True
        self.buffer = b""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class HeaderReader(asyncio.Protocol, metaclass=ReaderMeta):
    """Reads the PROXY header, then becomes the uvicorn protocol it is mixed into."""

    # The state before the header: a Waiting, None once the header is read.
    __slots__ = ("_pp",)

    # Set by uvicorn's protocol (the class this is mixed into).
    config: Config
    app: App
    loop: asyncio.AbstractEventLoop
    connections: set[Any]
    ws_protocol_class: Any
    # Set by proxy_protocol().
    _pp_trusted: Optional[TrustPolicy]
    _pp_timeout: float
    _pp_max_length: int
    _pp_cache: weakref.WeakKeyDictionary[Config, Settings]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pp: Optional[Waiting] = Waiting(type(self)._pp_settings(self.config))

    @classmethod
    def _pp_settings(cls, config: Config) -> Settings:
        settings = cls._pp_cache.get(config)
        if settings is None:
            tls_refused(config)
            policy = cls._pp_trusted or trusted_from(config)
            settings = Settings(policy, cls._pp_timeout, cls._pp_max_length)
            cls._pp_cache[config] = settings
        return settings

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        pp = self._pp
        assert pp is not None, "connection_made twice"
        pp.transport = transport = cast(asyncio.Transport, transport)
        # Counted at once, so that uvicorn's shutdown also closes connections still
        # waiting for their header.
        self.connections.add(self)
        peer = get_remote_addr(transport)
        hop = pp.settings.policy.peer(peer[0] if peer else None)
        pp.peer = hop.text or "a UNIX socket"
        if hop.trusted_by is None:
            self._pp_refuse(
                pp,
                "proxy-untrusted-peer",
                f"connection from {pp.peer} closed: it is not a trusted balancer, so"
                f" its PROXY header cannot be believed; if it is your balancer, add it to"
                f" {ENV_TRUSTED} (or --forwarded-allow-ips)",
            )
            return
        pp.timer = self.loop.call_later(pp.settings.timeout, self._pp_timed_out)

    def data_received(self, data: bytes) -> None:
        pp = self._pp
        if pp is None:  # a caller that kept this bound method from before the header
            super().data_received(data)
            return
        if pp.closed or pp.transport is None:
            return
        buffer = pp.buffer + data if pp.buffer else data
        try:
            found = parse(buffer, max_length=pp.settings.max_length)
        except HeaderError as error:
            self._pp_refuse(
                pp,
                "proxy-invalid-header",
                f"connection from {pp.peer} closed: no valid PROXY header: {error}",
            )
            return
        if found is None:
            pp.buffer = buffer
            return
        header, consumed = found
        pp.stop()
        self._pp = None
        self._pp_hand_over(pp.transport, header)
        if consumed < len(buffer):
            super().data_received(buffer[consumed:])

    def _pp_hand_over(self, transport: asyncio.Transport, header: ProxyHeader) -> None:
        """uvicorn's protocol takes the connection, with the header's endpoints."""
        self.app = app = with_header(self.app, header)
        if self.ws_protocol_class is not None:
            self.ws_protocol_class = websocket_class(self.ws_protocol_class, app, header)
        super().connection_made(transport)
        substitute(self, header)
        # From now on the transport calls uvicorn's method directly.
        self.data_received = super().data_received  # type: ignore[method-assign]
        set_protocol = getattr(transport, "set_protocol", None)
        if set_protocol is not None:
            set_protocol(self)

    def _pp_timed_out(self) -> None:
        pp = self._pp
        if pp is not None and not pp.closed:
            pp.timer = None
            self._pp_refuse(
                pp,
                "proxy-timeout",
                f"connection from {pp.peer} closed: no complete PROXY header within"
                f" {pp.settings.timeout:g} s ({len(pp.buffer)} bytes received)",
            )

    def _pp_refuse(self, pp: Waiting, kind: str, message: str) -> None:
        pp.stop()
        _uvicorn_settings.limiter.report(kind, pp.peer, message)
        if pp.transport is not None:
            pp.transport.close()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        pp = self._pp
        if pp is None:
            super().connection_lost(exc)
            return
        pp.stop()
        self.connections.discard(self)

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown; a connection without its header is just closed."""
        pp = self._pp
        if pp is None:
            super().shutdown()  # type: ignore[misc]
        elif pp.transport is not None:
            pp.stop()
            pp.transport.close()
