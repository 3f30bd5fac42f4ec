"""The ``trustproxy`` command line: ``explain`` a request, serve the ``whoami`` page, or
``probe`` a deployment with forgeries.

Exit status: 0 when the request was resolved or left untouched, 1 when it was left
unresolved (or a required header was missing: ``unverified-peer``), 2 for a usage or
configuration error (one line on stderr, no traceback).
``probe``: 0 when every check held, 1 when a forgery got through, 2 when it could not run.
With no arguments, ``explain`` runs on a built-in sample forged request.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Sequence
from typing import Optional, TextIO

from . import __version__
from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options
from ._display import visible
from ._explain import report
from ._explain_text import render_text
from ._presets_cli import add_presets, presets
from ._resolve import APPLIED, UNTRUSTED_PEER, Resolver
from ._usage import Parser as _Parser
from ._usage import UsageError
from .errors import ConfigError

__all__ = ["main"]

#: ``trustproxy`` with no arguments explains this: a client forges 6.6.6.6, the proxy on
#: loopback appends the address it really saw.
SAMPLE = [
    "explain",
    "--peer",
    "127.0.0.1",
    "-H",
    "X-Forwarded-For: 6.6.6.6, 203.0.113.9",
    "-H",
    "X-Forwarded-Proto: https",
]

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _header_line(text: str) -> tuple[str, str]:
    """``"Name: value"`` -> ``("Name", "value")``; the name must be a token (RFC 9110 §5.1)."""
    name, sep, value = text.partition(":")
    if not sep or not name or not set(name) <= _TOKEN:
        raise argparse.ArgumentTypeError(f"{text!r} is not a 'Name: value' header line")
    return name, value.strip(" \t")  # OWS around the value is not part of it (§5.5)


def _add_config(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration (as for the middleware)")
    group.add_argument(
        "--trusted",
        action="append",
        metavar="ENTRY",
        help="a trusted proxy address, network or preset (loopback, private, linklocal,"
        " cloudflare, cloudfront, fastly, google-cloud-lb, azure-front-door, unix, *);"
        " repeat or separate with commas (default: loopback)",
    )
    group.add_argument("--hops", type=int, help="the number of proxies in front of the app")
    group.add_argument(
        "--headers",
        action="append",
        metavar="FAMILY",
        help="the header family: x-forwarded (default), forwarded, forwarded,x-forwarded"
        " (both, cross-checked; or --headers forwarded --headers x-forwarded), or a"
        " single-address header name",
    )
    group.add_argument(
        "--require-header",
        dest="require",
        action="append",
        type=_header_line,
        default=[],
        metavar="'NAME: VALUE'",
        help="tenant binding: a header the trusted proxy must carry with VALUE (literal,"
        " env:NAME or file:PATH; prefer env: or file:, a literal lands in shell history);"
        " repeat for several. Shown as <hidden>",
    )
    group.add_argument(
        "--fields",
        help="comma-separated: for, proto, host, port, prefix (default: for,proto; for"
        " with a single-address header)",
    )


def _parser() -> _Parser:
    parser = _Parser(
        prog="trustproxy",
        description="See what trustproxy decides for a request, and why.",
        epilog="With no arguments, explains a built-in sample forged request.",
    )
    parser.add_argument("--version", action="version", version=f"trustproxy {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    explain = commands.add_parser(
        "explain",
        help="walk one request's headers and explain the result",
        description="Walk one request's forwarding headers as the middleware would and print"
        " each hop, the decision and warnings about the configuration.",
    )
    explain.add_argument(
        "--peer",
        required=True,
        metavar="ADDR",
        help="the socket peer's address (what REMOTE_ADDR would be); 'unix' for a UNIX socket",
    )
    explain.add_argument(
        "-H",
        "--header",
        dest="lines",
        action="append",
        type=_header_line,
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header line; repeat for several (order and duplicates kept)",
    )
    explain.add_argument("--scheme", default="http", help="the scheme the request arrived with")
    explain.add_argument("--port", type=int, help="the server port the request arrived on")
    explain.add_argument("--prefix", default="", help="the app's mount path (SCRIPT_NAME)")
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    _add_config(explain)
    whoami = commands.add_parser(
        "whoami",
        help="serve a diagnostic page showing what arrives and what to configure",
        description="Serve a page that shows each request's header lines, socket peer,"
        " what trustproxy resolves and a suggested configuration. Put it behind your"
        " proxies, open it in a browser (or curl -H 'Accept: application/json'), then stop"
        " it.",
    )
    whoami.add_argument("--host", default="127.0.0.1", help="address to listen on")
    whoami.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    _add_config(whoami)
    probe = commands.add_parser(
        "probe",
        help="send forged headers through your proxies to a whoami page; report what got in",
        description="Ask a whoami page (trustproxy whoami, or the trustproxy.whoami endpoint"
        " in your app) how it sees you, then send forged forwarding headers and report, check"
        " by check, whether a forged value reached the app. Exit 0: every check held; 1: a"
        " forgery got through; 2: the probe could not run. Connects to URL only.",
    )
    probe.add_argument("url", metavar="URL", help="the whoami page, through the public path")
    probe.add_argument(
        "--source",
        metavar="ADDR",
        help="the local address to connect from (e.g. 127.0.0.5 to try it on one machine,"
        " where 127.0.0.1 is a trusted proxy)",
    )
    probe.add_argument(
        "--token",
        help="the trustproxy.whoami endpoint's token (default: $TRUSTPROXY_PROBE_TOKEN)",
    )
    probe.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    probe.add_argument(
        "--insecure", action="store_true", help="https: do not verify the certificate"
    )
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    add_presets(commands)
    return parser


def _resolver(args: argparse.Namespace) -> Resolver:
    """The configuration flags as the adapters' Options: same defaults, same checks."""
    trusted: Optional[list[str]] = args.trusted
    given: list[str] = args.headers or [DEFAULT_HEADERS]
    # Every --headers counts (a repeated flag once silently kept only the last one).
    headers = [part.strip() for value in given for part in value.split(",")]
    return Resolver(
        Options(
            trusted=",".join(trusted) if trusted else DEFAULT_TRUSTED,
            hops=args.hops,
            fields=args.fields,
            headers=headers[0] if len(headers) == 1 else headers,
            require_headers=dict(args.require) or None,
        )
    )


