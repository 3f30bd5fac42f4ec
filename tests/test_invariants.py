"""Security invariants as hypothesis properties, through the core and the WSGI adapter.

The checks are those of the fuzz harnesses (``fuzz/invariants.py``), fed here by
hypothesis so that they run in every test run, plus two properties of the walk:

* "prepending": with at least one untrusted item before any invalid one (reading from the
  right), items the client adds on the left never change the result;
* "untrusted peer": the environ reaching the app is byte-for-byte the one the server
  built, apart from the library's own two keys.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustproxy import APPLIED, UNTRUSTED_PEER, Resolver, WSGIMiddleware
from trustproxy._address import parse_node

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import invariants

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

octet = st.integers(0, 255)
ipv4 = st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", octet, octet, octet, octet)
ipv6 = st.ip_addresses(v=6).map(str)
address = st.one_of(ipv4, ipv6, st.sampled_from(["127.0.0.1", "10.0.0.1", "::1", "10.9.8.7"]))
node = st.one_of(
    address,
    ipv4.map(lambda a: f"{a}:4711"),
    ipv6.map(lambda a: f"[{a}]:443"),
    st.sampled_from(["unknown", "_hidden", "01.2.3.4", "", " ", '"', "1.2.3", "::ffff:10.0.0.9"]),
    st.text(alphabet="0123456789abcdef.:[]%_ \t\"'", max_size=20),
)
chain = st.lists(node, max_size=8).map(", ".join)
value = st.one_of(
    st.none(),
    chain,
    st.sampled_from(["https", "http", "HTTPS", "ftp", "app.example", "/app", "//evil", "443"]),
    st.text(max_size=30),
)
raw = st.binary(max_size=200)


@FAST
@given(raw)
def test_invariant_xff_parsing(data: bytes) -> None:
    invariants.check_xff(data)


@FAST
@given(chain.map(lambda text: text.encode("latin-1", "replace")))
def test_invariant_xff_chains(data: bytes) -> None:
    invariants.check_xff(data)


@FAST
@given(st.one_of(raw, st.sampled_from([b"[::1]:80", b"a.example:8080", b"[fe80::1%25x]"])))
def test_invariant_host(data: bytes) -> None:
    invariants.check_host_value(data)


@FAST
@given(st.one_of(raw, st.text(alphabet="/.%2eEfF5cC\\:@a?#", max_size=20).map(str.encode)))
def test_invariant_prefix_and_scheme(data: bytes) -> None:
    invariants.check_prefix_value(data)


@FAST
@given(st.integers(0, 255), st.lists(value, min_size=5, max_size=5))
def test_invariant_whole_resolution_core_and_wsgi(selector: int, values: list[Any]) -> None:
    parts = [(v or "").encode("latin-1", "replace") for v in values]
    invariants.check_resolve(bytes([selector]) + b"\x00".join(parts))


UNTRUSTED = "198.51.100.77"


@FAST
@given(
    st.lists(node, max_size=6),
    st.lists(node, min_size=1, max_size=6),
    st.sampled_from(invariants.CONFIGS[:4]),
)
def test_invariant_prepending_never_changes_result(
    prefix_items: list[str], items: list[str], options: dict[str, Any]
) -> None:
    """Items left of the first untrusted address (if it comes before any invalid one)
    were written by the client: whatever they are, the result is the same."""
    resolver = Resolver(**options)
    policy = resolver.policy
    reachable = items[:]
    for text in reversed(items):  # walk as the resolver does: from the right
        if not text.strip(" \t"):
            continue
        hop = policy.hop(text.strip(" \t"))
        if hop is None:
            return  # an invalid item comes first: the property does not apply
        if hop.trusted_by is None:
            break
    else:
        return  # no untrusted item at all
    if policy.hops is not None:
        return  # with a hop count the walk stops by counting, see the next property
    base = resolver.resolve("127.0.0.1", {"X-Forwarded-For": ", ".join(reachable)})
    longer = resolver.resolve(
        "127.0.0.1", {"X-Forwarded-For": ", ".join([*prefix_items, *reachable])}
    )
    assert longer == base


@FAST
@given(
    st.lists(node, max_size=6),
    st.lists(address.filter(lambda a: parse_node(a) is not None), min_size=2, max_size=6),
)
def test_invariant_prepending_with_hop_count(prefix_items: list[str], items: list[str]) -> None:
    """With ``hops=n`` only the ``n`` rightmost items are read."""
    resolver = Resolver(trusted="*", hops=2)
    base = resolver.resolve("127.0.0.1", {"X-Forwarded-For": ", ".join(items)})
    longer = resolver.resolve("127.0.0.1", {"X-Forwarded-For": ", ".join([*prefix_items, *items])})
    assert longer == base
    assert base.status == APPLIED


header_value = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=40)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            ["HTTP_X_FORWARDED_" + n for n in ("FOR", "PROTO", "HOST", "PORT", "PREFIX")]
        ),
        header_value,
        min_size=1,
    ),
    st.dictionaries(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12), header_value),
    st.sampled_from([UNTRUSTED, "2001:db8::7", "::ffff:198.51.100.1", "garbage", ""]),
)
def test_invariant_untrusted_peer_leaves_environ_alone(
    forwarded: dict[str, str], extra: dict[str, str], peer: str
) -> None:
    environ: dict[str, Any] = {
        **{f"HTTP_{k}": v for k, v in extra.items()},
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": peer,
        "REMOTE_PORT": "50000",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "app.example",
        "SERVER_NAME": "app.example",
        "SERVER_PORT": "80",
        "SCRIPT_NAME": "/mnt",
        "PATH_INFO": "/",
        **forwarded,
    }
    before = dict(environ)
    seen: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(env)
        return []

    middleware = WSGIMiddleware(app, trusted="10.0.0.0/8, loopback", fields=invariants.ALL_FIELDS)
    middleware(environ, lambda *a: None)
    resolution = seen.pop("trustproxy.resolution")
    seen.pop("trustproxy.orig")
    assert resolution.status == UNTRUSTED_PEER
    assert seen == before


forwarded_element = st.one_of(
    node.map(lambda n: f'for="{n}"'),
    st.builds(lambda n, p: f"for={n};proto={p}", ipv4, st.sampled_from(["http", "https", "x"])),
    st.sampled_from(["by=_p", "for=unknown", ";", "", 'for="1.2.3.4', "FOR=1.2.3.4;for=5.6.7.8"]),
    st.text(alphabet='for=";,[]:._ \\', max_size=20),
)


@FAST
@given(st.one_of(raw, st.lists(forwarded_element, max_size=6).map(", ".join).map(str.encode)))
def test_invariant_forwarded(data: bytes) -> None:
    invariants.check_forwarded(data)


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
                             "x-forwarded-port", "x-forwarded-prefix", "forwarded",
                             "X-Forwarded-For", "x_forwarded_for", "host", "x-other"]),
            header_value,
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([UNTRUSTED, "3fff::7", "::ffff:198.51.100.1", "garbage"]),
    st.sampled_from([m for m in invariants.ASGI_MIDDLEWARES if not m.resolver.policy.any]),
)  # fmt: skip
def test_invariant_untrusted_peer_leaves_asgi_scope_alone(
    lines: list[tuple[str, str]], peer: str, middleware: Any
) -> None:
    """The app gets the server's values unchanged (plus the library's two keys), and the
    server's own scope object is never edited."""
    scope = invariants.asgi_scope(peer, lines)
    scope["root_path"] = "/mnt"
    before = {key: (list(v) if isinstance(v, list) else v) for key, v in scope.items()}
    seen, sent = invariants.run_asgi(middleware, scope)
    assert scope == before
    assert sent == []
    resolution = seen.pop("trustproxy.resolution", None)
    assert seen.pop("trustproxy.orig", scope) is scope
    assert resolution is None or resolution.status == UNTRUSTED_PEER
    assert seen == before
