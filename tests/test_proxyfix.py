"""``trustproxy.ProxyFix``: werkzeug's semantics, and each documented departure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustproxy import ConfigError, ProxyFix
from trustproxy._address import parse_node
from trustproxy._memo import MEMO_KEY_LENGTH
from trustproxy._values import host_port, valid_prefix

Environ = dict[str, Any]
ALL = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1, "x_prefix": 1}
BASE: Environ = {
    "REMOTE_ADDR": "10.0.0.3",
    "wsgi.url_scheme": "http",
    "HTTP_HOST": "app.example",
    "SERVER_NAME": "app.example",
    "SERVER_PORT": "80",
    "SCRIPT_NAME": "/base",
}


def run(headers: dict[str, str], base: Optional[Environ] = None, **counts: int) -> Environ:
    seen: list[Environ] = []

    def app(environ: Environ, start_response: object) -> Iterable[bytes]:
        seen.append(environ)
        return []

    environ = dict(BASE if base is None else base)
    environ.update(headers)
    ProxyFix(app, **counts)(environ, lambda status, headers: None)
    assert len(seen) == 1
    return seen[0]


# --- construction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(-1, id="negative picks from the left in werkzeug"),
        pytest.param(1.0, id="float"),
        pytest.param("1", id="str"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="None"),
    ],
)
@pytest.mark.parametrize("name", ["x_for", "x_proto", "x_host", "x_port", "x_prefix"])
def test_bad_counts_raise_config_error(name: str, value: object) -> None:
    with pytest.raises(ConfigError, match=name):
        ProxyFix(lambda e, s: [], **{name: value})  # type: ignore[arg-type]


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        ProxyFix(lambda e, s: [], x_for=-2)


def test_constructor_matches_werkzeug_defaults_and_attributes() -> None:
    def app(environ: Environ, start_response: object) -> Iterable[bytes]:
        return []

    fix = ProxyFix(app)
    assert (fix.app, fix.x_for, fix.x_proto, fix.x_host, fix.x_port, fix.x_prefix) == (
        app,
        1,
        1,
        0,
        0,
        0,
    )
    positional = ProxyFix(app, 2, 0, 1, 1, 1)
    assert (positional.x_for, positional.x_proto, positional.x_host) == (2, 0, 1)
    assert (positional.x_port, positional.x_prefix) == (1, 1)
    assert "x_for=2" in repr(positional)


def test_docstring_warns_that_the_peer_is_not_checked() -> None:
    doc = ProxyFix.__doc__ or ""
    assert "does **not** check the connecting peer" in doc
    assert "WSGIMiddleware" in doc and "trusted=" in doc


# --- werkzeug's semantics -------------------------------------------------------------


def test_original_values_are_kept_on_every_request() -> None:
    environ = run({}, base={"REMOTE_ADDR": "10.0.0.3", "wsgi.url_scheme": "http"})
    assert environ["werkzeug.proxy_fix.orig"] == {
        "REMOTE_ADDR": "10.0.0.3",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": None,
        "SERVER_NAME": None,
        "SERVER_PORT": None,
        "SCRIPT_NAME": None,
    }


@pytest.mark.parametrize(
    ("counts", "headers", "expected"),
    [
        pytest.param(
            {"x_for": 2},
            {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7, 10.0.0.2"},
            {"REMOTE_ADDR": "203.0.113.7"},
            id="for: second from the right",
        ),
        pytest.param(
            {"x_for": 4},
            {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7, 10.0.0.2"},
            {},
            id="for: fewer values than the count, nothing",
        ),
        pytest.param(
            {"x_for": 0},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7"},
            {},
            id="for: 0 is off",
        ),
        pytest.param(
            {"x_for": 2},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, , 10.0.0.2"},
            {},
            id="for: an empty value counts and is not applied",
        ),
        pytest.param(
            {"x_for": 3},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, , 10.0.0.2"},
            {"REMOTE_ADDR": "203.0.113.7"},
            id="for: counted past an empty value",
        ),
        pytest.param(
            {"x_for": 1, "x_proto": 2},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "HTTP_X_FORWARDED_PROTO": "https,http"},
            {"REMOTE_ADDR": "203.0.113.7", "wsgi.url_scheme": "https"},
            id="each header has its own count",
        ),
        pytest.param(
            {"x_host": 1},
            {"HTTP_X_FORWARDED_HOST": "eggs.example"},
            {"HTTP_HOST": "eggs.example", "SERVER_NAME": "eggs.example"},
            id="host without port keeps SERVER_PORT",
        ),
        pytest.param(
            {"x_host": 1},
            {"HTTP_X_FORWARDED_HOST": "eggs.example:8443"},
            {
                "HTTP_HOST": "eggs.example:8443",
                "SERVER_NAME": "eggs.example",
                "SERVER_PORT": "8443",
            },
            id="host with port sets SERVER_PORT",
        ),
        pytest.param(
            {"x_host": 1},
            {"HTTP_X_FORWARDED_HOST": "[2001:db8::a]"},
            {"HTTP_HOST": "[2001:db8::a]", "SERVER_NAME": "[2001:db8::a]"},
            id="host: IPv6 literal without port",
        ),
        pytest.param(
            {"x_host": 1},
            {"HTTP_X_FORWARDED_HOST": "[2001:db8::a]:8443"},
            {
                "HTTP_HOST": "[2001:db8::a]:8443",
                "SERVER_NAME": "[2001:db8::a]",
                "SERVER_PORT": "8443",
            },
            id="host: IPv6 literal with port",
        ),
        pytest.param(
            {"x_port": 1},
            {"HTTP_X_FORWARDED_PORT": "8080"},
            {"HTTP_HOST": "app.example:8080", "SERVER_PORT": "8080"},
            id="port appended to Host",
        ),
        pytest.param(
            {"x_port": 1},
            {"HTTP_HOST": "[::1]:9000", "HTTP_X_FORWARDED_PORT": "8080"},
            {"HTTP_HOST": "[::1]:8080", "SERVER_PORT": "8080"},
            id="port replaces the port of an IPv6 Host",
        ),
        pytest.param(
            {"x_host": 1, "x_port": 1},
            {"HTTP_X_FORWARDED_HOST": "eggs.example:9000", "HTTP_X_FORWARDED_PORT": "443"},
            {"HTTP_HOST": "eggs.example:443", "SERVER_NAME": "eggs.example", "SERVER_PORT": "443"},
            id="port applies after host",
        ),
        pytest.param(
            {"x_prefix": 1},
            {"HTTP_X_FORWARDED_PREFIX": "/ham"},
            {"SCRIPT_NAME": "/ham"},
            id="prefix replaces SCRIPT_NAME",
        ),
    ],
)
def test_werkzeug_semantics(
    counts: dict[str, int], headers: dict[str, str], expected: dict[str, str]
) -> None:
    environ = run(headers, **counts)
    for key, value in BASE.items():
        assert environ[key] == expected.get(key, value), key


@pytest.mark.parametrize(
    ("counts", "headers", "server_name"),
    [
        pytest.param({"x_port": 1}, {"HTTP_X_FORWARDED_PORT": "443"}, "internal", id="port"),
        pytest.param(
            {"x_host": 1, "x_port": 1},
            {"HTTP_X_FORWARDED_HOST": "eggs.example", "HTTP_X_FORWARDED_PORT": "443"},
            "eggs.example",
            id="host-and-port",
        ),
    ],
)
def test_server_name_follows_only_the_forwarded_host(
    counts: dict[str, int], headers: dict[str, str], server_name: str
) -> None:
    """werkzeug sets SERVER_NAME from X-Forwarded-Host only: a Host rebuilt with
    X-Forwarded-Port alone leaves it as the server had it (here unlike the Host's name)."""
    from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

    base = {**BASE, "SERVER_NAME": "internal"}
    ours = run(headers, base=base, **counts)
    theirs = {**base, **headers}
    WerkzeugProxyFix(lambda e, s: [], **counts)(theirs, None)  # type: ignore[arg-type]
    assert ours["SERVER_NAME"] == theirs["SERVER_NAME"] == server_name
    host = "eggs.example" if "x_host" in counts else "app.example"
    assert ours["HTTP_HOST"] == theirs["HTTP_HOST"] == f"{host}:443"


def test_port_without_host_sets_only_server_port() -> None:
    base = {k: v for k, v in BASE.items() if k != "HTTP_HOST"}
    environ = run({"HTTP_X_FORWARDED_PORT": "8080"}, base=base, x_port=1)
    assert environ["SERVER_PORT"] == "8080"
    assert "HTTP_HOST" not in environ


def test_counts_changed_after_requests_take_effect_like_werkzeug() -> None:
    seen: list[Environ] = []
    fix = ProxyFix(lambda environ, start_response: seen.append(environ) or [])
    headers = {"HTTP_X_FORWARDED_HOST": "eggs.example", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for x_host in (0, 1, 0):
        fix.x_host = x_host
        fix({**BASE, **headers}, lambda s, h: None)
    assert [environ["HTTP_HOST"] for environ in seen] == [
        "app.example",
        "eggs.example",
        "app.example",
    ]
    assert {environ["REMOTE_ADDR"] for environ in seen} == {"203.0.113.7"}


def test_counts_set_later_are_validated() -> None:
    fix = ProxyFix(lambda environ, start_response: [])
    with pytest.raises(ConfigError, match="x_prefix"):
        fix.x_prefix = -1
    assert fix.x_prefix == 0


def test_a_remembered_result_is_not_shared_between_requests() -> None:
    seen: list[Environ] = []
    fix = ProxyFix(lambda environ, start_response: seen.append(environ) or [], x_port=1)
    for host in ("a.example", "b.example:9000", "a.example"):
        fix({**BASE, "HTTP_HOST": host, "HTTP_X_FORWARDED_PORT": "8080"}, lambda s, h: None)
    assert [environ["HTTP_HOST"] for environ in seen] == [
        "a.example:8080",
        "b.example:8080",
        "a.example:8080",
    ]
    seen[0]["werkzeug.proxy_fix.orig"]["HTTP_HOST"] = "changed"
    assert seen[2]["werkzeug.proxy_fix.orig"]["HTTP_HOST"] == "a.example"


# --- departures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "headers", "key", "expected"),
    [
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "2001:DB8::1"},
            "REMOTE_ADDR",
            "2001:db8::1",
            id="for: IPv6 lower-cased",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "[2001:db8::1]:4711"},
            "REMOTE_ADDR",
            "2001:db8::1",
            id="for: brackets and port dropped",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7:4711"},
            "REMOTE_ADDR",
            "203.0.113.7",
            id="for: IPv4 port dropped",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "::ffff:203.0.113.7"},
            "REMOTE_ADDR",
            "203.0.113.7",
            id="for: IPv4-mapped",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "fe80::1%eth0"},
            "REMOTE_ADDR",
            "fe80::1",
            id="for: zone id dropped",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PROTO": "HTTPS"},
            "wsgi.url_scheme",
            "https",
            id="proto: lower-cased",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PORT": "0443"},
            "SERVER_PORT",
            "443",
            id="port: leading zero dropped",
        ),
        pytest.param(
            {"x_host": 1},
            {"HTTP_X_FORWARDED_HOST": "eggs:08443"},
            "SERVER_PORT",
            "8443",
            id="host: port without leading zero",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": '203.0.113.7, "'},
            "REMOTE_ADDR",
            "10.0.0.3",
            id="for: a lone quote spoils its own item",
        ),
        pytest.param(
            {"x_for": 2},
            {"HTTP_X_FORWARDED_FOR": '203.0.113.7, "'},
            "REMOTE_ADDR",
            "203.0.113.7",
            id="for: and only its own item",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7,"},
            "REMOTE_ADDR",
            "10.0.0.3",
            id="for: a trailing comma is an empty last value",
        ),
        # SCRIPT_NAME is "" or "/segment…" (PEP 3333); werkzeug writes "/" (URLs rebuilt
        # as "//path") and "/ham/" (issue 10 §12).
        pytest.param(
            {"x_prefix": 1},
            {"HTTP_X_FORWARDED_PREFIX": "/"},
            "SCRIPT_NAME",
            "",
            id="prefix: a lone / is the root, empty",
        ),
        pytest.param(
            {"x_prefix": 1},
            {"HTTP_X_FORWARDED_PREFIX": "/ham/"},
            "SCRIPT_NAME",
            "/ham",
            id="prefix: trailing / dropped",
        ),
        pytest.param(
            {"x_prefix": 2},
            {"HTTP_X_FORWARDED_PREFIX": "/a/b/, /"},
            "SCRIPT_NAME",
            "/a/b",
            id="prefix: trailing / dropped at any count",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PROTO": "wss"},
            "wsgi.url_scheme",
            "https",
            id="proto: wss is https (Traefik on upgrades)",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PROTO": "ws"},
            "wsgi.url_scheme",
            "http",
            id="proto: ws is http",
        ),
    ],
)
def test_departures(
    counts: dict[str, int], headers: dict[str, str], key: str, expected: str
) -> None:
    assert run(headers, **counts)[key] == expected


