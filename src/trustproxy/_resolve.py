"""The resolver: a compiled configuration, and the decision for one request.

Nothing here knows about WSGI or ASGI.  An adapter hands :meth:`Resolver.decide` the
peer, the header values (all lines of one header joined with commas, in arrival order)
and the request's scheme, Host, port and path prefix, and gets back an immutable
:class:`Resolution` to write (``docs/api.md``).  For X-Forwarded-* the decision is
computed alone (:func:`~trustproxy._walk.decide_x_forwarded`,
:func:`~trustproxy._aligned.aligned_values`); the explanation, and every other family's
resolution, is :class:`~trustproxy._families.FullResolver`'s walk (rules in
``docs/walk.md``), run for a lean resolution when it is first read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional, TypeVar, Union

from ._address import MISSING, plain_address
from ._aligned import aligned_values, lone_scheme
from ._config import DEFAULT_HEADERS, DEFAULT_TRUSTED, Options, options_from
from ._families import FullResolver
from ._headers import Headers, header_layout, join_lines
from ._lists import MAX_ITEM_LENGTH
from ._memo import MEMO_KEY_LENGTH, key_length, remember
from ._request import Request, Values
from ._result import Resolution
from ._status import APPLIED, CONFLICT, MAX_HOPS, UNRESOLVED, UNTRUSTED_PEER, UNVERIFIED_PEER
from ._tenant import verify
from ._values import DEFAULT_PORTS, FIELDS, Checked
from ._walk import decide_x_forwarded
from .trust import TrustSpec

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


_FOR = ("for",)
_PROTO = ("proto",)
_FOR_PROTO = ("for", "proto")


K = TypeVar("K")

# NamedTuple's generated __new__ is a Python function; tuple.__new__ builds the same
# object in C.  Used on the per-request path only.
_new = tuple.__new__


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
        #: Header names read, lower-case, in the order of the values the walk expects;
        #: a request carrying none of :attr:`trigger_names` is left alone without a walk.
        self.header_names, self.trigger_names = header_layout(self.family, self.fields)
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
        self._full = FullResolver(self.policy, self.family, self.fields, self._limit, self._checked)
        # Bound once: a lean resolution keeps the explanation's recipe, and binding the
        # method per request is an allocation.
        self._explain = self._full.details

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
        values: Values
        if policy.cacheable and policy.peer(peer).trusted_by is None:
            values = (None,) * len(positions)
        else:
            values = join_lines(positions, headers)
        return self._remembered((peer, values, scheme, host, port, prefix))

    def _resolve(self, *request: Any) -> Resolution:
        """:meth:`decide` through the memo, from its six positional arguments (tests)."""
        return self._remembered(request)

    def _compute(self, *request: Any) -> Resolution:
        """The full resolution (decision, trail and reasons) of :meth:`decide`'s six
        positional arguments, without memo or lean path (tests)."""
        return self._full.resolve(request)

    def _remembered(self, request: Request) -> Resolution:
        """:meth:`decide` for ``request`` (header values aligned with :attr:`read_names`).

        A resolution is a pure function of the request, so the last results are kept in
        a bounded memo (emptied when full; off when the policy holds a callable, whose
        answers may change).
        """
        memo = self._memo
        # A long key is not even hashed (a fresh 90 KB header costs more than the walk).
        if memo is None or key_length(request[1], request[3]) > MEMO_KEY_LENGTH:
            return self.decide(*request)
        cached = memo.get(request, MISSING)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        return remember(memo, request, self.decide(*request))

    def decide(
        self,
        peer: Optional[str],
        values: Values,
        scheme: str,
        host: Optional[str],
        port: Optional[int],
        prefix: str,
    ) -> Resolution:
        """Resolve from header values aligned with :attr:`read_names`, without a memo.

        The entry point for adapters (which keep no outcome memo).  For X-Forwarded-* this
        is the lean path: it computes only the decision — the client hop, its address
        and the checked values — and returns a :class:`Resolution` whose ``reason``,
        ``hops`` and ``proxies`` are computed by the full walk
        (:class:`~trustproxy._families.FullResolver`) when first read.  Other header
        families, and policies with a callable entry (whose answers may change), take
        the full walk now.
        """
        peer_hop = self._peer(peer)
        request: Request = (peer, values, scheme, host, port, prefix)
        if self.required:
            # Tenant binding: the secret values are checked here and go no further (no
            # resolution or explanation holds them; only resolve()'s in-memory memo key).
            request, refused = verify(self.required, peer_hop, request)
            if refused is not None:
                return refused
            values = request[1]
        if peer_hop.trusted_by is None:
            if not self.policy.cacheable:
                return self._full.resolve(request)
            return _new(
                Resolution,
                (UNTRUSTED_PEER, peer_hop.address, None, scheme, host, port, prefix, (), (),
                 [self._explain, request]),
            )  # fmt: skip
        if not self._lean:
            return self._full.resolve(request)
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
                # Unresolved: nothing changes, so the decision needs no more than that;
                # why is worked out when read.
                return _new(
                    Resolution,
                    (UNRESOLVED, peer_hop.address, None, scheme, host, port, prefix, (), (),
                     [self._explain, request]),
                )  # fmt: skip
            if client is not None and self._apply_for:
                text, client_port = client.text, client.port
        applied: tuple[str, ...] = _FOR
        if text is None:
            text, applied = peer_hop.address, ()
        if self._proto_only:
            # check_values' rule for a lone proto, which every hop k reads: the scheme's
            # default port when the scheme changes.  Anything else (an invalid proto, to
            # be recorded; a list) is left to aligned_values.
            proto = values[1]
            new_scheme = scheme if proto is None else lone_scheme(proto)
            if new_scheme == scheme:
                return _new(
                    Resolution,
                    (APPLIED, text, client_port, scheme, host, port, prefix, applied, (),
                     [self._explain, request]),
                )  # fmt: skip
            if new_scheme is not None:
                return _new(
                    Resolution,
                    (APPLIED, text, client_port, new_scheme, host, DEFAULT_PORTS[new_scheme],
                     prefix, _FOR_PROTO if applied else _PROTO, (), [self._explain, request]),
                )  # fmt: skip
        checked = aligned_values(self._checked_memo, self._value_positions, k, request)
        return _new(
            Resolution,
            (APPLIED, text, client_port, checked.scheme, checked.host, checked.port,
             checked.prefix, applied + checked.applied if applied else checked.applied,
             checked.ignored, [self._explain, request]),
        )  # fmt: skip

    def _checked(self, k: int, request: Request) -> Checked:
        """The checked X-Forwarded-* values of hop ``k``, through this resolver's memo."""
        return aligned_values(self._checked_memo, self._value_positions, k, request)
