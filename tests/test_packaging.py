"""The package as users install it: built, checked, installed into a clean environment.

``python -m build`` makes the sdist and the wheel from this checkout (in an isolated build
environment, as pip does), ``twine check`` validates their metadata, and the wheel is
installed without dependencies (trustproxy has none) into a new virtual environment that
does not see this checkout.  From there the README's first command must run as printed and
find the forged client, ``trustproxy whoami --help`` must answer, and the package data
(presets, ``py.typed``) must be inside the wheel.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _readme_first_command() -> str:
    """The first line of the README's first ``sh`` block, after ``pip install . &&``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None, "README.md has no sh block"
    first = block.group(1).splitlines()[0]
    install, sep, command = first.partition(" && ")
    assert sep and install == "pip install .", first
    return command


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clean virtual environment with only the wheel installed; yields its bin folder."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(home)
    bin_dir = home / "bin"
    (wheel,) = dist.glob("*.whl")
    # Without PYTHONPATH: pip would find this checkout's trustproxy on it and install nothing.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    yield bin_dir


def _run(bin_dir: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    # Only the venv on PATH, no PYTHONPATH: nothing of this checkout can leak in.
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(bin_dir.parent)}
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=bin_dir.parent, timeout=60
    )


def test_twine_check_passes(dist: Path) -> None:
    files = sorted(str(path) for path in dist.iterdir())
    assert any(name.endswith(".tar.gz") for name in files), files
    assert any(name.endswith(".whl") for name in files), files
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == len(files), done.stdout


def test_wheel_holds_the_package_data(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "trustproxy/py.typed" in names, sorted(names)
    # Every preset data file of the source tree, so a preset added without its
    # package-data pattern is caught here, not by a user's ConfigError.
    shipped = sorted((ROOT / "src" / "trustproxy" / "presets").glob("*.json"))
    assert len(shipped) == 5, shipped
    for path in shipped:
        inside = path.relative_to(ROOT / "src").as_posix()
        assert inside in names, f"{inside} is missing from the wheel"
    sources = {name for name in (ROOT / "src" / "trustproxy").rglob("*.py")}
    for source in sources:
        inside = source.relative_to(ROOT / "src").as_posix()
        assert inside in names, f"{inside} is missing from the wheel"


def test_readme_first_command_runs_from_the_installed_wheel(installed: Path) -> None:
    argv = shlex.split(_readme_first_command())
    assert argv[0] == "trustproxy"
    done = _run(installed, [str(installed / "trustproxy"), *argv[1:]])
    assert done.returncode == 0, done.stdout + done.stderr
    # The proxy on 127.0.0.1 appended 203.0.113.9; the client forged 6.6.6.6.
    assert re.search(r"^client: 203\.0\.113\.9$", done.stdout, re.M), done.stdout
    assert not re.search(r"^client: 6\.6\.6\.6", done.stdout, re.M), done.stdout
    where = _run(
        installed,
        [str(installed / "python"), "-c", "import trustproxy; print(trustproxy.__file__)"],
    )
    assert str(installed.parent) in where.stdout, where.stdout


def test_whoami_help_runs_from_the_installed_wheel(installed: Path) -> None:
    done = _run(installed, [str(installed / "trustproxy"), "whoami", "--help"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--port" in done.stdout


def test_presets_load_from_the_installed_wheel(installed: Path) -> None:
    code = (
        "from trustproxy import Resolver\n"
        "r = Resolver(trusted='cloudflare', headers='cf-connecting-ip')\n"
        "print(r.resolve('173.245.48.1', [('CF-Connecting-IP', '198.51.100.7')]).client)\n"
    )
    done = _run(installed, [str(installed / "python"), "-c", code])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "198.51.100.7"
    listed = _run(installed, [str(installed / "trustproxy"), "presets", "list"])
    assert listed.returncode == 0, listed.stdout + listed.stderr
    for name in ("cloudflare", "cloudfront", "fastly", "google-cloud-lb", "azure-front-door"):
        assert re.search(rf"^{name} +\d+ ", listed.stdout, re.M), listed.stdout
