"""Fetch uvicorn's own ProxyHeadersMiddleware tests from its source distribution.

The tests are run against :class:`trustproxy.ProxyHeadersMiddleware` with only the import
changed (``tests/test_uvicorn_peer.py``).  They are downloaded at test time from the
package index with pip, for the uvicorn version installed, and never committed: the
cache directory is git-ignored.  Any failure raises: in CI a failed fetch is a failure.

    python3 scripts/fetch_uvicorn_tests.py [DEST]
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".peer-tests"

ORIGINAL_IMPORT = (
    "from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, _TrustedHosts"
)
# _TrustedHosts is uvicorn-internal; the one test using it is deselected, but the name
# must still resolve for the module to import.
NEW_IMPORT = (
    "from trustproxy import ProxyHeadersMiddleware\n"
    "from uvicorn.middleware.proxy_headers import _TrustedHosts"
)


def fetch_sdist(distribution: str, version: str, members: list[str], dest: Path) -> Path:
    """Download ``distribution==version``'s sdist with pip and extract ``members``
    (paths below the sdist's top folder; a trailing ``/`` takes a whole folder) into
    ``dest``.  Generic: the werkzeug fetch can share it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "--disable-pip-version-check",
             f"{distribution}=={version}", "-d", download],
            check=True,
        )  # fmt: skip
        archives = list(Path(download).glob("*.tar.gz"))
        if len(archives) != 1:
            raise RuntimeError(f"expected one sdist for {distribution}, got {archives}")
        with tarfile.open(archives[0]) as archive:
            top = archive.getnames()[0].split("/")[0]
            found = 0
            for member in archive.getmembers():
                relative = member.name[len(top) + 1 :]
                if not member.isfile() or not any(
                    relative == m or (m.endswith("/") and relative.startswith(m)) for m in members
                ):
                    continue
                target = dest / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:
                    raise RuntimeError(f"cannot read {member.name}")
                target.write_bytes(source.read())
                found += 1
    if not found:
        raise RuntimeError(f"none of {members} found in the {distribution} sdist")
    return dest


def fetch_uvicorn(dest: Path = CACHE) -> Path:
    """uvicorn's tests/ folder (the module needs its conftest and helpers), with the
    import in ``tests/middleware/test_proxy_headers.py`` pointed at trustproxy.
    Returns the folder to run pytest in."""
    version = importlib.metadata.version("uvicorn")
    root = dest / f"uvicorn-{version}"
    module = root / "tests" / "middleware" / "test_proxy_headers.py"
    if not module.exists():
        fetch_sdist("uvicorn", version, ["tests/", "pyproject.toml"], root)
        text = module.read_text(encoding="utf-8")
        if text.count(ORIGINAL_IMPORT) != 1:
            raise RuntimeError("uvicorn's test module no longer has the expected import line")
        module.write_text(text.replace(ORIGINAL_IMPORT, NEW_IMPORT), encoding="utf-8")
    return root


if __name__ == "__main__":
    print(fetch_uvicorn(Path(sys.argv[1]) if len(sys.argv) > 1 else CACHE))
