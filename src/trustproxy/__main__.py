"""``python -m trustproxy``: resolve a sample forged request and explain the decision.

Replaced by the ``trustproxy explain`` command line once it lands.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from ._resolve import Resolver


def main(argv: Optional[Sequence[str]] = None) -> int:
    resolver = Resolver(trusted="loopback", fields=("for", "proto"))
    headers = [
        ("X-Forwarded-For", "6.6.6.6, 203.0.113.9"),
        ("X-Forwarded-Proto", "https"),
    ]
    print("A request reaches the app from 127.0.0.1 (a trusted loopback proxy) with:")
    for name, value in headers:
        print(f"  {name}: {value}")
    print("The client prepended the forged 6.6.6.6; the proxy appended 203.0.113.9.\n")
    result = resolver.resolve("127.0.0.1", headers)
    for index, hop in enumerate(result.hops):
        role = "peer" if index == 0 else f"X-Forwarded-For item {index} from the right"
        trust = f"trusted by {hop.trusted_by}" if hop.trusted_by else "not trusted"
        print(f"  a{index} {hop.text:<15} {role}: {trust}")
    print(f"\nstatus: {result.status} — {result.reason}")
    print(f"client: {result.client}   scheme: {result.scheme}")
    return 0 if result.status != "unresolved" else 1


if __name__ == "__main__":
    sys.exit(main())
