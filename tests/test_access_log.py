"""The real servers' access logs show the resolved client (the documented set-ups).

Each test starts the server as a subprocess on a socket the test bound to an ephemeral
loopback port (handed over as a file descriptor, so the request waits in the listen
queue until the server is up), sends one request with X-Forwarded-For from 127.0.0.1 (a
trusted peer), stops the server and reads its access log line.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "docs" / "recipes"
CLIENT = "203.0.113.50"


def http_get(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/", headers={"X-Forwarded-For": CLIENT})
    body = connection.getresponse().read().decode()
    connection.close()
    return body


def websocket_get(port: int) -> str:
    from websockets.sync.client import connect

    headers = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
    with connect(f"ws://127.0.0.1:{port}/", additional_headers=headers, open_timeout=60) as ws:
        message = ws.recv(timeout=60)
    assert isinstance(message, str)
    return message


def serve_once(command: list[str], request: Callable[[int], str] = http_get) -> tuple[str, str]:
    """Run ``command`` (``{fd}`` is the listening socket) for one request; return the
    response body and everything the server wrote."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(RECIPES)])
    process = subprocess.Popen(
        [part.replace("{fd}", str(fd)) for part in command],
        cwd=RECIPES, env=env, pass_fds=(fd,),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    listener.close()
    try:
        body = request(port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    return body, output


def access_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if '"GET / ' in line]


UVICORN = [sys.executable, "-m", "uvicorn", "asgi_server_app:app", "--fd", "{fd}",
           "--no-proxy-headers", "--lifespan", "off"]  # fmt: skip


def test_uvicorn_access_log_shows_the_client() -> None:
    body, output = serve_once([*UVICORN, "--log-config", "uvicorn-log-config.json"])
    assert body == f"http://{CLIENT}\n"
    lines = access_lines(output)
    assert len(lines) == 1, output
    assert f"{CLIENT}:0 - " in lines[0] and "127.0.0.1" not in lines[0], lines[0]


def test_uvicorn_access_log_without_the_filter_shows_the_proxy() -> None:
    # The control: the filter is what makes the difference.
    body, output = serve_once(UVICORN)
    assert body == f"http://{CLIENT}\n"
    lines = access_lines(output)
    assert len(lines) == 1, output
    assert "127.0.0.1:" in lines[0] and CLIENT not in lines[0], lines[0]


def test_hypercorn_access_log_shows_the_client() -> None:
    body, output = serve_once(
        [sys.executable, "-m", "hypercorn", "asgi_server_app:app", "--bind", "fd://{fd}",
         "--access-logfile", "-", "--log-config", "json:hypercorn-log-config.json"]
    )  # fmt: skip
    assert body == f"http://{CLIENT}\n"
    lines = access_lines(output)
    assert len(lines) == 1, output
    assert lines[0].startswith(f"{CLIENT}:0 "), lines[0]


def test_gunicorn_access_log_shows_the_client() -> None:
    body, output = serve_once(
        [sys.executable, "-m", "gunicorn", "wsgi_server_app:app", "--bind", "fd://{fd}",
         "--workers", "1", "--access-logfile", "-"]
    )  # fmt: skip
    assert body == f"http://{CLIENT}\n"
    lines = access_lines(output)
    assert len(lines) == 1, output
    assert lines[0].startswith(f"{CLIENT} "), lines[0]


def test_hypercorn_access_log_without_the_filter_shows_the_proxy() -> None:
    body, output = serve_once(
        [sys.executable, "-m", "hypercorn", "asgi_server_app:app", "--bind", "fd://{fd}",
         "--access-logfile", "-"]
    )  # fmt: skip
    assert body == f"http://{CLIENT}\n"
    lines = access_lines(output)
    assert len(lines) == 1, output
    assert "127.0.0.1:" in lines[0] and CLIENT not in lines[0], lines[0]


def test_uvicorn_websocket_log_shows_the_client() -> None:
    body, output = serve_once([*UVICORN, "--log-config", "uvicorn-log-config.json"], websocket_get)
    assert body == f"wss://{CLIENT}"
    lines = [line for line in output.splitlines() if '"WebSocket /"' in line]
    assert len(lines) == 1, output
    assert f"{CLIENT}:0 - " in lines[0] and "127.0.0.1" not in lines[0], lines[0]


def test_hypercorn_websocket_log_shows_the_client() -> None:
    body, output = serve_once(
        [sys.executable, "-m", "hypercorn", "asgi_server_app:app", "--bind", "fd://{fd}",
         "--access-logfile", "-", "--log-config", "json:hypercorn-log-config.json"],
        websocket_get,
    )  # fmt: skip
    assert body == f"wss://{CLIENT}"
    lines = [line for line in output.splitlines() if '"GET / ' in line]
    assert lines, output
    assert all(line.startswith(f"{CLIENT}:0 ") for line in lines), lines
