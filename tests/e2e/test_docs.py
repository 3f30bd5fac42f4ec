"""The deployment pages show exactly the configs and settings the suite runs."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .lab import CONFIGS, Proc, docs_part, free_port, python
from .proxies import CHAIN, FORWARDED, KINDS
from .servers import SRC

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES = ["nginx", "haproxy", "apache", "caddy", "lighttpd", "envoy", "traefik", "chain",
         "forwarded", "cloudflare", "aws-alb"]  # fmt: skip


def test_pages_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_deploy_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"run python3 scripts/gen_deploy_docs.py\n{result.stdout}{result.stderr}"
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_has_generated_blocks(page: str) -> None:
    text = (ROOT / "docs" / "deploy" / f"{page}.md").read_text()
    assert "<!-- begin: settings " in text
    assert "Middleware(" in text  # the block was filled in


@pytest.mark.parametrize(
    "template",
    sorted(
        {t for k in [*KINDS.values(), *CHAIN.values(), *FORWARDED.values()] for t in k.templates}
    ),
)
def test_every_template_is_on_a_page(template: str) -> None:
    pages = " ".join(p.read_text() for p in (ROOT / "docs" / "deploy").glob("*.md"))
    assert f"<!-- begin: config {template} -->" in pages
    assert docs_part((CONFIGS / template).read_text()).strip()


def _section(title: str) -> str:
    page = (ROOT / "docs" / "setup.md").read_text()
    start = page.index(f"\n## {title}\n")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else len(page)]


def _block_after(text: str, marker: str) -> str:
    rest = text[text.index(marker) :]
    return rest.split("```", 2)[1].split("\n", 1)[1]


def _console(block: str) -> list[tuple[str, str]]:
    """``$ command`` lines and the output shown under each."""
    pairs: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], ""))
        elif pairs:
            pairs[-1] = (pairs[-1][0], (pairs[-1][1] + "\n" + line).strip())
    return pairs


@pytest.fixture(scope="module")
def one_machine(lab: Path, certs: dict[str, Path]) -> Iterator[tuple[str, str]]:
    """The section's own gunicorn command line, and the nginx recipe in front of it."""
    line = _block_after(_section("Test it on one machine"), "<!-- one-machine: app -->")
    cd, command = (part.strip() for part in line.strip().split("&&"))
    assert cd.startswith("cd ")
    argv = shlex.split(command)
    assert argv[0] == "gunicorn" and "127.0.0.1:8000" in argv
    port = free_port()
    argv = [python(), "-m", *argv]
    argv[argv.index("127.0.0.1:8000")] = f"127.0.0.1:{port}"
    # The page's "cd": gunicorn's --chdir does the same, and the log stays in the lab.
    argv += ["--chdir", str(ROOT / cd[3:])]
    folder = lab / "one-machine"
    folder.mkdir()
    proc = Proc("gunicorn", argv, folder, {"PYTHONPATH": str(SRC)})
    try:
        proc.wait_ready(f"http://127.0.0.1:{port}/")
        front = KINDS["nginx"].start(lab, f"127.0.0.1:{port}", certs)
        try:
            yield f"http://127.0.0.1:{port}/", front.url("/")
        finally:
            front.stop()
    finally:
        proc.stop()


def test_one_machine_section(one_machine: tuple[str, str]) -> None:
    """docs/setup.md's "Test it on one machine": every curl line, run as written (ports
    swapped for the test's), prints what the page shows under it."""
    curl = shutil.which("curl")
    assert curl, "scripts/test installs curl"
    app, front = one_machine
    section = _section("Test it on one machine")
    blocks = section.split("```console\n")[1:]
    pairs = [pair for block in blocks for pair in _console(block.split("```", 1)[0])]
    assert len(pairs) == 4, pairs  # the misleading check, then the three that are not
    assert "--interface" not in pairs[0][0] and "6.6.6.6" in pairs[0][1]
    for command, shown in pairs:
        argv = shlex.split(command)
        assert argv[0] == "curl"
        argv = [curl, "--max-time", "10", *argv[1:]]
        argv = [a.replace("http://127.0.0.1:8000/", app).replace("http://127.0.0.1/", front)
                for a in argv]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip() == shown, (command, done.stdout)
