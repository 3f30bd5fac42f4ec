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
    # The complete suggestion (issue 14, item 3): every form, the chain, in the JSON too.
    assert list(suggestion["forms"]) == [
        "WSGI",
        "ASGI",
        "Django",
        "ProxyFix",
        "uvicorn",
        "gunicorn",
    ]
    assert suggestion["forms"]["WSGI"] == (
        f"app = trustproxy.WSGIMiddleware(app, {suggestion['config']})"
    )
    assert suggestion["fields"] == ["for"]
    assert suggestion["chain"][0] == "client 6.6.6.6 (public)"


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


# --- credentials and identities injected by authenticating proxies (issue 10, item 6) ---

SECRET = "s3cr3t-value-0123456789"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"

HIDDEN = [
    # AWS ALB with OIDC / Cognito
    "X-Amzn-Oidc-Accesstoken", "X-Amzn-Oidc-Data", "X-Amzn-Oidc-Identity",
    # Cloudflare Access
    "Cf-Access-Jwt-Assertion", "Cf-Access-Client-Id", "Cf-Access-Client-Secret",
    "Cf-Access-Authenticated-User-Email",
    # Google IAP
    "X-Goog-Iap-Jwt-Assertion", "X-Goog-Authenticated-User-Email",
    "X-Goog-Authenticated-User-Id",
    # oauth2-proxy, nginx auth_request, Traefik forward auth
    "X-Forwarded-Access-Token", "X-Auth-Request-Access-Token", "X-Auth-Request-Email",
    "X-Auth-Request-User", "X-Forwarded-User", "X-Forwarded-Email",
    "X-Forwarded-Preferred-Username", "X-Forwarded-Groups",
    # Azure App Service authentication
    "X-Ms-Token-Aad-Access-Token", "X-Ms-Token-Aad-Id-Token", "X-Ms-Token-Aad-Refresh-Token",
    "X-Ms-Client-Principal", "X-Ms-Client-Principal-Name", "X-Ms-Client-Principal-Id",
    # Authelia, Authentik, Pomerium, Grafana's auth proxy
    "Remote-User", "Remote-Email", "Remote-Groups", "X-Authentik-Jwt", "X-Authentik-Username",
    "X-Pomerium-Jwt-Assertion", "X-Pomerium-Claim-Email", "X-Webauth-User",
    # any name that looks like a credential, split on - _ .
    "X-Api-Key", "X-Apikey", "Api_Key", "X-Csrf-Token", "X-Xsrf-Token", "X-Session-Id",
    "X-Db-Password", "X-Client-Secret", "X-Client-Credentials", "X-Hub-Signature-256",
    "X.Token", "Ocp-Apim-Subscription-Key", "Cookie", "Authorization", "Proxy-Authorization",
]  # fmt: skip

SHOWN = [
    (XFF, "203.0.113.9"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "a.example"),
    ("X-Forwarded-Port", "443"), ("X-Forwarded-Prefix", "/app"),
    ("Forwarded", "for=203.0.113.9"), ("X-Real-IP", "203.0.113.9"),
    ("User-Agent", "curl/8.5.0"), ("Via", "1.1 proxy"), ("X-Request-Id", "req-42"),
    ("Accept-Language", "en"), ("X-Keepalive-Hint", "plain"),
]  # fmt: skip


def _both(port: int, lines: list[tuple[str, str]]) -> list[str]:
    """The HTML and the JSON page for the same request."""
    _, _, html = fetch(port, lines)
    _, _, text = fetch(port, [*lines, ("Accept", "application/json")])
    return [html, text]


@pytest.mark.parametrize("name", HIDDEN)
def test_credential_and_identity_headers_are_hidden(port: int, name: str) -> None:
    for body in _both(port, [(XFF, "203.0.113.9"), (name, SECRET)]):
        assert SECRET not in body
        assert f"(hidden, {len(SECRET)} characters)" in body
        assert name in body  # the line is there, its value is not


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(JWT, id="jwt"),
        pytest.param(f"prefix {JWT} suffix", id="jwt-inside"),
        pytest.param(f"Bearer {SECRET}", id="bearer"),
        pytest.param(f"basic {SECRET}", id="basic-lower-case"),
        pytest.param(f"Token {SECRET}", id="token-scheme"),
    ],
)
def test_credential_values_are_hidden_under_any_name(port: int, value: str) -> None:
    for body in _both(port, [("X-Upstream-Context", value)]):
        assert SECRET not in body
        assert "eyJzdWIiOiIxMjMifQ" not in body
        assert f"(hidden, {len(value)} characters)" in body


