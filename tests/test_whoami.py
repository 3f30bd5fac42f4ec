"""``trustproxy whoami`` served for real on loopback (ephemeral port), fetched over HTTP."""

from __future__ import annotations

import http.client
import io
import json
import threading
from collections.abc import Iterator
from typing import Optional

import pytest

from trustproxy import Resolver
from trustproxy._whoami import SECURITY_HEADERS, make_server, render_html, whoami

XFF = "X-Forwarded-For"


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = make_server(Resolver(trusted="loopback", fields="for,proto,host"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def fetch(
    port: int, lines: list[tuple[str, str]], method: str = "GET"
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, "/<b>path-not-echoed</b>", skip_accept_encoding=True)
        for name, value in lines:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read().decode()
    finally:
        connection.close()


def test_json_shows_lines_in_order_the_resolution_and_a_suggestion(port: int) -> None:
    lines = [
        (XFF, "6.6.6.6"),
        ("X-Other", "between"),
        (XFF, "203.0.113.9, 10.0.0.7"),
        ("Accept", "application/json"),
    ]
    status, headers, body = fetch(port, lines)
    assert status == 200
    assert headers["content-type"] == "application/json"
    data = json.loads(body)
    assert data["peer"] == "127.0.0.1"
    echoed = [line for line in data["headers"] if line[0] in (XFF, "X-Other")]
    assert echoed == [[XFF, "6.6.6.6"], ["X-Other", "between"], [XFF, "203.0.113.9, 10.0.0.7"]]
    resolution = data["resolution"]
    assert (resolution["status"], resolution["client"]) == ("applied", "10.0.0.7")
    assert resolution["host"] == f"127.0.0.1:{port}"
    suggestion = data["suggestion"]
    assert suggestion["proxies"] == ["127.0.0.1", "10.0.0.7", "203.0.113.9"]
    assert suggestion["hops"] == 3
    assert suggestion["summary"].startswith("3 proxies seen: 127.0.0.1, 10.0.0.7, 203.0.113.9")


def test_html_escapes_everything_and_sends_the_security_headers(port: int) -> None:
    evil = "<script>alert(1)</script>\"'&"
    lines = [(XFF, "203.0.113.9"), ("X-Evil", evil), ("Cookie", "session=secret")]
    status, headers, body = fetch(port, lines)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    for name, value in SECURITY_HEADERS:
        assert headers[name.lower()] == value
    assert "set-cookie" not in headers
    assert "<script" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;" in body
    assert "secret" not in body
    assert "(hidden, 14 characters)" in body
    assert "path-not-echoed" not in body
    assert "<span id=client class=big>203.0.113.9</span>" in body


def test_head_has_headers_and_no_body(port: int) -> None:
    status, headers, body = fetch(port, [], method="HEAD")
    assert status == 200
    assert int(headers["content-length"]) > 0
    assert body == ""


@pytest.mark.parametrize(
    ("peer", "lines", "client", "status", "warning"),
    [
        pytest.param("127.0.0.1", [], "127.0.0.1", "applied", None, id="direct"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9")], "10.0.0.3", "untrusted-peer",
                     "--trusted 10.0.0.3", id="proxy-not-trusted-yet"),
        pytest.param("127.0.0.1", [(XFF, "nope")], "127.0.0.1", "unresolved", None,
                     id="junk-unresolved"),
    ],
)  # fmt: skip
def test_whoami_data(
    peer: str, lines: list[tuple[str, str]], client: str, status: str, warning: Optional[str]
) -> None:
    data = whoami(Resolver(), peer, lines)
    resolution = data["resolution"]
    assert isinstance(resolution, dict)
    assert (resolution["client"], resolution["status"]) == (client, status)
    warnings = data["warnings"]
    assert isinstance(warnings, list)
    if warning is None:
        assert warnings == []
    else:
        assert any(warning in str(w) for w in warnings)
    html = render_html(data)
    assert f"<span id=client class=big>{client}</span>" in html


def test_serve_reports_a_port_in_use_as_one_line() -> None:
    from trustproxy._whoami import serve

    busy = make_server(Resolver(), "127.0.0.1", 0)
    try:
        log = io.StringIO()
        assert serve(Resolver(), "127.0.0.1", int(busy.server_address[1]), log) == 2
        assert log.getvalue().startswith("trustproxy: error: cannot listen on 127.0.0.1:")
        assert log.getvalue().count("\n") == 1
    finally:
        busy.server_close()


def test_whoami_command_serves_until_interrupted() -> None:
    import os
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    argv = [sys.executable, "-m", "trustproxy", "whoami", "--port", "0", "--trusted", "::1"]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("whoami: serving on http://127.0.0.1:"), first
        url = first.split()[3]
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", XFF: "203.0.113.9"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.load(response)
        # 127.0.0.1 is not in --trusted ::1: untouched, and the page says what to add.
        assert data["resolution"]["status"] == "untrusted-peer"
        assert any("--trusted 127.0.0.1" in w for w in data["warnings"])
        assert data["suggestion"]["trusted"] == ["127.0.0.1"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
