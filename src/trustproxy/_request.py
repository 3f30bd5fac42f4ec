"""What one resolution is a pure function of: a :data:`Request`.

``(peer, values, scheme, host, port, prefix)``: the socket peer, the forwarding header
values (aligned with ``Resolver.read_names``, all lines of one header joined; ``None``
for an absent header) and the request's own scheme, Host, server port and path prefix,
as an adapter hands them to ``Resolver.decide``.  The decision path keeps it as the
recipe of a resolution's explanation (``docs/api.md``), which the full walk
(:mod:`trustproxy._families`) reads when asked.

A plain tuple, read by unpacking, not a ``NamedTuple``: one is built per request, and
CPython unpacks and builds only an exact tuple on its fast paths.
"""

from __future__ import annotations

from typing import Optional

__all__ = ["Request", "Values"]

#: Header values in the order of ``Resolver.read_names``; ``None`` = absent.
Values = tuple[Optional[str], ...]

#: ``(peer, values, scheme, host, port, prefix)``.
Request = tuple[Optional[str], Values, str, Optional[str], Optional[int], str]
