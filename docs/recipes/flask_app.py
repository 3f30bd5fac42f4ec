"""Flask behind a proxy: wrap ``app.wsgi_app`` (as Flask's guide does with ProxyFix)."""

from __future__ import annotations

from flask import Flask, Response, jsonify, redirect, request, url_for

from trustproxy import WSGIMiddleware

app = Flask(__name__)


@app.get("/")
def home() -> Response:
    return jsonify(
        client=request.remote_addr,
        scheme=request.scheme,
        host=request.host,
        url=url_for("home", _external=True),
    )


@app.get("/login")
def login() -> Response:
    return redirect(url_for("home", _external=True))


# One proxy on this machine (nginx) sets X-Forwarded-For, -Proto, -Host and -Prefix;
# trust the address it connects from, not all of loopback (any local process).
app.wsgi_app = WSGIMiddleware(  # type: ignore[method-assign]
    app.wsgi_app, trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix")
)
