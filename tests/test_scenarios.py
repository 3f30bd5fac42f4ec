"""The one scenario table (tests/scenarios/) run through the core and every adapter.

Every row runs through ``Resolver.resolve``, ``WSGIMiddleware``, ``ASGIMiddleware`` on an
``http`` scope and on a ``websocket`` scope, and ``trustproxy.django.TrustProxyMiddleware``
under Django's own WSGI and ASGI handlers (real Django, requests built by
tests/builders.py, the view called through Django's URL resolver), and
``trustproxy.aiohttp.middleware`` on aiohttp's own request objects.  Each adapter is held to
the row's outcome in its own terms:

- the client: REMOTE_ADDR/REMOTE_PORT, ``scope["client"]``, ``request.META``,
  aiohttp's ``request.remote``;
- the scheme: ``wsgi.url_scheme``, ``scope["scheme"]`` (``ws``/``wss`` on a websocket);
- Host and port: HTTP_HOST/SERVER_NAME/SERVER_PORT, the ``host`` line and
  ``scope["server"]``;
- the prefix: SCRIPT_NAME, ``root_path`` (and ``path``/``raw_path`` prepended);
- untrusted-peer / unresolved: the request unchanged but for ``trustproxy.resolution``
  and ``trustproxy.orig``; no header the middleware reads: the request untouched;
- a refusal (conflict; unresolved with ``strict``): 400 without calling the application,
  a ``websocket.close`` with code 1008 on a websocket scope.

Every row runs everywhere, no subset: the module (7 legs x 1,017 rows) takes 15-25 s
on this machine's shared cores; Django ASGI, the slowest leg, about 7 s of it, aiohttp
about 4 s.
"""

from __future__ import annotations

import asyncio
import copy
import io
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

import pytest

import builders
import trustproxy
from scenarios import SCENARIOS, Scenario
from scenarios._model import touched
from trustproxy import Resolution, Resolver

Environ = dict[str, Any]
Scope = dict[str, Any]

RESOLUTION_KEY = "trustproxy.resolution"
ORIGINAL_KEY = "trustproxy.orig"

#: The environ keys the WSGI middleware may rewrite.
REWRITTEN = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
)

ROWS = [pytest.param(row, id=row.id) for row in SCENARIOS]


# -- building and predicting requests -------------------------------------------------


def environ_for(row: Scenario) -> Environ:
    r = row.request
    return builders.environ(
        row.peer, row.lines, r.scheme, r.host, r.port, r.prefix, name=r.server_name
    )


def scope_for(row: Scenario, kind: str) -> Scope:
    r = row.request
    return builders.scope(
        row.peer, row.lines, r.scheme, r.host, r.port, r.prefix, name=r.server_name, kind=kind
    )


def expected_environ(row: Scenario, before: Environ) -> Environ:
    """The environ the application must see (without the two result keys)."""
    expected = row.expected
    after = dict(before)
    if expected.forwarded:
        after["REMOTE_ADDR"] = expected.client
        if expected.client_port is not None:
            after["REMOTE_PORT"] = str(expected.client_port)
    after["wsgi.url_scheme"] = expected.scheme
    if expected.host != row.request.host:
        assert expected.host is not None
        after["HTTP_HOST"] = expected.host
        after["SERVER_NAME"] = builders.server_name(expected.host)
    if expected.port != row.request.port:
        after["SERVER_PORT"] = str(expected.port)
    after["SCRIPT_NAME"] = expected.prefix
    return after


def expected_scope(row: Scenario, before: Scope) -> Scope:
    """The scope the application must see (without the two result keys)."""
    expected = row.expected
    request = row.request
    after = dict(before)
    if expected.forwarded:
        after["client"] = (expected.client, expected.client_port or 0)
    websocket = before["type"] == "websocket"
    after["scheme"] = builders.WS[expected.scheme] if websocket else expected.scheme
    host_changed = expected.host != request.host
    if host_changed:
        assert expected.host is not None
        others = [line for line in before["headers"] if line[0] != b"host"]
        after["headers"] = [(b"host", expected.host.encode("latin-1")), *others]
    if (host_changed or expected.port != request.port) and expected.port is not None:
        name = (
            builders.server_name(expected.host)
            if expected.host is not None
            else request.server_name
        )
        after["server"] = (name.strip("[]"), expected.port)
    if expected.prefix != request.prefix:
        added = expected.prefix[: len(expected.prefix) - len(request.prefix)]
        after["root_path"] = expected.prefix
        after["path"] = added + before["path"]
        after["raw_path"] = added.encode("latin-1") + before["raw_path"]
    return after


