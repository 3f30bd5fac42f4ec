"""Quart behind a proxy: wrap ``app.asgi_app`` (as with Flask's ``wsgi_app``)."""

from __future__ import annotations

from quart import Quart, redirect, request, url_for
from werkzeug.wrappers import Response

from trustproxy import ASGIMiddleware

app = Quart(__name__)


@app.get("/")
async def home() -> dict[str, object]:
    return {
        "client": request.remote_addr,
        "scheme": request.scheme,
        "host": request.host,
        "url": url_for("home", _external=True),
    }


@app.get("/login")
async def login() -> Response:
    return redirect(url_for("home", _external=True))


app.asgi_app = ASGIMiddleware(  # type: ignore[method-assign]
    app.asgi_app, trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix")
)
