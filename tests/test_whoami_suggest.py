"""The configuration ``whoami`` suggests from one request (a pure function)."""

from __future__ import annotations

from typing import Optional

import pytest

from trustproxy import Resolver
from trustproxy._suggest import suggest

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
    assert proposal.config == "trusted=['10.0.0.3', '10.0.0.7']"
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
                     "headers='forwarded'", id="forwarded-present"),
        pytest.param("10.0.0.3", [(XFF, "203.0.113.9, junk")], "'junk' is not an address",
                     id="junk-proxy-item"),
    ],
)  # fmt: skip
def test_caveats(peer: str, lines: list[tuple[str, str]], caveat: str) -> None:
    assert any(caveat in text for text in suggest(peer, lines).caveats)


def test_junk_proxy_item_gives_no_config_to_paste() -> None:
    assert suggest("10.0.0.3", [(XFF, "203.0.113.9, junk")]).config == ""
