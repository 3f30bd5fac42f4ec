"""Configuration mistakes fail loudly when a resolver or middleware is built (issue 2 §3).

Each raises :class:`trustproxy.ConfigError`, a ``ValueError``, whose message names the
offending entry.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from trustproxy import ASGIMiddleware, ConfigError, Resolver, TrustPolicy, WSGIMiddleware


def _app(environ: Any, start_response: Any) -> list[bytes]:
    return []


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    return None


# Every adapter validates through the one options object (trustproxy._config); the
# documented configurations are built on each in tests/test_options.py.
BUILDERS: dict[str, Callable[..., object]] = {
    "Resolver": lambda **kw: Resolver(**kw),
    "WSGIMiddleware": lambda **kw: WSGIMiddleware(_app, **kw),
    "ASGIMiddleware": lambda **kw: ASGIMiddleware(_asgi_app, **kw),
}

# (id, trusted, text the message must contain)
BAD_TRUSTED: tuple[tuple[str, Any, str], ...] = (
    ("prefix-too-long", "10.0.0.0/33", "'10.0.0.0/33'"),
    ("v6-prefix-too-long", "::1/129", "'::1/129'"),
    ("octet-300", "10.0.0.300", "'10.0.0.300'"),
    ("typo-preset", "loopbak", "'loopbak'"),
    ("typo-in-list", ["loopback", "privat"], "'privat'"),
    ("empty-string", "", "''"),
    ("blank-string", "  ", "''"),
    ("stray-comma-end", "loopback,", "''"),
    ("stray-comma-start", ",loopback", "''"),
    ("double-comma", "loopback,,private", "''"),
    ("empty-entry-in-list", ["loopback", ""], "''"),
    ("host-bits-set", "10.0.0.1/8", "'10.0.0.1/8'"),
    ("leading-zero", "010.0.0.0/8", "'010.0.0.0/8'"),
    ("hostname", "proxy.example", "'proxy.example'"),
    ("address-with-port", "127.0.0.1:80", "'127.0.0.1:80'"),
    ("bracketed", "[::1]", "'[::1]'"),
    ("zone-id", "fe80::1%eth0", "'fe80::1%eth0'"),
    ("zone-id-network", "fe80::%eth0/64", "'fe80::%eth0/64'"),
    ("integer-entry", ["loopback", 5], "5"),
    ("bytes", b"127.0.0.1", "b'127.0.0.1'"),
    ("integer", 42, "42"),
    ("empty-list", [], "empty"),
    ("none-entry", [None], "None"),
)


@pytest.mark.parametrize("builder", list(BUILDERS), ids=list(BUILDERS))
@pytest.mark.parametrize(
    ("trusted", "named"), [pytest.param(t, n, id=i) for i, t, n in BAD_TRUSTED]
)
def test_bad_trusted_entry(builder: str, trusted: Any, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        BUILDERS[builder](trusted=trusted)
    assert named in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("builder", list(BUILDERS), ids=list(BUILDERS))
@pytest.mark.parametrize(
    "trusted",
    [
        pytest.param("*", id="star"),
        pytest.param(["*"], id="star-list"),
        pytest.param("loopback, *", id="star-with-others"),
    ],
)
def test_star_needs_hops(builder: str, trusted: Any) -> None:
    with pytest.raises(ConfigError, match=r"'\*' needs hops"):
        BUILDERS[builder](trusted=trusted)
    # The same entry with hops is a valid configuration.
    assert BUILDERS[builder](trusted=trusted, hops=1) is not None


@pytest.mark.parametrize("builder", list(BUILDERS), ids=list(BUILDERS))
@pytest.mark.parametrize(
    "hops",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(1.5, id="float"),
        pytest.param(2.0, id="integral-float"),
        pytest.param(True, id="bool"),
        pytest.param("2", id="string"),
        pytest.param(65, id="beyond-max-hops"),
    ],
)
def test_bad_hops(builder: str, hops: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        BUILDERS[builder](hops=hops)
    assert repr(hops) in str(caught.value) or str(hops) in str(caught.value)


@pytest.mark.parametrize("hops", [1, 2, 64])
def test_good_hops(hops: int) -> None:
    assert Resolver(hops=hops).policy.hops == hops


@pytest.mark.parametrize("builder", list(BUILDERS), ids=list(BUILDERS))
@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param("bogus", "'bogus'", id="unknown-string"),
        pytest.param(("for", "x-forwarded-for"), "'x-forwarded-for'", id="header-name"),
        pytest.param(("for", "Proto"), "'Proto'", id="wrong-case"),
        pytest.param("for,,proto", "''", id="stray-comma"),
        pytest.param("", "''", id="empty-string"),
        pytest.param((), "empty", id="empty-tuple"),
    ],
)
def test_bad_fields(builder: str, fields: Any, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        BUILDERS[builder](fields=fields)
    assert named in str(caught.value)


def test_good_configurations_build() -> None:
    # Counterpart of the failures above: the well-formed spellings are accepted.
    policy = TrustPolicy(" loopback , 10.0.0.0/8,2001:db8::/32, unix ", None)
    assert policy.entries == ("loopback", "10.0.0.0/8", "2001:db8::/32", "unix")
    assert Resolver(fields="for, proto, host, port, prefix").fields == frozenset(
        ("for", "proto", "host", "port", "prefix")
    )
