"""The result of resolving one request: :class:`Resolution`, cheap until it is explained.

The decision (status, client, scheme, host, port, prefix, what was applied or ignored) is
computed on every request; the explanation (``reason``, the hop trail ``hops``,
``proxies``) is what ``explain``, ``whoami``, a logged warning or an application reading
``environ["trustproxy.resolution"]`` wants, and most requests never read it.  So the
resolver may hand over a *recipe* for the explanation instead, run on first read.  The
public API is the same either way; see ``docs/api.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Optional

from ._key import key_or_none
from ._status import APPLIED, UNRESOLVED
from ._values import Checked, check_values

if TYPE_CHECKING:
    from ._request import Request
    from ._walk import Walked
    from .trust import Hop

__all__ = ["Details", "Resolution", "applied", "finish", "unresolved"]

#: The explanation: (reason, hops, proxies).
Details = tuple[str, tuple["Hop", ...], tuple["Hop", ...]]

# Field order of the public constructor (and of the old NamedTuple): repr, _replace.
_FIELDS = (
    "status", "reason", "client", "client_port", "scheme", "host", "port", "prefix",
    "hops", "proxies", "applied", "ignored",
)  # fmt: skip


class Resolution(tuple):  # type: ignore[type-arg]
    """What the resolver decided for one request.  Immutable.

    ``status`` is ``"applied"`` (the peer is trusted and the headers were used),
    ``"untrusted-peer"`` (nothing was read), ``"unresolved"`` (the headers could not be
    trusted; nothing was applied) or ``"conflict"`` — ``reason`` says why in words.
    ``client``, ``scheme``, ``host``, ``port`` and ``prefix`` are the values the
    application should see (the originals when nothing was applied).  ``hops`` lists
    every node examined, the peer first; ``proxies`` the trusted proxies traversed,
    nearest first.  ``applied`` names the fields that changed and ``ignored`` says which
    forwarded values were invalid and left out.

    The decision fields are stored; ``reason``, ``hops`` and ``proxies`` may be computed
    on first read (the same values every time: a resolution is a pure function of the
    request).  Equality, hashing and ``repr`` use all twelve fields.
    """

    # A tuple, not a slotted class: built with tuple.__new__ in C on the per-request path
    # and read through itemgetter properties, it costs about a third of a Python
    # __init__ setting ten slots (benchmarks/resolution_shape.py).  Position 9 is a
    # one-item list: the details, or [recipe, request] until they are read (the
    # recipe's answer for the request: see Resolver.decide).
    __slots__ = ()

    status: str = property(itemgetter(0))  # type: ignore[assignment]
    client: Optional[str] = property(itemgetter(1))  # type: ignore[assignment]
    client_port: Optional[int] = property(itemgetter(2))  # type: ignore[assignment]
    scheme: str = property(itemgetter(3))  # type: ignore[assignment]
    host: Optional[str] = property(itemgetter(4))  # type: ignore[assignment]
    port: Optional[int] = property(itemgetter(5))  # type: ignore[assignment]
    prefix: str = property(itemgetter(6))  # type: ignore[assignment]
    applied: tuple[str, ...] = property(itemgetter(7))  # type: ignore[assignment]
    ignored: tuple[str, ...] = property(itemgetter(8))  # type: ignore[assignment]

    def __new__(
        cls,
        status: str,
        reason: str,
        client: Optional[str],
        client_port: Optional[int],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
        hops: tuple[Hop, ...],
        proxies: tuple[Hop, ...],
        applied: tuple[str, ...] = (),
        ignored: tuple[str, ...] = (),
    ) -> Resolution:
        details = (reason, tuple(hops), tuple(proxies))
        return tuple.__new__(
            cls,
            (status, client, client_port, scheme, host, port, prefix, applied, ignored,
             [details]),
        )  # fmt: skip

    def _details(self) -> Details:
        box = self[9]
        found = box[0]
        if len(box) == 1:
            return found  # type: ignore[no-any-return]
        # Computed on first read; two threads racing compute the same value.
        details: Details = found(box[1])
        box[:] = [details]
        return details

    @property
    def reason(self) -> str:
        """Why, in words."""
        return self._details()[0]

    @property
    def hops(self) -> tuple[Hop, ...]:
        """Every node examined, the socket peer first."""
        return self._details()[1]

    @property
    def proxies(self) -> tuple[Hop, ...]:
        """The trusted proxies traversed, nearest first."""
        return self._details()[2]

    @property
    def peer(self) -> Hop:
        """The socket peer."""
        return self._details()[1][0]

    def client_key(self, ipv6_prefix: int = 64) -> Optional[str]:
        """A stable key for rate limiting and logs: :func:`trustproxy.client_key` of
        :attr:`client` (IPv6 reduced to its ``/ipv6_prefix`` network), or ``None`` when
        there is no client address (a UNIX socket, nothing forwarded).

        :raises ValueError: when ``ipv6_prefix`` is not from 0 to 128.
        """
        return key_or_none(self[1], ipv6_prefix)

    def _values(self) -> tuple[Any, ...]:
        reason, hops, proxies = self._details()
        return (self[0], reason, self[1], self[2], self[3], self[4], self[5], self[6],
                hops, proxies, self[7], self[8])  # fmt: skip

    def _replace(self, **changes: Any) -> Resolution:
        """A copy with some fields changed, like ``NamedTuple._replace``."""
        values = dict(zip(_FIELDS, self._values()))
        unknown = set(changes) - set(values)
        if unknown:
            raise ValueError(f"got unexpected field names: {sorted(unknown)!r}")
        values.update(changes)
        return Resolution(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resolution):
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Resolution):
            return NotImplemented
        return self._values() != other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(_FIELDS, self._values()))
        return f"Resolution({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Resolution, self._values())


_new = tuple.__new__


def unresolved(walked: Walked, request: Request) -> Resolution:
    """Nothing applied: the request's own values, the trail walked and why."""
    hops = tuple(walked.trail)
    _, _, scheme, host, port, prefix = request
    return Resolution(
        UNRESOLVED, walked.reason, hops[0].address, None, scheme, host, port, prefix,
        hops, hops[: walked.proxies],
    )  # fmt: skip


def applied(
    apply_for: bool, reason: str, trail: list[Hop], client: Optional[Hop], checked: Checked
) -> Resolution:
    """An applied Resolution from a walk's outcome and the checked values."""
    fields = checked.applied
    proxies: tuple[Hop, ...]
    if client is None:
        peer = trail[0]
        address, client_port, proxies = peer.address, None, (peer,)
    else:
        proxies = tuple(trail[:-1])
        if apply_for:
            address, client_port = client.address, client.port
            fields = ("for", *fields)
        else:
            address, client_port = trail[0].address, None
    return _new(
        Resolution,
        (APPLIED, address, client_port, checked.scheme, checked.host, checked.port,
         checked.prefix, fields, checked.ignored, [(reason, tuple(trail), proxies)]),
    )  # fmt: skip


def finish(
    apply_for: bool,
    reason: str,
    trail: list[Hop],
    client: Optional[Hop],
    forwarded: Sequence[Optional[str]],
    request: Request,
) -> Resolution:
    """Validate the hop-aligned ``forwarded`` proto, host, port and prefix (see
    :func:`~trustproxy._values.check_values`) and build an applied Resolution."""
    checked = check_values(forwarded[0], forwarded[1], forwarded[2], forwarded[3], request)
    return applied(apply_for, reason, trail, client, checked)
