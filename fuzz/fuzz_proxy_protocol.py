"""atheris harness: proxy_protocol.  See fuzz/README.md; run by fuzz/run_all.py."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["trustproxy"]):
    import invariants


def main() -> None:
    atheris.Setup(sys.argv, invariants.CHECKS["proxy_protocol"])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
