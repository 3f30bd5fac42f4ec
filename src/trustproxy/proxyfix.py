"""A safe drop-in replacement for ``werkzeug.middleware.proxy_fix.ProxyFix``.

Change one import, add your proxies, keep your configuration:

```python
# from werkzeug.middleware.proxy_fix import ProxyFix
from trustproxy import ProxyFix

app.wsgi_app = ProxyFix(
    app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1, trusted="127.0.0.1"
)
```

**With** ``trusted=`` (the full trust syntax of :class:`~trustproxy.WSGIMiddleware`:
addresses, networks, presets, callables) a request whose ``REMOTE_ADDR`` is not trusted
is passed on untouched, as the WSGIMiddleware ignores it, and ``x_for=N`` walks as
``hops=N`` does: from the right, the first untrusted address is the client, however far
left the N-th lies.  An item on the way that is not an address (an empty one included),
or fewer than N items, leaves ``REMOTE_ADDR`` alone; ``strict=True`` answers such a
request ``400 Bad Request`` instead.  **Without** it, like werkzeug's, nobody checks who
is connecting: anyone who reaches the application without passing your proxy can pose
as any client, scheme and host.

Otherwise the constructor, the per-header counts and the environ keys are werkzeug's
(checked by running werkzeug's own test module and a differential test against it):
``x_for=N`` reads the N-th X-Forwarded-For value from the right, *only* if the header has
at least N values, into ``REMOTE_ADDR``; ``x_proto`` -> ``wsgi.url_scheme``; ``x_host``
-> ``HTTP_HOST``, ``SERVER_NAME`` (and ``SERVER_PORT`` for a port in the value);
``x_port`` -> ``SERVER_PORT`` and the port of a valid ``HTTP_HOST``; ``x_prefix``
*replaces* ``SCRIPT_NAME``.  Each header is counted on its own; ``0`` turns it off.
``werkzeug.proxy_fix.orig`` holds the values from before, on every request.

Departures (docs/migrate-werkzeug.md has each, with examples), where werkzeug lets a
client write what it likes into the request: an invalid value (not an IP address, a
scheme other than http/https, a malformed host, port or prefix) is not copied and its
keys stay as they were; ``REMOTE_ADDR`` receives the canonical address only; an invalid
Host is not rebuilt with ``x_port``'s port; a prefix is written without its trailing
``/`` (``/`` would rebuild URLs as ``//path``, RFC 3986 §4.2); headers are split on
commas only (X-Forwarded-* have no quoting); a trailing comma counts as an empty last
value; an item longer than any valid value stops the scan; and a count that is not an
``int`` >= 0 raises :class:`~trustproxy.ConfigError` (werkzeug reads ``x_for=-1`` as the
second value from the *left*, a client-written one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional, Union, overload

from ._address import parse_node
from ._lists import item_left_of
from ._memo import MEMO_KEY_LENGTH, key_length, remember
from ._outcome import Changes
from ._values import host_name
from ._werkzeug_positions import FOR_LIMIT, HeaderValues, check_count, client_at, decide, walk
from .errors import ConfigError
from .trust import TrustPolicy, TrustSpec

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# werkzeug's per-header decision is _werkzeug_positions', stated as the changes every
# adapter maps (_outcome.Changes); this module only writes them into the environ.

__all__ = ["ORIGINAL_KEY", "ProxyFix"]

#: The environ key werkzeug keeps the original values under.
ORIGINAL_KEY = "werkzeug.proxy_fix.orig"
_ORIGINAL_KEYS = (
    "REMOTE_ADDR",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
)

_REFUSED = b"Bad Request: the forwarding headers could not be resolved\n"
_LENGTH = str(len(_REFUSED))
_REFUSED_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", _LENGTH)]


def _environ_writes(changes: Changes, server_name: bool) -> dict[str, str]:
    """werkzeug's environ shape for `_outcome.Changes`: ``scheme`` -> ``wsgi.url_scheme``,
    ``host`` -> ``HTTP_HOST`` (and ``SERVER_NAME`` when ``server_name``), ``port`` ->
    ``SERVER_PORT``, ``prefix`` -> ``SCRIPT_NAME`` (replaced, not prepended).  The
    client goes to ``REMOTE_ADDR`` apart: it is read per request, the rest remembered."""
    _, _, scheme, host, port, prefix, _, _ = changes
    writes: dict[str, str] = {}
    if scheme is not None:
        writes["wsgi.url_scheme"] = scheme
    if host is not None:
        writes["HTTP_HOST"] = host
        if server_name:
            writes["SERVER_NAME"] = host_name(host)
    if port is not None:
        writes["SERVER_PORT"] = str(port)
    if prefix is not None:
        writes["SCRIPT_NAME"] = prefix
    return writes


class _Count:
    """A per-header count: validated when set, and setting it forgets remembered results.

    werkzeug reads its counts on every request, so code that changes ``x_host`` after
    construction keeps working here too.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = "_" + name

    @overload
    def __get__(self, obj: None, owner: Optional[type] = None) -> _Count: ...

    @overload
    def __get__(self, obj: ProxyFix, owner: Optional[type] = None) -> int: ...

    def __get__(self, obj: Optional[ProxyFix], owner: Optional[type] = None) -> Union[_Count, int]:
        if obj is None:
            return self
        value: int = getattr(obj, self.slot)
        return value

    def __set__(self, obj: ProxyFix, value: int) -> None:
        setattr(obj, self.slot, check_count(self.name, value))
        obj._memo.clear()


