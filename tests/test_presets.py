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
    if not document["complete"]:
        # A partial or missing snapshot says so in words, for `presets list` and the docs.
        assert "PARTIAL" in str(document["note"]) or "NOT SHIPPED" in str(document["note"])


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