REFUSED = {
    "HTTP_X_FORWARDED_FOR": [
        "unknown", "_hidden", "01.2.3.4", "0x0a.0.0.1", "167772161", "0.0.0.0", "::",
        "203.0.113.7:0", "203.0.113.7:65536", '"203.0.113.7"', "not-an-ip<script>",
        "203.0.113.7 203.0.113.8",
    ],
    "HTTP_X_FORWARDED_PROTO": ["javascript", "ftp", '"https"', "https:", "ht tps", "wss:"],
    "HTTP_X_FORWARDED_HOST": [
        "evil.com/../:443", "evil.com@x", "a b", "host:", "host:0", "host:99999", "[::1",
        "[203.0.113.7]", "evil.com?x", "evil.com#x", "01.2.3.4", "-_-\x00", "0x7f.0.0.1",
        "0x7f000001", "1.0x2.3.4", "a..b", "a" * 64,
    ],
    "HTTP_X_FORWARDED_PORT": ["0", "99999", "+80", "80a", "8 0", "-1"],
    "HTTP_X_FORWARDED_PREFIX": [
        "//evil.example", "/a/../b", "/a/./b", "/%2e%2e/x", "/a%2fb", "/a\\b", "/a?b", "/a#b",
        "a", "/a b", "/a//b", "/a\x00",
    ],
}  # fmt: skip
KEYS = {
    "HTTP_X_FORWARDED_FOR": ("REMOTE_ADDR",),
    "HTTP_X_FORWARDED_PROTO": ("wsgi.url_scheme",),
    "HTTP_X_FORWARDED_HOST": ("HTTP_HOST", "SERVER_NAME", "SERVER_PORT"),
    "HTTP_X_FORWARDED_PORT": ("HTTP_HOST", "SERVER_PORT"),
    "HTTP_X_FORWARDED_PREFIX": ("SCRIPT_NAME",),
}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param(header, value, id=f"{header[19:].lower()}: {value!r}")
        for header, values in REFUSED.items()
        for value in values
    ],
)
def test_invalid_values_are_not_copied(header: str, value: str) -> None:
    environ = run({header: value}, **ALL)
    for key in KEYS[header]:
        assert environ[key] == BASE[key], key


