#!/usr/bin/env python3
"""Fetch one test module from a peer project's sdist and point it at trustproxy.

A peer's own tests are the best proof that a drop-in behaves like the original, but they
are the peer's code: they are downloaded from the package index at test time, never
committed (the destination folder is git-ignored).  The sdist fetched is the one of the
version installed here, so the tests match the behaviour they describe.

    python3 scripts/fetch_peer_tests.py werkzeug tests/middleware/test_proxy_fix.py \\
        --replace 'from werkzeug.middleware.proxy_fix import ProxyFix' \\
                  'from trustproxy import ProxyFix'

writes ``tests/peer/werkzeug/werkzeug_test_proxy_fix.py`` (a name pytest does not collect
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
DEFAULT_DEST = ROOT / "tests" / "peer"


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
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            raise FetchError(f"{package} is not installed: install the test extras") from None
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
    parser.add_argument("--dest", type=Path, help="folder to write to (default tests/peer/PACKAGE)")
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
