"""Real application servers running the report apps of ``apps/``.

Each server gets its trustproxy settings as JSON in ``TRUSTPROXY_SETTINGS``.  The
servers' own proxy handling is switched off so only trustproxy decides:
gunicorn ``--forwarded-allow-ips ""`` (else it sets ``wsgi.url_scheme`` from
X-Forwarded-Proto for 127.0.0.1), uvicorn ``--no-proxy-headers``, waitress
``--no-clear-untrusted-proxy-headers`` (else waitress 3 deletes every X-Forwarded-* and
Forwarded header before the app sees them).

:data:`COMMANDS` are the command lines docs/frameworks.md shows ("Other servers"), with
the app module and port filled in: the tests run exactly those.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import trustproxy

from .lab import APPS, Proc, free_port, python

#: The servers run the trustproxy this test session imports (a worktree's src/).
SRC = Path(trustproxy.__file__).resolve().parent.parent

#: The app servers every scenario runs behind: gunicorn (WSGI), and uvicorn and
#: hypercorn (ASGI) when this trustproxy has its ASGI adapter.
HAS_ASGI = importlib.util.find_spec("trustproxy.asgi") is not None
SERVERS = ("gunicorn", "uvicorn", "hypercorn") if HAS_ASGI else ("gunicorn",)


#: The other servers of the matrix (tests/e2e/test_servers.py), and how each is run:
#: ``{port}``, ``{asgi}``, ``{wsgi}`` and ``{aiohttp}`` are filled in (the docs use 8000
#: and the recipe modules of docs/recipes/).
COMMANDS = {
    "granian-asgi": "granian --interface asgi --host 127.0.0.1 --port {port} --access-log {asgi}",
    "granian-wsgi": "granian --interface wsgi --host 127.0.0.1 --port {port} --access-log {wsgi}",
    "waitress": "waitress-serve --listen=127.0.0.1:{port} --no-clear-untrusted-proxy-headers"
    " {wsgi}",
    "daphne": "daphne -b 127.0.0.1 -p {port} --access-log - {asgi}",
    "aiohttp": "python {aiohttp} {port}",
}
OTHERS = tuple(COMMANDS)
#: The e2e report apps each command runs here.
LAB_APPS = {"asgi": "asgi_app:app", "wsgi": "wsgi_app:app", "aiohttp": str(APPS / "aiohttp_app.py")}
#: How each module is run: ``granian`` and ``waitress-serve`` as ``python -m``.
_MODULES = {"granian": "granian", "waitress-serve": "waitress", "daphne": "daphne"}


def command(server: str, port: object, apps: Mapping[str, str]) -> str:
    return COMMANDS[server].format(port=port, **apps)


def argv(server: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if server in COMMANDS:
        words = command(server, port, LAB_APPS).split()
        if words[0] == "python":
            return [python(), *words[1:]]
        return [python(), "-m", _MODULES[words[0]], *words[1:]]
    if server == "gunicorn":
        return [python(), "-m", "gunicorn", "-b", bind, "-w", "1", "--forwarded-allow-ips", "",
                "--log-level", "warning", "wsgi_app:app"]  # fmt: skip
    if server == "uvicorn":
        return [python(), "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                "--no-proxy-headers", "--log-level", "warning", "asgi_app:app"]  # fmt: skip
    if server == "hypercorn":
        return [python(), "-m", "hypercorn", "-b", bind, "--log-level", "warning",
                "asgi_app:app"]  # fmt: skip
    raise ValueError(server)


class AppServers:
    """Start app servers on demand, one per (server, settings), and stop them all."""

    def __init__(self, lab: Path) -> None:
        self.lab = lab
        self._running: dict[str, tuple[Proc, str]] = {}

    def get(
        self,
        server: str,
        settings: Mapping[str, object],
        env: Optional[Mapping[str, str]] = None,
    ) -> str:
        """The ``host:port`` of a running ``server`` wrapped with ``settings``, with
        ``env`` added to its environment (e.g. ``TRUSTPROXY_CLOUDFLARE_FILE``)."""
        key = server + json.dumps(settings, sort_keys=True) + json.dumps(env, sort_keys=True)
        if key not in self._running:
            port = free_port()
            folder = self.lab / f"app-{len(self._running)}-{server}"
            folder.mkdir(parents=True)
            env = {
                "TRUSTPROXY_SETTINGS": json.dumps(settings),
                "PYTHONPATH": os.pathsep.join([str(SRC), str(APPS)]),
                "TRUSTPROXY_SERVER": server,
                "PYTHONUNBUFFERED": "1",  # access logs reach the log file at once
                **(env or {}),
            }
            proc = Proc(server, argv(server, port), folder, env)
            address = f"127.0.0.1:{port}"
            proc.wait_ready(f"http://{address}/health")
            self._running[key] = (proc, address)
        return self._running[key][1]

    def log(
        self,
        server: str,
        settings: Mapping[str, object],
        env: Optional[Mapping[str, str]] = None,
    ) -> str:
        """What the running ``server`` has written so far (its access log included)."""
        key = server + json.dumps(settings, sort_keys=True) + json.dumps(env, sort_keys=True)
        return self._running[key][0].log_path.read_text(errors="replace")

    def stop(self) -> None:
        for proc, _ in self._running.values():
            proc.stop()
        self._running.clear()