@pytest.mark.parametrize(
    "request_host",
    [
        pytest.param("x@evil.example", id="userinfo"),
        pytest.param("[::1", id="open-bracket"),
        pytest.param("good.example\\evil", id="backslash"),
        pytest.param('a"b', id="quote"),
        pytest.param("0x7f.0.0.1", id="numeric"),
    ],
)
@pytest.mark.parametrize(
    "forwarded_host",
    [pytest.param(None, id="no-forwarded-host"), pytest.param("x@y", id="invalid-forwarded-host")],
)
def test_port_never_rebuilds_an_invalid_host(
    request_host: str, forwarded_host: Optional[str]
) -> None:
    """issue 10 §5: werkzeug writes HTTP_HOST 'x@evil.example:443' (and '[::443'); here
    only SERVER_PORT changes."""
    headers = {"HTTP_HOST": request_host, "HTTP_X_FORWARDED_PORT": "443"}
    if forwarded_host is not None:
        headers["HTTP_X_FORWARDED_HOST"] = forwarded_host
    environ = run(headers, **ALL)
    assert (environ["HTTP_HOST"], environ["SERVER_NAME"], environ["SERVER_PORT"]) == (
        request_host,
        "app.example",
        "443",
    )


def test_one_invalid_header_does_not_stop_the_others() -> None:
    environ = run(
        {
            "HTTP_X_FORWARDED_FOR": "junk",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_HOST": "evil.com/..",
            "HTTP_X_FORWARDED_PORT": "8443",
            "HTTP_X_FORWARDED_PREFIX": "/ham",
        },
        **ALL,
    )
    assert environ["REMOTE_ADDR"] == "10.0.0.3"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_HOST"] == "app.example:8443"
    assert environ["SCRIPT_NAME"] == "/ham"


