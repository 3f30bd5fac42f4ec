"""The docs site builds with MkDocs in strict mode (every warning is an error), and the
built HTML reads as intended: the API reference leads with the middlewares, its tables and
code blocks are rendered (no reST ``====`` rules or ``::`` markers left as text), it lists
the four statuses, the decision page shows every diagram, and no page loads anything from
the internet."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.recipes import SETUPS
from trustproxy import _status

ROOT = Path(__file__).resolve().parents[1]


def build_site(folder: Path) -> Path:
    """``mkdocs build --strict`` into ``folder/site``; fails the test on any warning."""
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error}: scripts/test installs the docs extra")
        pytest.skip(f"{error}: pip install -e '.[docs]'")
    site = folder / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life banner
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("docs"))


def text_of(page: str) -> str:
    """The page's article as a reader sees it: tags dropped, entities decoded."""
    article = page[page.index("<article") : page.index("</article>")]
    return html.unescape(re.sub(r"<[^>]+>", "", article))


#: Objects documented on the API page, in order (mkdocstrings gives each heading its path).
OBJECT_ID = re.compile(r'<h[2-5] id="(trustproxy\.[\w.]+)"')


def test_mkdocs_strict_build(site: Path) -> None:
    api = (site / "api" / "index.html").read_text()
    # The reference is generated from the docstrings, roles rendered as code.
    assert "A compiled configuration: trust policy, fields and header family." in api
    assert ":class:" not in api
    for page in ("walk", "security-guide", "cli", "migrate-hypercorn", "setup"):
        assert (site / page / "index.html").is_file()


def test_api_reference_has_no_rest_markup_left(site: Path) -> None:
    text = text_of((site / "api" / "index.html").read_text())
    assert not re.findall(r"={4,}", text), "a reST table rule rendered as text"
    # A literal-block marker ("configuration::") or a directive (".. warning::"); IPv6
    # text such as "fe80::/10" or "::1" has a digit, a slash or nothing before or after.
    stray = re.findall(r"[A-Za-z)]::(?=\s|$)|\.\. [a-z-]+::", text)
    assert not stray, stray


def test_api_reference_renders_tables_and_code(site: Path) -> None:
    api = (site / "api" / "index.html").read_text()
    # WSGIMiddleware's environ table and ASGIMiddleware's scope table are tables.
    assert re.search(r"<td><code>REMOTE_ADDR</code></td>", api)
    assert re.search(r"<td><code>root_path</code></td>", api)
    # ProxyFix's and the Django middleware's examples are highlighted code blocks.
    blocks = [
        html.unescape(re.sub(r"<[^>]+>", "", b)) for b in re.findall(r"<pre.*?</pre>", api, re.S)
    ]
    assert any("from trustproxy import ProxyFix" in b for b in blocks)
    assert any('"trustproxy.django.TrustProxyMiddleware"' in b for b in blocks)
    assert 'class="admonition warning"' in api  # ProxyFix's warning


def test_api_reference_leads_with_the_middlewares(site: Path) -> None:
    objects = OBJECT_ID.findall((site / "api" / "index.html").read_text())
    assert objects[0] == "trustproxy.wsgi.WSGIMiddleware", objects[:5]
    first_core = objects.index("trustproxy.Resolver")
    for middleware in (
        "trustproxy.wsgi.WSGIMiddleware",
        "trustproxy.asgi.ASGIMiddleware",
        "trustproxy.django.TrustProxyMiddleware",
        "trustproxy.proxyfix.ProxyFix",
        "trustproxy.proxy_headers.ProxyHeadersMiddleware",
    ):
        assert objects.index(middleware) < first_core, middleware


def test_api_reference_lists_the_four_statuses(site: Path) -> None:
    api = (site / "api" / "index.html").read_text()
    statuses = {_status.APPLIED, _status.UNTRUSTED_PEER, _status.UNRESOLVED, _status.CONFLICT}
    assert len(statuses) == 4
    # The status table: the first cell of each row of the table headed "status".
    table = next(
        t for t in re.findall(r"<table>.*?</table>", api, re.S) if "<code>status</code>" in t
    )
    rows = re.findall(r"<tr>\s*<td><code>([\w-]+)</code></td>", table)
    assert set(rows) == statuses
    # The Resolution docstring names all four too.
    resolution = api[api.index('id="trustproxy.Resolution"') :]
    resolution = text_of(
        "<article>" + resolution[: resolution.index('id="trustproxy.Hop"')] + "</article>"
    )
    for status in statuses:
        assert f'"{status}"' in resolution, status


def test_decision_page_shows_every_diagram(site: Path) -> None:
    page = (site / "setup" / "index.html").read_text()
    for setup in SETUPS:
        name = f"setup-{setup.key}.svg"
        assert f'src="../img/{name}"' in page, name
        svg = (site / "img" / name).read_text()
        assert svg.startswith("<svg ") and "trusted by the app" in svg
        assert f"client = {setup.client}" in svg
        assert f'id="{setup.key}"' in page  # the anchor the table links to
    # Each case gives its configuration in the three forms, as tabs.
    assert page.count('class="tabbed-set') >= len(SETUPS)


def test_no_page_loads_anything_from_the_internet(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text()
        remote = re.findall(
            r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', text
        )
        # <link rel="canonical"> is not loaded; neither are <a> links, not matched here.
        loaded = [r for r in remote if 'rel="canonical"' not in r]
        assert not loaded, (page, loaded[:3])
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
