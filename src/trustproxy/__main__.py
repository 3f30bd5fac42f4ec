"""``python -m trustproxy``: the ``trustproxy`` command line (see :mod:`trustproxy.cli`).

With no arguments it resolves a sample forged request and explains the decision.
"""

from __future__ import annotations

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
