"""The configuration ``whoami`` suggests from one request (a pure function)."""

from __future__ import annotations

import ast
import asyncio
import ipaddress
import shlex
from typing import Any, Callable, NamedTuple, Optional, Union

import pytest

import builders
import trustproxy
from trustproxy import Resolver
from trustproxy._config import Options
from trustproxy._suggest import FORMS, suggest

XFF = "X-Forwarded-For"


@pytest.mark.parametrize(
    ("peer", "lines", "proxies", "client", "trusted", "network", "hops"),
    [
        pytest.param("127.0.0.1", [], (), "127.0.0.1", (), None, None, id="direct-no-proxy"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9")], ("10.0.0.3",), "203.0.113.9",
                     ("10.0.0.3",), None, 1, id="one-proxy"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9, 10.0.0.7")], ("10.0.0.3", "10.0.0.7"),
                     "203.0.113.9", ("10.0.0.3", "10.0.0.7"), "10.0.0.0/29", 2,
                     id="two-proxies-common-network"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9"), (XFF, "10.0.1.7")],
                     ("10.0.0.3", "10.0.1.7"), "203.0.113.9", ("10.0.0.3", "10.0.1.7"),
                     None, 2, id="two-lines-joined-no-network-wider-than-24"),
        pytest.param("10.0.0.3", [(XFF, "10.0.0.5, 10.0.0.7")], ("10.0.0.3", "10.0.0.7"),
                     "10.0.0.5", ("10.0.0.3", "10.0.0.7"), None, 2,
                     id="no-network-when-client-inside"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9, 172.16.5.1")], ("10.0.0.3", "172.16.5.1"),
                     "203.0.113.9", ("10.0.0.3", "172.16.5.1"), None, 2,
                     id="no-network-across-private-ranges"),
        pytest.param("127.0.0.1", [(XFF, "203.0.113.9, 127.0.0.1")],
                     ("127.0.0.1", "127.0.0.1"), "203.0.113.9", ("127.0.0.1",), None, 2,
                     id="same-proxy-twice-deduplicated"),
        pytest.param("::1", [(XFF, "2001:db8::1, [::ffff:10.0.0.7]:80")], ("::1", "10.0.0.7"),
                     "2001:db8::1", ("::1", "10.0.0.7"), None, 2, id="ipv6-and-mapped"),
        pytest.param("10.0.0.3", [("X-Real-IP", "203.0.113.9")], ("10.0.0.3",), "203.0.113.9",
                     ("10.0.0.3",), None, None, id="x-real-ip-only"),
        pytest.param(None, [(XFF, "203.0.113.9")], ("unix",), "203.0.113.9", ("unix",), None, 1,
                     id="unix-socket-peer"),
    ],
)  # fmt: skip
def test_suggest(
    peer: Optional[str],
    lines: list[tuple[str, str]],
    proxies: tuple[str, ...],
    client: Optional[str],
    trusted: tuple[str, ...],
    network: Optional[str],
    hops: Optional[int],
) -> None:
    result = suggest(peer, lines)
    assert result.proxies == proxies
    assert result.client == client
    assert result.trusted == trusted
    assert result.network == network
    assert result.hops == hops
    if proxies:
        assert f"{len(proxies)} prox" in result.summary
        assert "your own browser" in result.caveats[0]


def test_suggested_configuration_resolves_the_same_request_to_the_client() -> None:
    lines = [(XFF, "6.6.6.6, 203.0.113.9, 10.0.0.7")]
    # The user's request: what arrived is honest, the client is the leftmost.
    honest = [(XFF, "203.0.113.9, 10.0.0.7")]
    proposal = suggest("10.0.0.3", honest)
    assert proposal.config == "trusted=['10.0.0.3', '10.0.0.7'], fields=['for']"
    resolver = Resolver(trusted=list(proposal.trusted))
    # ...and a forged item prepended by some other client changes nothing.
    assert resolver.resolve("10.0.0.3", lines).client == "203.0.113.9"
    assert Resolver(trusted="*", hops=proposal.hops).resolve("10.0.0.3", lines).client == (
        "203.0.113.9"
    )


