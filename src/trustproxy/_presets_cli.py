"""The ``trustproxy presets`` command: its flags, and ``list``/``update`` run from them.

The work is `_refresh`'s (download, validate, write) and `_provider_lists`' (each
provider's format); ``docs/providers.md`` describes the command.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from ._usage import Parser, UsageError

__all__ = ["add_presets", "presets"]


def add_presets(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``presets list`` and ``presets update`` to the command line."""
    # The code lives in _refresh; only the flags are here.
    presets = commands.add_parser(
        "presets",
        help="list the provider presets, or refresh them from each provider's list",
        description="List the provider presets (cloudflare, cloudfront, ...) with their"
        " age, or download each provider's official list into a folder that middlewares"
        " read with presets_dir= or TRUSTPROXY_PRESETS_DIR.",
    )
    actions = presets.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    listing = actions.add_parser("list", help="name, entries, date, age and source of each")
    listing.add_argument("--dir", help="the presets folder (default: TRUSTPROXY_PRESETS_DIR)")
    update = actions.add_parser(
        "update",
        help="download, validate and atomically write fresh ranges",
        description="Exit status: 0 written; 1 a download failed; 3 a document was"
        " refused (unparseable, empty, shrunk by more than half, not public, or covering"
        " every address); the last good file is kept either way.",
    )
    update.add_argument("names", nargs="*", metavar="NAME", help="presets (default: all)")
    update.add_argument("--dir", help="the folder to write (default: TRUSTPROXY_PRESETS_DIR)")
    update.add_argument(
        "--force", action="store_true", help="accept a list that shrank by more than half"
    )
    update.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="download preset NAME from URL instead of the provider's (a mirror, a test)",
    )
    update.add_argument("--timeout", type=float, default=30.0, help="seconds per download")


def presets(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``presets list`` or ``presets update``; the exit status."""
    from . import _refresh
    from . import presets as shipped

    directory = shipped.presets_dir(args.dir)
    if args.action == "list":
        return _refresh.list_presets(directory, out)
    if args.action != "update":
        raise UsageError("choose an action: list or update (see trustproxy presets --help)")
    if not directory:
        raise UsageError("give --dir DIR or set TRUSTPROXY_PRESETS_DIR: where to write")
    names: list[str] = [name.lower() for name in args.names]
    sources: dict[str, str] = {}
    for item in args.source:
        name, sep, url = str(item).partition("=")
        names_given = name.strip().lower()
        if not sep or not url:
            raise UsageError(f"--source {item!r} is not NAME=URL")
        sources[names_given] = url.strip()
    for name in [*names, *sources]:
        if name not in _refresh.PROVIDERS:
            static = name in shipped.DATA_PRESETS
            raise UsageError(
                f"preset {name!r} cannot be refreshed: it is documented constants with no"
                " list to download"
                if static
                else f"unknown preset {name!r}: choose from {', '.join(_refresh.PROVIDERS)}"
            )
    return _refresh.update_presets(
        names, directory, sources, args.force, out, err,
        _refresh.fetcher(args.timeout),
    )  # fmt: skip
