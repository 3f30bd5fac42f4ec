"""The provider presets (shipped data, headers) and the file / environment range loaders.

Refreshing them (``trustproxy presets update``, ``presets_dir``, the age warning) is in
tests/test_presets_refresh.py.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Optional

import pytest

import trustproxy
from trustproxy import ConfigError, TrustPolicy, load_networks
from trustproxy._config import SINGLE_HEADERS
from trustproxy.presets import DATA_PRESETS

ROOT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> dict[str, object]:
    text = resources.files("trustproxy.presets").joinpath(f"{name}.json").read_text("utf-8")
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def test_cloudflare_preset_trusts_its_ranges_only() -> None:
    policy = TrustPolicy("Cloudflare")
    assert policy.entries == ("cloudflare",)
    edge_v4 = policy.hop("104.16.0.10")
    edge_v6 = policy.hop("2606:4700::6810:1")
    outsider = policy.hop("203.0.113.7")
    assert edge_v4 is not None and edge_v4.trusted_by == "104.16.0.0/13 (cloudflare)"
    assert edge_v6 is not None and edge_v6.trusted_by == "2606:4700::/32 (cloudflare)"
    assert outsider is not None and outsider.trusted_by is None


@pytest.mark.parametrize("name", sorted(DATA_PRESETS))
def test_shipped_file_records_its_source_and_date(name: str) -> None:
    document = shipped(name)
    assert document["name"] == name
    assert str(document["source"]).startswith("https://")
    for key in ("date", "published"):
        value = document[key]
        assert value is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)), (key, value)
    networks = [ipaddress.ip_network(str(entry)) for entry in document["networks"]]  # type: ignore[attr-defined]
    assert len(networks) == len(set(networks))
    for network in networks:
        # Never private, loopback, link-local or everything: the same rules as an update.
        assert network.is_global and network.prefixlen >= 8, network
    # Every preset ships ranges: an empty one would turn every CDN request into a direct one.
    assert networks, name
    if not document["complete"]:
        # A partial snapshot says so in words, for `presets list` and the docs.
        assert "PARTIAL" in str(document["note"]), name


def test_shipped_cloudflare_has_both_families() -> None:
    document = shipped("cloudflare")
    assert document["published"] == "2023-09-28" and document["complete"] is True
    networks = [ipaddress.ip_network(str(entry)) for entry in document["networks"]]  # type: ignore[attr-defined]
    assert {network.version for network in networks} == {4, 6}
    assert len(networks) >= 20


def test_preset_is_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"presets/*.json"' in pyproject
    folder = ROOT / "src" / "trustproxy" / "presets"
    assert {path.name for path in folder.iterdir() if path.suffix != ".py"} - {
        "__pycache__"
    } == set(DATA_PRESETS.values())


def test_presets_are_not_read_at_import() -> None:
    code = (
        "import trustproxy, trustproxy.presets as p; assert not p._shipped;"
        " trustproxy.TrustPolicy('cloudflare'); assert p._shipped"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("TRUSTPROXY_CLOUDFLARE_FILE", None)
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert completed.returncode == 0, completed.stderr


def test_unknown_preset_error_lists_cloudflare() -> None:
    with pytest.raises(ConfigError, match="cloudflare"):
        TrustPolicy("cloudfare")


# -- refreshing without a release ---------------------------------------------------------


def test_override_variable_replaces_the_shipped_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges = tmp_path / "cf.txt"
    ranges.write_text("# refreshed\n203.0.113.0/24\n", "utf-8")
    monkeypatch.setenv("TRUSTPROXY_CLOUDFLARE_FILE", str(ranges))
    policy = TrustPolicy("cloudflare")
    edge = policy.hop("104.16.0.10")
    new = policy.hop("203.0.113.7")
    assert edge is not None and edge.trusted_by is None
    assert new is not None and new.trusted_by == "203.0.113.0/24 (cloudflare)"


def test_override_variable_errors_name_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges = tmp_path / "cf.txt"
    ranges.write_text("203.0.113.0/24\n\n10.0.0.1/8\n", "utf-8")
    monkeypatch.setenv("TRUSTPROXY_CLOUDFLARE_FILE", str(ranges))
    with pytest.raises(ConfigError, match=r"cf\.txt', line 3: '10\.0\.0\.1/8'"):
        TrustPolicy("cloudflare")


def test_file_entry(tmp_path: Path) -> None:
    ranges = tmp_path / "lb.txt"
    ranges.write_text(
        "# load balancers\n\n10.1.0.0/16   # first site\n  2001:db8:5::/48\n10.9.9.9\n", "utf-8"
    )
    policy = TrustPolicy(["loopback", f"file:{ranges}"])
    assert policy.entries == ("loopback", f"file:{ranges}")
    for address, trusted in [
        ("10.1.2.3", True),
        ("2001:db8:5::1", True),
        ("10.9.9.9", True),
        ("10.2.0.1", False),
    ]:
        hop = policy.hop(address)
        assert hop is not None
        assert (hop.trusted_by is not None) is trusted, address
    hop = policy.hop("10.1.2.3")
    assert hop is not None and hop.trusted_by == f"10.1.0.0/16 (file:{ranges})"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("10.0.0.0/8\nnot-a-network\n", "line 2: 'not-a-network'", id="junk"),
        pytest.param("10.0.0.1/8\n", "line 1", id="host-bits-set"),
        pytest.param("10.0.0.0/33\n", "line 1", id="prefix-too-long"),
        pytest.param("# nothing here\n\n", "lists no addresses", id="empty"),
        pytest.param("loopback\n", "line 1: 'loopback'", id="no-presets-inside-files"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, message: str) -> None:
    ranges = tmp_path / "bad.txt"
    ranges.write_text(content, "utf-8")
    with pytest.raises(ConfigError, match=message):
        TrustPolicy(f"file:{ranges}")
    with pytest.raises(ConfigError, match=message):
        load_networks(ranges)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        TrustPolicy(f"file:{tmp_path / 'absent.txt'}")


def test_load_networks_result_is_a_trust_spec(tmp_path: Path) -> None:
    ranges = tmp_path / "lb.txt"
    ranges.write_text("10.1.0.0/16\n2001:db8:5::/48\n", "utf-8")
    networks = load_networks(ranges)
    assert networks == ("10.1.0.0/16", "2001:db8:5::/48")
    resolver = trustproxy.Resolver(trusted=networks)
    assert resolver.resolve("10.1.0.1", {"X-Forwarded-For": "203.0.113.7"}).client == (
        "203.0.113.7"
    )


def test_env_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PROXIES", "10.1.0.0/16, 2001:db8:5::/48\n10.9.9.9")
    policy = TrustPolicy("env:MY_PROXIES")
    for address in ("10.1.2.3", "2001:db8:5::1", "10.9.9.9"):
        hop = policy.hop(address)
        assert hop is not None and hop.trusted_by is not None, address
    hop = policy.hop("10.2.0.1")
    assert hop is not None and hop.trusted_by is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(None, "is not set", id="unset"),
        pytest.param(" , ", "lists no addresses", id="empty"),
        pytest.param("10.0.0.0/8 bogus", "entry 2: 'bogus'", id="bad-entry"),
    ],
)
def test_bad_env(monkeypatch: pytest.MonkeyPatch, value: Optional[str], message: str) -> None:
    monkeypatch.delenv("MY_PROXIES", raising=False)
    if value is not None:
        monkeypatch.setenv("MY_PROXIES", value)
    with pytest.raises(ConfigError, match=message):
        TrustPolicy("env:MY_PROXIES")


# -- each provider's preset with the header shapes it documents ----------------------------

#: (preset, configuration, an edge address inside the shipped ranges, header lines as the
#: provider writes them, client, client port).
PROVIDER_CASES = [
    pytest.param(
        "cloudflare", {"headers": "cf-connecting-ip"}, "173.245.48.1",
        [("CF-Connecting-IP", "198.51.100.7")], "198.51.100.7", None, id="cloudflare",
    ),
    pytest.param(
        "cloudfront", {"headers": "cloudfront-viewer-address"}, "130.176.0.5",
        [("CloudFront-Viewer-Address", "198.51.100.10:46532")], "198.51.100.10", 46532,
        id="cloudfront-ipv4",
    ),
    pytest.param(
        # An IPv6 viewer is written without brackets: the port follows the last colon.
        "cloudfront", {"headers": "cloudfront-viewer-address"}, "15.158.1.2",
        [("CloudFront-Viewer-Address", "2001:db8:85a3::8a2e:370:7334:8080")],
        "2001:db8:85a3::8a2e:370:7334", 8080, id="cloudfront-ipv6",
    ),
    pytest.param(
        # An IPv6 origin-facing server (CloudFront connects to IPv6 origins).
        "cloudfront", {"headers": "cloudfront-viewer-address"}, "2600:9000:5200::10",
        [("CloudFront-Viewer-Address", "198.51.100.10:46532")], "198.51.100.10", 46532,
        id="cloudfront-from-ipv6-edge",
    ),
    pytest.param(
        # Front Door writes the client's address alone; the edge is an AzureFrontDoor.Backend
        # address.
        "azure-front-door", {"headers": "x-azure-clientip"}, "147.243.0.10",
        [("X-Azure-ClientIP", "203.0.113.7")], "203.0.113.7", None, id="azure-front-door",
    ),
    pytest.param(
        "fastly", {"headers": "fastly-client-ip"}, "151.101.1.1",
        [("Fastly-Client-IP", "203.0.113.7")], "203.0.113.7", None, id="fastly",
    ),
    pytest.param(
        # A Google Front End appends "<client>, <load balancer address>": the client is
        # second from the right, whatever the client wrote to the left.  The load
        # balancer's own (forwarding rule) address is yours, trusted next to the preset.
        "google-cloud-lb", {"hops": 2, "also": ["34.120.1.1"]}, "35.191.3.4",
        [("X-Forwarded-For", "6.6.6.6, 203.0.113.7, 34.120.1.1")], "203.0.113.7", None,
        id="google-cloud-lb",
    ),
    pytest.param(
        "google-cloud-lb", {"hops": 2, "also": ["34.120.1.1"]}, "2600:2d00:1:b029::5",
        [("X-Forwarded-For", "2001:db8::7, 34.120.1.1")], "2001:db8::7", None,
        id="google-cloud-lb-ipv6",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "config", "edge", "lines", "client", "port"), PROVIDER_CASES)
def test_provider_preset_with_its_header(
    name: str,
    config: dict[str, object],
    edge: str,
    lines: list[tuple[str, str]],
    client: str,
    port: Optional[int],
) -> None:
    options = dict(config)
    trusted = [name, *options.pop("also", [])]  # type: ignore[misc]
    resolver = trustproxy.Resolver(trusted=trusted, **options)  # type: ignore[arg-type]
    result = resolver.resolve(edge, lines)
    assert (result.status, result.client, result.client_port) == ("applied", client, port)
    # The same headers from anyone outside the provider's ranges are ignored.
    direct = resolver.resolve("6.6.6.6", lines)
    assert (direct.status, direct.client) == ("untrusted-peer", "6.6.6.6")


@pytest.mark.parametrize(
    "value",
    ["198.51.100.10", "2001:db8::1", "198.51.100.10:0", "198.51.100.10:1:2", "fe80::1%eth0:80"],
)
def test_cloudfront_viewer_address_needs_its_port(value: str) -> None:
    resolver = trustproxy.Resolver(trusted="cloudfront", headers="CloudFront-Viewer-Address")
    result = resolver.resolve("130.176.0.5", [("CloudFront-Viewer-Address", value)])
    assert (result.status, result.client) == ("unresolved", "130.176.0.5")
    assert "exactly one IP address and port" in result.reason


@pytest.mark.parametrize("header", SINGLE_HEADERS)
def test_documented_single_address_headers_are_accepted(header: str) -> None:
    value = "203.0.113.7:4711" if header == "cloudfront-viewer-address" else "203.0.113.7"
    resolver = trustproxy.Resolver(headers=header.title())
    result = resolver.resolve("127.0.0.1", [(header.upper(), value)])
    assert (result.status, result.client) == ("applied", "203.0.113.7")


# -- the shipped snapshots, checked against the documents they were copied from ------------
#
# The counts and members below were read in the providers' documents (see each file's
# "note"): AWS ip-ranges.json of 2026-09-08 and the AzureFrontDoor.Backend tag of Azure
# Service Tags change 396.  The neighbours are just outside a listed network.


def _families(name: str) -> tuple[int, int]:
    networks = [ipaddress.ip_network(str(n)) for n in shipped(name)["networks"]]  # type: ignore[attr-defined]
    return sum(n.version == 4 for n in networks), sum(n.version == 6 for n in networks)


def _trusted_by(policy: TrustPolicy, address: str) -> Optional[str]:
    hop = policy.hop(address)
    assert hop is not None, address
    return hop.trusted_by


def test_shipped_cloudfront_is_the_whole_origin_facing_service() -> None:
    document = shipped("cloudfront")
    assert (document["date"], document["published"]) == ("2026-09-08", "2026-09-08")
    assert document["complete"] is True and "2026-09-08-13-47-05" in str(document["note"])
    # 44 GLOBAL + ap-northeast-2 + me-central-1 IPv4 prefixes, 3 GLOBAL IPv6 prefixes.
    assert _families("cloudfront") == (46, 3)
    policy = TrustPolicy("cloudfront")
    for address, network in [
        ("130.176.0.5", "130.176.0.0/18"),  # GLOBAL
        ("24.110.200.1", "24.110.128.0/17"),  # GLOBAL, new since the 2023 copy
        ("13.124.199.10", "13.124.199.0/24"),  # ap-northeast-2
        ("3.29.57.63", "3.29.57.0/26"),  # me-central-1
        ("2600:9000:1000::1", "2600:9000:1000::/36"),
        ("2600:9000:52ff::1", "2600:9000:5200::/40"),
    ]:
        assert _trusted_by(policy, address) == f"{network} (cloudfront)", address
    for outsider in [
        "3.29.57.64",  # next to me-central-1's /26
        "13.124.200.1",  # next to ap-northeast-2's /24
        "13.32.0.1",  # service CLOUDFRONT (viewer-facing), never origin-facing
        "2600:9000:3000::1",  # CLOUDFRONT's IPv6, not origin-facing
        "2600:9000:5300::1",  # next to 2600:9000:5200::/40
    ]:
        assert _trusted_by(policy, outsider) is None, outsider


def test_shipped_azure_front_door_is_the_backend_tag() -> None:
    document = shipped("azure-front-door")
    assert document["date"] == "2026-04-20" and document["published"] is None
    assert document["complete"] is True and "changeNumber 396" in str(document["note"])
    assert _families("azure-front-door") == (121, 92)
    policy = TrustPolicy("azure-front-door")
    for address, network in [
        ("147.243.10.1", "147.243.0.0/16"),
        ("13.73.248.23", "13.73.248.16/29"),
        ("4.153.250.9", "4.153.250.8/31"),
        ("2a01:111:205f::1", "2a01:111:2050::/44"),
        ("2603:1030:40c:1::5df", "2603:1030:40c:1::5c0/123"),
    ]:
        assert _trusted_by(policy, address) == f"{network} (azure-front-door)", address
    for outsider in [
        "147.244.0.1",  # next to 147.243.0.0/16
        "13.73.248.24",  # next to 13.73.248.16/29
        "4.153.250.10",  # next to 4.153.250.8/31
        "2a01:111:2060::1",  # next to 2a01:111:2050::/44
        "2603:1030:40c:1::5e0",  # next to 2603:1030:40c:1::5c0/123
    ]:
        assert _trusted_by(policy, outsider) is None, outsider


def test_an_empty_preset_file_is_refused_naming_the_fix(tmp_path: Path) -> None:
    (tmp_path / "azure-front-door.json").write_text(
        json.dumps({"format": 1, "name": "azure-front-door", "networks": []}), "utf-8"
    )
    with pytest.raises(ConfigError, match=r"lists no networks.*presets update azure-front-door"):
        TrustPolicy("azure-front-door", presets_dir=str(tmp_path))