@pytest.mark.parametrize(
    ("peer", "lines", "caveat"),
    [
        pytest.param("10.0.0.3", [(XFF, "10.1.1.1")], "is on a private network",
                     id="private-client"),
        pytest.param("198.51.100.7", [(XFF, "203.0.113.9")], "are public", id="public-proxy"),
        pytest.param("10.0.0.3", [(XFF, "unknown")], "is not an address", id="obfuscated-client"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9"), ("Forwarded", "for=203.0.113.9")],
                     "both are read and cross-checked", id="forwarded-present-and-agrees"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9, junk")], "'junk' is not an address",
                     id="junk-proxy-item"),
    ],
)  # fmt: skip
def test_caveats(peer: str, lines: list[tuple[str, str]], caveat: str) -> None:
    assert any(caveat in text for text in suggest(peer, lines).caveats)


def test_junk_proxy_item_gives_no_config_to_paste() -> None:
    assert suggest("10.0.0.3", [(XFF, "203.0.113.9, junk")]).config == ""


# --- a complete configuration, in every form (issue 14, item 3) ---

# A Cloudflare address (its published 173.245.48.0/20); no traffic is sent to it.
CLOUDFLARE_PEER = "173.245.48.5"


class Shape(NamedTuple):
    """One chain shape: what arrived, and what the suggestion must make of it."""

    peer: str
    lines: list[tuple[str, str]]
    client: str
    headers: Union[str, tuple[str, str]]
    fields: tuple[str, ...]
    config: str
    flag: Optional[str] = None
    scheme: str = "http"
    prefix: str = ""
    peer_trusted: Optional[bool] = None