# --- huge headers ---------------------------------------------------------------------


def test_a_huge_header_is_read_from_the_right() -> None:
    value = ", ".join(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(10_000))
    assert run({"HTTP_X_FORWARDED_FOR": value}, x_for=1)["REMOTE_ADDR"] == "10.0.39.15"
    assert run({"HTTP_X_FORWARDED_FOR": value}, x_for=3)["REMOTE_ADDR"] == "10.0.39.13"
    assert run({"HTTP_X_FORWARDED_FOR": value}, x_for=10_000)["REMOTE_ADDR"] == "10.0.0.0"
    assert run({"HTTP_X_FORWARDED_FOR": value}, x_for=10_001)["REMOTE_ADDR"] == "10.0.0.3"


@pytest.mark.parametrize(
    ("counts", "headers", "key"),
    [
        pytest.param(
            {"x_for": 1},
            {"HTTP_X_FORWARDED_FOR": "1" * 1_000_000},
            "REMOTE_ADDR",
            id="one huge for item",
        ),
        pytest.param(
            {"x_for": 2},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, " + " " * 200 + "10.0.0.2"},
            "REMOTE_ADDR",
            id="a long item on the way",
        ),
        pytest.param(
            {"x_prefix": 2},
            {"HTTP_X_FORWARDED_PREFIX": "/a, /" + "b" * 2000},
            "SCRIPT_NAME",
            id="a too long prefix on the way",
        ),
        pytest.param(
            {"x_host": 1}, {"HTTP_X_FORWARDED_HOST": "a" * 300}, "HTTP_HOST", id="a too long host"
        ),
        pytest.param(
            {"x_for": 1},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, " * 40},
            "REMOTE_ADDR",
            id="a long header with a trailing comma",
        ),
        pytest.param(
            {"x_for": 1},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, " * 40 + " " * 200 + "10.0.0.2"},
            "REMOTE_ADDR",
            id="a long header whose last item is too long",
        ),
        pytest.param(
            {"x_for": 0},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, " * 40 + "10.0.0.2"},
            "REMOTE_ADDR",
            id="a long header, x_for off",
        ),
    ],
)
def test_items_longer_than_any_valid_value_stop_the_scan(
    counts: dict[str, int], headers: dict[str, str], key: str
) -> None:
    assert run(headers, **counts)[key] == BASE[key]


