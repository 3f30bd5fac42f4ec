"""The ASGI app behind the proxies: a bare ASGI app wrapped in trustproxy that reports
what it sees, like ``wsgi_app.py`` (run it with ``uvicorn asgi_app:app`` or
``hypercorn asgi_app:app``).  Settings come from ``TRUSTPROXY_SETTINGS`` (JSON).

URLs are built the way ASGI frameworks build them (Starlette's ``url_for``):
``scheme://host`` + ``root_path`` + the route.  Routing strips ``root_path`` from
``path``, the convention of uvicorn >= 0.26 and of trustproxy's ASGIMiddleware.
"""

from __future__ import annotations

import json
import os
from typing import Any

from trustproxy.asgi import ASGIMiddleware
from trustproxy.whoami import asgi_app as probe_endpoint

PROBE_TOKEN = "e2e-probe-token-0123456789"  # as in wsgi_app.py
_probe = probe_endpoint(PROBE_TOKEN)

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


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


async def _send(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def report(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        return
    headers = _headers(scope)
    root = scope.get("root_path", "")
    path = scope["path"]
    route = path[len(root) :] if root and path.startswith(root) else path
    host = headers.get("host", "")
    base = f"{scope['scheme']}://{host}{root}"
    if route == "/probe":  # trustproxy probe (tests/e2e/test_probe.py)
        await _probe(scope, receive, send)
        return
    if route == "/health":
        await _send(send, 200, b"ok", [])
        return
    if route == "/go":
        await _send(send, 302, b"", [(b"location", f"{root}/echo".encode())])
        return
    if route == "/go-external":
        await _send(send, 302, b"", [(b"location", f"{base}/echo".encode())])
        return
    if route != "/echo":
        await _send(send, 404, b"not found", [])
        return
    resolution = scope.get("trustproxy.resolution")
    client = scope.get("client") or (None, 0)
    orig = scope.get("trustproxy.orig") or scope
    peer = orig.get("client") or (None, 0)
    body = json.dumps(
        {
            "client": client[0],
            "scheme": scope["scheme"],
            "host": host,
            "port": scope["server"][1],
            "prefix": root,
            "url": f"{base}/echo",
            "status": resolution.status if resolution else None,
            "reason": resolution.reason if resolution else None,
            "peer": peer[0],  # what the server saw, before the middleware
            "server_scheme": orig["scheme"],
            "raw": {name: headers.get(name) for name in RAW_NAMES},
            "server": os.environ.get("TRUSTPROXY_SERVER", "asgi"),
        },
        default=str,
    ).encode()
    await _send(send, 200, body, [(b"content-type", b"application/json")])


settings = json.loads(os.environ.get("TRUSTPROXY_SETTINGS", "{}"))
app = ASGIMiddleware(report, **settings)