SHAPES = {
    "one-proxy-on-loopback": Shape(
        "127.0.0.1", [(XFF, "203.0.113.9"), ("X-Forwarded-Proto", "https")], "203.0.113.9",
        "x-forwarded", ("for", "proto"), "trusted=['127.0.0.1'], fields=['for', 'proto']",
        scheme="https",
    ),
    "two-proxies": Shape(
        "10.0.0.3", [(XFF, "203.0.113.9, 10.0.0.7"), ("X-Forwarded-Proto", "https, http")],
        "203.0.113.9", "x-forwarded", ("for", "proto"),
        "trusted=['10.0.0.3', '10.0.0.7'], fields=['for', 'proto']", scheme="https",
    ),
    "cdn-single-address-header": Shape(
        CLOUDFLARE_PEER, [("CF-Connecting-IP", "203.0.113.9"), (XFF, "203.0.113.9")],
        "203.0.113.9", "cf-connecting-ip", ("for",),
        "trusted=['cloudflare'], fields=['for'], headers='cf-connecting-ip'",
    ),
    "x-real-ip-only": Shape(
        "10.0.0.3", [("X-Real-IP", "203.0.113.9")], "203.0.113.9", "x-real-ip", ("for",),
        "trusted=['10.0.0.3'], fields=['for'], headers='x-real-ip'",
    ),
    "forwarded-only": Shape(
        "10.0.0.3", [("Forwarded", 'for=203.0.113.9;proto=https;host="app.example"')],
        "203.0.113.9", "forwarded", ("for", "proto", "host"),
        "trusted=['10.0.0.3'], fields=['for', 'proto', 'host'], headers='forwarded'",
        scheme="https",
    ),
    "both-families-agree": Shape(
        "10.0.0.3",
        [("Forwarded", "for=203.0.113.9;proto=https, for=10.0.0.7"),
         (XFF, "203.0.113.9, 10.0.0.7"), ("X-Forwarded-Proto", "https")],
        "203.0.113.9", ("forwarded", "x-forwarded"), ("for", "proto"),
        "trusted=['10.0.0.3', '10.0.0.7'], fields=['for', 'proto'],"
        " headers=('forwarded', 'x-forwarded')",
        flag="X-Forwarded-Proto has 1 item for 2 proxies", scheme="https",
    ),
    "both-families-disagree": Shape(
        "127.0.0.1", [("Forwarded", "for=127.0.0.1"), (XFF, "203.0.113.9")], "203.0.113.9",
        "x-forwarded", ("for",), "trusted=['127.0.0.1'], fields=['for']",
        flag="and X-Forwarded-For (203.0.113.9) disagree",
    ),
    "prefix-present": Shape(
        "127.0.0.1",
        [(XFF, "203.0.113.9"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Prefix", "/app")],
        "203.0.113.9", "x-forwarded", ("for", "proto", "prefix"),
        "trusted=['127.0.0.1'], fields=['for', 'proto', 'prefix']", scheme="https",
        prefix="/app",
    ),
    "port-with-fewer-items": Shape(
        "10.0.0.3", [(XFF, "203.0.113.9, 10.0.0.7"), ("X-Forwarded-Port", "8443")],
        "203.0.113.9", "x-forwarded", ("for", "port"),
        "trusted=['10.0.0.3', '10.0.0.7'], fields=['for', 'port']",
        flag="X-Forwarded-Port has 1 item for 2 proxies: not every proxy appends to it."
        " trustproxy reads it hop-aligned with the client, so with fewer items it takes the"
        " leftmost one",
    ),
    "public-balancer-prefers-hops": Shape(
        "198.51.100.7", [(XFF, "203.0.113.9")], "203.0.113.9", "x-forwarded", ("for",),
        "trusted='*', hops=1, fields=['for']",
    ),
}  # fmt: skip

PRE_APPLIED = Shape(
    "203.0.113.9", [(XFF, "203.0.113.9")], "203.0.113.9", "x-forwarded", ("for",), "",
    flag="uvicorn with --no-proxy-headers", peer_trusted=False,
)  # fmt: skip


@pytest.mark.parametrize("shape", [*SHAPES.values(), PRE_APPLIED], ids=[*SHAPES, "pre-applied"])
def test_suggestion_is_complete(shape: Shape) -> None:
    proposal = suggest(shape.peer, shape.lines, peer_trusted=shape.peer_trusted)
    assert proposal.client == shape.client
    assert proposal.headers == shape.headers
    assert proposal.fields == shape.fields
    assert proposal.config == shape.config
    if shape.flag is None:
        assert proposal.flags == ()
    else:
        assert any(shape.flag in flag for flag in proposal.flags), proposal.flags
    if shape.config:
        assert [label for label, _ in proposal.forms] == [
            label for label in FORMS
            if (label != "ProxyFix" or shape.headers == "x-forwarded")
            and (label != "gunicorn" or shape.headers != "cf-connecting-ip")
        ]  # fmt: skip
        assert proposal.chain[0].startswith(f"client {shape.client}")
        assert proposal.chain[-1] == "→ app"
    else:
        assert proposal.forms == ()


def _call(text: str, name: str) -> dict[str, Any]:
    """The keywords of the one ``trustproxy.<name>(app, ...)`` call in a snippet."""
    calls = [
        node for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "trustproxy"
    ]  # fmt: skip
    assert len(calls) == 1 and calls[0].func.attr == name  # type: ignore[attr-defined]
    assert len(calls[0].args) == 1
    return {str(kw.arg): ast.literal_eval(kw.value) for kw in calls[0].keywords}


def _wsgi(middleware: Callable[..., Any], shape: Shape) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    list(middleware(app)(builders.environ(shape.peer, shape.lines), lambda *a: None))
    return seen


def _asgi(middleware: Callable[..., Any], shape: Shape) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(middleware(app)(builders.scope(shape.peer, shape.lines), receive, send))
    return seen


def _forms(shape: Shape) -> dict[str, str]:
    forms = dict(suggest(shape.peer, shape.lines, peer_trusted=shape.peer_trusted).forms)
    assert forms, "a configuration was suggested"
    return forms


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_every_form_builds_and_resolves_the_request_it_was_made_from(shape: Shape) -> None:
    forms = _forms(shape)
    kwargs = _call(forms["WSGI"], "WSGIMiddleware")
    assert _call(forms["ASGI"], "ASGIMiddleware") == kwargs
    environ = _wsgi(lambda app: trustproxy.WSGIMiddleware(app, **kwargs), shape)
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == (shape.client, shape.scheme)
    assert environ["SCRIPT_NAME"] == shape.prefix
    scope = _asgi(lambda app: trustproxy.ASGIMiddleware(app, **kwargs), shape)
    assert (scope["client"][0], scope["scheme"], scope["root_path"]) == (
        shape.client, shape.scheme, shape.prefix,
    )  # fmt: skip
    # Django: the two lines run as a settings module would run them.
    settings: dict[str, Any] = {"MIDDLEWARE": ["django.middleware.common.CommonMiddleware"]}
    exec(compile(forms["Django"], "settings.py", "exec"), settings)
    assert settings["MIDDLEWARE"][0] == "trustproxy.django.TrustProxyMiddleware"
    assert settings["TRUSTPROXY"] == kwargs
    options = Options.from_mapping(settings["TRUSTPROXY"], "TRUSTPROXY")
    assert Resolver(options).resolve(shape.peer, shape.lines).client == shape.client
    if "ProxyFix" in forms:
        counts = _call(forms["ProxyFix"], "ProxyFix")
        assert set(counts) == {"x_for", "x_proto", "x_host", "x_port", "x_prefix", "trusted"}
        assert counts["trusted"] == kwargs["trusted"]
        fixed = _wsgi(lambda app: trustproxy.ProxyFix(app, **counts), shape)
        assert (fixed["REMOTE_ADDR"], fixed["wsgi.url_scheme"]) == (shape.client, shape.scheme)
        assert fixed["SCRIPT_NAME"] == shape.prefix
        if counts["trusted"] != "*":  # the peer check: from a stranger nothing changes
            stranger = shape._replace(peer="198.51.100.99")
            direct = _wsgi(lambda app: trustproxy.ProxyFix(app, **counts), stranger)
            assert direct["REMOTE_ADDR"] == "198.51.100.99"


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_server_flags_are_what_the_servers_parse(shape: Shape) -> None:
    forms = _forms(shape)
    uvicorn = pytest.importorskip("uvicorn.main")
    argv = shlex.split(forms["uvicorn"])
    assert argv[0] == "uvicorn"
    context = uvicorn.main.make_context("uvicorn", argv[1:])
    # trustproxy's middleware reads the headers: uvicorn must leave the peer alone.
    assert context.params["proxy_headers"] is False
    if "gunicorn" in forms:
        config = pytest.importorskip("gunicorn.config").Config()
        argv = shlex.split(forms["gunicorn"])
        assert argv[0] == "gunicorn"
        parsed = config.parser().parse_args(argv[1:])
        config.set("forwarded_allow_ips", parsed.forwarded_allow_ips)
        allowed = config.forwarded_allow_ips
        trusted = _call(forms["WSGI"], "WSGIMiddleware")["trusted"]
        assert allowed == (["*"] if trusted == "*" else trusted)
        for entry in allowed:
            assert entry == "*" or ipaddress.ip_address(entry)


# Every chain of a list header has an alternative (a hop count, or the exact addresses);
# a single-address header has no hops.
LISTED = {k: s for k, s in SHAPES.items() if s.headers not in ("cf-connecting-ip", "x-real-ip")}


@pytest.mark.parametrize("shape", LISTED.values(), ids=LISTED.keys())
def test_the_alternative_builds_and_resolves_the_same_client(shape: Shape) -> None:
    proposal = suggest(shape.peer, shape.lines)
    kwargs = _call(f"trustproxy.WSGIMiddleware(app, {proposal.alternative})", "WSGIMiddleware")
    assert set(kwargs) >= {"trusted", "fields"}
    assert (
        Resolver(**{k: v for k, v in kwargs.items()}).resolve(shape.peer, shape.lines).client
        == shape.client
    )


@pytest.mark.parametrize(
    ("peer", "lines", "caveat", "absent"),
    [
        pytest.param("127.0.0.1", [(XFF, "203.0.113.9")],
                     "127.0.0.1 is loopback: a proxy on this same machine", "private network",
                     id="loopback-proxy"),
        pytest.param("10.0.0.3", [(XFF, "127.0.0.1")], "the client 127.0.0.1 is loopback",
                     "private network", id="loopback-client"),
        pytest.param("10.0.0.3", [(XFF, "10.1.1.1")], "is on a private network", "loopback",
                     id="private-client-not-loopback"),
    ],
)  # fmt: skip
def test_loopback_is_called_loopback(
    peer: str, lines: list[tuple[str, str]], caveat: str, absent: str
) -> None:
    caveats = suggest(peer, lines).caveats
    assert any(caveat in text for text in caveats), caveats
    assert not any(absent in text for text in caveats[1:]), caveats


def test_a_trusted_peer_equal_to_the_rightmost_item_is_not_flagged() -> None:
    # curl on the proxy's own machine: peer and X-Forwarded-For are both 127.0.0.1.
    proposal = suggest("127.0.0.1", [(XFF, "127.0.0.1")], peer_trusted=True)
    assert proposal.flags == ()
    assert proposal.trusted == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param([("Forwarded", "for=_hidden;proto=https")],
                     "nothing suggested: the Forwarded header's for= nodes", id="forwarded-only"),
        pytest.param([("Forwarded", "for=unknown"), (XFF, "203.0.113.9")],
                     "1 proxy seen: 10.0.0.3", id="forwarded-next-to-x-forwarded-for"),
    ],
)  # fmt: skip
def test_forwarded_that_cannot_be_walked(lines: list[tuple[str, str]], expected: str) -> None:
    proposal = suggest("10.0.0.3", lines)
    assert proposal.summary.startswith(expected)
    if proposal.config:
        assert any("for= nodes are not all addresses" in flag for flag in proposal.flags)
        assert proposal.headers == "x-forwarded"


