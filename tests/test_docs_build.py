"""The docs site builds with MkDocs in strict mode (every warning is an error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_strict_build(tmp_path: Path) -> None:
    try:
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error}: scripts/test installs the docs extra")
        pytest.skip(f"{error}: pip install -e '.[docs]'")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr
    api = (site / "api" / "index.html").read_text()
    # The reference is generated from the docstrings, roles rendered as code.
    assert "A compiled configuration: trust policy, fields and header family." in api
    assert ":class:" not in api
    for page in ("walk", "security-guide", "cli", "migrate-hypercorn"):
        assert (site / page / "index.html").is_file()
