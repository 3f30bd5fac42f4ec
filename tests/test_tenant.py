"""Tenant binding (``require_headers``), through the core and every adapter.

A provider's edge addresses are shared by all its customers, so a trusted peer must also
prove it forwards *our* traffic: a header with a secret value (CloudFront custom origin
header, Cloudflare Transform Rule, Azure Front Door's X-Azure-FDID, a Fastly header).
One table of requests (absent, wrong, right, repeated, untrusted peer…) runs through
``Resolver.resolve``, ``WSGIMiddleware``, ``ASGIMiddleware`` (http and websocket scopes)
and the Django middleware under Django's WSGI and ASGI handlers, with and without
``strict``; every leg checks the status, the client, that a strict failure is 403 (close
1008 on a websocket), and that the secret header never reaches the application, its
``trustproxy.orig``, a log line or a repr.  Requests are built by tests/builders.py.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

import pytest

import builders
import trustproxy
from test_scenarios import SEEN, _URLs, run_asgi, run_django_asgi
from trustproxy import (
    APPLIED,
    UNTRUSTED_PEER,
    UNVERIFIED_PEER,
    ASGIMiddleware,
    ConfigError,
    Resolver,
    WSGIMiddleware,
)
from trustproxy._config import Options
from trustproxy.cli import main

SECRET = "b6Jq-2f9Xz.origin~Verify"
ENV = "TRUSTPROXY_TEST_ORIGIN_SECRET"
NAME = "X-Origin-Verify"
CLIENT = "203.0.113.9"
XFF = ("X-Forwarded-For", f"6.6.6.6, {CLIENT}")
PROTO = ("X-Forwarded-Proto", "https")
CONFIG: dict[str, Any] = {"trusted": "loopback", "require_headers": {NAME: f"env:{ENV}"}}

Lines = tuple[tuple[str, str], ...]


@pytest.fixture(autouse=True)
def origin_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, SECRET)


class Row(NamedTuple):
    id: str
    peer: str
    lines: Lines
    status: Optional[str]  # None: no forwarding header, nothing resolved
    client: str

    @property
    def refused(self) -> bool:
        """Refused with strict=True (403)."""
        return self.status == UNVERIFIED_PEER


ROWS = [
    Row("right", "127.0.0.1", (XFF, PROTO, (NAME, SECRET)), APPLIED, CLIENT),
    Row("right-name-any-case", "127.0.0.1", (XFF, ("x-ORIGIN-verify", SECRET)), APPLIED, CLIENT),
    Row("right-before-xff", "127.0.0.1", ((NAME, SECRET), XFF), APPLIED, CLIENT),
    Row("absent", "127.0.0.1", (XFF, PROTO), UNVERIFIED_PEER, "127.0.0.1"),
    Row("wrong", "127.0.0.1", (XFF, (NAME, "guess")), UNVERIFIED_PEER, "127.0.0.1"),
    Row("empty", "127.0.0.1", (XFF, (NAME, "")), UNVERIFIED_PEER, "127.0.0.1"),
    Row("prefix-of-secret", "127.0.0.1", (XFF, (NAME, SECRET[:-1])), UNVERIFIED_PEER,
        "127.0.0.1"),
    Row("secret-plus-more", "127.0.0.1", (XFF, (NAME, SECRET + "x")), UNVERIFIED_PEER,
        "127.0.0.1"),
    # RFC 9110 §5.3: repeated lines are one list, "s,s": not the value, whatever order.
    Row("repeated-right", "127.0.0.1", (XFF, (NAME, SECRET), (NAME, SECRET)),
        UNVERIFIED_PEER, "127.0.0.1"),
    Row("repeated-wrong-then-right", "127.0.0.1", (XFF, (NAME, "guess"), (NAME, SECRET)),
        UNVERIFIED_PEER, "127.0.0.1"),
    Row("other-header-has-it", "127.0.0.1", (XFF, ("X-Origin-Verified", SECRET)),
        UNVERIFIED_PEER, "127.0.0.1"),
    Row("untrusted-peer-right", "198.51.100.7", (XFF, (NAME, SECRET)), UNTRUSTED_PEER,
        "198.51.100.7"),
    Row("untrusted-peer-wrong", "198.51.100.7", (XFF, (NAME, "guess")), UNTRUSTED_PEER,
        "198.51.100.7"),
    Row("secret-without-forwarding", "127.0.0.1", ((NAME, SECRET),), None, "127.0.0.1"),
    Row("nothing", "127.0.0.1", (), None, "127.0.0.1"),
]  # fmt: skip

PARAMS = [pytest.param(row, id=row.id) for row in ROWS]
STRICT = [pytest.param(False, id="lenient"), pytest.param(True, id="strict")]


def carries_secret(value: object, row: Row) -> bool:
    """Whether a secret header (its environ key, its scope line, any value it had in the
    request) is anywhere in ``value``."""
    text = repr(value)
    sent = [v for name, v in row.lines if name.lower() == NAME.lower() and v]
    return (
        any(v in text for v in sent)
        or "HTTP_X_ORIGIN_VERIFY" in text
        or "b'x-origin-verify'" in text
    )


def check_resolution(result: Any, row: Row) -> None:
    assert result.status == row.status, result.reason
    assert result.client == row.client
    if row.status == UNVERIFIED_PEER:
        assert "x-origin-verify" in result.reason
        assert "require_headers" in result.reason
    assert SECRET not in repr(result)


def test_secret_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    """The warning for an unverified peer names the header, never a value."""
    caplog.set_level(logging.WARNING, logger="trustproxy")
    middleware = WSGIMiddleware(lambda e, s: [b""], **CONFIG)
    for value in (SECRET, SECRET + "x", SECRET[:-1]):
        middleware(builders.environ("127.0.0.1", [XFF, (NAME, value), (NAME, SECRET)]),
                   lambda *a: None)  # fmt: skip
    assert caplog.records, "an unverified peer is worth a warning"
    assert any("x-origin-verify" in r.getMessage() for r in caplog.records)
    assert not any(SECRET[:8] in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("row", PARAMS)
def test_core(row: Row) -> None:
    resolver = Resolver(**CONFIG)
    result = resolver.resolve(row.peer, row.lines, host="app.example", port=80)
    if row.status is None:
        # The core checks the binding even with nothing to apply (the adapters do not
        # ask it then: the request passes on as it came, less the secret).
        proved = (NAME, SECRET) in row.lines
        assert result.status == (APPLIED if proved else UNVERIFIED_PEER)
        assert result.client == row.peer
        return
    check_resolution(result, row)
    # decide() is the adapters' entry point: same answer from values in read_names order.
    lower = [(name.lower(), value) for name, value in row.lines]
    values = tuple(
        ",".join(v for n, v in lower if n == name) or None for name in resolver.read_names
    )
    decided = resolver.decide(row.peer, values, "http", "app.example", 80, "")
    assert (decided.status, decided.client) == (result.status, result.client)


class WSGIApp:
    def __init__(self) -> None:
        self.environ: Optional[dict[str, Any]] = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environ = environ
        start_response("200 OK", [])
        return [b"ok"]


@pytest.mark.parametrize("strict", STRICT)
@pytest.mark.parametrize("row", PARAMS)
def test_wsgi(row: Row, strict: bool) -> None:
    app = WSGIApp()
    middleware = WSGIMiddleware(app, **CONFIG, strict=strict)
    environ = builders.environ(row.peer, row.lines)
    answered: list[str] = []
    body = b"".join(middleware(environ, lambda status, headers: answered.append(status)))
    if strict and row.refused:
        assert app.environ is None
        assert answered == ["403 Forbidden"]
        assert b"Forbidden" in body
        return
    assert answered == ["200 OK"]
    seen = app.environ
    assert seen is not None
    assert not carries_secret(seen, row)  # the key is gone, orig holds no copy
    assert seen["REMOTE_ADDR"] == row.client
    if row.status is None:
        assert "trustproxy.resolution" not in seen
        return
    check_resolution(seen["trustproxy.resolution"], row)
    assert seen["wsgi.url_scheme"] == ("https" if row.status == APPLIED and PROTO in
                                       row.lines else "http")  # fmt: skip


class ASGIApp:
    def __init__(self) -> None:
        self.scope: Optional[dict[str, Any]] = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope


@pytest.mark.parametrize("strict", STRICT)
@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("row", PARAMS)
def test_asgi(row: Row, kind: str, strict: bool) -> None:
    app = ASGIApp()
    middleware = ASGIMiddleware(app, **CONFIG, strict=strict)
    before = builders.scope(row.peer, row.lines, kind=kind)
    pristine = copy.deepcopy(before)
    sent = run_asgi(middleware, before)
    assert before == pristine  # the server's scope is never edited
    if strict and row.refused:
        assert app.scope is None
        if kind == "websocket":
            assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 1008)]
        else:
            assert sent[0]["status"] == 403
            assert b"Forbidden" in sent[-1]["body"]
        return
    assert sent == []
    seen = app.scope
    assert seen is not None
    assert not carries_secret(seen, row)  # nor in scope["trustproxy.orig"]
    assert seen["client"][0] == row.client
    if row.status is None:
        assert "trustproxy.resolution" not in seen
        if not row.lines:
            assert seen is before
        else:  # only the secret line is gone
            assert seen == {**before, "headers": [before["headers"][0]]}
        return
    check_resolution(seen["trustproxy.resolution"], row)
    # every other line is kept, in order
    kept = [line for line in before["headers"] if b"origin-verify" not in line[0].lower()]
    assert seen["headers"] == kept
    assert seen["trustproxy.orig"]["headers"] == kept


# -- Django ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_settings() -> Iterator[Callable[[bool], Any]]:
    import os
    import sys

    import django
    from django.test import override_settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")
    recipes = str(Path(__file__).resolve().parent.parent / "docs" / "recipes")
    if recipes not in sys.path:
        sys.path.insert(0, recipes)
    django.setup(set_prefix=False)

    def settings_for(strict: bool) -> Any:
        return override_settings(
            TRUSTPROXY={**CONFIG, "strict": strict},
            ROOT_URLCONF=_URLs(),
            ALLOWED_HOSTS=["*"],
            MIDDLEWARE=["trustproxy.django.TrustProxyMiddleware"],
        )

    yield settings_for


def check_django_request(row: Row) -> None:
    (request,) = SEEN
    assert not carries_secret(request.META, row)
    assert NAME not in request.headers
    assert request.META["REMOTE_ADDR"] == row.client
    if row.status is None:
        assert "trustproxy.resolution" not in request.META
    else:
        check_resolution(request.META["trustproxy.resolution"], row)
    scope = getattr(request, "scope", None)
    if scope is not None:
        assert not carries_secret(scope, row)


@pytest.mark.parametrize("strict", STRICT)
@pytest.mark.parametrize("row", PARAMS)
def test_django_wsgi(row: Row, strict: bool, django_settings: Callable[[bool], Any]) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    SEEN.clear()
    statuses: list[str] = []
    with django_settings(strict):
        response = WSGIHandler()(
            builders.environ(row.peer, row.lines), lambda s, h, e=None: statuses.append(s)
        )
        body = b"".join(response)
        response.close()
    if strict and row.refused:
        assert statuses == ["403 Forbidden"]
        assert b"Forbidden" in body and SEEN == []
        return
    assert (statuses, body) == (["200 OK"], b"ok")
    check_django_request(row)


@pytest.mark.parametrize("strict", STRICT)
@pytest.mark.parametrize("row", PARAMS)
def test_django_asgi(row: Row, strict: bool, django_settings: Callable[[bool], Any]) -> None:
    from django.core.handlers.asgi import ASGIHandler

    SEEN.clear()
    before = builders.scope(row.peer, row.lines)
    pristine = copy.deepcopy(before)
    with django_settings(strict):
        status, _, body = run_django_asgi(ASGIHandler(), before)
    assert before == pristine
    if strict and row.refused:
        assert status == 403
        assert b"Forbidden" in body and SEEN == []
        return
    assert (status, body) == (200, b"ok")
    check_django_request(row)


# -- the command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [(SECRET, APPLIED, 0), ("guess", UNVERIFIED_PEER, 1), (None, UNVERIFIED_PEER, 1)],
    ids=["right", "wrong", "absent"],
)
@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_explain_hides_secret(
    value: Optional[str],
    status: str,
    code: int,
    json_out: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["explain", "--peer", "127.0.0.1", "-H", f"X-Forwarded-For: {CLIENT}"]
    if value is not None:
        argv += ["-H", f"{NAME}: {value}"]
    argv += ["--require-header", f"{NAME}: env:{ENV}"] + (["--json"] if json_out else [])
    assert main(argv) == code
    out = capsys.readouterr().out
    assert status in out
    assert SECRET not in out and "guess" not in out
    shown = "<hidden>" if value is not None else "(not in the request)"
    if json_out:
        assert '"require_headers": {\n      "x-origin-verify": "<hidden>"' in out
        assert ('"value": "<hidden>"' in out) == (value is not None)
    else:
        assert f"required header: x-origin-verify: {shown}" in out


def test_explain_missing_env_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV)
    argv = ["explain", "--peer", "127.0.0.1", "--require-header", f"{NAME}: env:{ENV}"]
    assert main(argv) == 2
    assert f"environment variable {ENV} is not set" in capsys.readouterr().err


def test_whoami_hides_secret() -> None:
    from trustproxy._whoami import whoami

    page = whoami(Resolver(**CONFIG), "127.0.0.1", [XFF, (NAME, SECRET)])
    assert SECRET not in repr(page)
    assert [NAME, "<hidden>"] in page["headers"]  # type: ignore[operator]


# -- configuration -----------------------------------------------------------------------


def test_values_from_literal_env_and_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")  # as `docker secret` / a Kubernetes Secret volume
    for spec in (SECRET, f"env:{ENV}", f"file:{path}"):
        resolver = Resolver(require_headers={NAME: spec})
        assert resolver.resolve("127.0.0.1", [XFF, (NAME, SECRET)]).status == APPLIED, spec
        assert resolver.resolve("127.0.0.1", [XFF, (NAME, "x")]).status == UNVERIFIED_PEER


def test_several_headers_all_required() -> None:
    resolver = Resolver(require_headers={NAME: SECRET, "X-Azure-FDID": "a-guid"})
    both = [XFF, (NAME, SECRET), ("X-Azure-FDID", "a-guid")]
    assert resolver.resolve("127.0.0.1", both).status == APPLIED
    for dropped in (1, 2):
        lines = [line for i, line in enumerate(both) if i != dropped]
        assert resolver.resolve("127.0.0.1", lines).status == UNVERIFIED_PEER


def test_repr_never_shows_the_secret() -> None:
    texts = [
        repr(Options(require_headers={NAME: SECRET})),
        repr(Resolver(require_headers={NAME: SECRET}).options),
        repr(WSGIMiddleware(WSGIApp(), require_headers={NAME: SECRET})),
        repr(ASGIMiddleware(ASGIApp(), require_headers={NAME: SECRET})),
    ]
    for text in texts:
        assert SECRET not in text
    assert "'x-origin-verify': '<hidden>'" in texts[0]


def test_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison is hmac.compare_digest's (time independent of where it differs)."""
    import trustproxy._tenant as tenant

    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(tenant.hmac, "compare_digest", spy)
    guess = "g" * len(SECRET)
    Resolver(require_headers={NAME: SECRET}).resolve("127.0.0.1", [XFF, (NAME, guess)])
    assert calls == [(guess.encode(), SECRET.encode())]


