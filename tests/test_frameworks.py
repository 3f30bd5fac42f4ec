"""The framework recipes of docs/frameworks.md, run with each framework's own test client.

The recipes live in docs/recipes/ and are imported here as they are: the docs include
the same files.  Every recipe trusts loopback and applies for, proto, host and prefix;
the proxy in front stripped the prefix /api before forwarding.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

import trustproxy
import trustproxy._warn


@pytest.fixture(autouse=True)
def _own_warning_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime warnings are rate-limited process-wide; give each test its own limiter so
    these tests neither exhaust nor depend on the shared one."""
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "recipes"))

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
    "X-Forwarded-Prefix": "/api",
}
PROXY = "127.0.0.1"
STRANGER = "198.51.100.7"  # not a trusted proxy: its headers are ignored


# -- Flask ------------------------------------------------------------------------------


def test_flask_behind_proxy() -> None:
    from flask_app import app

    client = app.test_client()
    body = client.get("/", headers=FORWARDED, environ_base={"REMOTE_ADDR": PROXY}).get_json()
    assert body == {
        "client": "203.0.113.9",
        "scheme": "https",
        "host": "example.com",
        "url": "https://example.com/api/",
    }
    response = client.get("/login", headers=FORWARDED, environ_base={"REMOTE_ADDR": PROXY})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.com/api/"


def test_flask_forged_headers_from_a_stranger() -> None:
    from flask_app import app

    client = app.test_client()
    environ = {"REMOTE_ADDR": STRANGER}
    body = client.get("/", headers=FORWARDED, environ_base=environ).get_json()
    assert body["client"] == STRANGER
    assert body["url"] == "http://localhost/"
    response = client.get("/login", headers=FORWARDED, environ_base=environ)
    assert response.headers["Location"] == "http://localhost/"


# -- Starlette and FastAPI ----------------------------------------------------------------

ASGI_APPS = [
    pytest.param("starlette_app", "app", id="starlette-add_middleware"),
    pytest.param("starlette_app", "wrapped", id="starlette-wrapped"),
    pytest.param("fastapi_app", "app", id="fastapi-add_middleware"),
    pytest.param("fastapi_app", "wrapped", id="fastapi-wrapped"),
]


