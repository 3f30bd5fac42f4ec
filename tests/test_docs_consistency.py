"""One configuration per setup, wherever the docs show it.

Every trustproxy configuration in the README, the home page, the frameworks page, the
decision page, the deployment pages and the recipe files they include (a
``WSGIMiddleware(...)`` or ``ASGIMiddleware(...)`` call, ``add_middleware(ASGIMiddleware,
...)``, a Django ``TRUSTPROXY`` dict) is read from the code with ``ast`` and must be one of
the recipes the suite runs (``tests/e2e/recipes.py``).  A proxy on the same host is the
same configuration everywhere: ``RECIPES["single"]``.
"""

from __future__ import annotations

import ast
import contextlib
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from e2e.recipes import RECIPES

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "index.md",
    ROOT / "docs" / "frameworks.md",
    ROOT / "docs" / "setup.md",
    *sorted((ROOT / "docs" / "deploy").glob("*.md")),
]
RECIPE_FILES = sorted((ROOT / "docs" / "recipes").rglob("*.py"))
#: A fenced block, at any indentation (Material's tabs indent theirs by four spaces).
FENCE = re.compile(r"^(?P<indent>[ ]*)```python\n(?P<body>.*?)^(?P=indent)```", re.S | re.M)
NAMES = ("trusted", "hops", "fields", "headers", "strict")


def normalise(settings: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Settings as a comparable value: "a" and ["a"] are the same trust list."""
    out = []
    for key in NAMES:
        if key not in settings:
            continue
        value = settings[key]
        if isinstance(value, (list, tuple)):
            value = tuple(value)
        elif key in ("trusted", "fields") and isinstance(value, str):
            value = (value,)
        out.append((key, value))
    return tuple(out)


CANONICAL = {normalise(settings): name for name, settings in RECIPES.items()}


def configurations(code: str) -> list[tuple[int, dict[str, Any]]]:
    """(line, settings) of each configuration in ``code``."""
    tree = ast.parse(code)
    constants: dict[str, Any] = {}
    for node in tree.body:  # FIELDS = (...) and the like, used as keyword values
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):
                    constants[target.id] = ast.literal_eval(node.value)

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            return constants[node.id]
        return ast.literal_eval(node)

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0] if node.args else None
            is_middleware = name in ("WSGIMiddleware", "ASGIMiddleware")
            added = name == "add_middleware" and getattr(first, "id", "") == "ASGIMiddleware"
            if is_middleware or added:
                found.append((node.lineno, {k.arg: value(k.value) for k in node.keywords}))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "TRUSTPROXY" for t in node.targets
        ):
            found.append((node.lineno, value(node.value)))
    return found


def blocks() -> list[tuple[str, str]]:
    """(where, code) of every Python block of the pages, and every recipe file."""
    out = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            code = textwrap.dedent(match.group("body"))
            out.append((f"{page.relative_to(ROOT)}:{line}", code))
    for path in RECIPE_FILES:
        out.append((str(path.relative_to(ROOT)), path.read_text()))
    return out


BLOCKS = blocks()
FOUND = [
    (f"{where}+{line}", settings, code)
    for where, code in BLOCKS
    if "Middleware" in code or "TRUSTPROXY" in code
    for line, settings in configurations(code)
]


def test_the_docs_show_configurations() -> None:
    # Not vacuous: each page of the comparison shows at least one.
    shown = {where.split(":")[0].split("+")[0] for where, _, _ in FOUND}
    for page in ("README.md", "docs/index.md", "docs/frameworks.md", "docs/setup.md",
                 "docs/deploy/nginx.md", "docs/recipes/flask_app.py"):  # fmt: skip
        assert page in shown, page


@pytest.mark.parametrize(("where", "settings"), [(w, s) for w, s, _ in FOUND],
                         ids=[w for w, _, _ in FOUND])  # fmt: skip
def test_each_configuration_is_a_tested_recipe(where: str, settings: dict[str, Any]) -> None:
    assert normalise(settings) in CANONICAL, (
        f"{where} shows {settings}, which no recipe in tests/e2e/recipes.py runs"
    )


def test_a_proxy_on_the_same_host_is_one_configuration_everywhere() -> None:
    same_host = {
        where: CANONICAL.get(normalise(settings), repr(settings))
        for where, settings, _ in FOUND
        if dict(normalise(settings)).get("trusted") == ("127.0.0.1",)
        and "headers" not in settings
        and not where.startswith("docs/deploy/lighttpd.md")  # it writes no port or prefix
    }
    assert len(same_host) >= 10, same_host
    assert set(same_host.values()) == {"single"}, same_host


def test_django_is_never_shown_as_app_wsgi_app() -> None:
    # A Django project has no app.wsgi_app: its forms are the TRUSTPROXY setting or
    # wrapping get_wsgi_application().  The block, or the tab title above it, says Django.
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
            code = match.group("body")
            if "app.wsgi_app" in code:
                assert "django" not in (before + code).lower(), (page, code[:200])