def test_work_bounded_by_the_secret_not_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1 MB header is neither encoded nor compared: only a value of the secret's length
    reaches compare_digest."""
    import trustproxy._tenant as tenant

    calls: list[int] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(len(a))
        return a == b

    monkeypatch.setattr(tenant.hmac, "compare_digest", spy)
    resolver = Resolver(require_headers={NAME: SECRET})
    huge = resolver.resolve("127.0.0.1", [XFF, (NAME, "x" * 1_000_000)])
    assert huge.status == UNVERIFIED_PEER and calls == []
    resolver.resolve("127.0.0.1", [XFF, (NAME, "y" * len(SECRET))])
    assert calls == [len(SECRET)]


def _missing_file(tmp_path: Path) -> dict[str, Any]:
    return {"require_headers": {NAME: f"file:{tmp_path / 'nope'}"}}


def _empty_file(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "empty").write_text("\n")
    return {"require_headers": {NAME: f"file:{tmp_path / 'empty'}"}}


BAD: list[Any] = [
    ({"require_headers": {NAME: "env:TRUSTPROXY_TEST_UNSET"}},
     "environment variable TRUSTPROXY_TEST_UNSET is not set; set it"),
    ({"require_headers": {NAME: "env:"}}, "names no environment variable"),
    (_missing_file, "cannot be read (FileNotFoundError"),
    (_empty_file, "is empty"),
    ({"require_headers": {NAME: ""}}, "the value is empty"),
    ({"require_headers": {NAME: " padded"}}, "whitespace"),
    ({"require_headers": {NAME: "a,b"}}, "comma"),
    ({"require_headers": {NAME: "a\nb"}}, "control or non-ASCII"),
    ({"require_headers": {NAME: "caf\u00e9"}}, "control or non-ASCII"),
    ({"require_headers": {NAME: 42}}, "must be a string"),
    ({"require_headers": {"X_Origin_Verify": SECRET}}, "is not a header name"),
    ({"require_headers": {"": SECRET}}, "is not a header name"),
    ({"require_headers": {"X-Forwarded-For": SECRET}}, "cannot carry a secret"),
    ({"require_headers": {"Host": SECRET}}, "cannot carry a secret"),
    ({"require_headers": {"Forwarded": SECRET}, "headers": "x-forwarded"},
     "cannot carry a secret"),
    ({"require_headers": {"CF-Connecting-IP": SECRET}, "headers": "cf-connecting-ip"},
     "cannot carry a secret"),
    ({"require_headers": {NAME: SECRET, NAME.lower(): SECRET}}, "twice"),
    ({"require_headers": [NAME, SECRET]}, "must be a dict"),
]  # fmt: skip


@pytest.mark.parametrize(("config", "message"), BAD, ids=[b[1] for b in BAD])
def test_bad_configuration(config: Any, message: str, tmp_path: Path) -> None:
    kwargs = config(tmp_path) if callable(config) else config
    for build in (
        lambda: Options(**kwargs),
        lambda: WSGIMiddleware(WSGIApp(), **kwargs),
        lambda: ASGIMiddleware(ASGIApp(), **kwargs),
        lambda: Options.from_mapping(kwargs, "settings.TRUSTPROXY"),
    ):
        with pytest.raises(ConfigError, match="require_headers") as caught:
            build()
        assert message in str(caught.value)
        assert SECRET not in str(caught.value)


def test_options_and_require_headers_both_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        WSGIMiddleware(WSGIApp(), options=Options(), require_headers={NAME: SECRET})


def test_off_by_default() -> None:
    resolver = Resolver()
    assert resolver.required_names == () and resolver.read_names == resolver.header_names
    assert resolver.resolve("127.0.0.1", [XFF]).status == APPLIED
    assert trustproxy.UNVERIFIED_PEER == "unverified-peer"
