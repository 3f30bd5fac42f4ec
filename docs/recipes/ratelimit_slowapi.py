"""slowapi (FastAPI, Starlette) keyed on the real client with trustproxy's key.

``ASGIMiddleware`` puts the client in ``scope["client"]`` and its Resolution in the
scope; the key function asks it for :meth:`~trustproxy.Resolution.client_key` (IPv6
reduced to its /64).  Run the server with ``--no-proxy-headers``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded

import trustproxy
from trustproxy import ASGIMiddleware


def client_key(request: Request) -> str:
    resolution = request.scope.get("trustproxy.resolution")
    if resolution is not None:
        key = resolution.client_key()  # IPv6: its /64
        if key is not None:
            return str(key)
    # No forwarding header arrived: the socket peer is the client.
    address = request.client.host if request.client else ""
    try:
        return trustproxy.client_key(address)
    except ValueError:  # a UNIX socket: no address at all
        return "unix"


limiter = Limiter(key_func=client_key, storage_uri="memory://")
api = FastAPI()
api.state.limiter = limiter
api.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]


@api.get("/")
@limiter.limit("2/minute")
async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {client_key(request)}\n")


app = ASGIMiddleware(api, trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix"))
