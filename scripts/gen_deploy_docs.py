#!/usr/bin/env python3
"""Write the tested proxy configs and trustproxy settings into ``docs/deploy/*.md``.

A page marks each generated block with an HTML comment, and this script rewrites what lies
between it and ``<!-- end -->``:

``<!-- begin: config nginx.conf.tmpl -->``
    the ``docs:begin`` … ``docs:end`` part of ``tests/e2e/configs/nginx.conf.tmpl``,
    rendered with the docs' placeholder values of the proxy that reads it;
``<!-- begin: settings single -->``
    the ``WSGIMiddleware(...)`` call for ``tests/e2e/recipes.py``'s ``RECIPES["single"]``.

``python3 scripts/gen_deploy_docs.py`` rewrites the pages; ``--check`` only reports the
pages that are out of date (exit 1).  ``tests/e2e/test_docs.py`` runs the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e.lab import CONFIGS, docs_part, render  # noqa: E402
from e2e.proxies import CHAIN, DOCS_COMMON, FORWARDED, KINDS  # noqa: E402
from e2e.recipes import python_snippet  # noqa: E402

DOCS = ROOT / "docs" / "deploy"
BLOCK = re.compile(
    r"(<!-- begin: (?P<what>config|settings) (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- end -->)",
    re.DOTALL,
)
LANGUAGE = {"nginx": "nginx", "haproxy": "haproxy", "apache": "apache", "Caddyfile": "caddyfile",
            "lighttpd": "lighttpd", "envoy": "yaml", "traefik": "yaml"}  # fmt: skip


def config_block(template: str) -> str:
    for kind in [*KINDS.values(), *CHAIN.values(), *FORWARDED.values()]:
        if template in kind.templates:
            values = {**DOCS_COMMON, **kind.docs_values}
            text = render(docs_part((CONFIGS / template).read_text()), values)
            base = template[len("chain-") :] if template.startswith("chain-") else template
            language = next((v for k, v in LANGUAGE.items() if base.startswith(k)), "text")
            return f"```{language}\n{text}```\n"
    raise KeyError(f"no proxy reads {template}")


def settings_block(name: str) -> str:
    return f"```python\n{python_snippet(name)}```\n"


def regenerate(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group("name")
        body = config_block(name) if match.group("what") == "config" else settings_block(name)
        return match.group(1) + body + match.group(5)

    return BLOCK.sub(one, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale pages, change nothing")
    args = parser.parse_args(argv)
    stale = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        new = regenerate(text)
        if new != text:
            stale.append(page)
            if not args.check:
                page.write_text(new)
    for page in stale:
        print(f"{'stale' if args.check else 'updated'}: {page.relative_to(ROOT)}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
