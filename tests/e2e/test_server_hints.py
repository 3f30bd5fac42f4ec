"""The runtime hints (issue 14 §2) in the log of real servers, run as users run them.

* uvicorn **without** ``--no-proxy-headers`` (and gunicorn's uvicorn worker, which hands
  gunicorn's ``forwarded_allow_ips`` to uvicorn) already replaced the proxy's address on
  loopback with the client's: the log names the server flag, not "add it to trusted";
* gunicorn serving a WSGIMiddleware whose ``fields`` leaves out the X-Forwarded-Prefix
  the proxy sends: the log names ``fields=``.

The request comes from 127.0.0.1, as from nginx on the same host, carrying what that
proxy would have sent.  One server per case, one or two requests each.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .lab import Proc, fetch, free_port, python
from .servers import SRC

ASGI_APP = """
from trustproxy import ASGIMiddleware

async def report(scope, receive, send):
    if scope["type"] != "http":
        return
    body = repr(scope["client"]).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

app = ASGIMiddleware(report, trusted="127.0.0.1")
"""

WSGI_APP = """
from trustproxy import WSGIMiddleware

def report(environ, start_response):
    body = (environ["REMOTE_ADDR"] + " " + environ["SCRIPT_NAME"]).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]

app = WSGIMiddleware(report, trusted="127.0.0.1")
"""

FORWARDED = [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Prefix", "/app")]


def serve(tmp_path: Path, source: str, argv: list[str]) -> Proc:
    (tmp_path / "hint_app.py").write_text(source)
    env = {"PYTHONPATH": os.pathsep.join([str(SRC), str(tmp_path)])}
    return Proc("server", argv, tmp_path, env)


def wait_log(proc: Proc, text: str) -> str:
    """The server's log once ``text`` is in it (bounded): the hint is logged by the
    worker, which writes it as it handles the request."""
    deadline = time.monotonic() + 10
    log = proc.log_path.read_text(errors="replace")
    while text not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = proc.log_path.read_text(errors="replace")
    return log


CASES = {
    "uvicorn-proxy-headers-on": (
        ASGI_APP,
        ["-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--lifespan", "off",
         "hint_app:app"],
        "('203.0.113.9', 0)",
        "203.0.113.9 is not a trusted proxy, but it is also the rightmost forwarded address",
    ),
    "gunicorn-uvicorn-worker": (
        ASGI_APP,
        ["-m", "gunicorn", "-b", "127.0.0.1:{port}", "-w", "1", "-k",
         "uvicorn.workers.UvicornWorker", "hint_app:app"],
        "('203.0.113.9', 0)",
        "under gunicorn's uvicorn worker, gunicorn's forwarded_allow_ips is what uvicorn trusts",
    ),
    "gunicorn-prefix-not-in-fields": (
        WSGI_APP,
        ["-m", "gunicorn", "-b", "127.0.0.1:{port}", "-w", "1", "hint_app:app"],
        "203.0.113.9 ",
        "the trusted proxy 127.0.0.1 sends X-Forwarded-Prefix, which fields does not apply"
        " (fields=['for', 'proto']): if the app should see it, configure"
        " fields=['for', 'proto', 'prefix']",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("source", "argv", "seen", "hint"), CASES.values(), ids=CASES.keys())
def test_hint_in_the_server_log(
    tmp_path: Path, source: str, argv: list[str], seen: str, hint: str
) -> None:
    port = free_port()
    proc = serve(tmp_path, source, [python(), *(a.format(port=port) for a in argv)])
    try:
        url = f"http://127.0.0.1:{port}/"
        proc.wait_ready(url)
        reply = fetch(url, FORWARDED)
        assert reply.status == 200
        assert reply.body.decode() == seen
        log = wait_log(proc, hint)
        assert hint in log, log
        # The old advice, which would have trusted the client, is not given.
        assert "add its address to trusted" not in log
    finally:
        proc.stop()
