"""``trustproxy probe`` against in-process apps on loopback.

The apps: the ``trustproxy whoami`` page, and the :mod:`trustproxy.whoami` endpoint
inside a :class:`~trustproxy.WSGIMiddleware`, sometimes behind a small in-process
stand-in for a proxy (:func:`fake_proxy`) that has one of the flaws real proxies have had.
The probe connects from 127.0.0.5, so that 127.0.0.1 can stand for the trusted proxy.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any, Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from trustproxy import ConfigError, Resolver, WSGIMiddleware
from trustproxy._probe import _request, render_text, run, target
from trustproxy._probe_checks import Check, checks
from trustproxy._whoami import make_server as make_whoami
from trustproxy.cli import main
from trustproxy.whoami import TOKEN_HEADER, asgi_app, wsgi_app

SOURCE = "127.0.0.5"
TOKEN = "a-token-long-enough-1234"
ALL = "for,proto,host,port,prefix"
PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?")
WSGIApp = Callable[[dict[str, Any], Any], Any]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(server: Any) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def serve_wsgi(app: WSGIApp) -> Iterator[str]:
    yield from _serve(make_server("127.0.0.1", 0, app, WSGIServer, _Quiet))


def fake_proxy(
    inner: WSGIApp,
    *,
    append: bool = True,
    honour_connection: bool = False,
    forwarded_host: bool = False,
    check_host: bool = True,
) -> WSGIApp:
    """A proxy on 127.0.0.1 in front of ``inner``, acting on the environ the way nginx's
    recipe does (replace every forwarding header, append to X-Forwarded-For), with one
    flaw switched on: ``append=False`` passes the client's X-Forwarded-For on as it came;
    ``honour_connection`` drops what the client's Connection names after writing
    (CVE-2024-45410); ``forwarded_host`` writes ``Forwarded: for=..;host="<Host>"``
    without escaping the Host; ``check_host=False`` copies any Host (the nginx recipe
    answers 400 to one that is not a name or address with an optional port)."""

    def proxy(environ: dict[str, Any], start_response: Any) -> Any:
        env = {k: v for k, v in environ.items() if not k.startswith("HTTP_X_FORWARDED_")}
        for key in ("HTTP_FORWARDED", "HTTP_X_REAL_IP"):
            env.pop(key, None)
        peer, host = environ["REMOTE_ADDR"], environ.get("HTTP_HOST", "")
        if check_host and not PLAIN_HOST.fullmatch(host):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"bad host\n"]
        old = environ.get("HTTP_X_FORWARDED_FOR")
        if not append:
            env["HTTP_X_FORWARDED_FOR"] = old or peer
        else:
            env["HTTP_X_FORWARDED_FOR"] = f"{old}, {peer}" if old else peer
        env["HTTP_X_FORWARDED_PROTO"] = "http"
        env["HTTP_X_FORWARDED_HOST"] = host
        if forwarded_host:
            env["HTTP_FORWARDED"] = f'for={peer};host="{host}";proto=http'
        if honour_connection:
            for name in environ.get("HTTP_CONNECTION", "").split(","):
                env.pop("HTTP_" + name.strip().upper().replace("-", "_"), None)
        env["REMOTE_ADDR"] = "127.0.0.1"
        return inner(env, start_response)

    return proxy


def deployment(proxy: dict[str, bool], **settings: Any) -> Iterator[str]:
    app = WSGIMiddleware(wsgi_app(TOKEN), **settings)
    yield from serve_wsgi(fake_proxy(app, **proxy))


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {row["name"]: row["verdict"] for row in report["checks"]}


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    """The whoami page configured as for a proxy on 127.0.0.1 (which is the prober too)."""
    yield from _serve(make_whoami(Resolver(trusted="127.0.0.1", fields=ALL)))


def test_every_check_holds_on_the_whoami_page_from_an_untrusted_source(page: str) -> None:
    report = run(page, source=SOURCE)
    assert report["baseline"]["client"] == SOURCE
    assert report["exit"] == 0, report["failed"]
    assert set(verdicts(report).values()) <= {"held", "refused"}
    assert len(report["checks"]) == len(checks(SOURCE, "http", "h", 80)) >= 30
    assert verdicts(report)["oversized-line"] == "refused"  # http.server: 431


def test_probing_from_the_trusted_proxys_own_address_fails_and_says_why(page: str) -> None:
    report = run(page)
    assert report["exit"] == 1
    got = verdicts(report)
    for name in ("xff-single", "xff-leftmost", "xff-rightmost", "proto", "host", "port", "prefix"):
        assert got[name] == "failed", name
    out = io.StringIO()
    render_text(report, out)
    assert "try --source 127.0.0.5" in out.getvalue()
    assert "FAILED       xff-single" in out.getvalue()
    assert "client: 127.0.0.1 -> 6.6.6.1" in out.getvalue()


@pytest.fixture(scope="module")
def good() -> Iterator[str]:
    yield from deployment({}, trusted="127.0.0.1", fields=ALL)


def test_a_good_proxy_and_app_hold_every_check(good: str) -> None:
    report = run(good, source=SOURCE, token=TOKEN)
    assert report["exit"] == 0, report["checks"]
    assert report["baseline"] == {
        "client": SOURCE,
        "scheme": "http",
        "host": good.split("/")[2],
        "port": int(good.split(":")[2].rstrip("/")),
        "prefix": "",
    }


@pytest.mark.parametrize(
    ("proxy", "settings", "expected"),
    [
        pytest.param(
            # trusted="*" without hops is a ConfigError; a callable can still say it.
            {},
            {"trusted": lambda address: True, "fields": ALL},
            {"xff-leftmost"},
            id="app-trusts-everyone",
        ),
        pytest.param({}, {"trusted": "*", "hops": 2}, {"xff-rightmost"}, id="hops-one-too-many"),
        pytest.param(
            {"append": False},
            {"trusted": "127.0.0.1"},
            {"xff-single", "xff-rightmost", "xff-ipv6", "duplicate-lines", "oversized-list"},
            id="proxy-passes-the-clients-xff-on",
        ),
        pytest.param(
            {"check_host": False},
            {"trusted": "127.0.0.1", "fields": ALL},
            {"x-forwarded-host-comma"},
            id="host-copied-unchecked",
        ),
        pytest.param(
            {"forwarded_host": True, "check_host": False},
            {"trusted": "127.0.0.1", "headers": "forwarded", "fields": "for,proto,host"},
            {"forwarded-host-quote"},
            id="unescaped-forwarded-host",
        ),
        pytest.param(
            {"honour_connection": True},
            {"trusted": "127.0.0.1", "fields": ALL},
            {"hop-by-hop-x-forwarded-for"},
            id="cve-2024-45410",
        ),
    ],
)
def test_a_broken_deployment_fails_the_check_that_names_the_flaw(
    proxy: dict[str, bool], settings: dict[str, Any], expected: set[str]
) -> None:
    for url in deployment(proxy, **settings):
        report = run(url, source=SOURCE, token=TOKEN)
    assert report["exit"] == 1
    assert expected <= set(report["failed"]), report["failed"]


def test_the_cli_exit_status_and_json(good: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", good, "--source", SOURCE, "--token", TOKEN, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exit"] == 0 and data["failed"] == []
    assert main(["probe", good, "--source", SOURCE, "--token", TOKEN]) == 0
    assert capsys.readouterr().out.endswith("result: every check held\n")


def test_the_token_comes_from_the_environment(
    good: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUSTPROXY_PROBE_TOKEN", TOKEN)
    assert main(["probe", good, "--source", SOURCE]) == 0
    monkeypatch.delenv("TRUSTPROXY_PROBE_TOKEN")
    assert main(["probe", good, "--source", SOURCE]) == 2
    assert "answered HTTP 404" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ftp://127.0.0.1/"], "is not an http:// or https:// URL"),
        (["http://127.0.0.1:99999/"], "port that is not a number"),
        (["http://127.0.0.1:1/"], "cannot reach"),
        (["http://127.0.0.1:1/", "--timeout", "0"], "--timeout"),
        (["http://127.0.0.1:1/a b"], "percent-encode"),
        (["http://127.0.0.1:1/\x1b[2J"], "percent-encode"),
    ],
)
def test_the_cli_exits_2_when_it_cannot_run(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["probe", *argv]) == 2
    assert message in capsys.readouterr().err


def _plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html")])
    return [b"<p>hello</p>"]


def test_a_page_that_is_not_whoami_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    for url in serve_wsgi(_plain):
        assert main(["probe", url, "--source", SOURCE]) == 2
    assert "did not answer with the JSON" in capsys.readouterr().err


def test_an_answer_without_the_fields_is_inconclusive_not_held() -> None:
    endpoint = wsgi_app(TOKEN)

    def flaky(environ: dict[str, Any], start_response: Any) -> Any:
        if "HTTP_X_REAL_IP" in environ:
            return _plain(environ, start_response)
        return endpoint(environ, start_response)

    for url in serve_wsgi(flaky):
        report = run(url, source=SOURCE, token=TOKEN)
    assert verdicts(report)["x-real-ip"] == "inconclusive"
    assert report["exit"] == 2


def test_the_probe_connects_to_the_url_only(good: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[object, object]] = []
    real = socket.create_connection

    def spy(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        seen.append((address, kwargs.get("source_address") or args[1:2]))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    run(good, source=SOURCE, token=TOKEN)
    where = target(good)
    assert len(seen) == 1 + len(checks(SOURCE, "http", "h", 80))
    assert {address for address, _ in seen} == {(where.host, where.port)}


def test_requests_keep_duplicates_odd_names_and_the_host_as_written() -> None:
    where = target("http://example.test:8080/who?x=1")
    check = Check("t", "t", (("X.Forwarded.For", "6.6.6.1"), ("A", "1"), ("A", "2")), host='h"x')
    text = _request(where, check, TOKEN).decode()
    assert text.startswith('GET /who?x=1 HTTP/1.1\r\nHost: h"x\r\n')
    assert "\r\nX.Forwarded.For: 6.6.6.1\r\nA: 1\r\nA: 2\r\n" in text
    assert f"\r\n{TOKEN_HEADER}: {TOKEN}\r\n" in text
    plain = _request(where, Check("c", "c", (), connection="X-Forwarded-For"), None).decode()
    assert "Host: example.test:8080\r\n" in plain
    assert plain.endswith("\r\nConnection: close, X-Forwarded-For\r\n\r\n")
    assert TOKEN_HEADER not in plain


def _call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, bytes]:
    got: list[str] = []
    body = b"".join(app(environ, lambda status, headers: got.append(status)))
    return got[0], body


@pytest.mark.parametrize("given", [None, "", TOKEN[:-1], TOKEN + "x", TOKEN.upper()])
def test_the_endpoint_answers_404_without_the_exact_token(given: Any) -> None:
    environ = {"REMOTE_ADDR": "6.6.6.1"}
    if given is not None:
        environ["HTTP_TRUSTPROXY_PROBE_TOKEN"] = given
    status, body = _call(wsgi_app(TOKEN), environ)
    assert status.startswith("404") and b"6.6.6.1" not in body


def test_the_endpoint_reports_what_the_app_saw() -> None:
    environ = {
        "REMOTE_ADDR": "203.0.113.7",
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "example.test",
        "SERVER_PORT": "443",
        "SCRIPT_NAME": "/app",
        "HTTP_TRUSTPROXY_PROBE_TOKEN": TOKEN,
    }
    status, body = _call(wsgi_app(TOKEN), environ)
    assert status == "200 OK"
    assert json.loads(body) == {
        "client": "203.0.113.7",
        "scheme": "https",
        "host": "example.test",
        "port": 443,
        "prefix": "/app",
    }


def _asgi(headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "client": ("203.0.113.8", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "root_path": "/p",
        "headers": headers,
    }
    asyncio.run(asgi_app(TOKEN)(scope, receive, send))
    return sent[0]["status"], sent[1]["body"]


def test_the_asgi_endpoint_checks_the_token_and_reports() -> None:
    assert _asgi([(b"trustproxy-probe-token", b"wrong-token-1234567")])[0] == 404
    assert _asgi([])[0] == 404
    status, body = _asgi([(b"host", b"h.test"), (b"trustproxy-probe-token", TOKEN.encode())])
    assert status == 200
    assert json.loads(body) == {
        "client": "203.0.113.8",
        "scheme": "http",
        "host": "h.test",
        "port": 8000,
        "prefix": "/p",
    }


@pytest.mark.parametrize("token", ["", "short", " " + TOKEN, TOKEN + "\n", "é" * 20, None])
def test_a_weak_or_odd_token_is_a_config_error(token: Any) -> None:
    with pytest.raises(ConfigError, match="token"):
        wsgi_app(token)
    with pytest.raises(ConfigError, match="token"):
        asgi_app(token)
