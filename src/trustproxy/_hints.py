"""Hints about a configuration that works but is not what the deployment needs.

The warnings of :mod:`trustproxy._warn` fire on requests that went wrong.  Two mistakes
leave every request "applied" and still break the application, so nothing there sees
them:

``unapplied-field``
    a trusted proxy sends X-Forwarded-Prefix (or -Host, -Port, -Proto) but ``fields``
    leaves it out: the value is ignored without a word, and ``url_for()`` /
    ``redirect()`` drop the ``/app`` prefix or name the wrong host;
``applied-twice``
    trustproxy already ran on this request (``trustproxy.resolution`` is in the environ
    or scope): wrapped twice, or the Django middleware plus a wrapped application.  The
    second run sees the client as its peer.

Both are properties of the deployment, not of one request: every forwarded request shows
them.  So a middleware looks only at its first :data:`CHECKS` forwarded requests
(a :class:`Watch` counts them down; from then on the cost is one attribute test per
request, and no attribute of the middleware is ever rebound), and logs through the same
rate-limited :class:`~trustproxy._warn.Limiter`.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from typing import Optional

from ._config import BOTH, X_FORWARDED
from ._resolve import Resolution, Resolver
from ._values import FIELDS
from ._warn import hint

__all__ = ["CHECKS", "MARKER", "Watch"]

#: Forwarded requests a middleware examines after start-up.
CHECKS = 64

#: The key both adapters add to the environ / new scope (``wsgi.RESOLUTION_KEY``).
MARKER = "trustproxy.resolution"


class Watch:
    """The start-up checks of one middleware: call :meth:`see` while ``left`` is true.

    ``left`` is counted down without a lock: two threads racing may check one request
    more or less, which changes nothing.
    """

    __slots__ = ("adapter", "fields", "left", "unread")

    def __init__(self, resolver: Resolver, adapter: str) -> None:
        self.adapter = adapter
        self.left = CHECKS
        self.fields = [field for field in FIELDS if field in resolver.fields]
        # (position in the values, field, header) of each X-Forwarded-* read but not
        # applied: with these families the resolver reads all five, applies ``fields``.
        offset = 1 if resolver.family == BOTH else 0
        self.unread = tuple(
            (offset + index, field, X_FORWARDED[field])
            for index, field in enumerate(FIELDS)
            if field not in resolver.fields and resolver.family in (BOTH, "x-forwarded")
        )

    def see(
        self, result: Resolution, values: Sequence[Optional[str]], request: Container[str]
    ) -> None:
        """Check one forwarded request (``request``: its environ or scope)."""
        if MARKER in request:
            hint(
                "applied-twice",
                self.adapter,
                f"trustproxy ran twice on one request ({self.adapter} saw"
                f" '{MARKER}' already set): it is wrapped twice, or used as Django"
                " middleware and around the application; the second one sees the client"
                " as its peer. Keep one.",
            )
        elif result.hops[0].trusted_by is not None:
            sent = [
                (field, header)
                for position, field, header in self.unread
                if position < len(values) and values[position] is not None
            ]
            if sent:
                fields = sorted({*self.fields, *(f for f, _ in sent)}, key=FIELDS.index)
                names = ", ".join(header.title() for _, header in sent)
                peer = result.hops[0].text or "a UNIX socket"
                hint(
                    "unapplied-field",
                    f"{peer} {names}",
                    f"the trusted proxy {peer} sends {names}, which fields does not apply"
                    f" (fields={self.fields!r}): if the app should see"
                    f" it, configure fields={fields!r}",
                )
        self.left = max(0, self.left - 1)
