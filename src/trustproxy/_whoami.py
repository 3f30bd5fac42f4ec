"""``trustproxy whoami``: a diagnostic page to put behind a real proxy chain, briefly.

Standard library only.  For each GET it shows the raw header lines in arrival order
(duplicates kept), the socket peer, what trustproxy resolves with the configuration given
on the command line, and a configuration suggested from what arrived
(:mod:`trustproxy._suggest`).  HTML for a browser, JSON when the request's ``Accept``
names ``application/json``.

Safe to expose for a few minutes: it echoes only the request's own header lines and
peer (never the path or a body), escapes every byte it echoes, hides the values of
credentials and identities (:mod:`trustproxy._redact`), sets no cookie, and forbids scripts,
framing, caching and content sniffing.  Its work and its answer are bounded whatever the
request's size: at most :data:`MAX_LINES_SHOWN` lines of at most
:data:`~trustproxy._display.MAX_SHOWN` characters are echoed, and every list header is
read from the right within a fixed number of steps.
"""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, TextIO

from ._display import shorten, visible
from ._explain import JSON, config_warnings, report
from ._redact import ALWAYS_SHOWN, hidden
from ._resolve import Resolver
from ._suggest import suggest
from ._tenant import HIDDEN
from ._whoami_html import render_html

#: The most header lines echoed (http.server itself takes at most 99).
MAX_LINES_SHOWN = 200

__all__ = ["SECURITY_HEADERS", "hidden", "make_server", "render_html", "serve", "whoami"]

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
