"""FastAPI behind a proxy: ``add_middleware``, or wrap the application.

Run the server without its own proxy handling (``uvicorn --no-proxy-headers``,
``fastapi run --no-proxy-headers``): trustproxy does it, safely.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from trustproxy import ASGIMiddleware

# The proxy on this machine connects from 127.0.0.1: trust that address, not all of
# loopback, and apply only the fields it writes.
FIELDS = ("for", "proto", "host", "port", "prefix")


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def home(request: Request) -> dict[str, str]:
        assert request.client is not None
        return {
            "client": request.client.host,
            "scheme": request.url.scheme,
            "url": str(request.url_for("home")),
        }

    @app.get("/login")
    async def login(request: Request) -> RedirectResponse:
        return RedirectResponse(request.url_for("home"))

    return app


# Either add it as a middleware…
app = create_app()
app.add_middleware(ASGIMiddleware, trusted="127.0.0.1", fields=FIELDS)

# …or wrap the application.
wrapped = ASGIMiddleware(create_app(), trusted="127.0.0.1", fields=FIELDS)