# -- the core ---------------------------------------------------------------------------


def check_resolution(result: Resolution, row: Scenario) -> None:
    """Compare a Resolution with the row's outcome, field by field."""
    expected = row.expected
    got = (result.status, result.client, result.client_port, result.scheme, result.host,
           result.port, result.prefix)  # fmt: skip
    want = (expected.status, expected.client, expected.client_port, expected.scheme,
            expected.host, expected.port, expected.prefix)  # fmt: skip
    assert got == want, result.reason
    assert result.reason
    unmatched = list(result.ignored)
    for part in expected.ignored:
        entry = next((entry for entry in unmatched if part in entry), None)
        assert entry is not None, (part, result.ignored)
        unmatched.remove(entry)
    assert unmatched == [], result.ignored
    assert ("for" in result.applied) == expected.forwarded, result.applied
    if result.status != trustproxy.APPLIED or not touched(row):
        assert result.applied == ()
    if expected.forwarded:
        # The walk stops at the client: it is the last hop of the trail.
        assert result.hops[-1].address == expected.client, result.hops
    if result.status == trustproxy.CONFLICT:
        assert "disagree" in result.reason or "different clients" in result.reason
    if result.status == trustproxy.UNTRUSTED_PEER:
        # Nothing was read: the trail holds the peer alone.
        assert len(result.hops) == 1
        assert result.proxies == ()


@pytest.mark.parametrize("row", ROWS)
def test_core(row: Scenario) -> None:
    resolver = Resolver(**row.config())
    r = row.request
    args = (row.peer, list(row.lines))
    kwargs: dict[str, Any] = {"scheme": r.scheme, "host": r.host, "port": r.port,
                              "prefix": r.prefix}  # fmt: skip
    result = resolver.resolve(*args, **kwargs)
    check_resolution(result, row)
    # Resolving again (now from a memo, where there is one) gives the same.
    assert resolver.resolve(*args, **kwargs) == result


# -- WSGI -------------------------------------------------------------------------------


class WSGIApp:
    """Records the environ it was called with."""

    def __init__(self) -> None:
        self.environ: Optional[Environ] = None

    def __call__(self, environ: Environ, start_response: Any) -> Iterable[bytes]:
        self.environ = environ
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.mark.parametrize("row", ROWS)
def test_wsgi(row: Scenario) -> None:
    app = WSGIApp()
    middleware = trustproxy.WSGIMiddleware(app, **row.middleware_config())
    before = environ_for(row)
    statuses: list[str] = []
    body = b"".join(middleware(dict(before), lambda status, *_: statuses.append(status)))
    if row.expected.refused:
        assert app.environ is None
        assert statuses == ["400 Bad Request"]
        assert body.startswith(b"Bad Request: ")
        return
    assert (statuses, body) == (["200 OK"], b"ok")
    seen = app.environ
    assert seen is not None
    if not touched(row):
        assert seen == before
        assert RESOLUTION_KEY not in seen
        return
    resolution = seen.pop(RESOLUTION_KEY)
    original = seen.pop(ORIGINAL_KEY)
    assert isinstance(resolution, Resolution)
    assert resolution.status == row.expected.status, resolution.reason
    assert original == {key: before.get(key) for key in REWRITTEN}
    if row.expected.status != trustproxy.APPLIED:
        assert seen == before
    assert seen == expected_environ(row, before)


# -- ASGI, http and websocket scopes ----------------------------------------------------


class ASGIApp:
    def __init__(self) -> None:
        self.scope: Optional[Scope] = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scope = scope


