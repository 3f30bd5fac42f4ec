"""Configuration mistakes fail loudly when a resolver or middleware is built (issue 2 §3).

Each raises :class:`trustproxy.ConfigError`, a ``ValueError``, whose message names the
offending entry.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import builders
from trustproxy import (
    ASGIMiddleware,
    ConfigError,
    ProxyHeadersMiddleware,
    Resolver,
    TrustPolicy,
    WSGIMiddleware,
)


def _app(environ: Any, start_response: Any) -> list[bytes]:
    return []


def client_through(built: object, peer: str, xff: str) -> Optional[str]:
    """The client address ``built`` (a Resolver or a middleware, through its public entry
    point) gives a request from ``peer`` carrying ``X-Forwarded-For: xff``: proof that a
    configuration was not only accepted but compiled as meant."""
    if isinstance(built, Resolver):
        return built.resolve(peer, [("X-Forwarded-For", xff)]).client
    seen: dict[str, Any] = {}
    if isinstance(built, WSGIMiddleware):

        def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
            seen.update(environ)
            return []

        built.app = wsgi_app
        list(built(builders.environ(peer, [("X-Forwarded-For", xff)]), lambda *a: None))
        return seen.get("REMOTE_ADDR")
    assert isinstance(built, ASGIMiddleware)

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    built.app = asgi_app
    coroutine = built(builders.scope(peer, [("X-Forwarded-For", xff)]), None, None)  # type: ignore[arg-type]
    with pytest.raises(StopIteration):
        coroutine.send(None)
    return seen["client"][0]  # type: ignore[no-any-return]


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


#: (id, entry, the fix the message must name): issue 14's newcomer mistakes.
NAMED_FIXES = (
    ("misspelt-loopback", "loopbak", "did you mean 'loopback'?"),
    ("misspelt-cloudflare", "cloudfare", "did you mean 'cloudflare'?"),
    ("misspelt-private-any-case", "Privat", "did you mean 'private'?"),
    ("localhost", "localhost", "write the addresses your proxy connects from, '127.0.0.1'"),
    ("ipv4-with-port", "127.0.0.1:8080", "so write '127.0.0.1'"),
    ("ipv6-with-port", "[::1]:8080", "has a port: trust is decided per address, so write '::1'"),
    ("host-name", "proxy.internal", "host names are never resolved"),
)  # fmt: skip


@pytest.mark.parametrize("builder", list(BUILDERS), ids=list(BUILDERS))
@pytest.mark.parametrize(("trusted", "fix"), [pytest.param(t, f, id=i) for i, t, f in NAMED_FIXES])
def test_trusted_entry_mistake_names_the_fix(builder: str, trusted: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        BUILDERS[builder](trusted=trusted)
    assert fix in str(caught.value)


@pytest.mark.parametrize("value", [["127.0.0.1"], "127.0.0.1", ("10.0.0.5",)])
def test_django_settings_given_the_proxies_instead_of_a_dict(value: Any) -> None:
    from trustproxy._config import Options

    with pytest.raises(ConfigError) as caught:
        Options.from_mapping(value, "settings.TRUSTPROXY")
    assert f"write {{'trusted': {value!r}}}" in str(caught.value)


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
    # The same entry with hops is a valid configuration: any peer is trusted, and the
    # one hop read is the client.
    built = BUILDERS[builder](trusted=trusted, hops=1)
    assert client_through(built, "198.51.100.7", "203.0.113.9") == "203.0.113.9"


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


# --- every address, however it is written (issue 10 §4) ------------------------------------

#: Every IPv6 network outside ::ffff:0:0/96: all of IPv6, with IPv4-mapped addresses
#: (which count as IPv4) left out.
ALL_IPV6_BUT_MAPPED = [
    str(network)
    for network in ipaddress.ip_network("::/0").address_exclude(
        ipaddress.ip_network("::ffff:0:0/96")
    )
]

# (id, trusted, environment variables, file text, the family named in the message)
EVERYTHING: tuple[tuple[str, Any, dict[str, str], Optional[str], str], ...] = (
    ("literal-ipv4", "0.0.0.0/0", {}, None, "IPv4"),
    ("ipv4-halves", ["0.0.0.0/1", "128.0.0.0/1"], {}, None, "IPv4"),
    ("ipv4-quarters-unordered", "192.0.0.0/2, 0.0.0.0/2, 128.0.0.0/2, 64.0.0.0/2", {}, None,
     "IPv4"),
    ("ipv4-overlapping", "0.0.0.0/1, 64.0.0.0/2, 96.0.0.0/3, 128.0.0.0/1", {}, None, "IPv4"),
    ("ipv6-holding-mapped-8", "::/8", {}, None, "IPv4"),
    ("ipv6-holding-mapped-80", "::/80", {}, None, "IPv4"),
    ("mapped-halves", "::ffff:0:0/97, ::ffff:128.0.0.0/97", {}, None, "IPv4"),
    ("ipv4-and-mapped-halves", "0.0.0.0/1, ::ffff:128.0.0.0/97", {}, None, "IPv4"),
    ("ipv6-halves", "::/1, 8000::/1", {}, None, "IPv4 and IPv6"),
    ("all-ipv6-but-mapped", ALL_IPV6_BUT_MAPPED, {}, None, "IPv6"),
    ("env-ipv4", "env:TRUSTPROXY_TEST_ALL", {"TRUSTPROXY_TEST_ALL": "0.0.0.0/0"}, None, "IPv4"),
    ("env-ipv6", "env:TRUSTPROXY_TEST_ALL", {"TRUSTPROXY_TEST_ALL": "::/0"}, None,
     "IPv4 and IPv6"),
    ("env-halves", "loopback, env:TRUSTPROXY_TEST_ALL",
     {"TRUSTPROXY_TEST_ALL": "0.0.0.0/1 128.0.0.0/1"}, None, "IPv4"),
    ("file", "file:{path}", {}, "# everything\n0.0.0.0/0\n::/0\n", "IPv4 and IPv6"),
    ("cloudflare-override", "cloudflare", {"TRUSTPROXY_CLOUDFLARE_FILE": "{path}"},
     "0.0.0.0/0\n", "IPv4"),
)  # fmt: skip

ADAPTERS: dict[str, Callable[..., object]] = {
    "Resolver": lambda **kw: Resolver(**kw),
    "WSGIMiddleware": lambda **kw: WSGIMiddleware(_app, **kw),
    "ASGIMiddleware": lambda **kw: ASGIMiddleware(_asgi_app, **kw),
}


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    return None


@pytest.mark.parametrize("builder", list(ADAPTERS), ids=list(ADAPTERS))
@pytest.mark.parametrize(
    ("trusted", "variables", "text", "family"),
    [pytest.param(t, v, x, f, id=i) for i, t, v, x, f in EVERYTHING],
)
def test_every_address_without_hops_is_refused_whatever_its_source(
    builder: str,
    trusted: Any,
    variables: dict[str, str],
    text: Optional[str],
    family: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A policy covering every IPv4 or every IPv6 address is '*' without hops: refused at
    construction, naming the fix, whatever the entries' source; accepted with hops."""
    path = tmp_path / "ranges.txt"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    if isinstance(trusted, str):
        trusted = trusted.format(path=path)
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(path=path))
    with pytest.raises(ConfigError) as caught:
        ADAPTERS[builder](trusted=trusted)
    message = str(caught.value)
    assert f"every {family} address" in message
    assert "give hops=N" in message and "list your proxies" in message
    # Accepted with hops, and compiled as written: a peer of that family is trusted.
    peer = "198.51.100.7" if family == "IPv4" else "2001:db8::7"
    built = ADAPTERS[builder](trusted=trusted, hops=1)
    assert client_through(built, peer, "203.0.113.9") == "203.0.113.9"