def _explain(args: argparse.Namespace, out: TextIO, sample: bool) -> int:
    resolver = _resolver(args)
    lines: list[tuple[str, str]] = args.lines
    peer_arg = str(args.peer)
    peer = None if peer_arg.lower() in ("unix", "") else peer_arg
    if peer is not None:
        try:
            ipaddress.ip_address(peer)
        except ValueError:
            # REMOTE_ADDR is always an address: a name here would only ever be untrusted.
            raise UsageError(
                f"--peer {peer!r} is not an IP address: give the address the proxy connects"
                " from (e.g. 127.0.0.1), or 'unix' for a UNIX socket"
            ) from None
    host = None
    for name, value in lines:
        if name.lower() == "host":
            host = value
    result = resolver.resolve(
        peer, lines, scheme=str(args.scheme), host=host, port=args.port, prefix=str(args.prefix)
    )
    if args.json:
        # json.dumps escapes every control and non-ASCII character (ensure_ascii).
        out.write(json.dumps(report(resolver, result, lines), indent=2) + "\n")
    else:
        if sample:
            out.write(
                "No arguments given: explaining a sample. A client forged 6.6.6.6; the proxy"
                " on 127.0.0.1 appended the address it saw, 203.0.113.9.\n"
                f"  trustproxy {' '.join(_quote(a) for a in SAMPLE)}\n\n"
            )
        out.write(render_text(resolver, result, lines) + "\n")
    return 0 if result.status in (APPLIED, UNTRUSTED_PEER) else 1


def _quote(arg: str) -> str:
    return f"'{arg}'" if set(arg) & set(" ,:*") else arg


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    sample = not arguments
    try:
        args = _parser().parse_args(SAMPLE if sample else arguments)
        if args.command is None:
            raise UsageError(
                "choose a command: explain, whoami, probe or presets (see trustproxy --help)"
            )
        if args.command == "explain":
            return _explain(args, sys.stdout, sample)
        if args.command == "probe":
            from ._probe_cli import probe

            return probe(args, sys.stdout, sys.stderr)
        if args.command == "presets":
            return presets(args, sys.stdout, sys.stderr)
        from ._whoami import serve

        return serve(_resolver(args), str(args.host), int(args.port), sys.stderr)
    except (UsageError, ConfigError) as error:
        # argparse repeats unrecognised arguments raw, and a ConfigError may quote an
        # entry: either can hold terminal escapes (see _display.visible).
        print(f"trustproxy: error: {visible(str(error))}", file=sys.stderr)
        return 2
    except SystemExit as exit:  # --help and --version
        return exit.code if isinstance(exit.code, int) else 0
