"""A WSGI application behind a proxy, for gunicorn.

gunicorn wsgi_server_app:app --access-logfile -
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

from trustproxy import WSGIMiddleware


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = f"{environ['wsgi.url_scheme']}://{environ['REMOTE_ADDR']}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


# The proxy on this machine connects from 127.0.0.1: trust that address only.
app = WSGIMiddleware(hello, trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix"))