@pytest.mark.parametrize(
    "trusted",
    [
        pytest.param("0.0.0.0/1", id="half-of-ipv4"),
        pytest.param("0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3", id="ipv4-less-one-eighth"),
        pytest.param("::ffff:0:0/97", id="half-of-mapped"),
        pytest.param("8000::/1", id="half-of-ipv6-without-mapped"),
        pytest.param(ALL_IPV6_BUT_MAPPED[1:], id="ipv6-less-one-network"),
        pytest.param("loopback, private, linklocal, cloudflare", id="every-preset"),
    ],
)
def test_wide_but_not_everything_is_accepted(trusted: Any) -> None:
    """The counterpart: coverage with a gap is a (possibly unwise) list, not '*'."""
    assert Resolver(trusted=trusted).policy.hops is None


def test_uvicorn_dropin_star_keeps_its_documented_way() -> None:
    """uvicorn's trusted_hosts='*' trusts every address with no hop count, on purpose
    and with a warning (docs/migrate-uvicorn.md); listing the same networks does not."""
    dropin = ProxyHeadersMiddleware(_asgi_app, trusted_hosts="*")
    assert dropin.resolver.policy.hops is None
    assert dropin.resolver.policy.peer("203.0.113.9").trusted_by is not None
    assert dropin.resolver.policy.peer("2001:db8::1").trusted_by is not None
    with pytest.raises(ConfigError, match="every IPv4 address"):
        ProxyHeadersMiddleware(_asgi_app, trusted_hosts="0.0.0.0/1, 128.0.0.0/1")
