"""Command-line mistakes: :class:`UsageError` and the parser that raises it, shared by
every ``trustproxy`` subcommand (``docs/cli.md``: exit status 2, one line on stderr)."""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["Parser", "UsageError"]


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block and exits; we want one line and exit 2.
        raise UsageError(f"{message} (see {self.prog} --help)")
