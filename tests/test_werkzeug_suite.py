"""werkzeug's own ProxyFix tests, run against ``trustproxy.ProxyFix``.

The module is fetched from the sdist of the werkzeug version installed here (never
committed: see ``scripts/fetch_peer_tests.py``) with one change, its import, and run in a
subprocess.  A failed download fails this test: a skip would hide that the drop-in claim
went unchecked.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fetch_peer_tests.py"
MEMBER = "tests/middleware/test_proxy_fix.py"
ORIGINAL_IMPORT = "from werkzeug.middleware.proxy_fix import ProxyFix"
OUR_IMPORT = "from trustproxy import ProxyFix"

#: werkzeug tests that expect a value trustproxy refuses, by test id, with the reason.
#: Keep in step with docs/migrate-werkzeug.md.  Empty: all of werkzeug 3.1's tests pass.
EXCLUDED: dict[str, str] = {}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_peer_tests", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def peer_module() -> Path:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "werkzeug", MEMBER, "--replace", ORIGINAL_IMPORT, OUR_IMPORT],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"fetching werkzeug's tests failed:\n{done.stderr}"
    return Path(done.stdout.strip())


def test_fetched_module_imports_trustproxy(peer_module: Path) -> None:
    text = peer_module.read_text(encoding="utf-8")
    assert OUR_IMPORT in text
    assert "werkzeug.middleware.proxy_fix" not in text


def test_werkzeug_proxy_fix_suite_passes(peer_module: Path, tmp_path: Path) -> None:
    result = _load_script().run_suite(peer_module, EXCLUDED, report_dir=tmp_path)
    assert result["returncode"] == 0, result["output"]
    assert result["tests"] >= 17 - len(EXCLUDED), result  # werkzeug 3.1 ships 17 cases
    assert result["failures"] == result["errors"] == result["skipped"] == 0, result


def test_fetch_refuses_a_replacement_that_does_not_match() -> None:
    script = _load_script()
    with pytest.raises(script.FetchError, match="not found"):
        script.rewrite("import something_else\n", [(ORIGINAL_IMPORT, OUR_IMPORT)])


def test_fetch_rewrites_every_occurrence() -> None:
    script = _load_script()
    text = f"{ORIGINAL_IMPORT}\nx = 1\n{ORIGINAL_IMPORT}\n"
    assert script.rewrite(text, [(ORIGINAL_IMPORT, OUR_IMPORT)]) == (
        f"{OUR_IMPORT}\nx = 1\n{OUR_IMPORT}\n"
    )
