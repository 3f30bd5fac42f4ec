"""``trustproxy.django.TrustProxyMiddleware`` on both of Django's request kinds.

Each test runs through real Django with its own test clients: ``Client`` builds a
``WSGIRequest`` from an environ, ``AsyncClient`` an ``ASGIRequest`` from a scope, so the
middleware meets exactly what a WSGI or an ASGI server hands Django.  The project is the
recipe of docs/frameworks.md (``docs/recipes/django_site``), with ``TRUSTPROXY``
overridden per test.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "recipes"))

PROXY = "127.0.0.1"  # Django's AsyncClient connects from 127.0.0.1 too
CLIENT = "203.0.113.9"
ALL_FIELDS = ["for", "proto", "host", "port", "prefix"]


@pytest.fixture(scope="module", autouse=True)
def django_setup() -> None:
    import os

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "django_site.settings"
    django.setup(set_prefix=False)


@pytest.fixture
def seen() -> Iterator[list[Any]]:
    """The requests the view was called with (none when the middleware answered)."""
    from django.urls import reverse, set_script_prefix

    # Django's test clients, unlike its handlers, do not set the script prefix per
    # request: start from the server's "/" whatever an earlier test left.
    set_script_prefix("/")

    from django_site import urls

    calls: list[Any] = []
    original = urls.urlpatterns[0].callback

    def view(request: Any) -> Any:
        # reverse() reads the script prefix, which is only set while the request runs.
        calls.append((request, reverse("whoami")))
        return original(request)

    urls.urlpatterns[0].callback = view
    try:
        yield calls
    finally:
        urls.urlpatterns[0].callback = original


def _wsgi(headers: dict[str, str], settings: dict[str, Any]) -> Any:
    from django.test import Client, override_settings

    with override_settings(TRUSTPROXY=settings):
        return Client(raise_request_exception=False).get("/", headers=headers, REMOTE_ADDR=PROXY)


def _asgi(headers: dict[str, str], settings: dict[str, Any]) -> Any:
    from django.test import AsyncClient, override_settings

    async def scenario() -> Any:
        return await AsyncClient(raise_request_exception=False).get("/", headers=headers)

    with override_settings(TRUSTPROXY=settings):
        return asyncio.run(scenario())


KINDS: dict[str, Callable[[dict[str, str], dict[str, Any]], Any]] = {
    "wsgi": _wsgi,
    "asgi": _asgi,
}

BOTH = {"trusted": "loopback", "headers": ["forwarded", "x-forwarded"]}


FORWARDED_ALL = {
    "X-Forwarded-For": f"{CLIENT}:4711",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-Prefix": "/api",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_django_applies_every_field(kind: str, seen: list[Any]) -> None:
    response = KINDS[kind](FORWARDED_ALL, {"trusted": "loopback", "fields": ALL_FIELDS})
    assert response.status_code == 200
    ((request, reversed_url),) = seen
    assert request.META["REMOTE_ADDR"] == CLIENT
    assert int(request.META["REMOTE_PORT"]) == 4711
    assert request.get_host() == "example.com:8443"
    assert request.get_port() == "8443"
    assert request.is_secure()
    assert request.scheme == "https"
    assert request.path == "/api/"
    assert request.path_info == "/"
    assert request.META["SCRIPT_NAME"] == "/api"
    assert request.build_absolute_uri() == "https://example.com:8443/api/"
    assert reversed_url == "/api/"
    assert response.json() == {
        "remote_addr": CLIENT,
        "host": "example.com:8443",
        "secure": True,
        "absolute": "https://example.com:8443/api/",
        "reverse": "/api/",
    }
    result = request.META["trustproxy.resolution"]
    assert result.applied == ("for", "proto", "host", "port", "prefix")
    assert request.META["trustproxy.orig"]["REMOTE_ADDR"] == PROXY
    assert request.META["trustproxy.orig"]["SERVER_PORT"] == "80"


def test_django_asgi_scope_matches_asgi_middleware(seen: list[Any]) -> None:
    """The scope an ASGI request carries afterwards is the one ASGIMiddleware would hand
    the application: client, scheme, server, the Host line, root_path and path."""
    from trustproxy.asgi import ORIGINAL_KEY, RESOLUTION_KEY, ASGIMiddleware

    settings = {"trusted": "loopback", "fields": ALL_FIELDS}
    _asgi(FORWARDED_ALL, settings)
    ((request, _),) = seen
    scope = request.scope
    server_scope = scope[ORIGINAL_KEY]
    assert scope["client"] == (CLIENT, 4711)
    assert scope["scheme"] == "https"
    assert scope["server"] == ("example.com", 8443)
    assert [v for n, v in scope["headers"] if n == b"host"] == [b"example.com:8443"]
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/"
    assert scope[RESOLUTION_KEY] is request.META["trustproxy.resolution"]
    # The server's scope itself was not edited.
    assert server_scope["client"][0] == PROXY
    assert server_scope["path"] == "/"
    expected = ASGIMiddleware(lambda *a: None, **settings).rewrite(server_scope)  # type: ignore[arg-type,return-value]
    assert expected is not None
    for key in ("client", "scheme", "server", "headers", "root_path", "path", "raw_path"):
        assert scope.get(key) == expected.get(key), key


def test_django_wsgi_environ_matches_wsgi_middleware(seen: list[Any]) -> None:
    """A WSGI request's META gets exactly the keys WSGIMiddleware writes."""
    from trustproxy import WSGIMiddleware

    settings = {"trusted": "loopback", "fields": ALL_FIELDS}
    _wsgi(FORWARDED_ALL, settings)
    ((request, _),) = seen
    environ = dict(request.META["trustproxy.orig"])
    environ = {key: value for key, value in environ.items() if value is not None}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in FORWARDED_ALL.items()})
    kept: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        kept.update(env)
        return []

    WSGIMiddleware(app, **settings)(environ, lambda *a: None)  # type: ignore[arg-type]
    for key in ("REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME",
                "SERVER_PORT", "SCRIPT_NAME"):  # fmt: skip
        assert request.META.get(key) == kept.get(key), key


@pytest.mark.parametrize("kind", list(KINDS))
def test_django_untrusted_peer_unchanged(kind: str, seen: list[Any]) -> None:
    settings = {"trusted": "10.0.0.1", "fields": ALL_FIELDS}
    response = KINDS[kind](FORWARDED_ALL, settings)
    assert response.status_code == 200
    ((request, reversed_url),) = seen
    assert request.META["REMOTE_ADDR"] == PROXY
    assert request.get_host() == "testserver"
    assert not request.is_secure()
    assert request.build_absolute_uri() == "http://testserver/"
    assert reversed_url == "/"
    assert request.META["trustproxy.resolution"].status == "untrusted-peer"
