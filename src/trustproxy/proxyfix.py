"""A safe drop-in replacement for ``werkzeug.middleware.proxy_fix.ProxyFix``.

Change one import and keep your configuration:

```python
# from werkzeug.middleware.proxy_fix import ProxyFix
from trustproxy import ProxyFix

app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
```

The constructor, the per-header counts and the environ keys are werkzeug's (facts taken
from its documentation and observed behaviour, checked by running werkzeug's own test
module and a differential test against it):

* ``x_for=N`` reads the N-th X-Forwarded-For value from the right, *only* if the header
  has at least N values, and writes it to ``REMOTE_ADDR``.  Each of the five headers is
  counted on its own; ``0`` turns a header off.
* ``x_proto`` -> ``wsgi.url_scheme``.
* ``x_host`` -> ``HTTP_HOST`` and ``SERVER_NAME``; a port in the value also sets
  ``SERVER_PORT`` (an ``[IPv6]`` literal without a port leaves it alone).
* ``x_port`` -> ``SERVER_PORT``, and replaces the port of ``HTTP_HOST`` (after
  ``x_host`` has run), or appends one if it had none — when that Host is valid.
* ``x_prefix`` *replaces* ``SCRIPT_NAME`` (the WSGIMiddleware prepends instead).
* ``werkzeug.proxy_fix.orig`` holds the ``REMOTE_ADDR``, ``wsgi.url_scheme``,
  ``HTTP_HOST``, ``SERVER_NAME``, ``SERVER_PORT`` and ``SCRIPT_NAME`` the request had
  before (``None`` for an absent key), set on every request as werkzeug does.

Departures, each where werkzeug lets a client write what it likes into the request:

* **Invalid values are not copied.**  An X-Forwarded-For item must be an IP address
  (``IPv4``, ``IPv4:port``, ``IPv6``, ``[IPv6]``, ``[IPv6]:port``); ``REMOTE_ADDR``
  receives the canonical address only (compressed lower-case IPv6, ``::ffff:1.2.3.4``
  as ``1.2.3.4``, port and zone id dropped).  ``0.0.0.0``, ``::`` and non-canonical IPv4
  such as ``01.2.3.4`` are refused.  The scheme must be ``http`` or ``https`` and is
  written lower-case.  The host must be a DNS-shaped name, IPv4 address or ``[IPv6]``
  literal with an optional port 1-65535; the port must be 1-65535 (written without leading
  zeros); the prefix must be a clean absolute path (not ``//...``, no ``\\``, ``?``,
  ``#``, spaces, control characters, empty or dot segments).  An invalid value leaves the
  environ key as it was; the other headers are still applied.
* **An invalid Host is not rebuilt.**  ``x_port`` puts its port into ``HTTP_HOST`` only
  when that Host is valid; werkzeug turns ``Host: x@evil.example`` into
  ``x@evil.example:443`` and ``[::1`` into ``[::443``.  Otherwise only ``SERVER_PORT``
  changes.
* **The prefix is written without a trailing** ``/``: ``SCRIPT_NAME`` is ``""`` or
  ``/segment…`` (PEP 3333), so ``X-Forwarded-Prefix: /`` gives ``""`` and ``/app/`` gives
  ``/app``.  werkzeug writes ``/``, which rebuilds URLs as ``//path`` (a network-path
  reference, RFC 3986 §4.2), and ``/app/``, which doubles the ``/``.
* **X-Forwarded-For has no quoting.**  Every header is split on commas only, so a lone
  ``"`` spoils its own item instead of swallowing the whole header (werkzeug's
  quote-aware split then falls back to the proxy address).
* **Positions are counted exactly.**  Empty items count as values, as in werkzeug; a
  trailing comma counts as an empty last value too (werkzeug drops it, which shifts every
  count one position to the left, into the client's part).  An item longer than any valid
  value on the way to the N-th is not scanned further and nothing is applied.
* **Bad arguments raise** :class:`~trustproxy.ConfigError` at construction (or when a
  count is assigned later): a count must be an ``int`` >= 0.  ``bool``, ``float``,
  ``str`` and negative values are refused; werkzeug reads ``x_for=-1`` as "the second
  value from the *left*", a client-written one.

What it keeps from werkzeug, and you should not: **it never checks who is connecting.**
Anyone who can reach the application without going through your proxy can send these
headers and pose as any client, scheme and host.  Prefer
``trustproxy.WSGIMiddleware(app, trusted=[...your proxies...], hops=N, fields=[...])``,
which reads the headers only when the socket peer is one of your proxies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional, Union, overload

from ._address import parse_node, parse_port
from ._lists import item_left_of
from ._memo import MEMO_KEY_LENGTH, remember
from ._values import (
    ITEM_LIMITS,
    host_port,
    valid_prefix,
    valid_scheme,
)
from .errors import ConfigError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

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

# The most characters read for one item, optional whitespace included: the same limits
# as the core (_values.ITEM_LIMITS).  A longer item is refused without reading it to its
# end, so a huge header costs no more than a short one.
_FOR_LIMIT = ITEM_LIMITS["for"]
_SHORT_LIMIT = ITEM_LIMITS["proto"]  # proto and port
_HOST_LIMIT = ITEM_LIMITS["host"]
_PREFIX_LIMIT = ITEM_LIMITS["prefix"]

# (X-Forwarded-Proto, -Host, -Port, -Prefix, HTTP_HOST)
_Key = tuple[Optional[str], Optional[str], Optional[str], Optional[str], Optional[str]]


def _nth(value: str, n: int, limit: int) -> Optional[str]:
    """The ``n``-th comma-separated item from the right, trimmed of spaces and tabs.

    ``None`` when the list has fewer than ``n`` items, the item is empty, or an item
    examined is ``limit`` characters or longer.  Reads from the right with ``rfind``: the
    header is never split whole (RFC 9110 §5.6.1 list; X-Forwarded-* have no quoting).
    """
    # werkzeug's positions: an empty element counts as one (werkzeug splits on every
    # comma), unlike the core's walks.
    end = len(value)
    while True:
        item, end = item_left_of(value, end, limit)
        n -= 1
        if n == 0:
            return item or None  # None also for an item longer than any valid value
        if end < 0:
            return None  # fewer than n items (or one too long to be valid)


def _count(name: str, value: object) -> int:
    # werkzeug compares the count with len() and indexes with -count at request time, so
    # a str or float fails on the first request and a negative count silently picks a
    # value from the left (client-written) end.  Fail at start-up instead.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int >= 0 (a number of proxies), not {value!r}")
    if value < 0:
        raise ConfigError(f"{name} must be >= 0 (a number of proxies), not {value!r}")
    return value


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
        setattr(obj, self.slot, _count(self.name, value))
        obj._memo.clear()


class ProxyFix:
    """werkzeug's ``ProxyFix`` with validation: same arguments, same environ keys.

    !!! warning
        Like werkzeug's, this middleware does **not** check the connecting peer: any client
        that reaches the app directly can forge every header it reads.  Use
        :class:`trustproxy.WSGIMiddleware` with ``trusted=`` your proxies' addresses.

    :param app: the WSGI application to wrap.
    :param x_for: number of values to trust for ``X-Forwarded-For``.
    :param x_proto: number of values to trust for ``X-Forwarded-Proto``.
    :param x_host: number of values to trust for ``X-Forwarded-Host``.
    :param x_port: number of values to trust for ``X-Forwarded-Port``.
    :param x_prefix: number of values to trust for ``X-Forwarded-Prefix``.
    :raises ConfigError: if a count is not an ``int`` >= 0.
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
    ) -> None:
        self.app = app
        # The environ keys to write for a combination of header values (and Host): a pure
        # function of them and the counts, so it is remembered.
        self._memo: dict[_Key, dict[str, str]] = {}
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix

    def __repr__(self) -> str:
        return (
            f"ProxyFix({self.app!r}, x_for={self.x_for}, x_proto={self.x_proto}, "
            f"x_host={self.x_host}, x_port={self.x_port}, x_prefix={self.x_prefix})"
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
        # X-Forwarded-For differs with every client, so it is read on every request (the
        # address parse is cached); the other headers are the same request after request
        # and their combined result is remembered.
        count = self._x_for
        if count:
            forwarded_for = get("HTTP_X_FORWARDED_FOR")
            if forwarded_for:
                if count == 1:
                    item = item_left_of(forwarded_for, len(forwarded_for), _FOR_LIMIT)[0]
                else:
                    item = _nth(forwarded_for, count, _FOR_LIMIT)
                if item:
                    address = parse_node(item)
                    if address is not None:
                        environ["REMOTE_ADDR"] = address.text
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
            size = (
                len(proto or "")
                + len(host or "")
                + len(port or "")
                + len(prefix or "")
                + len(http_host or "")
            )
            if size <= MEMO_KEY_LENGTH:
                remember(memo, key, writes)
        if writes:
            environ.update(writes)
        return self.app(environ, start_response)

    def _writes(self, key: _Key) -> dict[str, str]:
        """The environ keys to set for these header values and this ``HTTP_HOST``."""
        proto, forwarded_host, forwarded_port, prefix, http_host = key
        writes: dict[str, str] = {}
        count = self._x_proto
        if count and proto:
            item = _nth(proto, count, _SHORT_LIMIT)
            scheme = None if item is None else valid_scheme(item)
            if scheme is not None:
                writes["wsgi.url_scheme"] = scheme
        count = self._x_host
        if count and forwarded_host:
            item = _nth(forwarded_host, count, _HOST_LIMIT)
            parsed = None if item is None else host_port(item)
            if item is not None and parsed is not None:
                writes["HTTP_HOST"] = http_host = item
                writes["SERVER_NAME"] = parsed[0]
                if parsed[1] is not None:
                    writes["SERVER_PORT"] = str(parsed[1])
        count = self._x_port
        if count and forwarded_port:
            item = _nth(forwarded_port, count, _SHORT_LIMIT)
            port = None if item is None else parse_port(item)
            if port is not None:
                # Only a valid Host gets the port: the request's own Host was never
                # checked, and "x@evil.example" or "[::1" rebuilt with a port would be a
                # forged or broken Host no client sent ("x@evil.example:443", "[::443").
                split = host_port(http_host) if http_host else None
                if split is not None:
                    writes["HTTP_HOST"] = f"{split[0]}:{port}"
                writes["SERVER_PORT"] = str(port)
        count = self._x_prefix
        if count and prefix:
            item = _nth(prefix, count, _PREFIX_LIMIT)
            checked = None if item is None else valid_prefix(item)
            # Without its trailing "/" (werkzeug keeps it): SCRIPT_NAME is "" or
            # "/segment…" (PEP 3333), so "/" means the root, and "/" + PATH_INFO "/x"
            # would rebuild as "//x", a network-path reference (RFC 3986 §4.2).
            if checked is not None:
                writes["SCRIPT_NAME"] = checked
        return writes
