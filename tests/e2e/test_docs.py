"""The deployment pages show exactly the configs and settings the suite runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .lab import CONFIGS, docs_part
from .proxies import CHAIN, FORWARDED, KINDS

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
