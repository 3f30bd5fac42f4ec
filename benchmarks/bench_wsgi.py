"""WSGI: the cost each middleware adds per request — the WSGI rows of ``bench.py``.

Run:  PYTHONPATH=src python3 benchmarks/bench_wsgi.py [--rounds 15] [--number 2000] [--json]

Kept so the command older notes name still works; every option of ``bench.py`` applies.
"""

from __future__ import annotations

import sys

from bench import main

if __name__ == "__main__":
    sys.exit(main(["--only", "wsgi", *sys.argv[1:]]))