# --- properties -----------------------------------------------------------------------

text = st.text(st.characters(codec="utf-8"), max_size=60) | st.text(
    '," \t./:[]%0123456789abcdef', max_size=60
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.fixed_dictionaries({}, optional={key: text for key in KEYS}),
    counts=st.fixed_dictionaries({name: st.integers(0, 3) for name in ALL}),
)
def test_arbitrary_header_text_never_raises_nor_copies_an_invalid_value(
    headers: dict[str, str], counts: dict[str, int]
) -> None:
    """Whatever the headers say, each key keeps its value or receives a valid one."""
    environ = run(headers, **counts)
    address = environ["REMOTE_ADDR"]
    assert address == BASE["REMOTE_ADDR"] or (
        (parsed := parse_node(address)) is not None and parsed.text == address
    )
    assert environ["wsgi.url_scheme"] in ("http", "https")
    assert environ["HTTP_HOST"] == BASE["HTTP_HOST"] or host_port(environ["HTTP_HOST"]) is not None
    server_port = environ["SERVER_PORT"]
    assert server_port.isdigit() and 0 < int(server_port) < 65536
    assert server_port == str(int(server_port))
    # "" or "/segment…" without a trailing "/" (PEP 3333), like WSGIMiddleware.
    assert (
        environ["SCRIPT_NAME"] == BASE["SCRIPT_NAME"]
        or environ["SCRIPT_NAME"] == ""
        or valid_prefix(environ["SCRIPT_NAME"]) == environ["SCRIPT_NAME"]
    )