def test_forwarding_and_ordinary_headers_stay_shown(port: int) -> None:
    html, text = _both(port, SHOWN)
    data = json.loads(text)
    for name, value in SHOWN:
        assert [name, value] in data["headers"]
        assert f"<tr><th>{name}</th><td>{value}</td></tr>" in html


def test_headers_the_resolver_reads_are_shown_whatever_their_name() -> None:
    # A single-address header configured by the user is what the page is about.
    resolver = Resolver(headers="x-client-key", fields="for")
    data = whoami(resolver, "127.0.0.1", [("X-Client-Key", "203.0.113.9")])
    assert data["headers"] == [["X-Client-Key", "203.0.113.9"]]
    other = whoami(Resolver(), "127.0.0.1", [("X-Client-Key", "203.0.113.9")])
    assert other["headers"] == [["X-Client-Key", "(hidden, 11 characters)"]]


def test_html_shows_controls_and_bidi_overrides_escaped() -> None:
    # html.escape leaves these alone: an override would reorder what the page shows.
    evil = "a\x1b[2J\x9b\x7f\u202eb\u2066c\u2028d"
    html = render_html(whoami(Resolver(), "127.0.0.1", [("X-Evil", evil)]))
    assert all(c.isprintable() or c == "\n" for c in html)
    assert "a\\x1b[2J\\x9b\\x7f\\u202eb\\u2066c\\u2028d" in html


def test_console_log_is_terminal_safe() -> None:
    import socket

    from trustproxy._whoami import serve

    evil = "\x1b]0;owned\x07\x1b[2J\u202e"
    log = io.StringIO()
    assert serve(Resolver(), "no-such-host" + evil, 0, log) == 2  # cannot listen
    server = make_server(Resolver(), "127.0.0.1", 0, log)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), 10) as sock:
            sock.sendall(f"GET /{evil} HTTP/1.0\r\nX: y\r\n\r\n".encode())
            while sock.recv(65536):
                pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    written = log.getvalue()
    assert written.count("\n") == 2, written
    assert all(c.isprintable() or c == "\n" for c in written), repr(written)
    assert "owned" in written


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["whoami", "--port", "70000"], id="port-too-high"),
        pytest.param(["whoami", "--port", "-1"], id="port-negative"),
        pytest.param(["whoami", "--host", "\u202e", "--port", "0"], id="host-not-encodable"),
        pytest.param(["whoami", "--host", "no-such-host.invalid", "--port", "0"],
                     id="host-unknown"),
    ],
)  # fmt: skip
def test_whoami_cannot_listen_is_one_line_not_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from trustproxy.cli import main

    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("trustproxy: error: cannot listen on ")
    assert err.count("\n") == 1
    assert all(c.isprintable() or c == "\n" for c in err)


def test_suggestion_html_escapes_what_came_from_the_request() -> None:
    # The leftmost item is shown in the chain as written (it is not an address).
    evil = "<script>alert(1)</script>"
    data = whoami(Resolver(), "127.0.0.1", [(XFF, f"{evil}, 10.0.0.7")])
    suggestion = data["suggestion"]
    assert isinstance(suggestion, dict)
    assert any(evil in step for step in suggestion["chain"])
    html = render_html(data)
    assert "<script" not in html
    assert "client &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; (not an address)" in html
    assert "<pre id=form-wsgi>app = trustproxy.WSGIMiddleware(app, trusted=[&#x27;127.0.0.1" in html
    assert "<ul id=flags" not in html  # a consistent chain: nothing flagged


def test_flags_are_rendered() -> None:
    lines = [(XFF, "203.0.113.9, 10.0.0.7"), ("X-Forwarded-Port", "443")]
    html = render_html(whoami(Resolver(trusted="10.0.0.3"), "10.0.0.3", lines))
    assert "<ul id=flags class=warn>\n<li>X-Forwarded-Port has 1 item for 2 proxies" in html
