"""PROXY protocol for uvicorn: the balancer's header read before any HTTP.

Behind an L4 balancer that sends a PROXY header (HAProxy `send-proxy` or
`send-proxy-v2`, nginx `stream { proxy_protocol on; }`, AWS NLB, Traefik TCP):

```sh
TRUSTPROXY_PROXY_PROTOCOL_TRUSTED=10.0.0.0/8 \\
    uvicorn app:app --http trustproxy.uvicorn:ProxyProtocol
```

`ProxyProtocol` is uvicorn's own HTTP protocol (httptools when installed, else h11;
`ProxyProtocolH11` and `ProxyProtocolHttpTools` choose) with the header read first,
on every connection, by `trustproxy.proxy_protocol.parse`:

* who may send the header: the environment variable `TRUSTPROXY_PROXY_PROTOCOL_TRUSTED`
  (the syntax of `trusted=`: addresses, networks, presets, `unix`) when it is set,
  otherwise uvicorn's `--forwarded-allow-ips` (default `127.0.0.1,::1`); or
  `proxy_protocol(trusted=...)` for `uvicorn.run(app, http=...)`;
* the header is required, as section 2 of the specification says a listener must: a
  peer that is not trusted, first bytes that are not a valid header, or a header not
  complete within `timeout` seconds (default 5) close the connection before any HTTP is
  read, with a rate-limited warning on the `trustproxy` logger naming the reason;
* after a `PROXY` header with IPv4 or IPv6 addresses, every request on the connection
  (keep-alive, pipelined, a WebSocket upgrade) has `scope["client"]` = the header's
  source and `scope["server"]` = its destination; `LOCAL` (a health check) and
  `UNKNOWN`/`UNSPEC` keep the socket's own addresses (section 2.2: "use the real
  connection endpoints"), and a `UNIX` source makes `client` `None`;
* the `trustproxy.proxy_protocol.ProxyHeader` (TLVs included) is at
  `scope["extensions"]["trustproxy.proxy_protocol"]`.

Anything after the header is the connection's data, so a second PROXY header is HTTP
garbage (uvicorn answers 400), never a second header.  `trustproxy.ASGIMiddleware`
and uvicorn's `--proxy-headers` read `scope["client"]`, so the header's source is
their socket peer: X-Forwarded-For from an L7 proxy behind the balancer resolves by the
usual rules, with that proxy's address in their `trusted`.

Once the header is read, the connection is uvicorn's: its own `connection_made` on the
real transport (then the header's addresses replace the ones it read), its own
`data_received`; the one thing added per request is the header put in
`scope["extensions"]`.

uvicorn's own TLS (`--ssl-certfile`) cannot be combined: asyncio puts TLS *below* the
protocol, so the balancer's header would reach the TLS handshake first.  Terminate TLS at
the balancer (HAProxy `send-proxy-v2-ssl` passes what it saw in the SSL TLV) and
uvicorn refuses the combination at start-up with a `trustproxy.ConfigError`.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from typing import Any, Literal, Optional, cast

from uvicorn.protocols.http.h11_impl import H11Protocol

from ._uvicorn_reader import HeaderReader, ReaderMeta
from ._uvicorn_settings import DEFAULT_TIMEOUT, ENV_TRUSTED, EXTENSION, policy_of
from ._uvicorn_settings import limiter as limiter  # refused connections' rate limit
from ._uvicorn_settings import logger as logger
from .errors import ConfigError
from .proxy_protocol import MAX_LENGTH, parse
from .trust import TrustSpec

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_TRUSTED",
    "EXTENSION",
    "ProxyProtocol",
    "ProxyProtocolH11",
    "ProxyProtocolHttpTools",
    "proxy_protocol",
]

Base = Literal["auto", "h11", "httptools"]


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

    :param trusted: who may send the header, as for `trusted=` elsewhere; `None`:
        `TRUSTPROXY_PROXY_PROTOCOL_TRUSTED` if set, else `--forwarded-allow-ips`.
    :param base: uvicorn's protocol to wrap: `"h11"`, `"httptools"`, or `"auto"`
        (httptools when installed, as uvicorn's own `auto`).
    :param timeout: seconds the whole header may take to arrive.
    :param max_length: the longest version 2 header accepted (see
        `trustproxy.proxy_protocol.parse`).
    :raises ConfigError: for any bad value, here rather than when serving; `trusted`
        `"*"` is refused (any peer could claim any address).

    Use it as `uvicorn.run(app, http=proxy_protocol(trusted="10.0.0.0/8"))`.
    """
    base_class = _base(base)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not (timeout > 0 and math.isfinite(timeout))
    ):
        raise ConfigError(f"timeout={timeout!r}: give a positive number of seconds")
    parse(b"", max_length=max_length)  # its ConfigError names the range
    policy = None if trusted is None else policy_of(trusted, "trusted")
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
    made = ReaderMeta(name, (HeaderReader, base_class), namespace)
    return cast("type[asyncio.Protocol]", made)


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
