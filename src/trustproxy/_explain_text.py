"""``trustproxy explain`` as text: the hop table, the decision and the warnings, safe to
print to a terminal (``docs/cli.md``; ``--json`` is :func:`trustproxy._explain.report`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from ._display import shorten, visible
from ._explain_trail import not_examined, note, secrets_shown, source
from ._explain_warnings import config_warnings
from ._resolve import Resolution, Resolver

__all__ = ["render_text"]


def _cell(value: Optional[object]) -> str:
    return "-" if value is None else visible(shorten(str(value)))


def render_text(resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]) -> str:
    """The human-readable form of :func:`report`, safe to print to a terminal.

    The peer, the Host and every forwarded value are somebody else's text: each goes
    through :func:`~trustproxy._display.visible` before it is placed, and each finished
    line once more, so no control, C1 or bidi character reaches the terminal and no
    value can start a line of its own.
    """
    policy = resolver.policy
    out = [
        f"configuration: trusted={list(policy.entries)!r} hops={policy.hops!r}"
        f" fields={sorted(resolver.fields)!r} headers={resolver.family!r}",
        "",
    ]
    for secret in secrets_shown(resolver, result, lines):
        out.insert(
            1, f"required header: {secret['name']}: {secret['value'] or '(not in the request)'}"
        )
    rows = [["hop", "source", "as written", "address", "trusted by", "decision"]]
    for index, hop in enumerate(result.hops):
        if hop.address is None:
            address = "(unix socket)" if index == 0 and not hop.text else "(not an address)"
        else:
            address = hop.address + (f" port {hop.port}" if hop.port is not None else "")
        rows.append(
            [
                f"a{index}",
                source(resolver, index),
                repr(hop.text)[1:-1][:40] or "-",
                address,
                _cell(hop.trusted_by),
                note(result, index, policy.hops or 0),
            ]
        )
    rows = [[visible(cell) for cell in row] for row in rows]  # before the widths are taken
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    skipped = not_examined(resolver, result, lines, shown=10)
    if skipped.items:
        shown = ", ".join(repr(s)[1:-1][:40] for s in skipped.items)
        if skipped.more:
            more = f"{skipped.more}" if skipped.complete else f"at least {skipped.more}"
            shown = f"({more} more), {shown}"
        out.append(f"  not examined (left of the stop, never trusted): {shown}")
    out.append("")
    out.append(f"status: {result.status} — {_cell(result.reason)}")
    client_port = f" (port {result.client_port})" if result.client_port is not None else ""
    out.extend(
        [
            f"client: {_cell(result.client)}{client_port}",
            f"scheme: {_cell(result.scheme)}",
            f"host:   {_cell(result.host)}",
            f"port:   {_cell(result.port)}",
            f"prefix: {shorten(result.prefix)!r}",
            f"applied: {', '.join(result.applied) or 'nothing'}",
        ]
    )
    warnings = config_warnings(resolver, result, lines)
    if warnings:
        out.append("")
        out.append("warnings:")
        out.extend(f"  ! {_cell(w)}" for w in warnings)
    return "\n".join(visible(line) for line in out)
