"""The request an aiohttp handler is given: the object `request.clone(…)` builds, cheaply.

`web.Request.clone(remote=…, scheme=…, host=…)` costs about 1.45 µs in
benchmarks/bench_aiohttp.py (aiohttp 3.14): two layers of keyword forwarding, a
`_replace` of the message and a full `Request.__init__`, which re-derives from the
message everything the server's request already holds.  What it makes is the server's
request with a new `_cache` (where aiohttp's `reify` properties keep their values, and
where `__init__` puts the overridden `remote`, `scheme` and `host`), a copy of its
storage (`_state`) and the same `_match_info`.  `derive`
makes exactly that by copying the instance dictionary (about 0.35 µs).

This reads aiohttp's private attributes, so it is checked before it is relied on: the
first request a process serves is also cloned with `request.clone`, and only when the
two objects' attributes are equal (`vars(a) == vars(b)`) is the copy used from then on;
otherwise, and for every request whose clone `__init__` would build differently (an
absolute-form target, whose URL `__init__` rewrites; a body already read, which `clone`
refuses; a subclass of `web.Request`), `request.clone` is called.  `public_clone`
forces `request.clone` always (the benchmark's comparison).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from ._tenant import drop_lines

__all__ = ["connection", "derive", "public_clone"]

#: Set to True to hand handlers ``request.clone(…)`` itself (benchmarks/bench_aiohttp.py
#: ``--public-clone``; tests).
public_clone = False

#: None until the first request: then whether the copy equals ``clone``'s object.
_agrees: Optional[bool] = None

# aiohttp >= 3.10 keeps the transport's peername and sockname on the request (read by
# ``request.remote`` and ``request.host``); older releases ask the transport each time.
_CACHED_TRANSPORT = "_transport_peername" in getattr(web.BaseRequest, "ATTRS", ())

_Peername = Any


def connection(request: web.BaseRequest) -> Optional[tuple[_Peername, _Peername]]:
    """The connection's ``(peername, sockname)``, or ``None`` when it is gone."""
    if _CACHED_TRANSPORT:
        return request._transport_peername, request._transport_sockname
    transport = request.transport
    if transport is None:
        return None
    return transport.get_extra_info("peername"), transport.get_extra_info("sockname")


def _without(request: web.BaseRequest, hidden: frozenset[str]) -> tuple[Any, Any]:
    """The request's headers and raw header lines less the ``hidden`` names (lower
    case).  The raw lines keep their bytes (``clone(headers=…)`` would re-encode every
    value as UTF-8, which fails on a value aiohttp decoded with surrogate escapes)."""
    headers = CIMultiDict(request.headers)
    for name in hidden:
        headers.popall(name, None)
    raw = tuple(drop_lines(request.raw_headers, frozenset(n.encode() for n in hidden)))
    return CIMultiDictProxy(headers), raw


def derive(
    request: web.Request,
    cache: Mapping[str, str],
    hidden: frozenset[str] = frozenset(),
) -> web.Request:
    """``request.clone(**cache)`` (``cache``: any of ``remote``, ``scheme``, ``host``),
    less the ``hidden`` headers (names, lower case) when any is given; the clone's
    storage is a copy of the request's.
    """
    global _agrees
    fast = (
        _agrees is not False
        and not public_clone
        and type(request) is web.Request
        # An absolute-form target (RFC 9112 §3.2.2): __init__ rewrites its URL.
        and request._rel_url is request._message.url
        and not request._read_bytes
    )
    if fast and _agrees is None:
        _agrees = _check(request, cache)
        fast = _agrees
    if fast:
        return _copy(request, cache, hidden)
    changes: dict[str, Any] = dict(cache)
    if "host" in changes and not request.raw_path.startswith("/"):
        # An absolute-form target: aiohttp would put the Host into that URL, which
        # takes no port ("a.example:8443" raised ValueError, a 500); the relative
        # target takes the Host as it is.
        changes["rel_url"] = request.rel_url
    if not hidden:
        return request.clone(**changes)
    headers, raw = _without(request, hidden)
    try:
        return request.clone(headers=headers, **changes)
    except UnicodeEncodeError:
        # clone() encodes every value as UTF-8, and aiohttp decoded the bytes that are
        # not UTF-8 with surrogate escapes: put the lines in as _copy does.
        new = request.clone(**changes)
        new.__dict__["_message"] = new._message._replace(headers=headers, raw_headers=raw)
        new.__dict__["_headers"] = headers
        return new


def _copy(request: web.Request, cache: Mapping[str, str], hidden: frozenset[str]) -> web.Request:
    new: web.Request = object.__new__(web.Request)
    # One dict copy: filling the new instance's own __dict__ key by key costs 3x more.
    attributes = request.__dict__.copy()
    attributes["_cache"] = dict(cache)
    attributes["_state"] = request._state.copy()
    attributes["_match_info"] = request._match_info
    if hidden:
        headers, raw = _without(request, hidden)
        attributes["_message"] = request._message._replace(headers=headers, raw_headers=raw)
        attributes["_headers"] = headers
    new.__dict__ = attributes
    return new


def _check(request: web.Request, cache: Mapping[str, str]) -> bool:
    """Whether :func:`_copy` builds what `request.clone` builds, on this aiohttp."""
    try:
        copied = _copy(request, cache, frozenset())
        changes: dict[str, Any] = dict(cache)
        cloned = request.clone(**changes)
        mine, theirs = vars(copied), vars(cloned)
        # clone() makes a new message with every field the same (`_replace()`); the
        # parser's message compares by identity, so compare what it shows.
        message = theirs.pop("_message")
        return (
            type(copied) is type(cloned)
            and mine.pop("_message") is request._message
            and repr(message) == repr(request._message)
            and mine == theirs
        )
    except Exception:  # any surprise: use clone()
        return False
