"""The shape of a scenario row and the helper that builds one (see tests/scenarios/)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Union

from builders import server_name

__all__ = [
    "ALL_FIELDS",
    "APPLIED",
    "BOTH",
    "CONFLICT",
    "DEFAULT_FIELDS",
    "SAME",
    "UNRESOLVED",
    "UNTRUSTED_PEER",
    "Lines",
    "Outcome",
    "Request",
    "Scenario",
    "TrustSpec",
    "case",
    "server_name",
    "strict_twin",
    "trust_tens",
]

APPLIED = "applied"
UNTRUSTED_PEER = "untrusted-peer"
UNRESOLVED = "unresolved"
CONFLICT = "conflict"

ALL_FIELDS = ("for", "proto", "host", "port", "prefix")
DEFAULT_FIELDS = ("for", "proto")
BOTH = ("forwarded", "x-forwarded")

Lines = tuple[tuple[str, str], ...]
TrustSpec = Union[str, Callable[[str], bool], Sequence[Union[str, Callable[[str], bool]]]]
Headers = Union[str, tuple[str, ...]]


def trust_tens(address: str) -> bool:
    """A callable trust entry: trusts 10.0.0.0/8, written as a string test."""
    return address.startswith("10.")


@dataclass(frozen=True)
class Request:
    """The request as the server saw it, before any forwarding header is applied."""

    scheme: str = "http"
    host: Optional[str] = "app.example"
    port: Optional[int] = 80
    prefix: str = ""
    #: WSGI's SERVER_NAME; the host name part of ``host`` unless given.
    server_name: str = "app.example"


@dataclass(frozen=True)
class Outcome:
    """What the application must see.

    ``client`` is the resolver's client address (the canonical peer when nothing was
    forwarded); ``forwarded`` says whether it came from a forwarded item, i.e. whether an
    adapter rewrites its client address (REMOTE_ADDR, scope["client"]).  ``host`` is the
    Host value (may carry ":port").  Each string in ``ignored`` must occur in its own
    entry of ``Resolution.ignored``, and there must be no other entries.  ``refused``:
    the adapters answer 400 (a WebSocket handshake: close 1008) without calling the
    application; true for every conflict and, with ``strict``, every unresolved request.
    """

    status: str
    client: Optional[str]
    client_port: Optional[int]
    scheme: str
    host: Optional[str]
    port: Optional[int]
    prefix: str
    forwarded: bool = False
    ignored: tuple[str, ...] = ()
    refused: bool = False


@dataclass(frozen=True)
class Scenario:
    id: str
    peer: Optional[str]
    lines: Lines
    expected: Outcome
    trusted: TrustSpec = "loopback"
    hops: Optional[int] = None
    fields: Union[str, tuple[str, ...]] = DEFAULT_FIELDS
    request: Request = field(default_factory=Request)
    headers: Headers = "x-forwarded"
    strict: bool = False

    def config(self) -> dict[str, Any]:
        """Keyword arguments for ``Resolver`` (without ``strict``)."""
        return {
            "trusted": self.trusted,
            "hops": self.hops,
            "fields": self.fields,
            "headers": self.headers,
        }

    def middleware_config(self) -> dict[str, Any]:
        """Keyword arguments for every middleware and ``settings.TRUSTPROXY``."""
        return {**self.config(), "strict": self.strict}

    @property
    def family(self) -> str:
        return self.id.split("/", 1)[0]


class _Same:
    """Marks an expected value as "the request's own value, unchanged"."""

    def __repr__(self) -> str:
        return "SAME"


SAME: Any = _Same()


def case(
    id: str,
    lines: Iterable[tuple[str, str]] = (),
    *,
    peer: Optional[str] = "127.0.0.1",
    trusted: TrustSpec = "loopback",
    hops: Optional[int] = None,
    fields: Union[str, Sequence[str]] = DEFAULT_FIELDS,
    headers: Headers = "x-forwarded",
    strict: bool = False,
    request: Optional[Request] = None,
    status: str = APPLIED,
    client: Any = SAME,
    client_port: Optional[int] = None,
    forwarded: Optional[bool] = None,
    scheme: Any = SAME,
    host: Any = SAME,
    port: Any = SAME,
    prefix: Any = SAME,
    ignored: Sequence[str] = (),
) -> Scenario:
    """Build a scenario; every expected value left as SAME is the request's own.

    An unresolved, untrusted-peer or conflict row keeps the request as it was: its
    client is the peer and nothing is written, so those values must stay SAME."""
    req = request if request is not None else Request()
    if status != APPLIED and not all(v is SAME for v in (scheme, host, port, prefix)):
        raise ValueError(f"{id}: a {status} request keeps the request's own values")
    outcome = Outcome(
        status=status,
        client=peer if client is SAME else client,
        client_port=client_port,
        scheme=req.scheme if scheme is SAME else scheme,
        host=req.host if host is SAME else host,
        port=req.port if port is SAME else port,
        prefix=req.prefix if prefix is SAME else prefix,
        forwarded=(client is not SAME) if forwarded is None else forwarded,
        ignored=tuple(ignored),
        refused=status == CONFLICT or (strict and status == UNRESOLVED),
    )
    config_fields = fields if isinstance(fields, str) else tuple(fields)
    return Scenario(
        id, peer, tuple(lines), outcome, trusted, hops, config_fields, req, headers, strict
    )


def strict_twin(row: Scenario) -> Scenario:
    """The same request with ``strict=True``: the same resolution; refused when it is
    unresolved (the adapters' ``strict`` option)."""
    expected = replace(
        row.expected,
        refused=row.expected.status == CONFLICT or row.expected.status == UNRESOLVED,
    )
    return replace(row, id=f"strict/{row.id}", expected=expected, strict=True)


_X_FORWARDED = {
    "for": "x-forwarded-for",
    "proto": "x-forwarded-proto",
    "host": "x-forwarded-host",
    "port": "x-forwarded-port",
    "prefix": "x-forwarded-prefix",
}


def read_headers(row: Scenario) -> frozenset[str]:
    """The header names (lower case) whose presence makes a middleware look at a request
    (the wsgi and asgi module docstrings: a request without any is passed on
    untouched, without the result keys): ``Forwarded`` for that family, X-Forwarded-For
    and the X-Forwarded-* header of each field switched on for that family, or the one
    single-address header."""
    families = row.headers if isinstance(row.headers, tuple) else (row.headers,)
    if isinstance(row.fields, str):
        fields = {part.strip().lower() for part in row.fields.split(",")}
    else:
        fields = {part.lower() for part in row.fields}
    names: set[str] = set()
    for family in (f.strip().lower() for f in families):
        if family == "forwarded":
            names.add("forwarded")
        elif family == "x-forwarded":
            names.update(_X_FORWARDED[f] for f in _X_FORWARDED if f == "for" or f in fields)
        else:
            names.add(family)
    return frozenset(names)


def touched(row: Scenario) -> bool:
    """Whether any header line of ``row`` is one the middleware reads."""
    names = read_headers(row)
    return any(name.lower() in names for name, _ in row.lines)
