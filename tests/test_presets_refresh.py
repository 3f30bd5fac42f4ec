"""Refreshing provider presets: ``trustproxy presets update`` / ``list``, ``presets_dir``
and ``TRUSTPROXY_PRESETS_DIR``, and the warning for stale data.

Downloads go only to a loopback HTTP server (``http.server`` on 127.0.0.1, in a thread)
serving the recorded provider documents of tests/data/presets (see its README), through
the ``--source NAME=URL`` override; a refused connection uses a port nobody listens on.
"""

from __future__ import annotations

import datetime
import http.server
import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from trustproxy import ASGIMiddleware, Resolver, TrustPolicy, WSGIMiddleware, cli
from trustproxy import presets as presets_module
from trustproxy._config import Options

DATA = Path(__file__).resolve().parent / "data" / "presets"


def _fastly(addresses: list[str], v6: tuple[str, ...] = ()) -> bytes:
    return json.dumps({"addresses": addresses, "ipv6_addresses": list(v6)}).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    aws = json.loads((DATA / "ip-ranges.json").read_text("utf-8"))
    shrunk = {**aws, "prefixes": [p for p in aws["prefixes"] if p["ip_prefix"].startswith("52.")]}
    page = (DATA / "azure-download-page.html").read_text("utf-8").replace("{BASE}", base)
    _Handler.routes = {
        "/cloudflare": (200, (DATA / "cloudflare-ips.json").read_bytes()),
        "/aws": (200, (DATA / "ip-ranges.json").read_bytes()),
        "/fastly": (200, (DATA / "fastly-public-ip-list.json").read_bytes()),
        "/azure": (200, page.encode()),
        "/ServiceTags_Public_20261130.json": (
            200,
            (DATA / "ServiceTags_Public_20261130.json").read_bytes(),
        ),
        "/error": (500, b"Internal Server Error"),
        "/aws-shrunk": (200, json.dumps(shrunk).encode()),
        "/everything": (200, _fastly(["151.101.0.0/16", "0.0.0.0/0"])),
        "/halves": (200, _fastly(["0.0.0.0/1", "128.0.0.0/1"])),
        "/private": (200, _fastly(["151.101.0.0/16", "10.0.0.0/8"])),
        "/loopback": (200, _fastly(["151.101.0.0/16"], ("::1/128",))),
        "/empty": (200, _fastly([])),
        "/malformed": (200, b'{"addresses": ["151.101.0.0/16",'),
        "/not-a-network": (200, _fastly(["151.101.0.0/16", "151.101.0.1/16"])),
        "/azure-no-link": (200, b"<html><body>moved</body></html>"),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL on a port just closed: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/fastly"


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in presets_module.DATA_PRESETS:
        monkeypatch.delenv(presets_module.override_variable(name), raising=False)
    monkeypatch.delenv(presets_module.PRESETS_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(presets_module, "_warned", set())


def update(tmp_path: Path, *argv: str) -> int:
    return cli.main(["presets", "update", "--dir", str(tmp_path), *argv])


def written(tmp_path: Path, name: str) -> dict[str, Any]:
    document = json.loads((tmp_path / f"{name}.json").read_text("utf-8"))
    assert isinstance(document, dict)
    return document


# -- each provider's real format ---------------------------------------------------------


def test_update_every_provider_from_its_format(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --force: the recorded ServiceTags file is a 3-entry excerpt, which the shrink check
    # would refuse against the 213 shipped entries (test_a_shrunk_list_needs_force).
    status = update(
        tmp_path, "--force",
        "--source", f"cloudflare={server}/cloudflare",
        "--source", f"cloudfront={server}/aws",
        "--source", f"fastly={server}/fastly",
        "--source", f"azure-front-door={server}/azure",
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    cloudflare = written(tmp_path, "cloudflare")
    assert cloudflare["networks"] == [str(n) for n in presets_module.shipped("cloudflare").networks]
    assert cloudflare["date"] == today and cloudflare["source"] == f"{server}/cloudflare"
    cloudfront = written(tmp_path, "cloudfront")
    # Only CLOUDFRONT_ORIGIN_FACING: the GLOBAL block and the regional prefix, not the
    # viewer-facing CLOUDFRONT, AMAZON or EC2 entries (the recorded copy has no
    # origin-facing IPv6 prefix).
    assert "13.124.199.0/24" in cloudfront["networks"]
    assert "15.158.0.0/16" in cloudfront["networks"]
    assert not {"3.35.130.128/25", "52.24.0.0/14", "2600:9000::/28"} & set(cloudfront["networks"])
    assert len(cloudfront["networks"]) == 45 and cloudfront["published"] == "2023-06-16"
    assert written(tmp_path, "fastly")["networks"][-1] == "2a04:4e42::/32"
    azure = written(tmp_path, "azure-front-door")
    # The download page was followed to this week's file; only AzureFrontDoor.Backend.
    assert azure["networks"] == ["13.73.248.16/29", "147.243.0.0/16", "2a01:111:2050::/44"]
    assert azure["published"] == "2026-11-30" and azure["header"] == "X-Azure-ClientIP"
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"
    out = capsys.readouterr().out
    was = len(presets_module.shipped("cloudfront").networks)
    assert f"cloudfront: 45 entries (was {was}), published 2023-06-16" in out


def test_refreshed_files_are_read_by_every_adapter(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ["--source", f"azure-front-door={server}/azure"]
    assert update(tmp_path, "azure-front-door", "--force", *source) == 0  # a 3-entry excerpt
    config: dict[str, Any] = {"trusted": "azure-front-door", "headers": "x-azure-clientip"}
    line = [("X-Azure-ClientIP", "203.0.113.7")]
    # 4.153.250.1 is in the shipped AzureFrontDoor.Backend list, not in the recorded
    # document: trusted only while the shipped file is the one read.
    shipped_only = "4.153.250.1"
    assert Resolver(**config).resolve(shipped_only, line).status == "applied"
    resolvers = [
        Resolver(presets_dir=str(tmp_path), **config),
        Resolver(Options(presets_dir=tmp_path, **config)),
        Resolver(Options.from_mapping({**config, "presets_dir": str(tmp_path)}, "TRUSTPROXY")),
        WSGIMiddleware(lambda e, s: [], presets_dir=str(tmp_path), **config).resolver,
        ASGIMiddleware(lambda s, r, w: None, presets_dir=str(tmp_path), **config).resolver,  # type: ignore[arg-type,return-value]
    ]
    monkeypatch.setenv("TRUSTPROXY_PRESETS_DIR", str(tmp_path))
    resolvers.append(Resolver(**config))
    for resolver in resolvers:
        edge = resolver.resolve("147.243.1.2", line)
        assert (edge.status, edge.client) == ("applied", "203.0.113.7"), resolver
        direct = resolver.resolve("6.6.6.6", line)
        assert (direct.status, direct.client) == ("untrusted-peer", "6.6.6.6"), resolver
        gone = resolver.resolve(shipped_only, line)
        assert (gone.status, gone.client) == ("untrusted-peer", shipped_only), resolver


def test_the_override_variable_still_wins(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert update(tmp_path, "fastly", "--source", f"fastly={server}/fastly") == 0
    ranges = tmp_path / "mine.txt"
    ranges.write_text("203.0.113.0/24\n", "utf-8")
    monkeypatch.setenv("TRUSTPROXY_FASTLY_FILE", str(ranges))
    policy = TrustPolicy("fastly", presets_dir=str(tmp_path))
    assert policy.hop("151.101.0.1").trusted_by is None  # type: ignore[union-attr]
    assert policy.hop("203.0.113.1").trusted_by == "203.0.113.0/24 (fastly)"  # type: ignore[union-attr]


# -- refusals: the last good file is kept ------------------------------------------------


@pytest.mark.parametrize(
    ("route", "status", "message"),
    [
        pytest.param("/error", 1, "download failed: HTTP 500", id="http-500"),
        pytest.param("/missing", 1, "download failed: HTTP 404", id="http-404"),
        pytest.param("/malformed", 3, "not valid JSON", id="malformed-json"),
        pytest.param("/empty", 3, "lists no ranges", id="empty"),
        pytest.param("/everything", 3, "every IPv4 address", id="covers-everything"),
        pytest.param("/halves", 3, "every IPv4 address", id="covers-everything-in-halves"),
        pytest.param("/private", 3, "10.0.0.0/8 is not a public range", id="private-range"),
        pytest.param("/loopback", 3, "::1/128 is not a public range", id="loopback-range"),
        pytest.param("/not-a-network", 3, "'151.101.0.1/16' is not a network", id="host-bits"),
    ],
)
def test_a_bad_download_keeps_the_last_good_file(
    server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    route: str,
    status: int,
    message: str,
) -> None:
    assert update(tmp_path, "fastly", "--source", f"fastly={server}/fastly") == 0
    good = (tmp_path / "fastly.json").read_bytes()
    capsys.readouterr()
    assert update(tmp_path, "fastly", "--source", f"fastly={server}{route}") == status
    err = capsys.readouterr().err
    assert message in err and f"kept {tmp_path / 'fastly.json'}" in err, err
    assert (tmp_path / "fastly.json").read_bytes() == good
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fastly.json"]


def test_a_refused_connection_keeps_the_shipped_data(
    tmp_path: Path, refused_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert update(tmp_path, "fastly", "--source", f"fastly={refused_url}") == 1
    assert "download failed: cannot download" in capsys.readouterr().err
    assert not (tmp_path / "fastly.json").exists()
    assert len(TrustPolicy("fastly", presets_dir=str(tmp_path)).entries) == 1


def test_a_shrunk_list_needs_force(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = ["--source", f"cloudfront={server}/aws-shrunk"]
    assert update(tmp_path, "cloudfront", *source) == 3
    was = len(presets_module.shipped("cloudfront").networks)
    assert f"shrank from {was} to 6 entries" in capsys.readouterr().err
    assert not (tmp_path / "cloudfront.json").exists()
    assert update(tmp_path, "cloudfront", "--force", *source) == 0
    assert len(written(tmp_path, "cloudfront")["networks"]) == 6


def test_the_worst_outcome_decides_the_status_and_the_rest_is_written(
    server: str, tmp_path: Path
) -> None:
    status = update(
        tmp_path,
        "fastly", "cloudflare", "azure-front-door",
        "--source", f"fastly={server}/error",
        "--source", f"cloudflare={server}/cloudflare",
        "--source", f"azure-front-door={server}/azure-no-link",
    )  # fmt: skip
    assert status == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cloudflare.json"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["update", "cloudfare"], "unknown preset 'cloudfare'", id="unknown"),
        pytest.param(["update", "google-cloud-lb"], "documented constants", id="static"),
        pytest.param(["update", "--source", "fastly"], "not NAME=URL", id="bad-source"),
        pytest.param(["update", "--source", "fastly=file:///etc/passwd"], "", id="not-http"),
    ],
)
def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status = cli.main(["presets", *argv, "--dir", str(tmp_path)])
    err = capsys.readouterr().err
    if message:
        assert status == 2 and message in err, err
    else:
        assert status == 1 and "not an http(s) URL" in err, err


def test_update_needs_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["presets", "update"]) == 2
    assert "--dir DIR or set TRUSTPROXY_PRESETS_DIR" in capsys.readouterr().err


# -- list and the age warning ------------------------------------------------------------


def test_list_shows_entries_date_age_and_source(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fixed day, 92 days after the shipped CloudFront snapshot was published.
    _fake_today(monkeypatch, datetime.date(2026, 12, 9))
    assert update(tmp_path, "fastly", "--source", f"fastly={server}/fastly") == 0
    capsys.readouterr()
    assert cli.main(["presets", "list", "--dir", str(tmp_path)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(lines) == {"NAME", *presets_module.DATA_PRESETS}
    assert lines["fastly"].split()[1:4] == ["21", str(presets_module._today()), "0d"]
    assert str(tmp_path / "fastly.json") in lines["fastly"]
    assert lines["cloudfront"].split()[1:5] == ["49", "2026-09-08", "92d", "(stale)"]
    assert lines["azure-front-door"].split()[1:5] == ["213", "2026-04-20", "233d", "(stale)"]
    assert "shipped" in lines["cloudfront"] and "shipped" in lines["azure-front-door"]
    assert "https://api.cloudflare.com/client/v4/ips" in lines["cloudflare"]


def test_list_shows_an_unusable_file_as_an_error_naming_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = json.loads((Path(presets_module.__file__).parent / "fastly.json").read_text())
    (tmp_path / "fastly.json").write_text(json.dumps({**shipped, "networks": []}))
    (tmp_path / "cloudfront.json").write_text("{not json")
    assert cli.main(["presets", "list", "--dir", str(tmp_path)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["fastly"].split()[1:5] == ["-", "-", "-", "error"]
    assert "lists no networks" in lines["fastly"]
    assert "trustproxy presets update fastly" in lines["fastly"]
    assert lines["cloudfront"].split()[4] == "error"
    assert "shipped" in lines["cloudflare"].split()  # the others still listed


def _fake_today(monkeypatch: pytest.MonkeyPatch, day: datetime.date) -> None:
    monkeypatch.setattr(presets_module, "_today", lambda: day)


def test_a_preset_older_than_90_days_warns_once(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert update(tmp_path, "fastly", "--source", f"fastly={server}/fastly") == 0
    taken = datetime.date.fromisoformat(written(tmp_path, "fastly")["date"])
    caplog.set_level(logging.WARNING, logger="trustproxy")
    _fake_today(monkeypatch, taken + datetime.timedelta(days=90))
    TrustPolicy("fastly", presets_dir=str(tmp_path))
    assert not caplog.records, "90 days is not yet stale"
    _fake_today(monkeypatch, taken + datetime.timedelta(days=91))
    for _ in range(3):  # three middlewares at start-up: one line
        WSGIMiddleware(lambda e, s: [], trusted="fastly", headers="fastly-client-ip",
                       presets_dir=str(tmp_path))  # fmt: skip
    (record,) = caplog.records
    assert record.name == "trustproxy" and record.levelno == logging.WARNING
    assert "'fastly'" in record.getMessage() and "91 days old" in record.getMessage()
    assert "presets update fastly" in record.getMessage()


def test_old_shipped_snapshots_warn_and_static_ranges_do_not(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    published = presets_module.shipped("cloudfront").date
    assert published is not None
    caplog.set_level(logging.WARNING, logger="trustproxy")
    _fake_today(monkeypatch, published + datetime.timedelta(days=90))
    TrustPolicy("cloudfront")
    assert not caplog.records, "the shipped CloudFront snapshot is not yet 90 days old"
    _fake_today(monkeypatch, published + datetime.timedelta(days=91))
    TrustPolicy("google-cloud-lb")
    assert not caplog.records
    TrustPolicy("cloudfront")
    TrustPolicy("azure-front-door")  # older still: taken 2026-04-20
    TrustPolicy("fastly")  # no date at all: its age is unknown
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3
    assert "'cloudfront' (shipped) is 91 days old (taken 2026-09-08)" in messages[0]
    assert "'azure-front-door' (shipped) is 232 days old (taken 2026-04-20)" in messages[1]
    assert "'fastly' (shipped) is of unknown date" in messages[2]
    assert all("presets update" in message for message in messages)
