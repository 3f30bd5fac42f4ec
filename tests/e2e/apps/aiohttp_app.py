"""The aiohttp app behind the proxies: reports what it sees, like ``asgi_app.py``.

Run as ``python aiohttp_app.py PORT`` (aiohttp's own ``python -m aiohttp.web`` takes no
access-log class).  Settings come from ``TRUSTPROXY_SETTINGS`` (JSON).  aiohttp has no
root path: links are built from ``request[PREFIX_KEY]`` (docs/frameworks.md).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from aiohttp import web

import trustproxy.aiohttp
from trustproxy.aiohttp import PREFIX_KEY, RESOLUTION_KEY

RAW_NAMES = (
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "forwarded",
    "x-real-ip",
    "x_forwarded_for",
)


def _raw(request: web.Request, name: str) -> Any:
    lines = request.headers.getall(name, None)
    return None if lines is None else ", ".join(lines)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def go(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.get(PREFIX_KEY, "") + "/echo")


async def go_external(request: web.Request) -> web.Response:
    prefix = request.get(PREFIX_KEY, "")
    raise web.HTTPFound(str(request.url.with_path(prefix + "/echo")))


async def echo(request: web.Request) -> web.Response:
    resolution = request.get(RESOLUTION_KEY)
    prefix = request.get(PREFIX_KEY, "")
    transport = request.transport
    peer = transport.get_extra_info("peername")[0] if transport is not None else None
    return web.json_response(
        {
            "client": request.remote,
            "scheme": request.scheme,
            "host": request.host,
            "port": request.url.port,
            "prefix": prefix,
            "url": str(request.url.with_path(prefix + "/echo")),
            "status": resolution.status if resolution else None,
            "reason": resolution.reason if resolution else None,
            "peer": peer,  # what the server saw, before the middleware
            "server_scheme": "https"
            if transport and transport.get_extra_info("sslcontext")
            else "http",
            "raw": {name: _raw(request, name) for name in RAW_NAMES},
            "server": "aiohttp",
        }
    )


settings = json.loads(os.environ.get("TRUSTPROXY_SETTINGS", "{}"))
app = web.Application(middlewares=[trustproxy.aiohttp.middleware(**settings)])
app.router.add_get("/health", health)
app.router.add_get("/go", go)
app.router.add_get("/go-external", go_external)
app.router.add_get("/echo", echo)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log_class=trustproxy.aiohttp.AccessLogger,
        print=None,
    )
