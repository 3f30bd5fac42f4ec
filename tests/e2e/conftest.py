"""Fixtures of the end-to-end suite: a lab folder, a certificate, app servers, proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import lab as lab_module
from .lab import make_cert
from .servers import AppServers


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A safety net: every fixture stops what it started, but an interrupted run must not
    # leave a proxy listening either.
    lab_module.stop_all()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("proxylab")
    path.chmod(0o755)  # workers that drop to nobody read their configs from here
    return path


@pytest.fixture(scope="session")
def certs(lab: Path) -> dict[str, Path]:
    folder = lab / "tls"
    folder.mkdir()
    return make_cert(folder)


@pytest.fixture(scope="session")
def app_servers(lab: Path) -> Iterator[AppServers]:
    servers = AppServers(lab)
    try:
        yield servers
    finally:
        servers.stop()
