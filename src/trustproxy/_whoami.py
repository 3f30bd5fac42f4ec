"""``trustproxy whoami``: a diagnostic page to put behind a real proxy chain, briefly.

Standard library only.  For each GET it shows the raw header lines in arrival order
(duplicates kept), the socket peer, what trustproxy resolves with the configuration given
on the command line, and a configuration suggested from what arrived
(:mod:`trustproxy._suggest`).  HTML for a browser, JSON when the request's ``Accept``
names ``application/json``.

Safe to expose for a few minutes: it echoes only the request's own header lines and
peer (never the path or a body), escapes every byte it echoes, hides the values of
credentials and identities (:func:`hidden`), sets no cookie, and forbids scripts,
framing, caching and content sniffing.  Its work and its answer are bounded whatever the
request's size: at most :data:`MAX_LINES_SHOWN` lines of at most
:data:`~trustproxy._display.MAX_SHOWN` characters are echoed, and every list header is
read from the right within a fixed number of steps.
"""

from __future__ import annotations

import json
import re
import socket
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, TextIO

from ._display import MAX_SHOWN, shorten, visible
from ._explain import JSON, config_warnings, report
from ._resolve import Resolver
from ._suggest import suggest
from ._tenant import HIDDEN

__all__ = ["SECURITY_HEADERS", "hidden", "make_server", "serve", "whoami"]

#: Sent with every response.  ``default-src 'none'`` blocks scripts, images, frames and
#: forms; the page needs only its own inline style.
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Vary", "Accept"),
)

#: Header values never echoed: the page sits behind authenticating proxies (AWS ALB,
#: Cloudflare Access, Google IAP, oauth2-proxy, Azure App Service, Authelia…) and is
#: shown on shared screens and pasted into bug reports.  These are the names the proxies
#: document for the credentials and identities they inject that :data:`SECRET_PARTS`
#: does not already catch.
REDACTED = frozenset(
    {
        "cookie",
        "authorization",
        "proxy-authorization",
        "cf-access-client-id",  # half of a Cloudflare Access service token
        "x-amzn-oidc-data",  # AWS ALB: the user's claims, a signed JWT
        "x-forwarded-user",  # oauth2-proxy, Traefik forward auth
        "x-forwarded-preferred-username",
        "x-forwarded-groups",
        "x-ms-client-principal",  # Azure App Service authentication
        "remote-user",  # Authelia, Apache mod_auth forwarding
        "remote-name",
        "remote-groups",
        "x-remote-user",
        "x-webauth-user",  # Grafana's auth proxy convention
        "x-webauth-login",
    }
)

#: A header whose name has a ``-``/``_``/``.``-separated part containing one of these is
#: hidden: ``X-Amzn-Oidc-Accesstoken``, ``Cf-Access-Jwt-Assertion``, ``X-Api-Key``,
#: ``X-Ms-Token-Aad-Refresh-Token``, ``X-Auth-Request-Email``, ``X-Csrf-Token``…  Hiding a
#: harmless header costs a line of the page; showing a credential costs the credential.
SECRET_PARTS = (
    "auth",
    "token",
    "jwt",
    "secret",
    "assertion",
    "session",
    "passw",
    "pwd",
    "credential",
    "signature",
    "key",
    "cookie",
    "oidc",
    "saml",
    "csrf",
    "xsrf",
    "email",
    "principal",
    "identity",
    "claim",
)

#: Name parts that are a person's identity on their own (``X-Auth-User``…).  Matched
#: whole, so that ``User-Agent`` stays shown.
IDENTITY_PARTS = ("user", "username", "userid", "login", "groups")

# No stem holds a separator, so "a part contains a stem" is "the name contains it": one
# regex search each, linear in the name (a header name may be 64 KB long).
_SECRET_NAME = re.compile("|".join(SECRET_PARTS))
_IDENTITY_NAME = re.compile(rf"(?:\A|[-_.])(?:{'|'.join(IDENTITY_PARTS)})(?:[-_.]|\Z)")

#: Shown whatever they look like: what the page is for.
ALWAYS_SHOWN = frozenset(
    {
        "host",
        "user-agent",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-real-ip",
        "via",
    }
)

#: A value holding a JWT (RFC 7519 §3: base64url of a JSON object, so ``eyJ``, then a
#: ``.``) or a credential with an RFC 9110 §11 auth-scheme is hidden under any name.
_SECRET_VALUE = re.compile(
    r"eyJ[A-Za-z0-9_-]{2,}\.|\A[ \t]*(?:bearer|basic|digest|negotiate|token)[ \t]+\S",
    re.IGNORECASE,
)

#: The most header lines echoed (http.server itself takes at most 99).
MAX_LINES_SHOWN = 200


