"""The WSGI app behind the proxies: a Flask app wrapped in trustproxy that reports what it sees.

The middleware settings come from the ``TRUSTPROXY_SETTINGS`` environment variable (JSON
keyword arguments for :class:`trustproxy.WSGIMiddleware`), so one file serves every
scenario.  Run it with ``gunicorn wsgi_app:app``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, jsonify, redirect, request, url_for

from trustproxy import WSGIMiddleware
from trustproxy.whoami import wsgi_app as probe_endpoint

#: The token of the ``/probe`` endpoint (``trustproxy probe``, tests/e2e/test_probe.py).
PROBE_TOKEN = "e2e-probe-token-0123456789"

#: The environ keys a client or proxy may have written, reported raw so a test can see
#: what the server passed on (gunicorn drops ``X_Forwarded_For`` before this point).
RAW_KEYS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
    "HTTP_X_REAL_IP",
)
RAW_NAMES = [key[5:].lower().replace("_", "-") for key in RAW_KEYS]

flask_app = Flask(__name__)


@flask_app.route("/echo")
def echo() -> Any:
    env = request.environ
    resolution = env.get("trustproxy.resolution")
    orig = env.get("trustproxy.orig") or env
    return jsonify(
        client=request.remote_addr,
        scheme=request.scheme,
        host=request.host,
        port=int(env["SERVER_PORT"]),
        prefix=request.script_root,
        url=url_for("echo", _external=True),
        status=resolution.status if resolution else None,
        reason=resolution.reason if resolution else None,
        peer=orig["REMOTE_ADDR"],  # what the server saw, before the middleware
        server_scheme=orig["wsgi.url_scheme"],
        raw={name: env.get(key) for name, key in zip(RAW_NAMES, RAW_KEYS)},
        server=os.environ.get("TRUSTPROXY_SERVER", "gunicorn"),
    )


@flask_app.route("/go")
def go() -> Any:
    # A relative redirect, as most apps write it; Werkzeug keeps it relative, so the
    # prefix it carries is the proof.
    return redirect(url_for("echo"))


@flask_app.route("/go-external")
def go_external() -> Any:
    return redirect(url_for("echo", _external=True))


@flask_app.route("/health")
def health() -> Any:
    return "ok"


settings = json.loads(os.environ.get("TRUSTPROXY_SETTINGS", "{}"))
_probe = probe_endpoint(PROBE_TOKEN)
_flask = flask_app.wsgi_app


def _with_probe(environ: dict[str, Any], start_response: Any) -> Any:
    # Inside the middleware, as a user mounts it: it reports what every route sees.
    if environ.get("PATH_INFO") == "/probe":
        return _probe(environ, start_response)
    return _flask(environ, start_response)


flask_app.wsgi_app = WSGIMiddleware(_with_probe, **settings)  # type: ignore[method-assign]
app = flask_app
