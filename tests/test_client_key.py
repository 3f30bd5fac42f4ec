"""``trustproxy.client_key`` and ``Resolution.client_key``: one stable key per client,
and the Flask-Limiter and slowapi recipes of docs/ratelimit.md that use it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

import trustproxy
from trustproxy import Resolver, client_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "recipes"))

KEYS = [
    ("203.0.113.9", 64, "203.0.113.9"),
    ("203.0.113.9", 0, "203.0.113.9"),  # the prefix is for IPv6 only
    ("::ffff:203.0.113.9", 64, "203.0.113.9"),  # RFC 4291 §2.5.5.2: IPv4-mapped
    ("::FFFF:cb00:7109", 64, "203.0.113.9"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", 64, "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", 56, "2001:db8:1::/56"),
    ("2001:db8:1:2ff::1", 56, "2001:db8:1:200::/56"),
    ("2001:db8:1:2::1", 48, "2001:db8:1::/48"),
    ("2001:db8::1", 128, "2001:db8::1"),
    ("2001:db8::1", 127, "2001:db8::/127"),
    ("2001:db8::1", 0, "::/0"),
    ("fe80::1%eth0", 64, "fe80::/64"),  # RFC 4007 §11: the zone is not the client
    ("fe80::1%eth0", 128, "fe80::1"),
]


@pytest.mark.parametrize(("address", "prefix", "key"), KEYS, ids=[f"{a}/{p}" for a, p, _ in KEYS])
def test_client_key(address: str, prefix: int, key: str) -> None:
    assert client_key(address, ipv6_prefix=prefix) == key


def test_one_key_per_64() -> None:
    """RFC 8981 temporary addresses: one client, many interface identifiers."""
    keys = {client_key(f"2001:db8:1:2:{i:x}::{i:x}") for i in range(1, 200)}
    assert keys == {"2001:db8:1:2::/64"}
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")


@pytest.mark.parametrize("bad", [-1, 129, 64.0, True, "64", None])
def test_prefix_validated(bad: Any) -> None:
    with pytest.raises(ValueError, match="ipv6_prefix"):
        client_key("2001:db8::1", ipv6_prefix=bad)
    result = Resolver().resolve("127.0.0.1", [("X-Forwarded-For", "2001:db8::1")])
    with pytest.raises(ValueError, match="ipv6_prefix"):
        result.client_key(bad)


@pytest.mark.parametrize("bad", ["", "unknown", "01.2.3.4", "[2001:db8::1]", "1.2.3.4:80", "x"])
def test_not_an_address(bad: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        client_key(bad)


def test_resolution_client_key() -> None:
    resolver = Resolver()
    forwarded = resolver.resolve("127.0.0.1", [("X-Forwarded-For", "2001:db8:1:2::7")])
    assert forwarded.client_key() == "2001:db8:1:2::/64"
    assert forwarded.client_key(ipv6_prefix=128) == "2001:db8:1:2::7"
    mapped = resolver.resolve("::ffff:127.0.0.1", [("X-Forwarded-For", "203.0.113.9")])
    assert mapped.client_key() == "203.0.113.9"
    peer = resolver.resolve("::ffff:198.51.100.7", [])
    assert peer.client_key() == "198.51.100.7"
    unix = Resolver(trusted="unix").resolve(None, [])
    assert unix.client is None and unix.client_key() is None


# -- the recipes -------------------------------------------------------------------------


def test_flask_limiter_recipe() -> None:
    from ratelimit_flask import app

    client = app.test_client()

    def get(forwarded: str) -> tuple[int, str]:
        response = client.get(
            "/", headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
        )
        return response.status_code, response.get_data(as_text=True)

    # Two addresses of one /64 share a bucket of 2 per minute: the third request is 429.
    assert get("2001:db8:1:2::1") == (200, "hello 2001:db8:1:2::/64\n")
    assert get("6.6.6.6, 2001:db8:1:2::2")[0] == 200
    assert get("2001:db8:1:2:ffff::3")[0] == 429
    # Another client is not limited by it; a forged leftmost item changes nothing.
    assert get("203.0.113.9") == (200, "hello 203.0.113.9\n")
    assert get("2001:db8:1:2::1, 203.0.113.9")[0] == 200
    assert get("203.0.113.9")[0] == 429
    # A stranger's X-Forwarded-For is ignored: it is keyed on its own address.
    response = client.get(
        "/", headers={"X-Forwarded-For": "192.0.2.1"}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert response.get_data(as_text=True) == "hello 198.51.100.7\n"


def test_slowapi_recipe() -> None:
    import httpx
    from ratelimit_slowapi import app

    async def run() -> list[tuple[int, str]]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            out = []
            for forwarded in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3",
                              "203.0.113.9"):  # fmt: skip
                response = await client.get("/", headers={"X-Forwarded-For": forwarded})
                out.append((response.status_code, response.text))
            return out

    got = asyncio.run(run())
    assert got[0] == (200, "hello 2001:db8:1:2::/64\n")
    assert [status for status, _ in got] == [200, 200, 429, 200]
    assert got[3] == (200, "hello 203.0.113.9\n")
    assert trustproxy.client_key("203.0.113.9") == "203.0.113.9"
