"""Flask-Limiter keyed on the real client: trustproxy's key, not the proxy's address.

``WSGIMiddleware`` rewrites REMOTE_ADDR to the client and puts its Resolution in the
environ; the key function asks it for :meth:`~trustproxy.Resolution.client_key`, so one
IPv6 client (a /64) is one bucket, and an IPv4-mapped address shares its IPv4 bucket.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter

import trustproxy
from trustproxy import WSGIMiddleware


def client_key() -> str:
    resolution = request.environ.get("trustproxy.resolution")
    if resolution is not None:
        key = resolution.client_key()  # IPv6: its /64
        if key is not None:
            return str(key)
    # No forwarding header arrived: the socket peer is the client.
    address = request.remote_addr or ""
    try:
        return trustproxy.client_key(address)
    except ValueError:  # a UNIX socket: no address at all
        return "unix"


app = Flask(__name__)
limiter = Limiter(client_key, app=app, default_limits=["2 per minute"], storage_uri="memory://")


@app.get("/")
def home() -> str:
    return f"hello {client_key()}\n"


app.wsgi_app = WSGIMiddleware(  # type: ignore[method-assign]
    app.wsgi_app, trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix")
)
