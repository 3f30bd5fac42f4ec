"""``trustproxy explain --json``: a :class:`~trustproxy.Resolution` as one JSON-able
report, shared by the command line and ``whoami`` (``docs/cli.md``).

The parts live apart: the hop trail (`_explain_trail`), the warnings
(`_explain_warnings`), the text form (`_explain_text`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._display import shorten
from ._explain_text import render_text
from ._explain_trail import (
    JSON,
    NOT_EXAMINED_COUNTED,
    NOT_EXAMINED_SHOWN,
    hop_rows,
    not_examined,
    secrets_shown,
)
from ._explain_warnings import _PRIVATE as _PRIVATE
from ._explain_warnings import config_warnings
from ._resolve import Resolution, Resolver
from ._tenant import HIDDEN
from .trust import Hop

__all__ = [
    "JSON",
    "NOT_EXAMINED_COUNTED",
    "NOT_EXAMINED_SHOWN",
    "config_warnings",
    "render_text",
    "report",
]


def report(
    resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]
) -> dict[str, JSON]:
    """Everything ``explain --json`` prints, as one JSON-able dict."""
    policy = resolver.policy
    skipped = not_examined(resolver, result, lines)

    def hop_json(hop: Hop) -> JSON:
        return {"text": hop.text, "address": hop.address, "trusted_by": hop.trusted_by}

    return {
        "status": result.status,
        "reason": result.reason,
        "client": result.client,
        "client_port": result.client_port,
        "scheme": result.scheme,
        # The request's own Host, when nothing replaced it, is as long as the server allows.
        "host": None if result.host is None else shorten(result.host),
        "port": result.port,
        "prefix": result.prefix,
        "applied": list(result.applied),
        "ignored": list(result.ignored),
        "hops": hop_rows(resolver, result),
        "stopped_at": len(result.hops) - 1,
        "proxies": [hop_json(hop) for hop in result.proxies],
        "not_examined": list(skipped.items),
        "not_examined_more": skipped.more,
        "not_examined_complete": skipped.complete,
        "warnings": list(config_warnings(resolver, result, lines)),
        "config": {
            "trusted": list(policy.entries),
            "hops": policy.hops,
            "fields": sorted(resolver.fields),
            "headers": resolver.family,
            # Tenant binding: the names only, never a value (secrets_shown).
            "require_headers": {name: HIDDEN for name in resolver.required_names},
        },
        "required_headers": secrets_shown(resolver, result, lines),
    }
