"""Tenant binding: headers a trusted proxy must carry, with their secret values.

A CDN's or cloud load balancer's addresses are shared by all of its customers: anyone
with an account can send requests from those addresses through a distribution of their
own, with any ``X-Forwarded-For`` they like.  The provider lets each customer add a
fixed header to the requests it forwards (CloudFront's custom origin headers, a
Cloudflare Transform Rule, Azure Front Door's ``X-Azure-FDID``, a Fastly header rule).
``require_headers={"X-Origin-Verify": "env:ORIGIN_SECRET"}`` makes trustproxy apply
forwarding headers only when every named header carries its value; otherwise the
request is treated as coming from an untrusted peer (status ``"unverified-peer"``).

The values are resolved once, at construction (:func:`secrets_from`), and compared in
constant time (:func:`hmac.compare_digest`).  The secret headers are removed from every
request before the application sees it (:func:`drop_environ`, :func:`drop_lines`),
whatever the peer: a secret must never reach application code, its logs or its error
pages.  Nothing here logs or quotes a value.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Optional

from ._result import Resolution
from ._status import UNVERIFIED_PEER
from .errors import ConfigError

if TYPE_CHECKING:
    from ._request import Request
    from .trust import Hop

__all__ = [
    "HIDDEN",
    "Secret",
    "drop_environ",
    "drop_lines",
    "matches",
    "secrets_from",
    "verify",
]

#: How a secret value is shown (``repr``, ``trustproxy explain``).
HIDDEN = "<hidden>"

#: Header names that cannot carry a secret: the request's own routing, and the headers
#: trustproxy reads for forwarding (a secret there would be parsed as an address).
_RESERVED = frozenset(
    {
        "host",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "connection",
        "content-length",
        "transfer-encoding",
    }
)

#: RFC 9110 §5.6.2 tchar.
_TOKEN = frozenset("!#$%&'*+-.^`|~0123456789abcdefghijklmnopqrstuvwxyz")


class Secret:
    """One required header: its lower-case name and its value (bytes, latin-1).

    ``repr`` never shows the value.
    """

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: bytes) -> None:
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {HIDDEN})"


def _value(name: str, spec: object) -> bytes:
    """The value ``spec`` names: literal text, ``env:NAME`` or ``file:PATH``."""
    where = f"require_headers[{name!r}]"
    if not isinstance(spec, str):
        raise ConfigError(
            f"{where} must be a string (the value, 'env:NAME' or 'file:PATH'), not a"
            f" {type(spec).__name__}"
        )
    text: str
    if spec.startswith("env:"):
        variable = spec[4:]
        if not variable:
            raise ConfigError(f"{where} = 'env:' names no environment variable")
        found = os.environ.get(variable)
        if found is None:
            raise ConfigError(
                f"{where}: environment variable {variable} is not set; set it to the"
                f" value your proxy sends in {name}"
            )
        text, source = found, f"environment variable {variable}"
    elif spec.startswith("file:"):
        path = spec[5:]
        try:
            with open(path, encoding="utf-8") as handle:
                # A secrets file (Docker, Kubernetes) usually ends with a newline; the
                # value a header carries never does (RFC 9110 §5.5 strips it as OWS).
                text = handle.read().strip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"{where}: file {path!r} cannot be read ({type(error).__name__}:"
                f" {error.strerror if isinstance(error, OSError) else 'not UTF-8'}); create"
                f" it holding the value your proxy sends in {name}"
            ) from None
        source = f"file {path!r}"
    else:
        text, source = spec, "the value"
    if not text:
        raise ConfigError(f"{where}: {source} is empty; an empty secret proves nothing")
    if text != text.strip(" \t"):
        # Servers strip whitespace around a field value (RFC 9110 §5.5): it never arrives.
        raise ConfigError(f"{where}: {source} starts or ends with whitespace; remove it")
    if any(not (" " <= c <= "~") for c in text):
        raise ConfigError(
            f"{where}: {source} holds a control or non-ASCII character; use printable"
            " ASCII (a header value is octets, RFC 9110 §5.5)"
        )
    if "," in text:
        # RFC 9110 §5.3: a comma splits a field into list items, and repeated lines are
        # joined with one: the value could not be told apart from two lines.
        raise ConfigError(f"{where}: {source} holds a comma; choose a value without one")
    return text.encode("ascii")


def secrets_from(
    required: Optional[Mapping[str, Any]], read: Iterable[str] = ()
) -> tuple[Secret, ...]:
    """Validate ``require_headers`` and resolve each value, once.

    :param read: the header names the resolver reads for forwarding (none may be secret).
    :raises ConfigError: naming the fix, for a malformed name, a value that cannot be
        found (an unset variable, an unreadable file) or an empty one.
    """
    if required is None:
        return ()
    if not isinstance(required, Mapping):
        raise ConfigError(
            "require_headers must be a dict of header name -> value, e.g."
            " {'X-Origin-Verify': 'env:ORIGIN_SECRET'}"
        )
    forwarding = frozenset(read)
    found: dict[str, Secret] = {}
    for name, spec in required.items():
        if not isinstance(name, str):
            raise ConfigError(f"require_headers: header name {name!r} is not a string")
        lower = name.strip().lower()
        if not lower or not set(lower) <= _TOKEN:
            # Names with "_" are refused as for headers= (Django CVE-2015-0219): WSGI
            # servers give "-" and "_" the same environ key.
            raise ConfigError(
                f"require_headers: {name!r} is not a header name (letters, digits and '-')"
            )
        if lower in _RESERVED or lower in forwarding:
            raise ConfigError(
                f"require_headers: {name!r} cannot carry a secret; name a header of its"
                " own, such as 'X-Origin-Verify'"
            )
        if lower in found:
            raise ConfigError(f"require_headers names {name!r} twice (names ignore case)")
        found[lower] = Secret(lower, _value(name, spec))
    return tuple(found.values())


def matches(secret: Secret, given: Optional[str]) -> bool:
    """Whether a request's value (all its lines joined with ``,``) is the secret, in time
    that does not depend on where they differ (:func:`hmac.compare_digest`)."""
    if given is None or len(given) != len(secret.value):
        # A value of another length is not the secret, and compare_digest would reveal
        # the length anyway (its documentation says so): refusing it first keeps the
        # work per request bounded by the secret's length, not by what a client sends.
        return False
    try:
        data = given.encode("latin-1")
    except UnicodeEncodeError:  # text from the command line: never a match
        return False
    return hmac.compare_digest(data, secret.value)


def verify(
    required: tuple[Secret, ...], peer_hop: Hop, request: Request
) -> tuple[Request, Optional[Resolution]]:
    """The request without the required headers' values (the last of its values), and
    the ``unverified-peer`` resolution when a trusted peer's request lacks one of them.

    An untrusted peer is not checked: nothing of its request is read anyway.  The
    reason names the header, never a value (neither the secret nor what came).
    """
    count = len(required)
    peer, values, scheme, host, port, prefix = request
    given = values[-count:]
    request = (peer, values[:-count], scheme, host, port, prefix)
    if peer_hop.trusted_by is None:
        return request, None
    for secret, value in zip(required, given):
        if not matches(secret, value):
            what = "missing" if value is None else "not the configured value"
            reason = (
                f"peer {peer_hop.text or 'on a UNIX socket'} is a trusted proxy, but the"
                f" request's {secret.name} header is {what} (require_headers): treated"
                " as an untrusted peer, forwarding headers ignored"
            )
            return request, Resolution(
                UNVERIFIED_PEER, reason, peer_hop.address, None, scheme, host, port,
                prefix, (peer_hop,), (),
            )  # fmt: skip
    return request, None


def drop_environ(environ: MutableMapping[str, Any], keys: Iterable[str]) -> None:
    """Remove the secret headers' environ keys (WSGI, Django's ``request.META``)."""
    for key in keys:
        environ.pop(key, None)


def drop_lines(
    lines: Iterable[tuple[bytes, bytes]], names: frozenset[bytes]
) -> list[tuple[bytes, bytes]]:
    """An ASGI header list without the secret headers' lines (names in any case)."""
    return [line for line in lines if line[0].lower() not in names]
