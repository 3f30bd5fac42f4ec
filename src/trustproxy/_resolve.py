"""The pure core: (socket peer, forwarding headers, the request's own values) -> Resolution.

Nothing here knows about WSGI or ASGI.  An adapter hands over the peer, the header values
(all lines of one header joined with commas, in arrival order) and the request's scheme,
Host, port and path prefix, and gets back an immutable :class:`Resolution` to write.
:meth:`Resolver.decide` computes only the decision; the explanation is built by the walk
(:mod:`trustproxy._walk`, rules in ``docs/walk.md``) when it is first read.

Scheme, host, port and prefix are hop-aligned with the client: the ``k``-th item from the
right of their header, or its leftmost item if it has fewer; with no X-Forwarded-For
address ``k`` is 1.  An unresolved request gets none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Callable, Optional, TypeVar, Union

from ._address import MISSING, plain_address
from ._config import (
    BOTH,
    DEFAULT_HEADERS,
    DEFAULT_TRUSTED,
    X_FORWARDED,
    Options,
    options_from,
)
from ._families import resolve_both, resolve_forwarded
from ._lists import MAX_ITEM_LENGTH, MAX_LINES, nth_from_right
from ._memo import MEMO_KEY_LENGTH, key_length, remember
from ._result import Details, Resolution, applied, finish, unresolved
from ._status import APPLIED, CONFLICT, MAX_HOPS, UNRESOLVED, UNTRUSTED_PEER, UNVERIFIED_PEER
from ._tenant import matches
from ._values import _SCHEMES, DEFAULT_PORTS, FIELDS, ITEM_LIMITS, Checked, check_values
from ._walk import decide_x_forwarded, walk_single, walk_x_forwarded
from .trust import Hop, TrustSpec

__all__ = [
    "APPLIED",
    "CONFLICT",
    "FIELDS",
    "MAX_HOPS",
    "UNRESOLVED",
    "UNTRUSTED_PEER",
    "UNVERIFIED_PEER",
    "Resolution",
    "Resolver",
]


# Per-field item limits, in field order (see _values.ITEM_LIMITS).
_LIMITS = tuple(ITEM_LIMITS[field] for field in FIELDS)

_FOR = ("for",)
_PROTO = ("proto",)
_FOR_PROTO = ("for", "proto")


def _lone_scheme(proto: str) -> Optional[str]:
    """The scheme a one-item X-Forwarded-Proto names, or ``None`` (a list, or not one
    :func:`~trustproxy._values.valid_scheme` maps without lower-casing)."""
    if len(proto) > MAX_ITEM_LENGTH or "," in proto:
        return None
    return _SCHEMES.get(proto.strip(" \t"))


K = TypeVar("K")

# NamedTuple's generated __new__ is a Python function; tuple.__new__ builds the same
# object in C.  Used on the per-request path only.
_new = tuple.__new__
#: What a resolution is a pure function of: peer, header values, scheme, Host, port, prefix.
_Inputs = tuple[Optional[str], tuple[Optional[str], ...], str, Optional[str], Optional[int], str]
Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


class Resolver:
    """A compiled configuration: trust policy, fields and header family.

    :param options: an :class:`~trustproxy._config.Options` built already (the adapters
        pass theirs); it replaces the keywords below.
    :param trusted: the proxies you control; see :class:`~trustproxy.TrustPolicy`.
    :param hops: the number of proxies in front of the app (optional).
    :param fields: which values to take from the headers: any of ``"for"``, ``"proto"``,
        ``"host"``, ``"port"``, ``"prefix"``.  Default ``("for", "proto")``, or ``("for",)``
        for a single-address header.
    :param headers: ``"x-forwarded"`` (X-Forwarded-For/-Proto/-Host/-Port/-Prefix),
        ``"forwarded"`` (RFC 7239), the tuple ``("forwarded", "x-forwarded")`` (both, and
        they must agree), or the name of a single-address header such as ``"x-real-ip"``.
        Only the configured headers are ever read.
    :param presets_dir: a folder of presets refreshed by ``trustproxy presets update``
        (default: ``TRUSTPROXY_PRESETS_DIR``).
    :param require_headers: tenant binding: headers a trusted proxy must carry, name ->
        value (literal, ``"env:NAME"`` or ``"file:PATH"``); see ``docs/tenant.md``.
    :raises ConfigError: for anything malformed.
    """

    def __init__(
        self,
        options: Optional[Options] = None,
        *,
        trusted: TrustSpec = DEFAULT_TRUSTED,
        hops: Optional[int] = None,
        fields: Union[str, Iterable[str], None] = None,
        headers: Union[str, Iterable[str]] = DEFAULT_HEADERS,
        presets_dir: Optional[str] = None,
        require_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        options = options_from(
            options,
            trusted,
            hops,
            fields,
            headers,
            require_headers=require_headers,
            presets_dir=presets_dir,
        )
        self.options = options
        self.policy = options.policy
        self.family = options.headers
        self.fields = frozenset(options.fields)
        #: Header names read, lower-case, in the order of the values the walk expects.
        self.header_names: tuple[str, ...]
        #: A request carrying none of these headers is left alone without a walk.
        self.trigger_names: tuple[str, ...]
        if self.family == "forwarded":
            self.header_names = ("forwarded",)
            self.trigger_names = ("forwarded",)
        elif self.family == BOTH:
            # values[0] is Forwarded, values[1:] line up with X-Forwarded-* in field order.
            self.header_names = ("forwarded", *(X_FORWARDED[f] for f in FIELDS))
            self.trigger_names = (
                "forwarded",
                *(X_FORWARDED[f] for f in FIELDS if f == "for" or f in self.fields),
            )
        elif self.family == "x-forwarded":
            self.header_names = tuple(X_FORWARDED[f] for f in FIELDS)
            self.trigger_names = tuple(
                X_FORWARDED[f] for f in FIELDS if f == "for" or f in self.fields
            )
        else:
            self.header_names = (self.family,)
            self.trigger_names = (self.family,)
        #: Tenant binding: the headers a trusted proxy must carry (``require_headers``).
        self.required = options.required
        self.required_names = tuple(secret.name for secret in self.required)
        #: Every header read, lower-case: :attr:`header_names`, then
        #: :attr:`required_names`; the values :meth:`decide` takes line up with these.
        self.read_names = self.header_names + self.required_names
        self._limit = self.policy.hops if self.policy.hops is not None else MAX_HOPS
        self._positions = {name: i for i, name in enumerate(self.read_names)}
        self._memo: Optional[dict[object, Resolution]] = {} if self.policy.cacheable else None
        # Checked values never depend on trust, so this memo is always on.
        self._checked_memo: dict[object, Checked] = {}
        self._apply_for = "for" in self.fields
        #: Positions in the values tuple of the configured X-Forwarded-* besides -For.
        self._value_positions = tuple(p for p in (1, 2, 3, 4) if FIELDS[p] in self.fields)
        # The lean path (see decide) is taken for X-Forwarded-* when trust answers are
        # fixed: its explanation is recomputed on first read and must come out the same.
        self._lean = self.family == "x-forwarded" and self.policy.cacheable
        self._trusted_by = self.policy.trusted_by
        # The one-item shortcut in decide: hops None or 1 make a lone X-Forwarded-For
        # item the client without asking whom it is trusted by.
        self._one_hop = self.policy.hops is None or self.policy.hops == 1
        self._proto_only = self._value_positions == (1,)
        self._peer = self.policy.peer
        # Bound once: a lean resolution keeps the explanation's recipe, and binding the
        # method per request is an allocation.
        self._explain = self._details

    def __repr__(self) -> str:
        return (
            f"Resolver(trusted={list(self.policy.entries)!r}, hops={self.policy.hops!r},"
            f" fields={sorted(self.fields)!r}, headers={self.family!r})"
        )

    def keys(self, translate: Callable[[str], K]) -> tuple[K, ...]:
        """The adapter's keys for :attr:`read_names`, e.g. WSGI environ keys."""
        return tuple(translate(name) for name in self.read_names)

    def resolve(
        self,
        peer: Optional[str],
        headers: Headers,
        *,
        scheme: str = "http",
        host: Optional[str] = None,
        port: Optional[int] = None,
        prefix: str = "",
    ) -> Resolution:
        """Resolve one request.

        :param peer: the socket peer's address; ``None`` or ``""`` for a UNIX socket.
        :param headers: ``(name, value)`` lines in arrival order, or a mapping of names to
            values.  Names are case-insensitive; repeated lines are joined in order (the
            rightmost ``MAX_LINES`` of each header: no walk reads further).
        :param scheme: the scheme the request arrived with, in any case (RFC 3986 §3.1:
            schemes are case-insensitive; the resolution reports it lower-case).
        :param host: the Host header the request arrived with.
        :param port: the server port the request arrived on.
        :param prefix: the path prefix the app is mounted at (``SCRIPT_NAME``).
        """
        scheme = scheme.lower()
        positions = self._positions
        policy = self.policy
        # Nothing is read from an untrusted peer, so its lines are not even collected.
        # (Only when the answer is cached: a callable entry is asked once per request.)
        if policy.cacheable and policy.peer(peer).trusted_by is None:
            return self._resolve(peer, (None,) * len(positions), scheme, host, port, prefix)
        found: list[list[str]] = [[] for _ in positions]
        lines = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in lines:
            position = positions.get(name.lower())
            if position is not None:
                kept = found[position]
                kept.append(value)
                if len(kept) > 2 * MAX_LINES:
                    del kept[:-MAX_LINES]  # memory stays bounded; amortised O(1) per line
        # RFC 9110 §5.3: one list, joined once (per-line joining is quadratic).  A lone
        # line is passed as it came.
        values = tuple(
            None if not kept else kept[0] if len(kept) == 1 else ",".join(kept[-MAX_LINES:])
            for kept in found
        )
        return self._resolve(peer, values, scheme, host, port, prefix)

    def _resolve(
        self,
        peer: Optional[str],
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        """Resolve from header values aligned with :attr:`header_names` (``None`` = absent).

        A resolution is a pure function of its arguments, so the last results are kept in
        a bounded memo (emptied when full; off when the policy holds a callable, whose
        answers may change).
        """
        memo = self._memo
        # A long key is not even hashed (a fresh 90 KB header costs more than the walk).
        if memo is None or key_length(values, host) > MEMO_KEY_LENGTH:
            return self.decide(peer, values, scheme, host, port, prefix)
        key = (peer, values, scheme, host, port, prefix)
        cached = memo.get(key, MISSING)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        return remember(memo, key, self.decide(peer, values, scheme, host, port, prefix))

    def decide(
        self,
        peer: Optional[str],
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        """Resolve from header values aligned with :attr:`read_names`, without a memo.

        The entry point for adapters (which keep no outcome memo).  For X-Forwarded-* this
        is the lean path: it computes only the decision — the client hop, its address
        and the checked values — and returns a :class:`Resolution` whose ``reason``,
        ``hops`` and ``proxies`` are computed by the full walk (:meth:`_compute`) when
        first read.  Other header families, and policies with a callable entry (whose
        answers may change), take the full walk now.
        """
        peer_hop = self._peer(peer)
        if self.required:
            # Tenant binding: the secret values are checked here and go no further (no
            # resolution or explanation holds them; only resolve()'s in-memory memo key).
            values, refused = self._verify(peer_hop, values, scheme, host, port, prefix)
            if refused is not None:
                return refused
        inputs: _Inputs = (peer, values, scheme, host, port, prefix)
        if peer_hop.trusted_by is None:
            if not self.policy.cacheable:
                return self._compute(peer, values, scheme, host, port, prefix)
            return _new(
                Resolution,
                (UNTRUSTED_PEER, peer_hop.address, None, scheme, host, port, prefix, (), (),
                 [self._explain, inputs]),
            )  # fmt: skip
        if not self._lean:
            return self._compute(peer, values, scheme, host, port, prefix)
        value = values[0]
        text: Optional[str] = None
        client_port: Optional[int] = None
        k = 1
        if (
            self._one_hop
            and self._apply_for
            and value
            and len(value) <= MAX_ITEM_LENGTH
            and "," not in value
        ):
            # The shape almost every request has: one proxy wrote one X-Forwarded-For
            # item.  It is the client whether trusted or not (the leftmost item; hops is
            # None or 1), so no trust lookup and no Address: decide_x_forwarded's
            # one-item rule with plain_address, which agrees with parse_node or defers.
            text = plain_address(value.strip(" \t"))
        if text is None:
            k, client = decide_x_forwarded(value, self._trusted_by, self._limit, self.policy.hops)
            if k < 0:
                # Unresolved: nothing changes, so the decision needs no more than that.
                return self._unresolved_lazily(peer_hop, inputs)
            if client is not None and self._apply_for:
                text, client_port = client.text, client.port
        applied: tuple[str, ...] = _FOR
        if text is None:
            text, applied = peer_hop.address, ()
        if self._proto_only:
            # check_values' rule for a lone proto, which every hop k reads: the scheme's
            # default port when the scheme changes.  Anything else (an invalid proto, to
            # be recorded; a list) is left to _checked.
            proto = values[1]
            new_scheme = scheme if proto is None else _lone_scheme(proto)
            if new_scheme == scheme:
                return _new(
                    Resolution,
                    (APPLIED, text, client_port, scheme, host, port, prefix, applied, (),
                     [self._explain, inputs]),
                )  # fmt: skip
            if new_scheme is not None:
                return _new(
                    Resolution,
                    (APPLIED, text, client_port, new_scheme, host, DEFAULT_PORTS[new_scheme],
                     prefix, _FOR_PROTO if applied else _PROTO, (), [self._explain, inputs]),
                )  # fmt: skip
        checked = self._checked(k, values, scheme, host, port, prefix)
        return _new(
            Resolution,
            (APPLIED, text, client_port, checked.scheme, checked.host, checked.port,
             checked.prefix, applied + checked.applied if applied else checked.applied,
             checked.ignored, [self._explain, inputs]),
        )  # fmt: skip

    def _verify(
        self,
        peer_hop: Hop,
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> tuple[tuple[Optional[str], ...], Optional[Resolution]]:
        """The forwarding values without the required headers' values, and the
        ``unverified-peer`` resolution when a trusted peer's request lacks one of them.

        An untrusted peer is not checked: nothing of its request is read anyway.  The
        reason names the header, never a value (neither the secret nor what came).
        """
        count = len(self.required)
        given = values[-count:]
        values = values[:-count]
        if peer_hop.trusted_by is None:
            return values, None
        for secret, value in zip(self.required, given):
            if not matches(secret, value):
                what = "missing" if value is None else "not the configured value"
                reason = (
                    f"peer {peer_hop.text or 'on a UNIX socket'} is a trusted proxy, but the"
                    f" request's {secret.name} header is {what} (require_headers): treated"
                    " as an untrusted peer, forwarding headers ignored"
                )
                return values, Resolution(
                    UNVERIFIED_PEER, reason, peer_hop.address, None, scheme, host, port,
                    prefix, (peer_hop,), (),
                )  # fmt: skip
        return values, None

    def _unresolved_lazily(self, peer_hop: Hop, inputs: _Inputs) -> Resolution:
        """An unresolved decision: nothing applied; why is worked out when read."""
        scheme, host, port, prefix = inputs[2:]
        return _new(
            Resolution,
            (UNRESOLVED, peer_hop.address, None, scheme, host, port, prefix, (), (),
             [self._explain, inputs]),
        )  # fmt: skip

    def _details(
        self,
        peer: Optional[str],
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Details:
        """The explanation of a lean resolution: the full walk, run when it is read."""
        return self._compute(peer, values, scheme, host, port, prefix)._details()

    def _compute(
        self,
        peer: Optional[str],
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        """:meth:`_resolve` without the memo, for adapters that memoise their own outcome."""
        peer_hop = self.policy.peer(peer)
        if peer_hop.trusted_by is None:
            return Resolution(
                UNTRUSTED_PEER,
                f"peer {peer_hop.text or 'on a UNIX socket'} is not a trusted proxy;"
                " forwarding headers ignored",
                peer_hop.address,
                None,
                scheme,
                host,
                port,
                prefix,
                (peer_hop,),
                (),
            )
        family = self.family
        if family == "x-forwarded":
            return self._x_forwarded(peer_hop, values, scheme, host, port, prefix)
        if family == "forwarded":
            return resolve_forwarded(
                self.policy, self._limit, self.fields, self._apply_for,
                peer_hop, values[0], scheme, host, port, prefix,
            )[0]  # fmt: skip
        if family == BOTH:
            return resolve_both(
                self.policy, self._limit, self.fields, self._apply_for, self._x_forwarded,
                peer_hop, values, scheme, host, port, prefix,
            )  # fmt: skip
        return self._single(peer_hop, values[0], scheme, host, port, prefix)

    # -- the walks -------------------------------------------------------------------

    def _x_forwarded(
        self,
        peer_hop: Hop,
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        walked = walk_x_forwarded(self.policy, self._limit, peer_hop, values[0])
        if walked.unresolved:
            return unresolved(
                walked.reason, walked.trail, walked.proxies, scheme, host, port, prefix
            )
        # The client is hop k: the trail holds the peer and the k items walked.
        k = len(walked.trail) - 1 if walked.client is not None else 1
        checked = self._checked(k, values, scheme, host, port, prefix)
        return applied(self._apply_for, walked.reason, walked.trail, walked.client, checked)

    def _checked(
        self,
        k: int,
        values: tuple[Optional[str], ...],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Checked:
        """The X-Forwarded-Proto/-Host/-Port/-Prefix items aligned with hop ``k``, checked.

        They depend only on ``k`` and those headers, not on the client: a new client
        behind the same proxies reuses them from the memo.
        """
        memo: Optional[dict[object, Checked]] = self._checked_memo
        rest = values[1:]
        size = len(host) if host else 0  # key_length(rest, host), inlined
        for value in rest:
            if value:
                size += len(value)
        if size > MEMO_KEY_LENGTH:
            memo = None  # not even hashed
        key = (k, rest, scheme, host, port, prefix)
        checked = memo.get(key, MISSING) if memo is not None else MISSING
        if checked is MISSING:
            raw: list[Optional[str]] = [None, None, None, None]
            for position in self._value_positions:
                header = values[position]
                if header:
                    limit = _LIMITS[position]
                    if len(header) <= limit and "," not in header:
                        # One item (what a single proxy writes): every k reads it, as
                        # nth_from_right would, without its loop.
                        raw[position - 1] = header.strip(" \t") or None
                    else:
                        raw[position - 1] = nth_from_right(header, k, limit)[0]
            checked = check_values(raw[0], raw[1], raw[2], raw[3], scheme, host, port, prefix)
            if memo is not None:
                remember(memo, key, checked)
        return checked  # type: ignore[no-any-return]

    def _single(
        self,
        peer_hop: Hop,
        value: Optional[str],
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        walked = walk_single(self.policy, self.family, peer_hop, value)
        if walked.unresolved:
            return unresolved(
                walked.reason, walked.trail, walked.proxies, scheme, host, port, prefix
            )
        return finish(
            self._apply_for, walked.reason, walked.trail, walked.client,
            None, None, None, None, scheme, host, port, prefix,
        )  # fmt: skip
