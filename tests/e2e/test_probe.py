"""``trustproxy probe`` through every real proxy, documented recipe and broken variants.

One probe run per deployment (about thirty requests).  The app is gunicorn running the
report app with the page's own settings; the probe talks to its ``/probe`` endpoint
(:mod:`trustproxy.whoami`, mounted inside the middleware) from 127.0.0.5, so the proxy
on 127.0.0.1 is the only trusted peer.  A good recipe must hold every check (exit 0); each
broken one must fail (exit 1) with the check that names its flaw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from trustproxy.cli import main

from .apps.wsgi_app import PROBE_TOKEN
from .lab import APPS, Proc, free_port, python
from .proxies import FORWARDED, KINDS, ProxyKind, Running
from .recipes import RECIPES
from .servers import SRC, AppServers

SOURCE = "127.0.0.5"


def probe(
    front: Running, capsys: pytest.CaptureFixture[str], *, tls: bool = False
) -> tuple[int, dict[str, Any]]:
    # The X-Forwarded-* recipes serve the app under /app too (and announce the prefix).
    path = "/app/probe" if front.kind.prefix and front.kind.name in KINDS else "/probe"
    url = front.url(path)
    if tls:  # the lab certificate is self-signed
        url = f"https://127.0.0.1:{front.ports.tls_port}{path}"
    argv = ["probe", url, "--source", SOURCE, "--token", PROBE_TOKEN, "--json"]
    argv += ["--insecure"] if tls else []
    code = main(argv)
    captured = capsys.readouterr()
    report: dict[str, Any] = json.loads(captured.out) if captured.out else {}
    assert code in (0, 1), captured.err
    return code, report


def _failed_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in report["checks"] if row["verdict"] != "held"]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_documented_recipe_holds_every_check(
    name: str,
    lab: Path,
    certs: dict[str, Path],
    app_servers: AppServers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kind = KINDS[name]
    front = kind.start(lab, app_servers.get("gunicorn", RECIPES[kind.recipe]), certs)
    try:
        code, report = probe(front, capsys)
    finally:
        front.stop()
    assert report["baseline"]["client"] == SOURCE
    assert report["baseline"]["prefix"] == ("/app" if kind.prefix else "")
    refused = {row["name"] for row in report["checks"] if row["verdict"] == "refused"}
    print(name, "refused:", sorted(refused))
    assert code == 0, [(r["name"], r.get("changed"), r.get("seen")) for r in _failed_rows(report)]


def test_the_nginx_recipe_holds_over_https(
    lab: Path,
    certs: dict[str, Path],
    app_servers: AppServers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    front = KINDS["nginx"].start(lab, app_servers.get("gunicorn", RECIPES["single"]), certs)
    try:
        code, report = probe(front, capsys, tls=True)
    finally:
        front.stop()
    assert report["baseline"]["scheme"] == "https"
    assert report["baseline"]["port"] == front.ports.tls_port
    proto = next(row for row in report["checks"] if row["name"] == "proto")
    assert proto["sent"] == [["X-Forwarded-Proto", "http"]]  # the scheme not used
    assert code == 0, report["failed"]


def _start_uvicorn_trusting_everyone(lab: Path) -> tuple[Proc, str]:
    """uvicorn with its own proxy headers on and ``--forwarded-allow-ips '*'``: it takes
    the leftmost X-Forwarded-For item as the client before trustproxy sees the request
    (trustproxy itself refuses ``trusted='*'`` without ``hops`` with a ConfigError)."""
    port = free_port()
    folder = lab / f"uvicorn-star-{port}"
    folder.mkdir()
    env = {
        "TRUSTPROXY_SETTINGS": json.dumps(RECIPES["single"]),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(APPS)]),
    }
    argv = [python(), "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--proxy-headers", "--forwarded-allow-ips", "*", "--log-level", "warning",
            "asgi_app:app"]  # fmt: skip
    proc = Proc("uvicorn-star", argv, folder, env)
    proc.wait_ready(f"http://127.0.0.1:{port}/health")
    return proc, f"127.0.0.1:{port}"


def _no_host_check(text: str) -> str:
    edited = text.replace("if ($plain_host = 0) {\n        return 400;\n    }", "")
    assert edited != text
    return edited


def _passes_client_xff(text: str) -> str:
    edited = text.replace("$proxy_add_x_forwarded_for", "$http_x_forwarded_for")
    assert edited != text
    return edited


BROKEN: list[Any] = [
    pytest.param(
        KINDS["nginx"], "single", _passes_client_xff, {"xff-single", "xff-rightmost"},
        id="nginx-passes-the-clients-xff-on",
    ),
    pytest.param(
        FORWARDED["nginx"], "forwarded", _no_host_check, {"forwarded-host-quote"},
        id="nginx-forwarded-host-unescaped",
    ),
    pytest.param(
        KINDS["nginx"], {"trusted": "*", "hops": 2}, None, {"xff-rightmost"},
        id="app-counts-one-hop-too-many",
    ),
    pytest.param(
        KINDS["nginx"], "uvicorn-star", None, {"xff-leftmost"},
        id="uvicorn-trusts-star-without-hops",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "settings", "edit", "expected"), BROKEN)
def test_a_broken_deployment_fails_the_check_naming_its_flaw(
    kind: ProxyKind,
    settings: Any,
    edit: Optional[Callable[[str], str]],
    expected: set[str],
    lab: Path,
    certs: dict[str, Path],
    app_servers: AppServers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra: list[Proc] = []
    if settings == "uvicorn-star":
        proc, app = _start_uvicorn_trusting_everyone(lab)
        extra.append(proc)
    else:
        chosen = RECIPES[settings] if isinstance(settings, str) else settings
        app = app_servers.get("gunicorn", chosen)
    try:
        front = kind.start(lab, app, certs, edit=edit)
        try:
            code, report = probe(front, capsys)
        finally:
            front.stop()
    finally:
        for proc in extra:
            proc.stop()
    assert code == 1
    assert expected <= set(report["failed"]), report["failed"]
