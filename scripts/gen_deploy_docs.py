#!/usr/bin/env python3
"""Write the tested proxy configs and trustproxy settings into ``docs/deploy/*.md``.

A page marks each generated block with an HTML comment, and this script rewrites what lies
between it and ``<!-- end -->``:

``<!-- begin: config nginx.conf.tmpl -->``
    the ``docs:begin`` … ``docs:end`` part of ``tests/e2e/configs/nginx.conf.tmpl``,
    rendered with the docs' placeholder values of the proxy that reads it;
``<!-- begin: settings single -->``
    ``tests/e2e/recipes.py``'s ``RECIPES["single"]`` as Flask, Django and FastAPI code,
    one tab each.

``docs/setup.md`` (the decision page) uses the settings blocks too, and its diagrams,
``docs/img/setup-*.svg``, are drawn here from ``recipes.SETUPS``: the nodes, what each
writes, where ``trusted`` (and ``hops``) stop the walk, and what the app sees, computed by
running the recipe's settings through ``WSGIMiddleware`` on the request the diagram shows.

``python3 scripts/gen_deploy_docs.py`` rewrites the pages and diagrams; ``--check`` only
reports the files that are out of date (exit 1).  ``tests/e2e/test_docs.py`` runs the check.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from e2e.lab import CONFIGS, docs_part, render  # noqa: E402
from e2e.proxies import CHAIN, DOCS_COMMON, FORWARDED, KINDS  # noqa: E402
from e2e.recipes import RECIPES, SETUPS, Setup, python_snippet  # noqa: E402
from trustproxy import WSGIMiddleware  # noqa: E402

DOCS = ROOT / "docs" / "deploy"
SETUP_PAGE = ROOT / "docs" / "setup.md"
IMAGES = ROOT / "docs" / "img"
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
    return python_snippet(name)


def regenerate(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group("name")
        body = config_block(name) if match.group("what") == "config" else settings_block(name)
        return match.group(1) + body + match.group(5)

    return BLOCK.sub(one, text)


def seen_by_app(setup: Setup) -> dict[str, str]:
    """What the app sees: the recipe's settings run on the request the diagram shows."""
    peer = next(n for n in reversed(setup.nodes) if not n.passthrough)
    environ: dict[str, object] = {
        "REMOTE_ADDR": peer.address if peer is not setup.nodes[0] else "",
        "REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": "",
        # The Host line the client sent, which every proxy here passes on.
        "SERVER_NAME": "example.com", "SERVER_PORT": "8000", "HTTP_HOST": "example.com",
        "wsgi.url_scheme": "http",
    }  # fmt: skip
    for line in peer.writes:
        name, value = line.split(": ", 1)
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: dict[str, str] = {}

    def app(env: dict[str, object], start_response: object) -> list[bytes]:
        host, script = env["HTTP_HOST"], env["SCRIPT_NAME"]
        seen["client"] = str(env["REMOTE_ADDR"])
        scheme = str(env["wsgi.url_scheme"])
        # As url_for(..., _external=True) writes it: without the scheme's default port.
        host = str(host).removesuffix({"https": ":443", "http": ":80"}[scheme])
        seen["url"] = f"{scheme}://{host}{script}/"
        return []

    WSGIMiddleware(app, **RECIPES[setup.recipe])(environ, lambda *a: None)  # type: ignore[arg-type]
    return seen


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _trusted_label(recipe: str) -> str:
    settings = RECIPES[recipe]
    trusted = settings["trusted"]
    if isinstance(trusted, str):
        shown = f'"{trusted}"'
    else:
        shown = "[" + ", ".join(f'"{t}"' for t in trusted) + "]"  # type: ignore[attr-defined]
    return f"trusted={shown}"


BOX_W, BOX_H, GAP, MARGIN, TOP = 160, 62, 120, 16, 58
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
MONO = 'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace"'


