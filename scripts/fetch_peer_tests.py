#!/usr/bin/env python3
"""Fetch a peer project's own tests from its sdist and point them at trustproxy.

A peer's own tests are the best proof that a drop-in behaves like the original, but they
are the peer's code: they are downloaded from the package index at test time, never
committed (everything goes below the git-ignored ``.peer-tests/``, per package and
version).  The sdist fetched is the one of the version installed here, so the tests
match the behaviour they describe.  Two shapes, one download path:

* :func:`fetch` takes one self-contained module (werkzeug's ProxyFix tests, used by
  ``tests/test_werkzeug_suite.py``);
* :func:`fetch_tree` takes whole folders, for a module that needs its conftest and
  helpers (uvicorn's ProxyHeadersMiddleware tests, ``tests/test_uvicorn_peer.py``).

    python3 scripts/fetch_peer_tests.py werkzeug tests/middleware/test_proxy_fix.py \\
        --replace 'from werkzeug.middleware.proxy_fix import ProxyFix' \\
                  'from trustproxy import ProxyFix'

writes ``.peer-tests/werkzeug/werkzeug_test_proxy_fix.py`` (a name pytest does not collect
on its own: the suite runs it in a subprocess, see ``tests/test_werkzeug_suite.py``) and
prints its path.  Each ``--replace OLD NEW`` must match at least once, so a peer that
renames its import makes the fetch fail instead of silently testing the peer's own code.
A copy already fetched for the same version and replacements is reused.

Standard library only; exit status 0 on success, 1 on any failure (CI treats a failed
fetch as a failed test, never a skip).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
# Git-ignored; a dot folder, so pytest never collects the peer's tests on its own.
DEFAULT_DEST = ROOT / ".peer-tests"


class FetchError(Exception):
    """The peer's sdist or the module inside it could not be obtained."""


def _marker(
    package: str, version: str, member: str, replacements: Sequence[tuple[str, str]]
) -> str:
    digest = hashlib.sha256(repr((package, version, member, list(replacements))).encode())
    return (
        f"# Fetched by scripts/fetch_peer_tests.py from the {package}=={version} sdist "
        f"({member}); do not edit or commit. key={digest.hexdigest()[:16]}\n"
    )


