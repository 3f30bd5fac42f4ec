"""Construction-time checks shared by the adapters: the wrapped application speaks the
adapter's protocol, and every keyword is one the adapter takes.

Both run once, in ``__init__``: a mistake here otherwise surfaces per request, as a raw
``TypeError`` from deep inside the server, or as Python's bare "unexpected keyword".

What the protocol check can tell, and what it cannot:

* a coroutine function, or an object whose class defines ``async def __call__`` (every
  ASGI framework: Starlette, FastAPI, Django's ``ASGIHandler``, Quart, an
  :class:`~trustproxy.ASGIMiddleware`), is an ASGI application: refused by the WSGI
  adapter;
* a callable whose signature cannot take the adapter's positional arguments —
  ``(environ, start_response)`` for WSGI, ``(scope, receive, send)`` for ASGI — fails on
  every request: refused (so a Flask or Django WSGI application given to the ASGI
  adapter is, as is an ASGI 2 "double callable" class);
* a *sync* callable that takes three arguments and returns an awaitable is a valid ASGI
  application that looks like any other function, and one taking ``*args`` says
  nothing: these are accepted, and a wrong one fails per request as before.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Optional

from ._config import NAMES
from .errors import ConfigError

__all__ = ["check_app", "refuse_keywords"]

#: werkzeug ProxyFix's per-header counts, and the field each one applies.
_WERKZEUG = {
    "x_for": "for",
    "x_proto": "proto",
    "x_host": "host",
    "x_port": "port",
    "x_prefix": "prefix",
}

_ARGUMENTS = {"wsgi": ("environ", "start_response"), "asgi": ("scope", "receive", "send")}


def _is_async(app: object) -> bool:
    if inspect.iscoroutinefunction(app):
        return True
    if inspect.isfunction(app) or inspect.ismethod(app) or isinstance(app, type):
        return False
    # An instance: its class's __call__ (inspect on the bound method sees through it).
    call = getattr(app, "__call__", None)  # noqa: B004 - we want the method itself
    return call is not None and inspect.iscoroutinefunction(call)


def _takes(app: object, count: int) -> Optional[bool]:
    """Whether ``app`` can be called with ``count`` positional arguments; ``None`` when
    its signature cannot be read (a builtin, a C extension)."""
    try:
        signature = inspect.signature(app)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def check_app(app: object, protocol: str, adapter: str) -> None:
    """Raise :class:`ConfigError` when ``app`` cannot be a ``protocol`` application
    (``"wsgi"`` or ``"asgi"``) for ``adapter``; see the module docstring for the limits."""
    other = "ASGIMiddleware" if protocol == "wsgi" else "WSGIMiddleware"
    arguments = ", ".join(_ARGUMENTS[protocol])
    if not callable(app):
        raise ConfigError(
            f"{adapter} needs a {protocol.upper()} application (a callable taking"
            f" {arguments}), not {app!r}"
        )
    if protocol == "wsgi" and _is_async(app):
        raise ConfigError(
            f"{adapter} was given an ASGI application ({app!r} is async): wrap it with"
            f" trustproxy.{other}(app, ...) instead"
        )
    if _takes(app, len(_ARGUMENTS[protocol])) is False:
        hint = f"wrap it with trustproxy.{other}(app, ...) instead"
        if protocol == "asgi" and _takes(app, 2) is False and _takes(app, 1):
            # ASGI 2: app(scope) returns the coroutine function; ASGI 3 is one call.
            hint = (
                "an ASGI 2 (double-callable) app must be made ASGI 3 first, e.g. with"
                " asgiref.compatibility.guarantee_single_callable(app)"
            )
        raise ConfigError(
            f"{adapter} calls its application with ({arguments}), which {app!r} cannot take: {hint}"
        )


def refuse_keywords(adapter: str, unknown: Mapping[str, object]) -> None:
    """Raise :class:`ConfigError` for keywords ``adapter`` does not take, naming what to
    write instead; nothing when ``unknown`` is empty."""
    if not unknown:
        return
    counts = {name: value for name, value in unknown.items() if name in _WERKZEUG}
    wsgi = adapter.startswith("WSGI")
    if counts:
        fields = [_WERKZEUG[name] for name in _WERKZEUG if counts.get(name)]
        numbers = {value for value in counts.values() if value}
        hops = f"hops={numbers.pop()}, " if len(numbers) == 1 else ""
        given = ", ".join(f"{name}={value!r}" for name, value in counts.items())
        keep = (
            f", or keep the counts with trustproxy.ProxyFix(app, {given}, trusted=[your proxies])"
            if wsgi
            else ""
        )
        raise ConfigError(
            f"{adapter} does not take werkzeug's counts ({given}): write"
            f" {adapter}(app, trusted=[your proxies], {hops}fields={fields!r}){keep}"
        )
    if "trusted_hosts" in unknown:
        keep = "" if wsgi else ", or trustproxy.ProxyHeadersMiddleware(app, trusted_hosts=...)"
        raise ConfigError(
            f"{adapter} does not take uvicorn's trusted_hosts=: write trusted= with the"
            f" same entries{keep}"
        )
    name = sorted(unknown)[0]
    close = difflib.get_close_matches(name, (*NAMES, "options"), n=1)
    hint = f"did you mean {close[0]}=?" if close else f"it takes {', '.join(NAMES)}, options"
    raise ConfigError(f"{adapter} got an unknown keyword {name}=: {hint}")
