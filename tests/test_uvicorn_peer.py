"""uvicorn's own ProxyHeadersMiddleware tests, run against trustproxy's drop-in.

``scripts/fetch_peer_tests.py`` downloads uvicorn's source distribution (the version
installed) and changes only the import.  The module runs in a child pytest with uvicorn's
own conftest.  EXCLUDED lists the tests that are not run, each with its reason; the same
list is in ``docs/migrate-uvicorn.md`` (checked below) and every excluded case must
really fail against the drop-in (checked below), so no exclusion is kept for nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from fetch_peer_tests import fetch_tree  # noqa: E402

MODULE = "tests/middleware/test_proxy_headers.py"
ORIGINAL_IMPORT = (
    "from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, _TrustedHosts"
)
# _TrustedHosts is uvicorn-internal; the one test using it is deselected, but the name
# must still resolve for the module to import.
NEW_IMPORT = (
    "from trustproxy import ProxyHeadersMiddleware\n"
    "from uvicorn.middleware.proxy_headers import _TrustedHosts"
)

INTERNAL = "inspects uvicorn internals (_TrustedHosts)"
EMPTY = (
    "empty list items: trustproxy skips them (the foundation's rule), uvicorn stops at"
    " the first one; malformed input, results differ by design"
)
JUNK = (
    "an item that is not an address: uvicorn makes it (or the address before it) the"
    " client; trustproxy keeps the peer, never takes an item left of one it cannot parse"
)

#: test id -> why it is not run.  Each id is one uvicorn test or one parameter case.
EXCLUDED: dict[str, str] = {
    "test_forwarded_hosts": INTERNAL,
    "test_proxy_headers_trusted_hosts_malformed[ , 10.0.0.1-https-https://127.0.0.1:123]": EMPTY,
    "test_proxy_headers_trusted_hosts_malformed"
    "[9.9.9.9 , , , 10.0.0.1-https-https://127.0.0.1:123]": EMPTY,
    "test_proxy_headers_trusted_hosts_malformed[, , 9.9.9.9, , -https-https://127.0.0.1:123]": (
        EMPTY
    ),
    "test_proxy_headers_invalid_x_forwarded_for": JUNK,
    "test_proxy_headers_x_forwarded_for_port_shapes"
    "[1.2.3.4:notaport-https://1.2.3.4:notaport:0]": JUNK,
    "test_proxy_headers_x_forwarded_for_port_shapes"
    "[[2001:db8::1]:notaport-https://[2001:db8::1]:0]": JUNK,
    "test_proxy_headers_x_forwarded_for_port_shapes"
    "[[2001:db8::1]extra-https://[2001:db8::1]extra:0]": JUNK,
    "test_proxy_headers_x_forwarded_for_port_shapes[[2001:db8::1-https://[2001:db8::1:0]": JUNK,
}


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(root)])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-p", "no:cacheprovider",
         "-o", "addopts=-rfEs --strict-markers", "-q", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def uvicorn_tests() -> Path:
    # The whole tests/ folder: the module needs uvicorn's conftest and helpers.
    return fetch_tree(
        "uvicorn", ["tests/", "pyproject.toml"], {MODULE: [(ORIGINAL_IMPORT, NEW_IMPORT)]}
    )


def test_uvicorn_proxy_header_tests_pass(uvicorn_tests: Path) -> None:
    deselect = [f"--deselect={MODULE}::{name}" for name in EXCLUDED]
    run = _pytest(uvicorn_tests, MODULE, *deselect)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Nothing skipped (a missing optional dependency would hide a protocol variant).
    assert "skipped" not in summary, summary
    assert " passed" in summary and "failed" not in summary, summary


def test_every_excluded_case_really_fails(uvicorn_tests: Path) -> None:
    cases = [f"{MODULE}::{name}" for name in EXCLUDED if name != "test_forwarded_hosts"]
    run = _pytest(uvicorn_tests, *cases)
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"{len(cases)} failed"), summary


def test_exclusions_are_documented() -> None:
    doc = (ROOT / "docs" / "migrate-uvicorn.md").read_text(encoding="utf-8")
    for name in EXCLUDED:
        assert f"`{name}`" in doc, name