def _asgi_app(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name"), ASGI_APPS)
def test_starlette_family_behind_proxy(module: str, name: str) -> None:
    from starlette.testclient import TestClient

    with TestClient(_asgi_app(module, name), client=(PROXY, 50000)) as client:
        assert client.get("/", headers=FORWARDED).json() == {
            "client": "203.0.113.9",
            "scheme": "https",
            "url": "https://example.com/api/",
        }
        response = client.get("/login", headers=FORWARDED, follow_redirects=False)
        assert response.headers["location"] == "https://example.com/api/"


@pytest.mark.parametrize(("module", "name"), ASGI_APPS)
def test_starlette_family_forged_headers_from_a_stranger(module: str, name: str) -> None:
    from starlette.testclient import TestClient

    with TestClient(_asgi_app(module, name), client=(STRANGER, 50000)) as client:
        assert client.get("/", headers=FORWARDED).json() == {
            "client": STRANGER,
            "scheme": "http",
            "url": "http://testserver/",
        }


# -- Quart --------------------------------------------------------------------------------


def test_quart_behind_proxy() -> None:
    from quart_app import app

    async def scenario() -> tuple[Any, Any, Any]:
        client = app.test_client()
        base = {"client": (PROXY, 50000)}
        home = await client.get("/", headers=FORWARDED, scope_base=base)
        login = await client.get("/login", headers=FORWARDED, scope_base=base)
        stranger = await client.get("/", headers=FORWARDED, scope_base={"client": (STRANGER, 1)})
        return await home.get_json(), login, await stranger.get_json()

    home, login, stranger = asyncio.run(scenario())
    assert home == {
        "client": "203.0.113.9",
        "scheme": "https",
        "host": "example.com",
        "url": "https://example.com/api/",
    }
    assert login.status_code == 302
    assert login.headers["Location"] == "https://example.com/api/"
    assert stranger["client"] == STRANGER and stranger["url"] == "http://localhost/"


# -- Django -------------------------------------------------------------------------------

DJANGO_EXPECTED = {
    "remote_addr": "203.0.113.9",
    "host": "example.com",
    "secure": True,
    "absolute": "https://example.com/api/",
    "reverse": "/api/",
}


@pytest.fixture(scope="module")
def django_setup() -> None:
    import os

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "django_site.settings"
    django.setup(set_prefix=False)


def test_django_middleware_wsgi(django_setup: None) -> None:
    from django.test import Client

    response = Client().get("/", headers=FORWARDED, REMOTE_ADDR=PROXY)
    assert response.json() == DJANGO_EXPECTED
    assert response.wsgi_request.META["trustproxy.orig"]["REMOTE_ADDR"] == PROXY


def test_django_middleware_asgi(django_setup: None) -> None:
    from django.test import AsyncClient

    async def scenario() -> Any:
        return await AsyncClient().get("/", headers=FORWARDED)

    response = asyncio.run(scenario())
    assert response.json() == DJANGO_EXPECTED
    assert response.asgi_request.scope["client"] == ("203.0.113.9", 0)
    assert response.asgi_request.scope["scheme"] == "https"


def test_django_middleware_stranger(django_setup: None) -> None:
    from django.test import Client

    response = Client().get("/", headers=FORWARDED, REMOTE_ADDR=STRANGER)
    assert response.json() == {
        "remote_addr": STRANGER,
        "host": "testserver",
        "secure": False,
        "absolute": "http://testserver/",
        "reverse": "/",
    }


def test_django_forwarded_host_must_be_allowed(django_setup: None) -> None:
    from django.test import Client

    headers = {**FORWARDED, "X-Forwarded-Host": "not-listed.example"}
    response = Client().get("/", headers=headers, REMOTE_ADDR=PROXY)
    assert response.status_code == 400  # DisallowedHost: ALLOWED_HOSTS still applies


def test_django_bad_settings_raise(django_setup: None) -> None:
    from django.test import override_settings

    from trustproxy import ConfigError
    from trustproxy.django import TrustProxyMiddleware

    typo = override_settings(TRUSTPROXY={"trusted": "loopbak"})
    with typo, pytest.raises(ConfigError, match="loopbak"):
        TrustProxyMiddleware(lambda request: None)
    unknown = override_settings(TRUSTPROXY={"trust": "loopback"})
    with unknown, pytest.raises(ConfigError, match="unknown keys"):
        TrustProxyMiddleware(lambda request: None)


def test_django_strict_answers_400(django_setup: None) -> None:
    from django.test import Client, override_settings

    with override_settings(TRUSTPROXY={"strict": True}):
        response = Client().get("/", headers={"X-Forwarded-For": "unknown"}, REMOTE_ADDR=PROXY)
    assert response.status_code == 400
    assert b"cannot be trusted" in response.content


def test_django_wrapped_wsgi(django_setup: None) -> None:
    from django.test import override_settings
    from werkzeug.test import Client

    with override_settings(MIDDLEWARE=[]):  # wrapping replaces the MIDDLEWARE entry
        application = importlib.import_module("django_site.wsgi").application
        response = Client(application).get(
            "/", headers=FORWARDED, environ_base={"REMOTE_ADDR": PROXY, "SERVER_NAME": "testserver"}
        )
        assert response.json == DJANGO_EXPECTED


def test_django_wrapped_asgi(django_setup: None) -> None:
    import httpx
    from django.test import override_settings

    async def scenario(application: Any) -> Any:
        transport = httpx.ASGITransport(app=application, client=(PROXY, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/", headers=FORWARDED)

    with override_settings(MIDDLEWARE=[]):
        application = importlib.import_module("django_site.asgi").application
        response = asyncio.run(scenario(application))
        assert response.json() == DJANGO_EXPECTED


# -- The docs show exactly the recipes ----------------------------------------------------


def test_docs_show_the_recipes() -> None:
    import re

    doc = (ROOT / "docs" / "frameworks.md").read_text(encoding="utf-8")
    shown = re.findall(r"<!-- recipe: (\S+) -->\n```\w+\n(.*?)```", doc, re.S)
    assert shown, "no recipe blocks found"
    for path, code in shown:
        assert (ROOT / path).read_text(encoding="utf-8") == code, path
    recipes = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "docs" / "recipes").rglob("*")
        if path.suffix in (".py", ".json") and path.name != "__init__.py"
    }
    assert recipes == {path for path, _ in shown}


def test_django_middleware_is_async_under_asgi(django_setup: None) -> None:
    from asgiref.sync import iscoroutinefunction
    from django.test import AsyncClient, override_settings

    from trustproxy.django import TrustProxyMiddleware

    async def get_response(request: Any) -> Any:
        return request

    assert iscoroutinefunction(TrustProxyMiddleware(get_response))
    assert not iscoroutinefunction(TrustProxyMiddleware(lambda request: request))

    async def scenario() -> Any:
        return await AsyncClient().get("/", headers={"X-Forwarded-For": "unknown"})

    with override_settings(TRUSTPROXY={"strict": True}):
        response = asyncio.run(scenario())
    assert response.status_code == 400
