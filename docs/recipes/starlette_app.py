"""Starlette behind a proxy: ``add_middleware``, or wrap the application."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from trustproxy import ASGIMiddleware


async def home(request: Request) -> Response:
    assert request.client is not None
    return JSONResponse(
        {
            "client": request.client.host,
            "scheme": request.url.scheme,
            "url": str(request.url_for("home")),
        }
    )


async def login(request: Request) -> Response:
    return RedirectResponse(request.url_for("home"))


routes = [Route("/", home, name="home"), Route("/login", login)]
# The proxy on this machine connects from 127.0.0.1: trust that address, not all of
# loopback, and apply only the fields it writes.
FIELDS = ("for", "proto", "host", "port", "prefix")

# Either add it as a middleware…
app = Starlette(routes=routes)
app.add_middleware(ASGIMiddleware, trusted="127.0.0.1", fields=FIELDS)

# …or wrap the application.
wrapped = ASGIMiddleware(Starlette(routes=routes), trusted="127.0.0.1", fields=FIELDS)
