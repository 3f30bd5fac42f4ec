"""Every documented configuration builds on every adapter, with the same defaults.

The configurations are collected from the pages themselves, so a new example is checked
as soon as it is written: every call with the adapters' keywords in a ``python`` block of
README.md and docs/ (deployment pages and framework recipes included), every
``TRUSTPROXY`` dict, and every inline code span made only of those keywords with literal
values (``trusted=["cloudflare"], headers="cf-connecting-ip"``).  Spans holding a
placeholder (``hops=N``, ``trusted=[...]``) are not configurations and are left out.  The
few spans the pages show *as refused* are listed in :data:`REFUSED`, and each must be
refused by every adapter alike.

Each configuration is built through the WSGI and ASGI middlewares, the Django setting
(sync and async middleware), the command line (``strict`` has no flag; callables have no
spelling) and the core ``Resolver``, and each must end with the same options: one set of
defaults, one validation (``trustproxy._config``).
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

import pytest

from trustproxy import ASGIMiddleware, ConfigError, Resolver, WSGIMiddleware, cli
from trustproxy._config import NAMES, Options
from trustproxy._values import FIELDS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ADAPTERS = {"WSGIMiddleware", "ASGIMiddleware", "Resolver", "add_middleware"}

#: Spans the pages show as configurations trustproxy refuses (with what the page says).
REFUSED = {
    'trusted="*"': "README: refused unless you also give hops=N",
    'headers="forwarded", fields=("port",)': "forwarded.md: a field Forwarded cannot carry",
    'headers="x-forwarded-for"': "forwarded.md: a header of a family, not a single one",
    'headers="x-forwarded-fro"': "security.md: a misspelt family",
    'trusted="nginx"': "platforms.md: a compose service name, never a trust entry",
}


class Documented(NamedTuple):
    where: str
    text: str
    options: dict[str, Any]


def _literal(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    return ast.literal_eval(node)


def _from_call(call: ast.Call, names: dict[str, Any]) -> Optional[dict[str, Any]]:
    options = {k.arg: k.value for k in call.keywords if k.arg is not None}
    if not options or not set(options) <= set(NAMES):
        return None
    values = {key: _literal(value, names) for key, value in options.items()}
    for value in values.values():
        if value is Ellipsis or (isinstance(value, (list, tuple)) and Ellipsis in value):
            return None  # trusted=[...]: a placeholder
    return values


def _blocks(page: Path) -> list[Documented]:
    found: list[Documented] = []
    text = page.read_text(encoding="utf-8")
    for match in re.finditer(r"```python\n(.*?)```", text, re.S):
        where = f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 2}"
        tree = ast.parse(textwrap.dedent(match.group(1)))  # tabs indent their blocks
        names: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        names[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
                    if target.id == "TRUSTPROXY":
                        found.append(Documented(where, "TRUSTPROXY", names[target.id]))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ADAPTERS:
                    options = _from_call(node, names)
                    if options is not None:
                        found.append(Documented(where, ast.unparse(node), options))
    return found


def _spans(page: Path) -> list[Documented]:
    found: list[Documented] = []
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), page.read_text("utf-8"),
                  flags=re.S)  # fmt: skip
    for match in re.finditer(r"`([^`\n]*\b(?:trusted|hops|fields|headers|strict)=[^`\n]*)`", text):
        span = match.group(1)
        where = f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        try:
            tree = ast.parse(span if "(" in span.split("=")[0] else f"f({span})", mode="eval")
            if not isinstance(tree.body, ast.Call):
                continue
            options = _from_call(tree.body, {})
        except (SyntaxError, ValueError):
            continue  # a placeholder: hops=N, trusted=[...], trusted=[addresses]
        if options is not None:
            found.append(Documented(where, span, options))
    return found


DOCUMENTED = [item for page in PAGES for item in (*_blocks(page), *_spans(page))]


BUILDS = [item for item in DOCUMENTED if item.text not in REFUSED]
REFUSALS = [item for item in DOCUMENTED if item.text in REFUSED]


def test_the_pages_hold_the_configurations() -> None:
    texts = {item.text for item in DOCUMENTED}
    # The README's Cloudflare recipe (it failed on ASGI), a Django setting, a framework
    # recipe read through its FIELDS name, a generated deployment page.
    assert 'trusted=["cloudflare"], headers="cf-connecting-ip"' in texts
    assert any(item.text == "TRUSTPROXY" for item in DOCUMENTED)
    assert any(item.options.get("fields") == ("for", "proto", "host", "port", "prefix")
               and "fields=FIELDS" in item.text for item in DOCUMENTED)  # fmt: skip
    assert any(item.where.startswith("docs/deploy/chain.md") for item in DOCUMENTED)
    assert len(BUILDS) >= 60
    # Every provider preset ships its ranges: the Azure Front Door recipes build as they are.
    assert 'trusted=["azure-front-door"], headers="x-azure-clientip"' in {i.text for i in BUILDS}
    # Every listed refusal is still on a page.
    assert {item.text for item in REFUSALS} == set(REFUSED)


# -- the adapters --------------------------------------------------------------------------


def _wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    return []


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    return None


Built = tuple[Resolver, Optional[bool]]  # the adapter's resolver and its strict


def _django(options: dict[str, Any], asynchronous: bool) -> Built:
    from django.test import override_settings

    from trustproxy.django import TrustProxyMiddleware

    async def get_response_async(request: Any) -> Any:
        return None

    def get_response(request: Any) -> Any:
        return None

    with override_settings(TRUSTPROXY=options):
        middleware = TrustProxyMiddleware(get_response_async if asynchronous else get_response)
    # One Options behind both request kinds: one policy, compiled once.
    assert middleware._asgi.resolver.policy is middleware._wsgi.resolver.policy
    assert middleware._asgi.strict == middleware._wsgi.strict
    return middleware._wsgi.resolver, middleware._wsgi.strict


def _cli_argv(options: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    trusted = options.get("trusted")
    if trusted is not None:
        for entry in [trusted] if isinstance(trusted, str) else trusted:
            argv += ["--trusted", entry]
    if options.get("hops") is not None:
        argv += ["--hops", str(options["hops"])]
    for name in ("fields", "headers"):
        value = options.get(name)
        if value is not None:
            argv += [f"--{name}", value if isinstance(value, str) else ",".join(value)]
    for header, value in (options.get("require_headers") or {}).items():
        argv += ["--require-header", f"{header}: {value}"]
    return argv


def _cli(options: dict[str, Any]) -> Built:
    argv = ["explain", "--peer", "127.0.0.1", *_cli_argv(options)]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    if code == 2:
        raise ConfigError(err.getvalue())
    assert code in (0, 1) and err.getvalue() == "", err.getvalue()
    return cli._resolver(cli._parser().parse_args(argv)), None  # no --strict


def _core(options: dict[str, Any]) -> Built:
    return Resolver(**{k: v for k, v in options.items() if k != "strict"}), None


def _aiohttp_middleware(**options: Any) -> Any:
    import trustproxy.aiohttp

    return trustproxy.aiohttp.middleware(**options)


def _adapter(middleware: Any) -> Built:
    return middleware.resolver, middleware.strict


BUILDERS: dict[str, Callable[[dict[str, Any]], Built]] = {
    "wsgi": lambda o: _adapter(WSGIMiddleware(_wsgi_app, **o)),
    "asgi": lambda o: _adapter(ASGIMiddleware(_asgi_app, **o)),
    "aiohttp": lambda o: _adapter(_aiohttp_middleware(**o)),
    "django-sync": lambda o: _django(o, asynchronous=False),
    "django-async": lambda o: _django(o, asynchronous=True),
    "cli": _cli,
    "core": _core,
}


@pytest.fixture(scope="module", autouse=True)
def django_settings() -> None:
    """The recipe project of docs/frameworks.md, as tests/test_frameworks.py uses it."""
    import os
    import sys

    import django

    sys.path.insert(0, str(ROOT / "docs" / "recipes"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_site.settings"
    django.setup(set_prefix=False)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict]:
    """Give the ``file:`` and ``env:`` entries a page names something to read."""
    listing = tmp_path / "proxies.txt"
    listing.write_text("10.0.0.0/8\n", encoding="utf-8")

    def provide(options: dict[str, Any]) -> dict[str, Any]:
        trusted = options.get("trusted")
        if isinstance(trusted, (list, tuple)):
            entries = []
            for entry in trusted:
                if entry.startswith("file:"):
                    entry = f"file:{listing}"
                elif entry.startswith("env:"):
                    monkeypatch.setenv(entry[4:], "10.0.0.0/8")
                entries.append(entry)
            options = {**options, "trusted": entries}
        required = options.get("require_headers")
        if isinstance(required, dict):
            # Tenant binding: give each env: value a secret to read (docs/tenant.md).
            for value in required.values():
                if isinstance(value, str) and value.startswith("env:"):
                    monkeypatch.setenv(value[4:], "a-documented-secret")
        return options

    return provide


def _summary(resolver: Resolver) -> tuple[Any, ...]:
    """What a resolver was configured with, read from what it uses."""
    fields = tuple(name for name in FIELDS if name in resolver.fields)
    return (
        resolver.policy.entries,
        resolver.policy.hops,
        fields,
        resolver.family,
        resolver.required_names,
    )


def _expected(options: Options) -> tuple[Any, ...]:
    return (
        options.trusted,
        options.hops,
        options.fields,
        options.headers,
        tuple(secret.name for secret in options.required),
    )


@pytest.mark.parametrize("item", BUILDS, ids=[f"{i.where}:{i.text[:60]}" for i in BUILDS])
def test_documented_configuration_builds_on_every_adapter(
    item: Documented, files: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    options = files(dict(item.options))
    expected = Options(**options)
    failures = []
    for name, build in BUILDERS.items():
        try:
            resolver, strict = build(options)
        except ConfigError as error:
            failures.append(f"{name}: ConfigError: {error}")
            continue
        if _summary(resolver) != _expected(expected):
            failures.append(f"{name}: {_summary(resolver)}, not {_expected(expected)}")
        if strict is not None and strict != expected.strict:
            failures.append(f"{name}: strict={strict}")
    assert failures == [], f"{item.where}: {item.text}"


@pytest.mark.parametrize("item", REFUSALS, ids=[f"{i.where}:{i.text}" for i in REFUSALS])
def test_documented_refusal_refused_by_every_adapter(item: Documented) -> None:
    messages = set()
    for build in BUILDERS.values():
        with pytest.raises(ConfigError) as caught:
            build(dict(item.options))
        messages.add(str(caught.value).strip().removeprefix("trustproxy: error: "))
    assert len(messages) == 1, messages  # the same words from every adapter


def test_adapter_defaults_are_the_options_defaults() -> None:
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(Options.__init__).parameters.items()
        if name in NAMES
    }
    assert set(defaults) == set(NAMES)
    import trustproxy.aiohttp

    adapters = (WSGIMiddleware.__init__, ASGIMiddleware.__init__, Resolver.__init__,
                trustproxy.aiohttp.middleware)  # fmt: skip
    for adapter in adapters:
        parameters = inspect.signature(adapter).parameters
        for name, default in defaults.items():
            if name in parameters:
                assert parameters[name].default == default, (adapter.__qualname__, name)
    # Nothing given anywhere: every adapter ends with Options().
    nothing: dict[str, Any] = {}
    assert {_summary(build(nothing)[0]) for build in BUILDERS.values()} == {_expected(Options())}


def test_options_or_keywords_not_both() -> None:
    options = Options(trusted="10.0.0.1")
    assert WSGIMiddleware(_wsgi_app, options=options).resolver.options is options
    assert ASGIMiddleware(_asgi_app, options=options).resolver.options is options
    assert Resolver(options).policy is options.policy
    with pytest.raises(ConfigError, match="not both"):
        WSGIMiddleware(_wsgi_app, options=options, fields="for")
    with pytest.raises(ConfigError, match="not both"):
        ASGIMiddleware(_asgi_app, options=options, strict=True)
    with pytest.raises(ConfigError, match="not both"):
        Resolver(options, trusted="10.0.0.2")
    with pytest.raises(ConfigError, match="Options"):
        Resolver({"trusted": "10.0.0.1"})  # type: ignore[arg-type]


def test_options_validate_once_for_all() -> None:
    options = Options(trusted=["10.0.0.1", "loopback"], fields="host, for", headers="X-Forwarded")
    assert options.fields == ("for", "host")  # field order, whatever the spelling
    assert options.headers == "x-forwarded"
    assert options.trusted == ("10.0.0.1", "loopback")
    with pytest.raises(AttributeError):
        options.strict = True  # type: ignore[misc]
    for bad in ("yes", 1, None):
        with pytest.raises(ConfigError, match="strict must be True or False"):
            Options(strict=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fields must be"):
        Options(fields=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"settings.TRUSTPROXY has unknown keys \['trust'\]"):
        Options.from_mapping({"trust": "x"}, "settings.TRUSTPROXY")
    with pytest.raises(ConfigError, match="must be a dict"):
        Options.from_mapping(["trusted"], "settings.TRUSTPROXY")  # type: ignore[arg-type]
