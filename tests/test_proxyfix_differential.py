"""``trustproxy.ProxyFix`` against werkzeug's ``ProxyFix`` (a test-only dependency).

On well-formed input the two must leave identical environs; on the unsafe inputs of
issue 2 werkzeug copies the value in and trustproxy does not.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any, Callable, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

from test_proxyfix import ALL, Environ
from test_proxyfix import BASE as PROXYFIX_BASE
from trustproxy import ProxyFix


def _run(middleware: Callable[..., Any], app_box: list[Environ], environ: Environ) -> Environ:
    middleware(environ, lambda status, headers: None)
    assert app_box, "the wrapped app was not called"
    return app_box.pop()


def both(environ: Environ, **counts: int) -> tuple[Environ, Environ]:
    """Run werkzeug's and trustproxy's ProxyFix on copies of ``environ``."""
    seen: list[Environ] = []

    def app(env: Environ, start_response: object) -> Iterable[bytes]:
        seen.append(env)
        return []

    theirs = _run(WerkzeugProxyFix(app, **counts), seen, dict(environ))
    ours = _run(ProxyFix(app, **counts), seen, dict(environ))
    return theirs, ours


# --- well-formed values ---------------------------------------------------------------

ipv4 = st.ip_addresses(v=4).filter(lambda a: int(a) != 0).map(str)
ipv6 = (
    st.ip_addresses(v=6)
    .filter(lambda a: int(a) != 0 and a.ipv4_mapped is None)
    .map(lambda a: ipaddress.IPv6Address(a).compressed)
)
address = st.one_of(ipv4, ipv6)
port = st.integers(1, 65535).map(str)
# A label URL parsers would read as a number (digits, or "0x" and hex: WHATWG "ends in a
# number") makes a host trustproxy refuses, and werkzeug copies (a departure, below).
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda s: re.fullmatch(r"[0-9]+|0x[0-9a-f]*", s) is None
)
reg_name = st.lists(label, min_size=1, max_size=3).map(".".join)
host_name = st.one_of(reg_name, ipv4, ipv6.map(lambda a: f"[{a}]"))
host = st.one_of(host_name, st.tuples(host_name, port).map(":".join))
segment = st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True).filter(
    lambda s: s not in (".", "..")
)
prefix = st.one_of(
    st.just("/"),
    st.tuples(st.lists(segment, min_size=1, max_size=3), st.booleans()).map(
        lambda t: "/" + "/".join(t[0]) + ("/" if t[1] else "")
    ),
)
# A forwarded prefix both write alike: werkzeug keeps a trailing "/" (and a lone "/"),
# trustproxy drops it (a departure, below).
forwarded_prefix = st.lists(segment, min_size=1, max_size=3).map(lambda t: "/" + "/".join(t))
scheme = st.sampled_from(["http", "https"])
separator = st.sampled_from([",", ", ", " , ", ",\t"])


def header(values: st.SearchStrategy[str]) -> st.SearchStrategy[Optional[str]]:
    """An absent header, or a list of 1-6 values joined as proxies write them."""
    joined = st.tuples(st.lists(values, min_size=1, max_size=6), separator).map(
        lambda t: t[1].join(t[0])
    )
    return st.one_of(st.none(), joined)


@st.composite
def environs(draw: st.DrawFn) -> Environ:
    environ: Environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "REMOTE_ADDR": draw(address),
        "wsgi.url_scheme": draw(scheme),
        "SERVER_NAME": draw(reg_name),
        "SERVER_PORT": draw(port),
    }
    if draw(st.booleans()):
        environ["HTTP_HOST"] = draw(host)
    if draw(st.booleans()):
        environ["SCRIPT_NAME"] = draw(prefix)
    for key, values in (
        ("HTTP_X_FORWARDED_FOR", address),
        ("HTTP_X_FORWARDED_PROTO", scheme),
        ("HTTP_X_FORWARDED_HOST", host),
        ("HTTP_X_FORWARDED_PORT", port),
        ("HTTP_X_FORWARDED_PREFIX", forwarded_prefix),
    ):
        value = draw(header(values))
        if value is not None:
            environ[key] = value
    return environ


counts = st.fixed_dictionaries(
    {name: st.integers(0, 4) for name in ("x_for", "x_proto", "x_host", "x_port", "x_prefix")}
)


@settings(max_examples=300, deadline=None)
@given(environ=environs(), counts=counts)
def test_same_environ_as_werkzeug_on_well_formed_input(
    environ: Environ, counts: dict[str, int]
) -> None:
    """Same constructor, same per-header counts, same environ keys, same values."""
    theirs, ours = both(environ, **counts)
    assert ours == theirs


@settings(max_examples=100, deadline=None)
@given(environ=environs())
def test_same_environ_as_werkzeug_with_default_counts(environ: Environ) -> None:
    theirs, ours = both(environ)
    assert ours == theirs


def test_the_generators_reach_every_rewrite() -> None:
    """Guard against a differential test that only ever compares untouched environs."""
    environ = {
        "REMOTE_ADDR": "10.0.0.3",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "spam:9000",
        "SERVER_NAME": "spam",
        "SERVER_PORT": "9000",
        "SCRIPT_NAME": "",
        "HTTP_X_FORWARDED_FOR": "203.0.113.7, 10.0.0.2",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "eggs.example:8443",
        "HTTP_X_FORWARDED_PORT": "443",
        "HTTP_X_FORWARDED_PREFIX": "/ham",
    }
    theirs, ours = both(environ, x_for=2, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    assert ours == theirs
    assert ours["REMOTE_ADDR"] == "203.0.113.7"
    assert ours["wsgi.url_scheme"] == "https"
    assert ours["HTTP_HOST"] == "eggs.example:443"
    assert ours["SERVER_NAME"] == "eggs.example"
    assert ours["SERVER_PORT"] == "443"
    assert ours["SCRIPT_NAME"] == "/ham"
    assert ours["werkzeug.proxy_fix.orig"]["HTTP_HOST"] == "spam:9000"


# --- the unsafe inputs of issue 2 -----------------------------------------------------

# test_proxyfix's request, mounted at the root here.
BASE: Environ = {**PROXYFIX_BASE, "SCRIPT_NAME": ""}


@pytest.mark.parametrize(
    ("counts", "headers", "key", "werkzeug_gives", "we_keep"),
    [
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_FOR": "not-an-ip<script>"},
            "REMOTE_ADDR",
            "not-an-ip<script>",
            "10.0.0.3",
            id="for: markup as the client address",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PROTO": "javascript"},
            "wsgi.url_scheme",
            "javascript",
            "http",
            id="proto: javascript scheme",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PORT": "99999"},
            "SERVER_PORT",
            "99999",
            "80",
            id="port: out of range",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_HOST": "evil.com/../:443"},
            "HTTP_HOST",
            "evil.com/../:443",
            "app.example",
            id="host: path in the host",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PREFIX": "//evil.example"},
            "SCRIPT_NAME",
            "//evil.example",
            "",
            id="prefix: network-path reference (open redirect)",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PREFIX": "/"},
            "SCRIPT_NAME",
            "/",
            "",
            id="prefix: a lone / (URLs rebuilt as //path)",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_PREFIX": "/ham/"},
            "SCRIPT_NAME",
            "/ham/",
            "/ham",
            id="prefix: a trailing /",
        ),
        pytest.param(
            ALL,
            {"HTTP_HOST": "x@evil.example", "HTTP_X_FORWARDED_PORT": "443"},
            "HTTP_HOST",
            "x@evil.example:443",
            "x@evil.example",
            id="port: an invalid Host rebuilt with the port",
        ),
        pytest.param(
            ALL,
            {"HTTP_HOST": "[::1", "HTTP_X_FORWARDED_PORT": "443"},
            "HTTP_HOST",
            "[::443",
            "[::1",
            id="port: a broken IPv6 Host rebuilt with the port",
        ),
        pytest.param(
            ALL,
            {"HTTP_X_FORWARDED_HOST": "0x7f.0.0.1"},
            "HTTP_HOST",
            "0x7f.0.0.1",
            "app.example",
            id="host: a hex IPv4 that URL parsers read as 127.0.0.1",
        ),
        pytest.param(
            {"x_for": 2},
            # The client wrote a lone '"'; proxy 1 appended the client's real address,
            # proxy 2 the address of proxy 1.  werkzeug's quote-aware split sees one item,
            # fewer than 2, so the request appears to come from the proxy itself.
            {"HTTP_X_FORWARDED_FOR": '", 198.51.100.7, 10.0.0.2'},
            "REMOTE_ADDR",
            "10.0.0.3",
            "198.51.100.7",
            id="for: a lone quote swallows the header",
        ),
    ],
)
def test_werkzeug_copies_unsafe_values_and_we_do_not(
    counts: dict[str, int],
    headers: dict[str, str],
    key: str,
    werkzeug_gives: str,
    we_keep: str,
) -> None:
    theirs, ours = both({**BASE, **headers}, **counts)
    assert theirs[key] == werkzeug_gives
    assert ours[key] == we_keep
    assert ours["werkzeug.proxy_fix.orig"] == theirs["werkzeug.proxy_fix.orig"]


@settings(max_examples=100, deadline=None)
@given(
    addresses=st.lists(address, min_size=10, max_size=60),
    sep=separator,
    x_for=st.integers(0, 5),
)
def test_same_client_as_werkzeug_for_long_headers(
    addresses: list[str], sep: str, x_for: int
) -> None:
    """Long headers take another path (remembered by the selected item, not the text)."""
    environ = {**BASE, "HTTP_X_FORWARDED_FOR": sep.join(addresses)}
    for _ in range(2):  # the second request is answered from memory
        theirs, ours = both(environ, x_for=x_for)
        assert ours == theirs
