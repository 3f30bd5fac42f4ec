"""An endpoint to mount in your own app, behind a token, for `trustproxy probe`.

`trustproxy whoami` is a separate server with its own configuration; this endpoint runs
*inside* the deployed app, after its trustproxy middleware, so it reports what the app
itself sees — the address, scheme, host, port and prefix every other route gets:

```python
from trustproxy import WSGIMiddleware
from trustproxy.whoami import wsgi_app

from werkzeug.middleware.dispatcher import DispatcherMiddleware

probe = wsgi_app(token=os.environ["TRUSTPROXY_PROBE_TOKEN"])
# Flask: the endpoint at /_trustproxy, inside the middleware like every route
app.wsgi_app = WSGIMiddleware(
    DispatcherMiddleware(app.wsgi_app, {"/_trustproxy": probe}), trusted=...
)
```

then, from outside: `trustproxy probe https://example.com/_trustproxy` with the token
in `TRUSTPROXY_PROBE_TOKEN`.  [`asgi_app`][trustproxy.whoami.asgi_app] is the same for
ASGI (Starlette: `Mount("/_trustproxy", app=asgi_app(token=...))`).  A dispatcher adds
the mount path to the prefix the endpoint reports; the probe compares like with like, so
that is fine.

A request without the token's exact value gets 404, as if nothing were mounted there;
the comparison is of SHA-256 digests with `hmac.compare_digest`, so its time says
nothing about the token, not even its length.  The answer holds only what the app
resolved for this request (never a header value), and is never cached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Iterable, MutableMapping
from typing import Any, Callable, Optional

from ._probe import TOKEN_HEADER
from .errors import ConfigError

__all__ = ["MIN_TOKEN_LENGTH", "TOKEN_HEADER", "asgi_app", "wsgi_app"]

#: A token shorter than this is refused when the endpoint is built.
MIN_TOKEN_LENGTH = 16

_WSGI_KEY = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")
_ASGI_KEY = TOKEN_HEADER.lower().encode()
_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _digest(token: str) -> bytes:
    if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the whoami endpoint needs a token of at least {MIN_TOKEN_LENGTH} characters"
            " (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    if not token.isascii() or not token.isprintable() or token != token.strip():
        raise ConfigError("the whoami endpoint token must be printable ASCII with no spaces")
    return hashlib.sha256(token.encode()).digest()


def _matches(expected: bytes, given: Optional[bytes]) -> bool:
    return hmac.compare_digest(expected, hashlib.sha256(given or b"").digest())


def _port(value: object) -> Optional[int]:
    try:
        return int(str(value))
    except ValueError:
        return None


def _body(client: object, scheme: object, host: object, port: object, prefix: object) -> bytes:
    data = {"client": client, "scheme": scheme, "host": host, "port": _port(port)}
    data["prefix"] = prefix
    return (json.dumps(data) + "\n").encode()


def wsgi_app(token: str) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """A WSGI app answering JSON of what it saw, to requests carrying `token`.

    :param token: the value requests must carry in the `Trustproxy-Probe-Token`
        header (`TOKEN_HEADER`), at least `MIN_TOKEN_LENGTH` printable ASCII characters.
    :raises ConfigError: for a shorter or unprintable token.
    """
    expected = _digest(token)

    def endpoint(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        given = environ.get(_WSGI_KEY)
        if not _matches(expected, given.encode("latin-1") if isinstance(given, str) else None):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME")
        body = _body(
            environ.get("REMOTE_ADDR"),
            environ.get("wsgi.url_scheme"),
            host,
            environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME", ""),
        )
        start_response("200 OK", [*_HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    return endpoint


def asgi_app(token: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering JSON of what it saw, to requests carrying `token` (HTTP
    scopes only).

    :param token: as for [`wsgi_app`][trustproxy.whoami.wsgi_app].
    :raises ConfigError: for a shorter or unprintable token.
    """
    expected = _digest(token)

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        given = None
        host = None
        for name, value in scope.get("headers", ()):
            if name == _ASGI_KEY:
                given = value
            elif name == b"host":
                host = value.decode("latin-1")
        status, body = 404, b"not found\n"
        headers = [(b"content-type", b"text/plain")]
        if _matches(expected, given):
            client = scope.get("client") or (None, None)
            server = scope.get("server") or (None, None)
            status = 200
            body = _body(
                client[0], scope.get("scheme"), host, server[1], scope.get("root_path", "")
            )
            headers = [(k.lower().encode(), v.encode()) for k, v in _HEADERS]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return endpoint
