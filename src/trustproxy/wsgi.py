"""The WSGI adapter: translate between a WSGI environ and the pure core.

:class:`WSGIMiddleware` rewrites, when the core says so:

| environ key | becomes |
| --- | --- |
| ``REMOTE_ADDR`` | the client address (canonical) |
| ``REMOTE_PORT`` | the client port, only when the forwarded item carried one |
| ``wsgi.url_scheme`` | ``http`` or ``https`` |
| ``HTTP_HOST`` | the forwarded Host (with the forwarded port, if any) |
| ``SERVER_NAME`` | the host name part of it |
| ``SERVER_PORT`` | the forwarded port, the Host's port, or the scheme's default |
| ``SCRIPT_NAME`` | the forwarded prefix *prepended* to the existing SCRIPT_NAME |

Two environ keys are added whenever a forwarding header was present:

* ``trustproxy.resolution``: the :class:`~trustproxy.Resolution` (status, reason, the
  hops examined…);
* ``trustproxy.orig``: a dict with the values the keys above had before the middleware
  ran (a key that was absent maps to ``None``).

A request with no forwarding header at all is passed on untouched, without either key.

When the core reports a ``conflict`` (both header families read and they disagree, see
``docs/forwarded.md``) the middleware answers ``400 Bad Request`` with a short plain-text
reason and does not call the application.  With ``strict=True`` an ``unresolved`` request
is answered the same way instead of being passed on unchanged.

With ``require_headers`` (tenant binding, ``docs/tenant.md``) a request from a trusted
peer that lacks one of the required headers or its value has status
``"unverified-peer"``: nothing is applied, and with ``strict=True`` it is answered
``403 Forbidden``.  The required headers' environ keys are removed before the
application is called, whatever the peer: a secret never reaches the application.

WSGI servers turn ``X_Forwarded_For`` into the same ``HTTP_X_FORWARDED_FOR`` as
``X-Forwarded-For`` (Django CVE-2015-0219): the middleware cannot tell them apart, so
run a server or proxy that drops underscore header names (gunicorn >= 22 does by default,
nginx does by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NoReturn, Optional, Union

from ._checks import check_app, refuse_keywords
from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options, options_from
from ._hints import Watch
from ._outcome import changes
from ._resolve import (
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    UNVERIFIED_PEER,
    Resolution,
    Resolver,
)
from ._tenant import drop_environ
from ._values import host_name
from ._warn import note
from .trust import TrustSpec

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ORIGINAL_KEY", "RESOLUTION_KEY", "WSGIMiddleware", "environ_key"]

RESOLUTION_KEY = "trustproxy.resolution"
ORIGINAL_KEY = "trustproxy.orig"


def environ_key(header: str) -> str:
    """``"x-forwarded-for"`` -> ``"HTTP_X_FORWARDED_FOR"`` (PEP 3333, CGI rules)."""
    return "HTTP_" + header.upper().replace("-", "_")


def bad_request(result: Resolution) -> tuple[str, list[tuple[str, str]], bytes]:
    """The 400 answer for a conflicting or (in strict mode) unresolved request; 403 for
    one (in strict mode) without its required headers: the peer is not one we serve.

    The body names the problem in fixed words only: the detailed ``reason`` (which quotes
    header text) belongs in logs, not in a response.
    """
    line = "400 Bad Request"
    if result.status == CONFLICT:
        body = b"Bad Request: conflicting forwarding headers\n"
    elif result.status == UNVERIFIED_PEER:
        line, body = "403 Forbidden", b"Forbidden: not sent through the configured proxy\n"
    else:
        body = b"Bad Request: the forwarding headers could not be resolved\n"
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    return line, headers, body


class WSGIMiddleware:
    """Apply forwarding headers from trusted proxies to a WSGI application.

    :param app: the WSGI application to wrap.
    :param trusted: the proxies you control (addresses, networks, presets, callables).
    :param hops: the number of proxies in front of the app, if known.
    :param fields: which values to apply: any of ``"for"``, ``"proto"``, ``"host"``,
        ``"port"``, ``"prefix"``; by default ``("for", "proto")``, or ``("for",)`` for a
        single-address header.
    :param headers: the header family to read.
    :param strict: answer ``400 Bad Request`` for an unresolved request instead of passing
        it on unchanged, and ``403 Forbidden`` for one without its required headers.
        Conflicts are always answered with 400.
    :param require_headers: tenant binding: headers a trusted proxy must carry, name ->
        value (literal, ``"env:NAME"`` or ``"file:PATH"``, read now); removed from every
        request before the application sees it.
    :param options: an :class:`~trustproxy._config.Options` instead of the keywords above.
    :param presets_dir: a folder of presets refreshed by ``trustproxy presets update``
        (default: ``TRUSTPROXY_PRESETS_DIR``).
    :raises ConfigError: for any malformed option.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        trusted: TrustSpec = DEFAULT_TRUSTED,
        hops: Optional[int] = None,
        fields: Union[str, Iterable[str], None] = None,
        headers: Union[str, Iterable[str]] = DEFAULT_HEADERS,
        strict: bool = False,
        require_headers: Optional[Mapping[str, str]] = None,
        options: Optional[Options] = None,
        presets_dir: Optional[str] = None,
        **unknown: NoReturn,
    ) -> None:
        refuse_keywords(type(self).__name__, unknown)  # werkzeug's x_for=1, a typo...
        check_app(app, "wsgi", type(self).__name__)
        self.app = app
        options = options_from(
            options, trusted, hops, fields, headers, strict, presets_dir, require_headers
        )
        self.strict = options.strict
        self.resolver = Resolver(options)
        self._watch = Watch(self.resolver, type(self).__name__)
        self._refuse = {CONFLICT, UNRESOLVED, UNVERIFIED_PEER} if self.strict else {CONFLICT}
        #: The secret headers' environ keys, removed from every request.
        self._hidden = tuple(environ_key(name) for name in self.resolver.required_names)
        self._keys = self.resolver.keys(environ_key)
        #: How many of the values are forwarding headers (the required ones follow).
        self._forwarding = len(self.resolver.header_names)
        self._triggers = tuple(environ_key(name) for name in self.resolver.trigger_names)

    def __repr__(self) -> str:
        return f"WSGIMiddleware({self.app!r}, {self.resolver!r})"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        result = self.rewrite(environ)
        if result is not None and result[0] in self._refuse:  # result[0]: status
            line, response_headers, body = bad_request(result)
            start_response(line, response_headers)
            return [body]
        return self.app(environ, start_response)

    def refuses(self, result: Resolution) -> bool:
        """Whether a request resolved so is answered 400 (a conflict; unresolved too when
        strict) or 403 (strict, a required header missing) instead of reaching the
        application."""
        return result.status in self._refuse

    def rewrite(self, environ: WSGIEnvironment) -> Optional[Resolution]:
        """Apply the forwarding headers to ``environ``, in place, and return the
        :class:`~trustproxy.Resolution`; ``None`` when no forwarding header arrived (the
        environ is untouched).  When :meth:`refuses` the resolution, the environ is left
        as it was.  :meth:`__call__` is this plus the 400 answer; the Django middleware
        calls it directly.
        """
        for key in self._triggers:
            if key in environ:
                break
        else:
            if self._hidden:
                drop_environ(environ, self._hidden)
            return None
        get = environ.get
        remote_addr = get("REMOTE_ADDR")
        original_scheme = get("wsgi.url_scheme")
        scheme = "http" if original_scheme is None else original_scheme
        original_host = get("HTTP_HOST")
        original_script = get("SCRIPT_NAME")
        script_name = "" if original_script is None else original_script
        port_text = get("SERVER_PORT")
        values = tuple(map(get, self._keys))
        if self._hidden:
            drop_environ(environ, self._hidden)
        try:
            port: Optional[int] = int(port_text) if port_text else None
        except ValueError:
            port = None
        # No memo of the outcome: it depends on the client, and a server's next request
        # is mostly from a client not seen lately (docs/benchmarks.md).
        result = self.resolver.decide(remote_addr, values, scheme, original_host, port, script_name)
        watch = self._watch
        if watch.left:  # the first forwarded requests only (see _hints)
            watch.see(result, values, environ)
        # Positional reads (status, ignored; see _result.Resolution): per request.
        if result[0] != APPLIED or result[8]:
            note(result, values[: self._forwarding])
            if result[0] in self._refuse:
                return result
        environ[ORIGINAL_KEY] = {
            "REMOTE_ADDR": remote_addr,
            "REMOTE_PORT": get("REMOTE_PORT"),
            "wsgi.url_scheme": original_scheme,
            "HTTP_HOST": original_host,
            "SERVER_NAME": get("SERVER_NAME"),
            "SERVER_PORT": port_text,
            "SCRIPT_NAME": original_script,
        }
        environ[RESOLUTION_KEY] = result
        if not result[7]:  # nothing applied
            return result
        client, client_port, new_scheme, host, new_port, new_script, _, _ = changes(
            result, original_host, port, script_name
        )
        if client is not None:
            environ["REMOTE_ADDR"] = client
            if client_port is not None:
                environ["REMOTE_PORT"] = str(client_port)
        if new_scheme is not None:
            environ["wsgi.url_scheme"] = new_scheme
        if host is not None:
            environ["HTTP_HOST"] = host
            environ["SERVER_NAME"] = host_name(host)
        if new_port is not None:
            environ["SERVER_PORT"] = str(new_port)
        if new_script is not None:
            environ["SCRIPT_NAME"] = new_script
        return result
