"""Make an ASGI server's access log show the resolved client.

ASGI servers write their access log line from *their* scope.  :class:`ASGIMiddleware`
never edits that scope — the application gets a new one — so uvicorn and hypercorn would
log the proxy's address (hypercorn #232).  :class:`AccessLogFilter` is a
:class:`logging.Filter` for the server's access logger: while the middleware serves a
request it holds that request's new scope in a context variable
(:data:`trustproxy.asgi.current`), which the server's logging call — made from the
application's ``send`` — can see.  The filter replaces the client in the record with the
resolved one, and only when the record names the very peer the middleware saw; it never
drops a record.

Records it understands:

* uvicorn (``uvicorn.access``, and ``uvicorn.error`` for WebSocket handshakes):
  ``args[0]`` is ``"host:port"`` of ``scope["client"]``;
* hypercorn (``hypercorn.access``): ``args`` is the atoms mapping, ``"h"`` is
  ``"host:port"``.

Install it with the server's log configuration (``docs/frameworks.md`` shows the files):
uvicorn ``--log-config`` and hypercorn ``--log-config json:…``, each naming
``{"()": "trustproxy.accesslog.AccessLogFilter"}`` as a filter of the access logger.

WSGI servers need nothing: :class:`~trustproxy.WSGIMiddleware` rewrites the environ
in place (PEP 3333 lets it), and gunicorn's ``%(h)s`` reads ``REMOTE_ADDR`` from that
environ after the application returns.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any, Optional

from . import asgi
from .asgi import ORIGINAL_KEY, current

__all__ = ["AccessLogFilter"]


def _address(client: Any) -> Optional[str]:
    if not client:
        return None
    return f"{client[0]}:{client[1]}"


class AccessLogFilter(logging.Filter):
    """Rewrite the client in uvicorn's and hypercorn's access log records.

    Creating one turns on :data:`trustproxy.asgi.current` for every ASGIMiddleware in
    the process (it is off until then, to spare requests the cost).
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        asgi._tracking = True

    def filter(self, record: logging.LogRecord) -> bool:
        scope = current.get()
        if scope is None:
            return True
        new = _address(scope.get("client"))
        old = _address(scope[ORIGINAL_KEY]["client"])
        if new == old or new is None:
            return True
        args = record.args
        if isinstance(args, tuple):
            # uvicorn: '%s - "%s %s HTTP/%s" %d', client first.
            if args and args[0] == (old or ""):
                record.args = (new, *args[1:])
        elif isinstance(args, MutableMapping) and args.get("h") == old:
            # hypercorn's atoms: a fresh mapping per record, so it is safe to edit.
            args["h"] = new
        return True
