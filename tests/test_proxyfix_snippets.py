"""The one-line ProxyFix change the docs lead with (issue 14 §6), run as written.

The snippet of docs/migrate-werkzeug.md and the inline one of the Flask section of
docs/frameworks.md are taken from the pages and executed on a Flask app: through the
proxy on 127.0.0.1 the app sees the forwarded values, werkzeug-style; from any other
peer, even another loopback address, nothing is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from trustproxy import ProxyFix

DOCS = Path(__file__).resolve().parents[1] / "docs"
FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
    "X-Forwarded-Prefix": "/api",
}


def migrate_snippet() -> str:
    page = (DOCS / "migrate-werkzeug.md").read_text()
    found = re.search(r"<!-- migrate: proxyfix-trusted -->\n```python\n(.*?)```", page, re.S)
    assert found is not None
    return found.group(1)


def frameworks_snippet() -> str:
    page = (DOCS / "frameworks.md").read_text()
    flask = page[page.index("## Flask") :]
    found = re.search(r"`(ProxyFix\(app\.wsgi_app, [^`]*\))`", flask)
    assert found is not None and "from trustproxy import ProxyFix" in flask[: found.end() + 80]
    return f"from trustproxy import ProxyFix\napp.wsgi_app = {found.group(1)}\n"


@pytest.mark.parametrize("snippet", [migrate_snippet, frameworks_snippet])
def test_the_documented_proxyfix_line_checks_the_peer(snippet: Any) -> None:
    flask = pytest.importorskip("flask")
    app = flask.Flask("snippet")

    @app.get("/")
    def home() -> Any:
        request = flask.request
        return {"client": request.remote_addr, "url": flask.url_for("home", _external=True)}

    exec(snippet(), {"app": app})  # the documentation's own code, as written
    assert isinstance(app.wsgi_app, ProxyFix)
    client = app.test_client()
    proxied = client.get("/", headers=FORWARDED, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert proxied.get_json() == {"client": "203.0.113.9", "url": "https://example.com/api/"}
    for stranger in ("198.51.100.7", "127.0.0.5"):
        direct = client.get("/", headers=FORWARDED, environ_base={"REMOTE_ADDR": stranger})
        assert direct.get_json() == {"client": stranger, "url": "http://localhost/"}
