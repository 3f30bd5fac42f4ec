"""An ASGI application behind a proxy, for uvicorn or hypercorn.

uvicorn asgi_server_app:app --no-proxy-headers --log-config uvicorn-log-config.json
hypercorn asgi_server_app:app --access-logfile - --log-config json:hypercorn-log-config.json
"""

from __future__ import annotations

from typing import Any

from trustproxy import ASGIMiddleware


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        body = f"{scope['scheme']}://{scope['client'][0]}\n".encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": f"{scope['scheme']}://{scope['client'][0]}"})
        await send({"type": "websocket.close"})


# The proxy (nginx, HAProxy…) connects from 127.0.0.1 on this machine; list your own
# proxies' addresses, not all of loopback (any local process could then forge).
app = ASGIMiddleware(hello, trusted="127.0.0.1", fields=("for", "proto", "host", "port", "prefix"))
