"""Adapter construction mistakes that used to fail late or vaguely (issue 14 §1).

An ASGI application given to the WSGI adapter (or the reverse) built fine and then failed
on every request with a raw ``TypeError`` from inside the server; werkzeug's ``x_for=1``
or a typo got Python's bare "unexpected keyword argument".  Each is now a
:class:`~trustproxy.ConfigError` at construction whose message names the fix.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from trustproxy import ASGIMiddleware, ConfigError, ProxyHeadersMiddleware, WSGIMiddleware


def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    return []


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    return None


class AsyncCallable:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


class Asgi2:
    """An ASGI 2 "double callable": app(scope) -> instance; await instance(receive, send)."""

    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        return None


class SyncReturningAwaitable:
    """A valid ASGI 3 app whose __call__ is sync: indistinguishable from a function."""

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        return asgi_app(scope, receive, send)


def _frameworks_wsgi() -> list[Any]:
    flask = pytest.importorskip("flask")
    return [flask.Flask("probe")]


WRONG_FOR_WSGI = {
    "async-function": asgi_app,
    "async-__call__": AsyncCallable(),
    "partial-of-async": functools.partial(asgi_app),
    "asgi-middleware": ASGIMiddleware(asgi_app),
}


@pytest.mark.parametrize("app", WRONG_FOR_WSGI.values(), ids=WRONG_FOR_WSGI.keys())
def test_asgi_app_given_to_wsgi_middleware(app: Any) -> None:
    with pytest.raises(
        ConfigError, match=r"given an ASGI application .* trustproxy\.ASGIMiddleware"
    ):
        WSGIMiddleware(app)


def test_starlette_app_given_to_wsgi_middleware() -> None:
    starlette = pytest.importorskip("starlette.applications")
    with pytest.raises(ConfigError, match=r"ASGI application .* trustproxy\.ASGIMiddleware"):
        WSGIMiddleware(starlette.Starlette())


WRONG_FOR_ASGI = {
    "wsgi-function": wsgi_app,
    "wsgi-middleware": WSGIMiddleware(wsgi_app),
}


@pytest.mark.parametrize("app", WRONG_FOR_ASGI.values(), ids=WRONG_FOR_ASGI.keys())
@pytest.mark.parametrize("adapter", [ASGIMiddleware, ProxyHeadersMiddleware])
def test_wsgi_app_given_to_asgi_middleware(adapter: Any, app: Any) -> None:
    with pytest.raises(
        ConfigError,
        match=r"calls its application with \(scope, receive, send\), which .* cannot take:"
        r" wrap it with trustproxy\.WSGIMiddleware",
    ):
        adapter(app)


def test_flask_app_given_to_asgi_middleware() -> None:
    (app,) = _frameworks_wsgi()
    with pytest.raises(ConfigError, match=r"<Flask 'probe'> cannot take: .*WSGIMiddleware"):
        ASGIMiddleware(app)


def test_asgi2_app_names_the_conversion() -> None:
    with pytest.raises(ConfigError, match=r"ASGI 2 .*guarantee_single_callable"):
        ASGIMiddleware(Asgi2)  # type: ignore[arg-type]


@pytest.mark.parametrize("adapter", [WSGIMiddleware, ASGIMiddleware])
def test_not_callable(adapter: Any) -> None:
    with pytest.raises(ConfigError, match=r"needs a [WA]SGI application .*, not None"):
        adapter(None)


def test_what_cannot_be_told_apart_is_accepted() -> None:
    """The documented limit: a sync __call__ returning an awaitable is valid ASGI, and a
    ``*args`` callable says nothing; both build (and the valid one serves)."""
    ASGIMiddleware(SyncReturningAwaitable())
    WSGIMiddleware(lambda *args: [])
    ASGIMiddleware(lambda *args: None)  # type: ignore[arg-type,return-value]


WERKZEUG_KEYWORDS = [
    (
        {"x_for": 1, "x_proto": 1},
        "WSGIMiddleware does not take werkzeug's counts (x_for=1, x_proto=1): write"
        " WSGIMiddleware(app, trusted=[your proxies], hops=1, fields=['for', 'proto']), or"
        " keep the counts with trustproxy.ProxyFix(app, x_for=1, x_proto=1,"
        " trusted=[your proxies])",
    ),
    (
        {"x_for": 1, "x_host": 2, "x_prefix": 0},
        "WSGIMiddleware does not take werkzeug's counts (x_for=1, x_host=2, x_prefix=0):"
        " write WSGIMiddleware(app, trusted=[your proxies], fields=['for', 'host']), or"
        " keep the counts with trustproxy.ProxyFix(app, x_for=1, x_host=2, x_prefix=0,"
        " trusted=[your proxies])",
    ),
    (
        {"trustd": "10.0.0.1"},
        "WSGIMiddleware got an unknown keyword trustd=: did you mean trusted=?",
    ),
    ({"field": "for"}, "WSGIMiddleware got an unknown keyword field=: did you mean fields=?"),
    (
        {"trusted_hosts": "10.0.0.1"},
        "WSGIMiddleware does not take uvicorn's trusted_hosts=: write trusted= with the same"
        " entries",
    ),
    (
        {"zzz": 1},
        "WSGIMiddleware got an unknown keyword zzz=: it takes trusted, hops, fields, headers,"
        " strict, presets_dir, require_headers, options",
    ),
]


@pytest.mark.parametrize(("keywords", "message"), WERKZEUG_KEYWORDS)
def test_wsgi_unknown_keyword_names_the_fix(keywords: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        WSGIMiddleware(wsgi_app, **keywords)
    assert str(raised.value) == message


def test_asgi_unknown_keyword_names_the_fix() -> None:
    with pytest.raises(ConfigError) as raised:
        ASGIMiddleware(asgi_app, trusted_hosts="10.0.0.1")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "ASGIMiddleware does not take uvicorn's trusted_hosts=: write trusted= with the same"
        " entries, or trustproxy.ProxyHeadersMiddleware(app, trusted_hosts=...)"
    )
    with pytest.raises(ConfigError) as raised:
        ASGIMiddleware(asgi_app, x_for=1)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "ASGIMiddleware does not take werkzeug's counts (x_for=1): write"
        " ASGIMiddleware(app, trusted=[your proxies], hops=1, fields=['for'])"
    )
