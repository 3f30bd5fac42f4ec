"""Shared test configuration.

Hypothesis runs derandomized in CI (``CI`` set, as ``.ci/run`` does) so a run is
reproducible; locally it explores with random seeds.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import trustproxy._warn

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(autouse=True)
def fresh_warning_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty process-wide warning limiter, so whether a warning
    is logged never depends on which tests ran before."""
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the screenshots the browser tests left in ``$TRUSTPROXY_ARTIFACTS`` (set by
    ``scripts/test``), so a CI log says where to find them."""
    folder = os.environ.get("TRUSTPROXY_ARTIFACTS")
    if not folder or not os.path.isdir(folder):
        return
    shots = sorted(name for name in os.listdir(folder) if name.endswith(".png"))
    if shots:
        terminalreporter.section("artifacts")
        for name in shots:
            size = os.path.getsize(os.path.join(folder, name))
            terminalreporter.write_line(f"{os.path.join(folder, name)} ({size:,} bytes)")