def lists_of(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(values, min_size=1, max_size=4)


proxy_written = {
    "HTTP_X_FORWARDED_FOR": lists_of(st.ip_addresses(v=4).filter(lambda a: int(a) != 0).map(str)),
    "HTTP_X_FORWARDED_PROTO": lists_of(st.sampled_from(["http", "https"])),
    "HTTP_X_FORWARDED_HOST": lists_of(st.sampled_from(["a.example", "b.example:8443", "[::1]"])),
    "HTTP_X_FORWARDED_PORT": lists_of(st.sampled_from(["443", "8080"])),
    "HTTP_X_FORWARDED_PREFIX": lists_of(st.sampled_from(["/a", "/b/"])),
}
COUNT_OF = dict(zip(KEYS, ALL))


@settings(max_examples=200, deadline=None)
@given(
    lists=st.fixed_dictionaries(proxy_written),
    client_text=st.fixed_dictionaries({key: text for key in KEYS}),
    counts=st.fixed_dictionaries({name: st.integers(0, 4) for name in ALL}),
)
def test_items_a_client_prepends_never_change_the_result(
    lists: dict[str, list[str]], client_text: dict[str, str], counts: dict[str, int]
) -> None:
    """With at least N proxy-written values, whatever the client wrote to their left
    (commas, quotes, junk, huge items) is never read."""
    honest = {
        key: ", ".join(values)
        for key, values in lists.items()
        if counts[COUNT_OF[key]] <= len(values)
    }
    forged = {key: f"{client_text[key]}, {value}" for key, value in honest.items()}
    honest_result = run(honest, **counts)
    forged_result = run(forged, **counts)
    for key in BASE:
        assert forged_result[key] == honest_result[key], key


def test_long_values_are_not_remembered() -> None:
    seen: list[Environ] = []
    fix = ProxyFix(lambda environ, start_response: seen.append(environ) or [], x_prefix=1)
    long_prefix = "/" + "p" * 1020  # valid
    # An X-Forwarded-Host that x_host=0 never reads is still part of the key: with it the
    # key holds more than MEMO_KEY_LENGTH characters.
    padding = {"HTTP_X_FORWARDED_HOST": "h" * MEMO_KEY_LENGTH}
    for prefix in (long_prefix, "/short", long_prefix):
        extra = padding if prefix == long_prefix else {}
        fix({**BASE, **extra, "HTTP_X_FORWARDED_PREFIX": prefix}, lambda s, h: None)
    assert [environ["SCRIPT_NAME"] for environ in seen] == [long_prefix, "/short", long_prefix]
    assert [key[3] for key in fix._memo] == ["/short"]


# --- trusted= and strict= (issue 14 §6) -----------------------------------------------


def through(
    headers: dict[str, str], peer: str, **options: Any
) -> tuple[Optional[str], Optional[Environ]]:
    """The status line (``None``: the app was called) and the environ the app saw."""
    seen: list[Environ] = []
    statuses: list[str] = []

    def app(environ: Environ, start_response: object) -> Iterable[bytes]:
        seen.append(environ)
        return []

    environ = dict(BASE, REMOTE_ADDR=peer, **headers)
    ProxyFix(app, **options)(environ, lambda status, headers: statuses.append(status))
    return (statuses[0] if statuses else None), (seen[0] if seen else None)


FORGED = {
    "HTTP_X_FORWARDED_FOR": "6.6.6.6",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_FORWARDED_PREFIX": "/evil",
}
SEED = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_prefix": 1}


@pytest.mark.parametrize(
    "trusted", ["127.0.0.1", "loopback", ["10.0.0.0/8", "127.0.0.0/8"], lambda a: a == "127.0.0.1"]
)
def test_trusted_ignores_every_header_from_another_peer(trusted: Any) -> None:
    """The seed's own snippet plus one keyword: a client reaching the app directly (not
    through the proxy on 127.0.0.1) forges nothing; through the proxy, werkzeug's result."""
    _, direct = through(FORGED, "203.0.113.50", trusted=trusted, **SEED)
    assert direct is not None
    for key in ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SCRIPT_NAME"):
        assert direct[key] == (BASE[key] if key != "REMOTE_ADDR" else "203.0.113.50"), key
    assert direct["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"] == "203.0.113.50"
    _, proxied = through(FORGED, "127.0.0.1", trusted=trusted, **SEED)
    assert proxied is not None
    assert (proxied["REMOTE_ADDR"], proxied["wsgi.url_scheme"]) == ("6.6.6.6", "https")
    assert (proxied["HTTP_HOST"], proxied["SCRIPT_NAME"]) == ("evil.example", "/evil")


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        pytest.param("1.1.1.1, 2.2.2.2, 10.0.0.2", "2.2.2.2", id="count reached"),
        pytest.param("1.1.1.1, 7.7.7.7", "7.7.7.7", id="first untrusted before the count"),
        pytest.param("10.0.0.9, 10.0.0.2", "10.0.0.9", id="all trusted: the count-th"),
        pytest.param("10.0.0.2", None, id="fewer than the count"),
        pytest.param("1.1.1.1, junk, 10.0.0.2", None, id="not an address on the way"),
        pytest.param("1.1.1.1, , 10.0.0.2", None, id="empty item on the way"),
    ],
)
def test_trusted_x_for_walks_like_hops(forwarded_for: str, client: Optional[str]) -> None:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for}
    _, environ = through(headers, "10.0.0.1", x_for=2, trusted="10.0.0.0/8")
    assert environ is not None
    assert environ["REMOTE_ADDR"] == (client or "10.0.0.1")
    status, refused = through(headers, "10.0.0.1", x_for=2, trusted="10.0.0.0/8", strict=True)
    if client is None:
        assert (status, refused) == ("400 Bad Request", None)
    else:
        assert status is None and refused is not None and refused["REMOTE_ADDR"] == client


