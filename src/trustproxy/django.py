"""A Django middleware, configured from settings, for projects that prefer ``MIDDLEWARE``
to wrapping the WSGI or ASGI application.

```python
MIDDLEWARE = [
    "trustproxy.django.TrustProxyMiddleware",  # first: everything after sees the client
    "django.middleware.security.SecurityMiddleware",
    ...
]
TRUSTPROXY = {
    "trusted": ["10.0.0.0/8"],  # your proxies; default "loopback"
    "hops": None,
    "fields": ["for", "proto", "host"],
    "headers": "x-forwarded",
    "strict": False,  # True: answer 400 when the headers cannot be resolved
    "require_headers": None,  # e.g. {"X-Origin-Verify": "env:ORIGIN_SECRET"}
}
```

It works for both Django request kinds, with the same changes on each (under ASGI it
runs as async middleware, without a thread hop).  On a WSGI request it does what
:class:`~trustproxy.WSGIMiddleware` does to ``request.META`` (the request's environ):
``REMOTE_ADDR``, ``REMOTE_PORT``, ``wsgi.url_scheme``, ``HTTP_HOST``, ``SERVER_NAME``,
``SERVER_PORT`` and ``SCRIPT_NAME``.  On an ASGI request ``request.scope`` is replaced by
the scope :class:`~trustproxy.ASGIMiddleware` would hand the application (``client``,
``scheme``, ``server``, the ``host`` line, ``root_path`` and ``path`` rewritten; the
server's scope is not edited), and ``request.META`` follows it as Django derives META from
a scope (``REMOTE_ADDR``, ``REMOTE_HOST``, ``REMOTE_PORT``, ``HTTP_HOST``,
``SERVER_NAME``, ``SERVER_PORT``, ``SCRIPT_NAME``).  Either way ``request.is_secure()``,
``request.get_host()``, ``request.get_port()`` and ``request.build_absolute_uri()`` see the
forwarded values, and when a prefix is forwarded so do ``request.path`` and the script
prefix ``reverse()`` uses.  The :class:`~trustproxy.Resolution` and the originals are in
``request.META`` under ``trustproxy.resolution`` and ``trustproxy.orig``, as with
:class:`~trustproxy.WSGIMiddleware` (on an ASGI request ``wsgi.url_scheme`` there is the
scope's scheme).

A conflict (``headers=("forwarded", "x-forwarded")`` and the two disagree) is answered
``400 Bad Request`` without calling the view, and with ``strict`` so is an unresolved
request, as the adapters do.  With ``require_headers`` (tenant binding,
``docs/tenant.md``) a trusted peer's request without every required header and its value
is treated as an untrusted peer's (status ``"unverified-peer"``), and with ``strict``
answered ``403 Forbidden``; the required headers are removed from ``request.META`` (and
``request.scope``) on every request before any view or later middleware sees them.

Django checks the host it gets from ``get_host()`` against ``ALLOWED_HOSTS``: a forwarded
host must be listed there, or the request fails with ``DisallowedHost`` (400).  Leave
Django's own ``USE_X_FORWARDED_HOST``, ``USE_X_FORWARDED_PORT`` and
``SECURE_PROXY_SSL_HEADER`` unset: they trust the headers from anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Optional

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls import get_script_prefix, set_script_prefix

from ._config import Options
from ._status import UNVERIFIED_PEER
from ._tenant import drop_environ
from .asgi import ASGIMiddleware, Receive, Scope, Send
from .wsgi import ORIGINAL_KEY, RESOLUTION_KEY, WSGIMiddleware, environ_key

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["TrustProxyMiddleware"]

#: The request.META keys the middleware may change, recorded under ``trustproxy.orig``.
_ORIGINAL_KEYS = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
)


def _keep(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The 'application' behind the WSGI adapter, never called: Django calls its
    ``rewrite``, which edits the environ (``request.META``) in place."""
    return ()


async def _unused(scope: Scope, receive: Receive, send: Send) -> None:
    """The 'application' behind the ASGI adapter, never called: Django calls its
    ``rewrite``, which returns the new scope."""


