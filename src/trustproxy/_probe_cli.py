"""The ``trustproxy probe`` command: flags in, report out, exit status back."""

from __future__ import annotations

import argparse
import json
import os
import ssl
from typing import Optional, TextIO

from ._display import visible
from ._probe import ProbeError, render_text, run

__all__ = ["probe"]


def probe(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the probe; 0 every check held, 1 a forgery got through, 2 it could not run."""
    token: Optional[str] = args.token or os.environ.get("TRUSTPROXY_PROBE_TOKEN") or None
    context = None
    if args.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if not args.timeout > 0:
        err.write("trustproxy: error: --timeout must be a number of seconds above 0\n")
        return 2
    try:
        report = run(
            str(args.url), source=args.source, token=token, timeout=args.timeout, context=context
        )
    except ProbeError as error:
        err.write(f"trustproxy: error: {visible(str(error))}\n")
        return 2
    if args.json:
        out.write(json.dumps(report, indent=2) + "\n")
    else:
        render_text(report, out)
    code = report["exit"]
    return code if isinstance(code, int) else 2