def test_the_cli_page_shows_the_forms_whoami_prints() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    block = page.split("```text\nWSGI ", 1)[1].split("```", 1)[0]
    lines = [(XFF, "203.0.113.9, 10.0.0.7"), ("X-Forwarded-Proto", "https")]
    expected = []
    for label, text in suggest("10.0.0.3", lines).forms:
        first, *rest = text.split("\n")
        expected.append(f"{label:<9} {first}")
        expected.extend(f"{'':<9} {line}" for line in rest)
    assert ("WSGI " + block).rstrip("\n").split("\n") == expected


def test_recognising_cloudflare_never_warns_of_a_stale_preset(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """whoami only recognises Cloudflare's edges; the stale-preset warning is for a
    configuration that trusts the preset, so an old snapshot must not greet every
    `trustproxy whoami` (it did once the shipped snapshot was 90 days old)."""
    import datetime
    import importlib
    import logging

    import trustproxy._suggest_chain as chain
    import trustproxy.presets as presets

    monkeypatch.setattr(presets, "_today", lambda: datetime.date(2099, 1, 1))
    monkeypatch.setattr(presets, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        importlib.reload(chain)
        assert chain._CLOUDFLARE.peer("173.245.48.1").trusted_by is not None  # still known
        assert not caplog.records, [record.getMessage() for record in caplog.records]
        trustproxy.TrustPolicy("cloudflare")  # trusting it does warn
    assert len(caplog.records) == 1 and "'cloudflare'" in caplog.records[0].getMessage()
