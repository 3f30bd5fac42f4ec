"""MkDocs hook: render the Sphinx roles our docstrings use (``:class:`~a.B```) as code.

mkdocstrings' Sphinx-style parser reads ``:param:`` fields but leaves inline roles as
text; the docstrings keep them because they are the house style in source.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):<code>(~?)([\w.]+)</code>")


def _short(match: re.Match[str]) -> str:
    name = match.group(2)
    return f"<code>{name.rsplit('.', 1)[-1] if match.group(1) else name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_short, html)