def run_asgi(middleware: Any, scope: Scope) -> list[dict[str, Any]]:
    """Step the coroutine by hand (nothing in it awaits anything real); the messages
    the middleware sent by itself."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the middleware read the request")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    coroutine = middleware(scope, receive, send)
    with pytest.raises(StopIteration):
        coroutine.send(None)
    return sent


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("row", ROWS)
def test_asgi(row: Scenario, kind: str) -> None:
    app = ASGIApp()
    middleware = trustproxy.ASGIMiddleware(app, **row.middleware_config())
    before = scope_for(row, kind)
    pristine = copy.deepcopy(before)
    sent = run_asgi(middleware, before)
    assert before == pristine  # the server's scope is never edited
    if row.expected.refused:
        assert app.scope is None
        if kind == "websocket":
            # RFC 6455 §7.4.1: 1008 = policy violation; closing before accepting refuses
            # the handshake.
            assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 1008)]
        else:
            assert sent[0]["type"] == "http.response.start"
            assert sent[0]["status"] == 400
            assert sent[-1]["type"] == "http.response.body"
        return
    assert sent == []
    seen = app.scope
    assert seen is not None
    if not touched(row):
        assert seen is before
        return
    seen = dict(seen)
    resolution = seen.pop(RESOLUTION_KEY)
    assert seen.pop(ORIGINAL_KEY) is before
    assert isinstance(resolution, Resolution)
    assert resolution.status == row.expected.status, resolution.reason
    assert resolution.client == row.expected.client
    if row.expected.status != trustproxy.APPLIED:
        assert seen == before
    assert seen == expected_scope(row, before)


# -- Django, WSGI and ASGI --------------------------------------------------------------

SEEN: list[Any] = []


def view(request: Any) -> Any:
    from django.http import HttpResponse

    SEEN.append(request)
    return HttpResponse(b"ok", content_type="text/plain")


def _urlpatterns() -> list[Any]:
    from django.urls import re_path

    return [re_path(r"", view)]


class _URLs:
    """The URLconf of these tests: every path reaches :func:`view`."""

    @property
    def urlpatterns(self) -> list[Any]:
        return _urlpatterns()


@pytest.fixture(scope="module")
def django_settings() -> Iterator[Callable[[Scenario], Any]]:
    import os

    import django
    from django.test import override_settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")
    import sys
    from pathlib import Path

    recipes = str(Path(__file__).resolve().parent.parent / "docs" / "recipes")
    if recipes not in sys.path:
        sys.path.insert(0, recipes)
    django.setup(set_prefix=False)

    def settings_for(row: Scenario) -> Any:
        return override_settings(
            TRUSTPROXY=row.middleware_config(),
            ROOT_URLCONF=_URLs(),
            ALLOWED_HOSTS=["*"],
            MIDDLEWARE=["trustproxy.django.TrustProxyMiddleware"],
        )

    yield settings_for


def check_django_refusal(status: int, content_type: str, body: bytes) -> None:
    assert status == 400
    assert b"cannot be trusted" in body
    assert content_type == "text/plain; charset=utf-8"
    assert SEEN == []


@pytest.mark.parametrize("row", ROWS)
def test_django_wsgi(row: Scenario, django_settings: Callable[[Scenario], Any]) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    SEEN.clear()
    before = environ_for(row)
    statuses: list[str] = []
    headers: dict[str, str] = {}

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        headers.update(response_headers)

    with django_settings(row):
        response = WSGIHandler()(dict(before), start_response)
        body = b"".join(response)
        response.close()
    if row.expected.refused:
        check_django_refusal(int(statuses[0].split()[0]), headers["Content-Type"], body)
        return
    assert (statuses, body) == (["200 OK"], b"ok")
    (request,) = SEEN
    meta = request.META
    if not touched(row):
        assert RESOLUTION_KEY not in meta
        assert {k: meta.get(k) for k in REWRITTEN} == {k: before.get(k) for k in REWRITTEN}
        return
    assert meta[RESOLUTION_KEY].status == row.expected.status, meta[RESOLUTION_KEY].reason
    assert meta[ORIGINAL_KEY] == {key: before.get(key) for key in REWRITTEN}
    after = expected_environ(row, before)
    assert {k: meta.get(k) for k in REWRITTEN} == {k: after.get(k) for k in REWRITTEN}
    assert request.scheme == row.expected.scheme
    assert request.path == after["SCRIPT_NAME"] + builders.PATH


def run_django_asgi(handler: Any, scope: Scope) -> tuple[int, str, bytes]:
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect: Django cancels this when done
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(handler(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    content_type = dict(start["headers"]).get(b"Content-Type", b"").decode("latin-1")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], content_type, body


@pytest.mark.parametrize("row", ROWS)
def test_django_asgi(row: Scenario, django_settings: Callable[[Scenario], Any]) -> None:
    """Django handles only http scopes (a websocket needs Channels)."""
    from django.core.handlers.asgi import ASGIHandler, ASGIRequest

    SEEN.clear()
    before = scope_for(row, "http")
    pristine = copy.deepcopy(before)
    with django_settings(row):
        status, content_type, body = run_django_asgi(ASGIHandler(), before)
    assert before == pristine
    if row.expected.refused:
        check_django_refusal(status, content_type, body)
        return
    assert (status, body) == (200, b"ok")
    (request,) = SEEN
    meta = request.META
    # META as Django derives it from the scope the application must see.
    if touched(row):
        assert meta[RESOLUTION_KEY].status == row.expected.status, meta[RESOLUTION_KEY].reason
        seen = dict(request.scope)
        assert seen.pop(RESOLUTION_KEY) is meta[RESOLUTION_KEY]
        assert seen.pop(ORIGINAL_KEY) is before
        want = expected_scope(row, before)
        assert seen == want
    else:
        assert RESOLUTION_KEY not in meta
        assert request.scope is before
        want = before
    derived = ASGIRequest(want, io.BytesIO(b""))
    keys = ("REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT", "HTTP_HOST", "SERVER_NAME",
            "SERVER_PORT", "SCRIPT_NAME")  # fmt: skip
    assert {k: meta.get(k) for k in keys} == {k: derived.META.get(k) for k in keys}
    assert request.scheme == row.expected.scheme
    assert request.path == derived.path


# -- aiohttp ----------------------------------------------------------------------------


def aiohttp_prefix(row: Scenario) -> str:
    """aiohttp has no root path: the adapter resolves with none, so the prefix it keeps
    is the forwarded part alone."""
    expected, own = row.expected.prefix, row.request.prefix
    return expected[: len(expected) - len(own)]


@pytest.mark.parametrize("row", ROWS)
def test_aiohttp(row: Scenario) -> None:
    """``trustproxy.aiohttp.middleware`` on a request built by aiohttp's own
    ``make_mocked_request``; the coroutine is stepped by hand (nothing in it awaits)."""
    from aiohttp import web

    import trustproxy.aiohttp as adapter

    r = row.request
    before = builders.aiohttp_request(row.peer, row.lines, r.scheme, r.host, r.port)
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        return web.Response(text="ok")

    middleware = adapter.middleware(**row.middleware_config())
    coroutine = middleware(before, handler)
    with pytest.raises(StopIteration) as stopped:
        coroutine.send(None)
    response = stopped.value.value
    if row.expected.refused:
        assert seen == []
        assert response.status == 400
        assert response.body.startswith(b"Bad Request: ")
        return
    assert response.status == 200
    (request,) = seen
    expected = row.expected
    if not touched(row):
        assert request is before
        assert adapter.RESOLUTION_KEY not in request
        return
    resolution = request[adapter.RESOLUTION_KEY]
    assert isinstance(resolution, Resolution)
    assert resolution.status == expected.status, resolution.reason
    assert request[adapter.PREFIX_KEY] == aiohttp_prefix(row)
    assert (resolution.client, resolution.client_port) == (expected.client, expected.client_port)
    assert resolution.port == expected.port
    unmatched = list(resolution.ignored)
    for part in expected.ignored:
        entry = next((entry for entry in unmatched if part in entry), None)
        assert entry is not None, (part, resolution.ignored)
        unmatched.remove(entry)
    assert unmatched == [], resolution.ignored
    # The server's request keeps its own values (and the keys, for the access logger).
    assert before[adapter.RESOLUTION_KEY] is resolution
    assert before.remote == ("" if row.peer is None else row.peer)
    assert before.scheme == r.scheme
    assert request.remote == (expected.client if expected.forwarded else before.remote)
    assert request.scheme == expected.scheme
    assert request.headers == before.headers
    if expected.host is not None:
        assert request.host == expected.host
    else:
        assert "Host" not in request.headers
    changed = request is not before
    assert changed == (expected.forwarded or expected.scheme != r.scheme or expected.host != r.host)
    assert before.get(adapter.REQUEST_KEY) is (request if changed else None)
    if expected.status != trustproxy.APPLIED:
        assert request is before