class ProxyFix:
    """werkzeug's ``ProxyFix`` with validation, and with ``trusted=`` a peer check.

    !!! warning
        Without ``trusted=``, like werkzeug's, this middleware does **not** check the
        connecting peer: any client that reaches the app directly can forge every header
        it reads.  Give ``trusted=`` your proxies' addresses.

    :param app: the WSGI application to wrap.
    :param x_for: number of values to trust for ``X-Forwarded-For``.
    :param x_proto: number of values to trust for ``X-Forwarded-Proto``.
    :param x_host: number of values to trust for ``X-Forwarded-Host``.
    :param x_port: number of values to trust for ``X-Forwarded-Port``.
    :param x_prefix: number of values to trust for ``X-Forwarded-Prefix``.
    :param trusted: your proxies (as for :class:`~trustproxy.WSGIMiddleware`): headers
        from any other peer are ignored.  ``None`` (the default) is werkzeug's behaviour:
        it does **not** check the connecting peer, so anyone reaching the app directly
        can forge every header.
    :param strict: answer 400 when X-Forwarded-For has fewer than ``x_for`` values or a
        value it must read is not an address.
    :raises ConfigError: if a count is not an ``int`` >= 0, or for a bad ``trusted``.
    """

    x_for = _Count()
    x_proto = _Count()
    x_host = _Count()
    x_port = _Count()
    x_prefix = _Count()
    # Where _Count keeps the validated values.
    _x_for: int
    _x_proto: int
    _x_host: int
    _x_port: int
    _x_prefix: int

    def __init__(
        self,
        app: WSGIApplication,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
        *,
        trusted: Optional[TrustSpec] = None,
        strict: bool = False,
    ) -> None:
        if not isinstance(strict, bool):
            raise ConfigError(f"strict must be True or False, not {strict!r}")
        self.app = app
        self.strict = strict
        # The environ keys to write for a combination of header values (and Host): a pure
        # function of them and the counts, so it is remembered.
        self._memo: dict[HeaderValues, dict[str, str]] = {}
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix
        # TrustPolicy needs hops with '*'; x_for is that hop count.
        self.policy = None if trusted is None else TrustPolicy(trusted, x_for or None)

    def __repr__(self) -> str:
        trust = "" if self.policy is None else f", trusted={list(self.policy.entries)!r}"
        return (
            f"ProxyFix({self.app!r}, x_for={self.x_for}, x_proto={self.x_proto}, "
            f"x_host={self.x_host}, x_port={self.x_port}, x_prefix={self.x_prefix}{trust}"
            f"{', strict=True' if self.strict else ''})"
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            # Subscripts are cheaper than .get(); every key is present in most requests.
            original = {
                "REMOTE_ADDR": environ["REMOTE_ADDR"],
                "wsgi.url_scheme": environ["wsgi.url_scheme"],
                "HTTP_HOST": environ["HTTP_HOST"],
                "SERVER_NAME": environ["SERVER_NAME"],
                "SERVER_PORT": environ["SERVER_PORT"],
                "SCRIPT_NAME": environ["SCRIPT_NAME"],
            }
        except KeyError:  # HTTP_HOST and REMOTE_ADDR are optional (PEP 3333)
            original = {key: environ.get(key) for key in _ORIGINAL_KEYS}
        environ[ORIGINAL_KEY] = original
        http_host = original["HTTP_HOST"]
        get = environ.get
        policy = self.policy
        if policy is not None and policy.peer(original["REMOTE_ADDR"]).trusted_by is None:
            return self.app(environ, start_response)  # not your proxy: nothing is read
        # X-Forwarded-For differs with every client, so it is read on every request (the
        # address parse is cached); the other headers are the same request after request
        # and their combined result is remembered.
        count = self._x_for
        if count:
            forwarded_for = get("HTTP_X_FORWARDED_FOR")
            if forwarded_for:
                if policy is not None:
                    client = walk(policy, forwarded_for, count)
                elif count == 1:  # the common case, inline: no loop (client_at's)
                    item = item_left_of(forwarded_for, len(forwarded_for), FOR_LIMIT)[0]
                    address = parse_node(item) if item else None
                    client = None if address is None else address.text
                else:
                    client = client_at(forwarded_for, count)
                if client is not None:
                    environ["REMOTE_ADDR"] = client
                elif self.strict:
                    start_response("400 Bad Request", _REFUSED_HEADERS)
                    return [_REFUSED]
        proto = get("HTTP_X_FORWARDED_PROTO")
        host = get("HTTP_X_FORWARDED_HOST")
        port = get("HTTP_X_FORWARDED_PORT")
        prefix = get("HTTP_X_FORWARDED_PREFIX")
        if proto is None and host is None and port is None and prefix is None:
            return self.app(environ, start_response)
        key = (proto, host, port, prefix, http_host)
        memo = self._memo
        writes = memo.get(key)  # no try/except: a raised KeyError costs more than a miss
        if writes is None:
            writes = self._writes(key)
            # Only short combinations are kept, so the memo's memory stays small whatever
            # clients send (real proxies write short values; long ones are recomputed).
            if key_length(key, None) <= MEMO_KEY_LENGTH:
                remember(memo, key, writes)
        if writes:
            environ.update(writes)
        return self.app(environ, start_response)

    def _writes(self, key: HeaderValues) -> dict[str, str]:
        """The environ keys to set for these header values and this ``HTTP_HOST``."""
        counts = (self._x_proto, self._x_host, self._x_port, self._x_prefix)
        return _environ_writes(*decide(counts, key))