def hidden(name: str, value: str, shown: frozenset[str] = ALWAYS_SHOWN) -> bool:
    """Whether the value of the header line ``name: value`` must not be echoed.

    ``shown`` names headers always shown (the forwarding headers the page is about).
    Only the first :data:`~trustproxy._display.MAX_SHOWN` characters of the value are
    examined: nothing beyond them is echoed either.
    """
    lower = name.lower()
    if lower in shown:
        return False
    if lower in REDACTED:
        return True
    if _SECRET_NAME.search(lower) or _IDENTITY_NAME.search(lower):
        return True
    return _SECRET_VALUE.search(value[:MAX_SHOWN]) is not None


def _line(name: str, value: str, shown: frozenset[str]) -> list[str]:
    if hidden(name, value, shown):
        return [shorten(name, 200), f"(hidden, {len(value)} characters)"]
    return [shorten(name, 200), shorten(value)]


def whoami(
    resolver: Resolver,
    peer: Optional[str],
    lines: list[tuple[str, str]],
    *,
    server_port: Optional[int] = None,
) -> dict[str, JSON]:
    """Everything the page shows, as a JSON-able dict (a pure function)."""
    always = ALWAYS_SHOWN | frozenset(resolver.header_names)
    secret = frozenset(resolver.required_names)  # tenant binding: never echoed
    shown = [
        [shorten(name, 200), HIDDEN] if name.lower() in secret else _line(name, value, always)
        for name, value in lines[:MAX_LINES_SHOWN]
    ]
    host = None
    for name, value in lines:
        if name.lower() == "host":
            host = value
    result = resolver.resolve(peer, lines, host=host, port=server_port)
    proposal = suggest(peer, lines, peer_trusted=result.peer.trusted_by is not None)
    return {
        "peer": peer,
        "headers": shown,
        "headers_not_shown": max(0, len(lines) - MAX_LINES_SHOWN),
        "resolution": report(resolver, result, lines),
        "warnings": list(config_warnings(resolver, result, lines)),
        "suggestion": {
            "summary": proposal.summary,
            "proxies": list(proposal.proxies),
            "client": proposal.client,
            "trusted": list(proposal.trusted),
            "network": proposal.network,
            "hops": proposal.hops,
            "headers": (
                proposal.headers if isinstance(proposal.headers, str) else list(proposal.headers)
            ),
            "fields": list(proposal.fields),
            "config": proposal.config,
            "alternative": proposal.alternative,
            "forms": {label: text for label, text in proposal.forms},
            "chain": list(proposal.chain),
            "flags": list(proposal.flags),
            "caveats": list(proposal.caveats),
        },
    }


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


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "trustproxy-whoami"
    timeout = 15  # a slow client cannot hold a thread forever
    protocol_version = "HTTP/1.0"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        # self.headers is the parsed message: items() keeps every line, in order.
        lines = [(str(name), str(value)) for name, value in self.headers.items()]
        data = whoami(
            self.server.resolver,
            self.client_address[0] if self.client_address else None,
            lines,
            server_port=self.server.server_address[1],
        )
        if "application/json" in (self.headers.get("Accept") or ""):
            body = (json.dumps(data, indent=2) + "\n").encode()
            content_type = "application/json"
        else:
            body = render_html(data).encode()
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            peer = self.client_address[0] if self.client_address else "-"
            # The request line is the client's text: repr() and visible() keep its
            # escapes off the operator's terminal.
            self.server.log.write(visible(f"whoami: {peer} {format % args!r}") + "\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], resolver: Resolver, log: Optional[TextIO]) -> None:
        self.resolver = resolver
        self.log = log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


def make_server(
    resolver: Resolver, host: str = "127.0.0.1", port: int = 0, log: Optional[TextIO] = None
) -> ThreadingHTTPServer:
    """Bind the whoami server (``port=0`` picks a free port); call ``serve_forever()``."""
    return _Server((host, port), resolver, log)


def serve(resolver: Resolver, host: str, port: int, log: TextIO) -> int:
    """Run until interrupted; the ``trustproxy whoami`` command."""
    try:
        server = make_server(resolver, host, port, log)
    except (OSError, OverflowError, TypeError, UnicodeError, ValueError) as error:
        # OSError: in use, unknown name; OverflowError: port out of range; TypeError,
        # UnicodeError, ValueError: a host name the resolver cannot even encode.
        reason = getattr(error, "strerror", None) or str(error)
        message = f"trustproxy: error: cannot listen on {host}:{port}: {reason}"
        log.write(visible(message) + "\n")
        return 2
    bound = server.server_address
    name = bound[0] if isinstance(bound[0], str) else bound[0].decode()
    shown = f"[{name}]" if ":" in name else name
    log.write(
        visible(f"whoami: serving on http://{shown}:{bound[1]}/ with {resolver!r}") + "\n"
        "whoami: put it behind your proxies, open the page, then stop it (Ctrl-C).\n"
    )
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.write("whoami: listening beyond loopback: anyone who can reach this port sees it.\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
