"""Real application servers running the report apps of ``apps/``.

Each server gets its trustproxy settings as JSON in ``TRUSTPROXY_SETTINGS``.  The
servers' own proxy handling is switched off so only trustproxy decides:
gunicorn ``--forwarded-allow-ips ""`` (else it sets ``wsgi.url_scheme`` from
X-Forwarded-Proto for 127.0.0.1), uvicorn ``--no-proxy-headers``.
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


def argv(server: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
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
                **(env or {}),
            }
            proc = Proc(server, argv(server, port), folder, env)
            address = f"127.0.0.1:{port}"
            proc.wait_ready(f"http://{address}/health")
            self._running[key] = (proc, address)
        return self._running[key][1]

    def stop(self) -> None:
        for proc, _ in self._running.values():
            proc.stop()
        self._running.clear()