def test_strict_without_trusted_refuses_a_short_chain_only() -> None:
    status, _ = through({"HTTP_X_FORWARDED_FOR": "1.1.1.1"}, "10.0.0.1", x_for=2, strict=True)
    assert status == "400 Bad Request"
    status, environ = through(
        {"HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2"}, "10.0.0.1", x_for=2, strict=True
    )
    assert status is None and environ is not None and environ["REMOTE_ADDR"] == "1.1.1.1"
    # strict concerns only requests from a trusted peer: an untrusted one is passed on.
    status, environ = through(
        {"HTTP_X_FORWARDED_FOR": "x"}, "8.8.8.8", trusted="10.0.0.1", strict=True
    )
    assert status is None and environ is not None and environ["REMOTE_ADDR"] == "8.8.8.8"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strict": "yes"}, "strict must be True or False, not 'yes'"),
        ({"trusted": "loopbak"}, "did you mean 'loopback'?"),
        ({"trusted": "*", "x_for": 0}, "trusted='*' needs hops"),
        ({"trusted": "0.0.0.0/0", "x_for": 0}, "0.0.0.0/0"),
    ],
)
def test_trusted_and_strict_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        ProxyFix(lambda e, s: [], **options)


def test_trusted_star_with_the_count_is_werkzeug_with_validation() -> None:
    _, environ = through({"HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2"}, "8.8.8.8", trusted="*")
    assert environ is not None and environ["REMOTE_ADDR"] == "2.2.2.2"


def test_repr_names_trusted_and_strict() -> None:
    fix = ProxyFix(lambda e, s: [], trusted="127.0.0.1", strict=True)
    assert repr(fix).endswith("x_prefix=0, trusted=['127.0.0.1'], strict=True)")
