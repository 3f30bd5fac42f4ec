"""The whoami page's HTML: every value from the request escaped, no script, fixed ids."""

from __future__ import annotations

from html import escape

from ._display import MAX_SHOWN, shorten, visible
from ._explain import JSON

__all__ = ["render_html"]

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;"
    "color:#111;background:#fff}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:.25em .5em;"
    "text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:13px;"
    "word-break:break-all}th{background:#eee}.big{font-size:1.3em;font-weight:bold}"
    ".warn{color:#8a4b00}code,pre{font-family:ui-monospace,monospace;background:#f3f3f3;"
    "padding:.1em .3em}pre{padding:.6em;white-space:pre-wrap}"
)


def _e(value: object) -> str:
    # whoami() has already cut what came from the request to MAX_SHOWN characters and a
    # marker; this cut is a backstop for anything else.
    text = shorten("-" if value is None else str(value), 2 * MAX_SHOWN)
    return escape(visible(text), quote=True)


def render_html(data: dict[str, JSON]) -> str:
    """The page.  Every value from the request goes through :func:`html.escape`."""
    resolution = data["resolution"]
    suggestion = data["suggestion"]
    if not isinstance(resolution, dict) or not isinstance(suggestion, dict):
        raise TypeError("not a whoami() result")
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width, initial-scale=1">',
        f"<title>trustproxy whoami</title><style>{_STYLE}</style></head><body>",
        "<h1>trustproxy whoami</h1>",
        "<p>You are <span id=client class=big>"
        f"{_e(resolution['client'])}</span> "
        f"(status <code id=status>{_e(resolution['status'])}</code>: "
        f"{_e(resolution['reason'])})</p>",
        "<table><tr><th>socket peer</th><td id=peer>"
        f"{_e(data['peer'] or '(unix socket)')}</td></tr>",
    ]
    for key in ("scheme", "host", "port", "prefix"):
        parts.append(f"<tr><th>{key}</th><td id={key}>{_e(resolution[key])}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Suggested configuration</h2>")
    parts.append(f"<p id=suggestion>{_e(suggestion['summary'])}</p>")
    chain = suggestion.get("chain")
    if isinstance(chain, list) and chain:
        parts.append("<p id=chain>" + "<br>".join(_e(step) for step in chain) + "</p>")
    flags = suggestion.get("flags")
    if isinstance(flags, list) and flags:
        parts.append("<h3>Inconsistent chain</h3><ul id=flags class=warn>")
        parts.extend(f"<li>{_e(flag)}</li>" for flag in flags)
        parts.append("</ul>")
    forms = suggestion.get("forms")
    if isinstance(forms, dict) and forms:
        parts.append("<table id=forms>")
        for label, text in forms.items():
            # Each form is the same configuration; ids are fixed words, not request text.
            key = "".join(c for c in str(label).lower() if c.isalnum())
            parts.append(
                f"<tr><th>{_e(label)}</th><td><pre id=form-{key}>{_e(text)}</pre></td></tr>"
            )
        parts.append("</table>")
    if suggestion.get("alternative"):
        parts.append(
            f"<p>Alternative: <code id=alternative>{_e(suggestion['alternative'])}</code></p>"
        )
    caveats = suggestion["caveats"]
    if isinstance(caveats, list) and caveats:
        parts.append("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in caveats) + "</ul>")
    warnings = data["warnings"]
    if isinstance(warnings, list) and warnings:
        parts.append("<h2>Warnings about the current configuration</h2><ul class=warn>")
        parts.extend(f"<li>{_e(w)}</li>" for w in warnings)
        parts.append("</ul>")
    parts.append("<h2>The walk</h2><table><tr>")
    parts.extend(f"<th>{h}</th>" for h in ("hop", "source", "as written", "trusted by", "decision"))
    parts.append("</tr>")
    hops = resolution["hops"]
    for row in hops if isinstance(hops, list) else []:
        if isinstance(row, dict):
            parts.append(
                f"<tr><td>a{_e(row['index'])}</td><td>{_e(row['source'])}</td>"
                f"<td>{_e(row['text'])}</td><td>{_e(row['trusted_by'])}</td>"
                f"<td>{_e(row['note'])}</td></tr>"
            )
    parts.append("</table>")
    config = resolution["config"]
    if isinstance(config, dict):
        shown = ", ".join(f"{key}={value!r}" for key, value in config.items())
        parts.append(f"<p>Current configuration: <code id=current>{_e(shown)}</code></p>")
    parts.append("<h2>Header lines as they arrived</h2><table id=headers>")
    lines = data["headers"]
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, list):
            parts.append(f"<tr><th>{_e(line[0])}</th><td>{_e(line[1])}</td></tr>")
    more = data.get("headers_not_shown")
    if isinstance(more, int) and more:
        parts.append(f"<tr><th>…</th><td>{more} more header lines not shown</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)
