"""A Django middleware, configured from settings, for projects that prefer ``MIDDLEWARE``
to wrapping the WSGI or ASGI application.

.. code-block:: python

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
    }

It works for both Django request kinds (WSGI and ASGI; under ASGI it runs as async
middleware, without a thread hop) and rewrites, when the core says
so, ``request.META``'s ``REMOTE_ADDR``, ``REMOTE_PORT``, ``HTTP_HOST``, ``SERVER_NAME``,
``SERVER_PORT``, ``SCRIPT_NAME`` and ``wsgi.url_scheme`` (so ``request.is_secure()``,
``request.get_host()`` and ``request.build_absolute_uri()`` see the forwarded values),
``request.path`` and the script prefix used by ``reverse()`` when a prefix is forwarded;
on an ASGI request ``request.scope`` is replaced by a new dict with ``client`` and
``scheme`` rewritten (the server's scope is not edited).  The
:class:`~trustproxy.Resolution` and the originals are in ``request.META`` under
``trustproxy.resolution`` and ``trustproxy.orig``, as with
:class:`~trustproxy.WSGIMiddleware`.

Django checks the host it gets from ``get_host()`` against ``ALLOWED_HOSTS``: a forwarded
host must be listed there, or the request fails with ``DisallowedHost`` (400).  Leave
Django's own ``USE_X_FORWARDED_HOST``, ``USE_X_FORWARDED_PORT`` and
``SECURE_PROXY_SSL_HEADER`` unset: they trust the headers from anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Optional, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import get_script_prefix, set_script_prefix

from ._resolve import CONFLICT, UNRESOLVED
from .errors import ConfigError
from .wsgi import ORIGINAL_KEY, RESOLUTION_KEY, WSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["TrustProxyMiddleware"]

_OPTIONS = ("trusted", "hops", "fields", "headers", "strict")
_TO_WS = {"http": "ws", "https": "wss"}


def _keep(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The 'application' behind the WSGI adapter: the environ is edited in place."""
    return ()


class TrustProxyMiddleware:
    """Django middleware applying forwarding headers from trusted proxies.

    Reads ``settings.TRUSTPROXY`` (a dict with the keyword arguments of
    :class:`~trustproxy.WSGIMiddleware`, plus ``strict``) once, when Django loads its
    middleware.

    :raises ConfigError: for an unknown key or a malformed option.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        options = dict(getattr(settings, "TRUSTPROXY", {}))
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigError(
                f"settings.TRUSTPROXY has unknown keys {unknown}: use {', '.join(_OPTIONS)}"
            )
        strict = bool(options.pop("strict", False))
        self._adapter = WSGIMiddleware(_keep, **options)
        self._refuse = {CONFLICT, UNRESOLVED} if strict else {CONFLICT}
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
        meta = request.META
        scope: Optional[dict[str, Any]] = getattr(request, "scope", None)
        if scope is not None and "wsgi.url_scheme" not in meta:
            # An ASGIRequest: its scheme lives in the scope, not in META.
            meta["wsgi.url_scheme"] = "https" if scope.get("scheme") in ("https", "wss") else "http"
        self._adapter(meta, cast("StartResponse", None))
        result = meta.get(RESOLUTION_KEY)
        if result is None:
            return None, None
        if result.status in self._refuse:
            return HttpResponseBadRequest(
                "400 Bad Request: the forwarding headers of this request cannot be trusted\n",
                content_type="text/plain; charset=utf-8",
            ), None
        applied = result.applied
        if scope is not None and applied:
            new = dict(scope)
            if "for" in applied:
                new["client"] = (result.client, result.client_port or 0)
            if "proto" in applied:
                new["scheme"] = result.scheme
            if "prefix" in applied:
                new["root_path"] = result.prefix
            new[RESOLUTION_KEY] = result
            new[ORIGINAL_KEY] = meta[ORIGINAL_KEY]
            request.scope = new
        if "prefix" not in applied:
            return None, None
        script_name: str = meta["SCRIPT_NAME"]
        request.path = script_name.rstrip("/") + "/" + request.path_info.lstrip("/")
        return None, script_name