def diagram(setup: Setup) -> str:
    """The setup as an SVG: the nodes, what each writes, where the walk stops."""
    nodes = [*setup.nodes, None]  # None: the app
    count = len(nodes)
    seen = seen_by_app(setup)
    # Room on the right for the longest line the app "sees" (about 6.4 px a character).
    tail = max(0, int(6.4 * max(len(seen["url"]), len(seen["client"]) + 7)) - BOX_W + 8)
    # Each column is wide enough for the longest header line under it.
    longest = max(len(line) for n in setup.nodes for line in n.writes)
    gap = max(GAP, int(6.4 * longest) + 16 - BOX_W)
    width = 2 * MARGIN + count * BOX_W + (count - 1) * gap + tail
    lines = max(len(n.writes) for n in setup.nodes)
    height = TOP + BOX_H + 34 + 16 * lines + 60
    if seen["client"] != setup.client:
        raise SystemExit(f"{setup.key}: the app sees {seen}, the setup says {setup.client}")

    def x(i: int) -> int:
        return MARGIN + i * (BOX_W + gap)

    # The line sits before the first node the app trusts: the first proxy that is a hop.
    first_trusted = next(i for i, n in enumerate(setup.nodes) if i and not n.passthrough)
    line_x = x(first_trusted) - gap // 2
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(setup.title)}">',
        f"<title>{_esc(setup.title)}: the app sees client {seen['client']}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#37474f"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<rect x="{line_x}" y="4" width="{width - line_x - 4}" height="{height - 8}" '
        'rx="10" fill="#e8f5e9" stroke="#a5d6a7"/>',
        f'<text x="{MARGIN}" y="24" {FONT} font-size="13" fill="#b71c1c">untrusted</text>',
        f'<text x="{MARGIN}" y="40" {FONT} font-size="11" fill="#b71c1c">'
        "anyone may write anything</text>",
        f'<text x="{line_x + 12}" y="24" {FONT} font-size="13" fill="#1b5e20">'
        f"trusted by the app: <tspan {MONO}>{_esc(_trusted_label(setup.recipe))}</tspan></text>",
    ]
    if setup.group:
        start, end, label = setup.group
        gx = x(start) - 14
        gw = x(end) + BOX_W + 14 - gx
        out.append(
            f'<rect x="{gx}" y="{TOP - 16}" width="{gw}" height="{BOX_H + 24}" rx="8" '
            'fill="none" stroke="#546e7a" stroke-dasharray="5 4"/>'
        )
        out.append(
            f'<text x="{gx + 8}" y="{TOP - 4}" {FONT} font-size="11" fill="#546e7a">'
            f"{_esc(label)}</text>"
        )
    for i, node in enumerate(nodes):
        bx = x(i)
        name = "app" if node is None else node.name
        address = "trustproxy" if node is None else node.shown or node.address
        fill = "#fff3e0" if i == 0 else "#e3f2fd" if node is None else "#ffffff"
        dash = ' stroke-dasharray="3 3"' if node is not None and node.passthrough else ""
        out.append(
            f'<rect x="{bx}" y="{TOP + 4}" width="{BOX_W}" height="{BOX_H - 8}" rx="6" '
            f'fill="{fill}" stroke="#37474f"{dash}/>'
        )
        out.append(
            f'<text x="{bx + BOX_W // 2}" y="{TOP + 26}" text-anchor="middle" {FONT} '
            f'font-size="14" font-weight="bold" fill="#263238">{_esc(name)}</text>'
        )
        size = 12 if len(address) < 20 else 10
        out.append(
            f'<text x="{bx + BOX_W // 2}" y="{TOP + 44}" text-anchor="middle" {MONO} '
            f'font-size="{size}" fill="#37474f">{_esc(address)}</text>'
        )
        if i:
            out.append(
                f'<line x1="{x(i - 1) + BOX_W + 4}" y1="{TOP + BOX_H // 2}" x2="{bx - 4}" '
                f'y2="{TOP + BOX_H // 2}" stroke="#37474f" stroke-width="2" '
                'marker-end="url(#arrow)"/>'
            )
        y = TOP + BOX_H + 22
        if node is None:
            texts = [f"client {seen['client']}", seen["url"]]
            head = "sees"
        else:
            texts = list(node.writes) or ["writes nothing"]
            head = "writes" if node.writes else ""
        if head:
            out.append(
                f'<text x="{bx}" y="{y}" {FONT} font-size="11" font-style="italic" '
                f'fill="#607d8b">{head}</text>'
            )
        for j, text in enumerate(texts):
            colour = "#b71c1c" if "(forged)" in text else "#263238"
            out.append(
                f'<text x="{bx}" y="{y + 16 * (j + 1)}" {MONO} font-size="10.5" '
                f'fill="{colour}">{_esc(text)}</text>'
            )
    bottom = height - 14
    out.append(
        f'<line x1="{line_x}" y1="36" x2="{line_x}" y2="{bottom - 16}" stroke="#c62828" '
        'stroke-width="2.5" stroke-dasharray="7 5"/>'
    )
    out.append(
        f'<text x="{line_x + 8}" y="{bottom}" {FONT} font-size="12" fill="#c62828">'
        f"the walk stops at the first address not trusted: client = {seen['client']}"
        "</text>"
    )
    if setup.hops:
        hx = x(len(setup.nodes) - setup.hops)
        out.append(
            f'<text x="{hx}" y="{TOP - 4}" {FONT} font-size="11" fill="#1b5e20">'
            f"or hops={setup.hops}: these {setup.hops} proxies, counted from the app</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("trustproxy").setLevel(logging.ERROR)  # seen_by_app's requests
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale pages, change nothing")
    args = parser.parse_args(argv)
    stale = []
    outputs = {
        page: regenerate(page.read_text()) for page in [*sorted(DOCS.glob("*.md")), SETUP_PAGE]
    }
    outputs.update({IMAGES / f"setup-{setup.key}.svg": diagram(setup) for setup in SETUPS})
    for path, new in outputs.items():
        if not path.is_file() or path.read_text() != new:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(exist_ok=True)
                path.write_text(new)
    for page in stale:
        print(f"{'stale' if args.check else 'updated'}: {page.relative_to(ROOT)}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
