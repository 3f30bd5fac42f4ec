"""ASGI: the cost each middleware adds per request — the ASGI rows of ``bench.py``.

Run:  PYTHONPATH=src python3 benchmarks/bench_asgi.py [--rounds 15] [--number 2000] [--json]

Kept so the command docs/migrate-uvicorn.md names still works; every option of
``bench.py`` applies.
"""

from __future__ import annotations

import sys

from bench import main

if __name__ == "__main__":
    sys.exit(main(["--only", "asgi", *sys.argv[1:]]))
