"""The framework recipes of docs/frameworks.md, run with each framework's own test client.

The recipes live in docs/recipes/ and are imported here as they are: the docs include
the same files.  Every recipe trusts the proxy's address, 127.0.0.1 (and no other local
address), and applies for, proto, host and prefix; the proxy in front stripped the
prefix /api before forwarding.
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
#: Other processes on the proxy's machine: trusting all of ``loopback`` would let any of
#: them (and anything on ``::1``) name its own client; the recipes trust only the proxy.
LOCAL = [pytest.param("127.0.0.5", id="127.0.0.5"), pytest.param("::1", id="ipv6-loopback")]


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


@pytest.mark.parametrize("peer", LOCAL)
def test_flask_forged_headers_from_a_local_process(peer: str) -> None:
    from flask_app import app

    body = app.test_client().get("/", headers=FORWARDED, environ_base={"REMOTE_ADDR": peer})
    assert body.get_json()["client"] == peer
    assert body.get_json()["url"] == "http://localhost/"


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


@pytest.mark.parametrize("peer", LOCAL)
@pytest.mark.parametrize(("module", "name"), ASGI_APPS)
def test_starlette_family_forged_headers_from_a_local_process(
    module: str, name: str, peer: str
) -> None:
    from starlette.testclient import TestClient

    with TestClient(_asgi_app(module, name), client=(peer, 50000)) as client:
        body = client.get("/", headers=FORWARDED).json()
        assert (body["client"], body["scheme"]) == (peer, "http")


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


@pytest.mark.parametrize("peer", LOCAL)
def test_quart_forged_headers_from_a_local_process(peer: str) -> None:
    from quart_app import app

    async def scenario() -> Any:
        response = await app.test_client().get(
            "/", headers=FORWARDED, scope_base={"client": (peer, 1)}
        )
        return await response.get_json()

    body = asyncio.run(scenario())
    assert (body["client"], body["url"]) == (peer, "http://localhost/")


# -- The servers' access-log recipes -------------------------------------------------------


@pytest.mark.parametrize("peer", LOCAL)
def test_server_app_recipes_trust_only_the_proxy(peer: str) -> None:
    import wsgi_server_app
    from asgi_server_app import app as asgi_app

    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    environ = {
        "REMOTE_ADDR": peer,
        "REMOTE_PORT": "1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    body = b"".join(wsgi_server_app.app(environ, lambda status, headers: None))
    assert body == f"http://{peer}\n".encode()

    async def scenario() -> bytes:
        import httpx

        transport = httpx.ASGITransport(app=asgi_app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            return (await c.get("/", headers=headers)).content

    assert asyncio.run(scenario()) == f"http://{peer}\n".encode()


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


@pytest.mark.parametrize("peer", LOCAL)
def test_django_middleware_local_process(django_setup: None, peer: str) -> None:
    from django.test import Client

    response = Client().get("/", headers=FORWARDED, REMOTE_ADDR=peer)
    assert response.json()["remote_addr"] == peer
    assert response.json()["reverse"] == "/"


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


# The shipped project, run as a server would run it: each entry point with the settings
# it names itself, in a fresh interpreter (Django's settings are set once per process).
# A client on the proxy's own host (X-Forwarded-For: 127.0.0.1, e.g. a health check)
# shows whether trustproxy ran twice: the second run trusts the first's client as its
# peer and prepends the prefix again; and with a remote client the second run warns that
# its peer is untrusted.
_ENTRY_SCRIPT = """
import asyncio, importlib, json, logging, sys
sys.path[:0] = sys.argv[1:3]
warnings = []
handler = logging.Handler()
handler.emit = lambda record: warnings.append(record.getMessage())
logging.getLogger("trustproxy").addHandler(handler)
module, kind = sys.argv[3], sys.argv[4]
application = importlib.import_module(module).application
out = []
for client in ("127.0.0.1", "203.0.113.9"):
    headers = {"X-Forwarded-For": client, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "example.com", "X-Forwarded-Prefix": "/api"}
    if kind == "wsgi":
        from werkzeug.test import Client
        environ = {"REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "testserver"}
        body = Client(application).get("/", headers=headers, environ_base=environ).json
    else:
        import httpx
        async def get():
            transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return (await c.get("/", headers=headers)).json()
        body = asyncio.run(get())
    out.append(body)
print(json.dumps({"bodies": out, "warnings": warnings}))
"""


@pytest.mark.parametrize(
    ("module", "kind"),
    [
        pytest.param("django_site.wsgi", "wsgi", id="wsgi"),
        pytest.param("django_site.asgi", "asgi", id="asgi"),
        pytest.param("django_site.wsgi_wrapped", "wsgi", id="wsgi-wrapped"),
        pytest.param("django_site.asgi_wrapped", "asgi", id="asgi-wrapped"),
    ],
)
def test_django_project_runs_trustproxy_once(module: str, kind: str) -> None:
    import json
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    src = str(Path(trustproxy.__file__).resolve().parent.parent)
    argv = [sys.executable, "-c", _ENTRY_SCRIPT, src, str(ROOT / "docs" / "recipes"), module, kind]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    local, remote = result["bodies"]
    assert (local["remote_addr"], local["reverse"]) == ("127.0.0.1", "/api/"), local
    assert local["absolute"] == "https://example.com/api/", local
    assert remote == DJANGO_EXPECTED
    assert result["warnings"] == []


def test_django_wrapped_settings_drop_only_the_middleware() -> None:
    from django_site import settings, settings_wrapped

    assert settings.MIDDLEWARE == ["trustproxy.django.TrustProxyMiddleware"]
    assert settings_wrapped.MIDDLEWARE == []
    assert settings_wrapped.ALLOWED_HOSTS == settings.ALLOWED_HOSTS


# -- The docs show exactly the recipes ----------------------------------------------------


def test_docs_show_the_recipes() -> None:
    import re

    doc = "".join(
        (ROOT / "docs" / page).read_text(encoding="utf-8")
        for page in ("frameworks.md", "ratelimit.md")  # ratelimit.md: the limiter recipes
    )
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
