"""aiohttp behind a proxy: one middleware, and the access log written from its clone.

python aiohttp_app.py 8000
"""

from __future__ import annotations

import sys

from aiohttp import web

import trustproxy.aiohttp


async def index(request: web.Request) -> web.Response:
    # aiohttp has no root path: links get the forwarded prefix put in front.
    prefix = request.get(trustproxy.aiohttp.PREFIX_KEY, "")
    path = prefix + str(request.app.router["index"].url_for())
    return web.json_response(
        {
            "client": request.remote,
            "scheme": request.scheme,
            "host": request.host,
            "url": str(request.url.with_path(path)),
        }
    )


async def login(request: web.Request) -> web.Response:
    prefix = request.get(trustproxy.aiohttp.PREFIX_KEY, "")
    raise web.HTTPFound(prefix + str(request.app.router["index"].url_for()))


async def socket(request: web.Request) -> web.WebSocketResponse:
    # The handshake request is the same clone: remote, scheme and host are the client's.
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"client": request.remote, "scheme": request.scheme})
    await ws.close()
    return ws


# The proxy on this machine connects from 127.0.0.1: trust that address, not all of
# loopback, and apply only the fields it writes.
app = web.Application(
    middlewares=[
        trustproxy.aiohttp.middleware(
            trusted="127.0.0.1", fields=("for", "proto", "host", "prefix")
        )
    ]
)
app.router.add_get("/", index, name="index")
app.router.add_get("/login", login)
app.router.add_get("/ws", socket)

if __name__ == "__main__":
    # aiohttp logs the server's request; this logger writes the line from the clone.
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    web.run_app(app, host="127.0.0.1", port=port, access_log_class=trustproxy.aiohttp.AccessLogger)