def _download(package: str, version: str, into: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-binary",
        ":all:",
        f"{package}=={version}",
        "-d",
        str(into),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FetchError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    archives = [p for p in into.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    if len(archives) != 1:
        raise FetchError(f"expected one sdist in {into}, found {sorted(archives)}")
    return archives[0]


def _read_member(archive: Path, member: str) -> str:
    # Only the one file is read (never extracted to disk): the sdist's top folder is
    # "<name>-<version>/", so match on the path below it.
    suffix = "/" + member
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            for name in bundle.namelist():
                if name.endswith(suffix) and name.count("/") == member.count("/") + 1:
                    return bundle.read(name).decode("utf-8")
    else:
        with tarfile.open(archive, "r:gz") as bundle:
            for info in bundle.getmembers():
                name = info.name
                if name.endswith(suffix) and name.count("/") == member.count("/") + 1:
                    handle = bundle.extractfile(info)
                    if handle is not None:
                        return handle.read().decode("utf-8")
    raise FetchError(f"{member} is not in {archive.name}")


def _installed(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        raise FetchError(f"{package} is not installed: install the test extras") from None


def rewrite(text: str, replacements: Sequence[tuple[str, str]]) -> str:
    """Apply each (old, new) replacement; every ``old`` must occur."""
    for old, new in replacements:
        if old not in text:
            raise FetchError(f"{old!r} not found in the peer's test module")
        text = text.replace(old, new)
    return text


def fetch(
    package: str,
    member: str,
    replacements: Sequence[tuple[str, str]] = (),
    *,
    dest: Optional[Path] = None,
    version: Optional[str] = None,
) -> Path:
    """Fetch ``member`` from ``package``'s sdist, rewrite it, return the written path."""
    if version is None:
        version = _installed(package)
    folder = (dest or DEFAULT_DEST / package).resolve()
    target = folder / f"{package}_{Path(member).name}"
    marker = _marker(package, version, member, replacements)
    if target.is_file():
        with target.open(encoding="utf-8") as existing:
            if existing.readline() == marker:
                return target
    with tempfile.TemporaryDirectory(prefix="trustproxy-peer-") as tmp:
        text = _read_member(_download(package, version, Path(tmp)), member)
    text = marker + rewrite(text, replacements)
    folder.mkdir(parents=True, exist_ok=True)
    # A private name, then an atomic rename: concurrent runs never see half a file.
    partial = folder / f".{target.name}.{os.getpid()}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target


def fetch_tree(
    package: str,
    members: Sequence[str],
    edits: dict[str, Sequence[tuple[str, str]]],
    *,
    dest: Optional[Path] = None,
    version: Optional[str] = None,
) -> Path:
    """Extract ``members`` of ``package``'s sdist (paths below its top folder; a
    trailing ``/`` takes a whole folder) into ``.peer-tests/PACKAGE-VERSION/``, apply
    ``edits`` (file path -> replacements, each of which must match), and return that
    folder.  A folder already fetched for the version is reused: it only ever appears
    complete, by an atomic rename."""
    if version is None:
        version = _installed(package)
    root = (dest or DEFAULT_DEST).resolve() / f"{package}-{version}"
    if root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trustproxy-peer-", dir=root.parent) as tmp:
        (Path(tmp) / "sdist").mkdir()
        archive = _download(package, version, Path(tmp) / "sdist")
        staged = Path(tmp) / "tree"
        if not archive.name.endswith(".tar.gz"):
            raise FetchError(f"expected a .tar.gz sdist, got {archive.name}")
        found = 0
        with tarfile.open(archive, "r:gz") as bundle:
            for info in bundle.getmembers():
                relative = info.name.split("/", 1)[1] if "/" in info.name else ""
                wanted = any(
                    relative == m or (m.endswith("/") and relative.startswith(m)) for m in members
                )
                if not info.isfile() or not wanted:
                    continue
                handle = bundle.extractfile(info)
                if handle is None:
                    raise FetchError(f"cannot read {info.name}")
                target = staged / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(handle.read())
                found += 1
        if not found:
            raise FetchError(f"none of {list(members)} is in {archive.name}")
        for path, replacements in edits.items():
            module = staged / path
            if not module.is_file():
                raise FetchError(f"{path} is not in {archive.name}")
            text = module.read_text(encoding="utf-8")
            module.write_text(rewrite(text, replacements), encoding="utf-8")
        try:
            staged.rename(root)
        except OSError:
            # A concurrent run finished first: its copy is as good as ours.
            if not root.is_dir():
                raise
            shutil.rmtree(staged)
    return root


def run_suite(
    module: Path, deselect: Iterable[str] = (), report_dir: Optional[Path] = None
) -> dict[str, object]:
    """Run a fetched module with pytest in a subprocess, against this tree's ``src``.

    ``deselect`` holds test ids (``test_name[param-id]``) to leave out.  Returns the
    junit counts (``tests``, ``failures``, ``errors``, ``skipped``), the ``returncode``
    and the ``output``, for the caller to assert on.
    """
    with tempfile.TemporaryDirectory(prefix="trustproxy-peer-run-", dir=report_dir) as tmp:
        report = Path(tmp) / "report.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(module),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
        ]
        for test_id in deselect:
            command += ["--deselect", f"{module}::{test_id}"]
        env = dict(os.environ)
        # This tree's source first, so the suite exercises it and not an installed copy.
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
        )
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        counts: dict[str, object] = {
            "returncode": done.returncode,
            "output": done.stdout + done.stderr,
        }
        if report.is_file():
            suite = ElementTree.parse(report).getroot()
            if suite.tag == "testsuites" and len(suite):
                suite = suite[0]
            for key in ("tests", "failures", "errors", "skipped"):
                counts[key] = int(suite.get(key, "0"))
        return counts


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="distribution name on the package index")
    parser.add_argument("member", help="path of the test module inside the sdist")
    parser.add_argument(
        "--replace",
        nargs=2,
        action="append",
        default=[],
        metavar=("OLD", "NEW"),
        help="text to replace (must occur); repeatable",
    )
    parser.add_argument(
        "--dest", type=Path, help="folder to write to (default .peer-tests/PACKAGE)"
    )
    parser.add_argument("--version", help="sdist version (default: the installed one)")
    args = parser.parse_args(argv)
    try:
        path = fetch(
            args.package,
            args.member,
            [tuple(pair) for pair in args.replace],
            dest=args.dest,
            version=args.version,
        )
    except (FetchError, OSError, tarfile.TarError, zipfile.BadZipFile) as error:
        print(f"fetch_peer_tests: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