def _refused(status: str = "") -> HttpResponse:
    if status == UNVERIFIED_PEER:  # strict, a required header missing: 403
        return HttpResponseForbidden(
            "403 Forbidden: not sent through the configured proxy\n",
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponseBadRequest(
        "400 Bad Request: the forwarding headers of this request cannot be trusted\n",
        content_type="text/plain; charset=utf-8",
    )


class TrustProxyMiddleware:
    """Django middleware applying forwarding headers from trusted proxies.

    Reads ``settings.TRUSTPROXY`` (a dict with the keyword arguments of
    :class:`~trustproxy.WSGIMiddleware`: ``trusted``, ``hops``, ``fields``, ``headers``,
    ``strict``, ``require_headers``, with the same defaults) once, when Django loads its middleware.

    :raises ConfigError: for an unknown key or a malformed option.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        options = Options.from_mapping(getattr(settings, "TRUSTPROXY", {}), "settings.TRUSTPROXY")
        # One configuration, one compiled policy, two request kinds: a WSGIRequest's META
        # is its environ, which the WSGI adapter rewrites; an ASGIRequest is built from a
        # scope, which the ASGI adapter rewrites.  Each answers exactly as the adapter
        # wrapping the application would.
        self._wsgi = WSGIMiddleware(_keep, options=options)
        self._asgi = ASGIMiddleware(_unused, options=options)
        #: The secret headers' META keys (tenant binding), removed from every request.
        self._hidden = tuple(environ_key(name) for name in self._wsgi.resolver.required_names)
        # Under ASGI Django hands an async get_response: stay async, no thread hop.
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        refused, script_name = self._apply(request)
        if refused is not None:
            return refused
        if script_name is None:
            return self.get_response(request)
        # reverse() reads the script prefix, a per-thread (per-task) value the handler set
        # from the server's SCRIPT_NAME; put it back afterwards for whoever reads it next.
        previous = get_script_prefix()
        set_script_prefix(script_name)
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(previous)

    async def _acall(self, request: HttpRequest) -> Any:
        refused, script_name = self._apply(request)
        if refused is not None:
            return refused
        if script_name is None:
            return await self.get_response(request)
        previous = get_script_prefix()
        set_script_prefix(script_name)
        try:
            return await self.get_response(request)
        finally:
            set_script_prefix(previous)

    def _apply(self, request: HttpRequest) -> tuple[Optional[HttpResponse], Optional[str]]:
        """Rewrite the request; return a 400 response to send instead, and the new
        script prefix when a prefix was forwarded."""
        scope: Optional[Scope] = getattr(request, "scope", None)
        if scope is not None:
            return self._apply_scope(request, scope)
        meta = request.META
        result = self._wsgi.rewrite(meta)  # removes the secret headers from META
        if self._hidden:
            request.__dict__.pop("headers", None)  # request.headers, if read already
        if result is None:
            return None, None
        if self._wsgi.refuses(result):
            return _refused(result.status), None
        if "prefix" not in result.applied:
            return None, None
        # As Django's WSGIRequest builds request.path from SCRIPT_NAME and PATH_INFO.
        script_name: str = meta["SCRIPT_NAME"]
        request.path = "{}/{}".format(
            script_name.rstrip("/"), request.path_info.replace("/", "", 1)
        )
        return None, script_name

    def _apply_scope(
        self, request: HttpRequest, scope: Scope
    ) -> tuple[Optional[HttpResponse], Optional[str]]:
        """The ASGIRequest case: the new scope replaces ``request.scope`` (the server's is
        not edited), and META follows it as Django's ASGIRequest derives META from a
        scope."""
        new = self._asgi.rewrite(scope)
        if new is None:
            return None, None
        if self._hidden:
            # The secret lines are out of the new scope; META was built from the server's.
            drop_environ(request.META, self._hidden)
            request.__dict__.pop("headers", None)
            request.scope = new
        result = new.get(RESOLUTION_KEY)  # absent when only secret lines were removed
        if result is None:
            return None, None
        if self._asgi.refuses(result):
            return _refused(result.status), None
        meta = request.META
        original = {key: meta.get(key) for key in _ORIGINAL_KEYS}
        original["wsgi.url_scheme"] = scope.get("scheme")  # an ASGIRequest's scheme
        meta[ORIGINAL_KEY] = original
        meta[RESOLUTION_KEY] = result
        request.scope = new
        # Changed values are new objects; unchanged ones are the server's own.
        client = new.get("client")
        if client and client is not scope.get("client"):
            meta["REMOTE_ADDR"] = meta["REMOTE_HOST"] = client[0]
            meta["REMOTE_PORT"] = client[1]
        server = new.get("server")
        if server and server is not scope.get("server"):
            meta["SERVER_NAME"] = server[0]
            meta["SERVER_PORT"] = str(server[1])
        headers = new.get("headers")
        if headers is not None and headers is not scope.get("headers"):
            for name, value in headers:
                if name == b"host":
                    meta["HTTP_HOST"] = value.decode("latin-1")
                    break
        if "prefix" not in result.applied:
            return None, None
        script_name: str = new["root_path"]
        meta["SCRIPT_NAME"] = request.script_name = script_name
        request.path = new["path"]
        return None, script_name
