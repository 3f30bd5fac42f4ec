"""Validation of the values a forwarding header may copy into the request.

Each function returns the value to write, or ``None`` when it must be ignored.  These are
the only gates between header text and ``wsgi.url_scheme``/``HTTP_HOST``/``SERVER_PORT``/
``SCRIPT_NAME`` (or the ASGI scope), so each is strict: a value a real proxy would never
write is refused rather than repaired.  The rules, and how an ignored value is recorded:
``docs/walk.md`` ("Scheme, host, port and prefix"); the limits: ``docs/security.md``.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from . import _abnf
from ._address import MISSING, parse_node, parse_port, plain_address
from ._lists import MAX_ITEM_LENGTH
from ._memo import CACHE_SIZE, remember
from ._request import Request

__all__ = [
    "DEFAULT_PORTS",
    "FIELDS",
    "ITEM_LIMITS",
    "Checked",
    "check_values",
    "host_name",
    "host_port",
    "valid_host",
    "valid_prefix",
    "valid_scheme",
]

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# X-Forwarded-Proto / RFC 7239 §5.4 proto: a URI scheme, case-insensitive (RFC 3986 §3.1).
# Only the two schemes an HTTP server can be reached with are meaningful to the app, and
# their WebSocket spellings (RFC 6455 §3: ws and wss are http and https for an upgraded
# request): Traefik writes X-Forwarded-Proto: ws / wss on upgrades, and uvicorn accepts
# them.  The core keeps http/https; the ASGI adapter writes ws/wss on a websocket scope.
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}

MAX_HOST_LENGTH = 261  # 253-character name + ":" + 5-digit port, or a bracketed IPv6
MAX_PREFIX_LENGTH = 1024

#: The values a forwarding header can carry, in the order the resolver keeps them.
FIELDS = ("for", "proto", "host", "port", "prefix")

#: The most characters examined for one list item of each field's header (surrounding
#: spaces included): the longest valid value plus some slack.  A longer item is refused
#: without being read to its end, so a huge header costs no more than a short one.
ITEM_LIMITS = {
    "for": MAX_ITEM_LENGTH,
    "proto": MAX_ITEM_LENGTH,
    "host": MAX_HOST_LENGTH + 32,
    "port": MAX_ITEM_LENGTH,
    "prefix": MAX_PREFIX_LENGTH + 32,
}


def valid_scheme(text: str) -> Optional[str]:
    """``http`` or ``https`` (any case) -> lower-case scheme, ``ws`` -> ``http`` and
    ``wss`` -> ``https``; anything else -> None."""
    scheme = _SCHEMES.get(text)
    if scheme is None and len(text) <= 5:
        scheme = _SCHEMES.get(text.lower())
    return scheme


def _check_host(text: str) -> Optional[tuple[str, Optional[int]]]:
    # RFC 9110 §7.2: Host = uri-host [ ":" port ]; uri-host = IP-literal / IPv4address /
    # reg-name (RFC 3986 §3.2.2).  See _abnf.REG_NAME for the subset accepted.
    if not text or len(text) > MAX_HOST_LENGTH:
        return None
    if text[0] == "[":
        close = text.find("]")
        if close < 0:
            return None
        literal = text[1:close]
        address = parse_node(literal)
        # RFC 3986 §3.2.2: IP-literal = "[" IPv6address "]" has no zone id (parse_node
        # would drop one silently); a raw "%" in a Host would also misread as pct-encoding.
        if address is None or address.version != 6 or ":" not in literal or "%" in literal:
            return None
        rest = text[close + 1 :]
        name = text[: close + 1]
    else:
        name, colon, port_text = text.partition(":")
        rest = colon + port_text
        if name[-1:].isdigit() and plain_address(name) == name and "." in name:
            # A canonical dotted quad (what _abnf.IPV4 matches, bar 0.0.0.0, a
            # reg-name too): the Host of a request to an address, without the regexes.
            pass
        else:
            bare = name[:-1] if name[-1:] == "." else name
            if len(bare) > _abnf.MAX_NAME_LENGTH or _abnf.REG_NAME.fullmatch(name) is None:
                return None
            last = bare[bare.rfind(".") + 1 :]
            # ENDS_IN_NUMBER needs a leading digit: most names are not even tried.
            if (
                last[:1].isdigit()
                and _abnf.ENDS_IN_NUMBER.fullmatch(last)
                and _abnf.IPV4.fullmatch(name) is None
            ):
                return None
    if not rest:
        return name, None
    if rest[0] != ":":
        return None
    port = parse_port(rest[1:])
    if port is None:
        return None
    return name, port


_host_cache: dict[str, Optional[tuple[str, Optional[int]]]] = {}


def host_port(text: str) -> Optional[tuple[str, Optional[int]]]:
    """Split a valid Host value into (name, port); ``None`` if it is not valid.

    ``name`` keeps the brackets of an IPv6 literal; ``port`` is ``None`` when absent.
    """
    result = _host_cache.get(text, MISSING)
    if result is not MISSING:
        return result  # type: ignore[no-any-return]
    if len(text) > MAX_HOST_LENGTH:
        return None  # not cached: the cache would keep the long text alive
    return remember(_host_cache, text, _check_host(text), CACHE_SIZE)


def host_name(host: str) -> str:
    """A Host value without its port: ``"example.com:8443"`` -> ``"example.com"``.

    A ``:`` that ends an ``[IPv6]`` literal's bracket is not a port separator, so
    ``"[2001:db8::1]"`` is kept whole (werkzeug's rule, which the adapters follow).
    """
    if host.endswith("]") or ":" not in host:
        return host
    return host[: host.rfind(":")]


def valid_host(text: str) -> bool:
    """Whether ``text`` is a Host value trustproxy would copy into a request."""
    return host_port(text) is not None


def _check_prefix(text: str) -> Optional[str]:
    if len(text) > MAX_PREFIX_LENGTH or _abnf.PREFIX.fullmatch(text) is None:
        return None
    if "%" in text:
        # Every "%" must start a pct-encoded octet (RFC 3986 §2.1).
        if text.count("%") != len(_abnf.PCT_ENCODED.findall(text)):
            return None
        decoded = _abnf.PCT_ENCODED.sub(lambda m: chr(int(m.group()[1:], 16)), text)
        # An encoded "/" or "\" would reappear as a separator once decoded, and an
        # encoded control character is no more acceptable than a raw one.
        if decoded.count("/") != text.count("/") or "\\" in decoded:
            return None
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in decoded):
            return None
    else:
        decoded = text
    # RFC 3986 §3.3 / §5.2.4: "." and ".." segments are resolved away by clients, so
    # "/app/.." would climb out of the prefix.  Refused, encoded or not.
    if "/." in decoded:  # a "." or ".." segment starts so (the prefix starts with "/")
        for segment in decoded.split("/"):
            if segment in (".", ".."):
                return None
    return text.rstrip("/") if len(text) > 1 else ""


_prefix_cache: dict[str, Optional[str]] = {}


def valid_prefix(text: str) -> Optional[str]:
    """A path prefix without its trailing ``/`` (``"/"`` gives ``""``); ``None`` if invalid.

    Accepted: an RFC 3986 path-absolute starting with exactly one ``/``, no empty
    segments, no ``\\``, ``?``, ``#``, control characters or spaces, no ``.``/``..``
    segments (percent-encoded or not).
    """
    result = _prefix_cache.get(text, MISSING)
    if result is not MISSING:
        return result  # type: ignore[no-any-return]
    if len(text) > MAX_PREFIX_LENGTH:
        return None  # not cached: the cache would keep the long text alive
    return remember(_prefix_cache, text, _check_prefix(text), CACHE_SIZE)


# NamedTuple's generated __new__ is Python code; tuple.__new__ builds the same object in C.
_new = tuple.__new__


class Checked(NamedTuple):
    """The request's scheme, Host, port and prefix after the forwarded values were
    validated, which of them changed, and why any were ignored."""

    scheme: str
    host: Optional[str]
    port: Optional[int]
    prefix: str
    applied: tuple[str, ...]
    ignored: tuple[str, ...]


def check_values(
    proto: Optional[str],
    forwarded_host: Optional[str],
    forwarded_port: Optional[str],
    forwarded_prefix: Optional[str],
    request: Request,
) -> Checked:
    """Validate the forwarded proto, host, port and prefix (``None``: not forwarded)
    against the request's own scheme, Host, port and prefix.

    Invalid values are ignored (the request's own value stays) and recorded.  Pure, and
    independent of the request's peer and header values: the resolver memoises it.
    """
    _, _, scheme, host, port, prefix = request
    applied: list[str] = []
    ignored: list[str] = []
    new_scheme = scheme
    if proto is not None:
        checked = valid_scheme(proto)
        if checked is None:
            ignored.append(f"proto {proto[:64]!r} is not http, https, ws or wss")
        elif checked != scheme:
            new_scheme = checked
            applied.append("proto")
    new_host = host
    new_port = port
    host_given = False
    host_port_value: Optional[int] = None
    split: Optional[tuple[str, Optional[int]]] = None
    if forwarded_host is not None:
        split = host_port(forwarded_host)
        if split is None:
            ignored.append(f"host {forwarded_host[:64]!r} is not a valid host")
        else:
            new_host = forwarded_host
            host_given = True
            host_port_value = split[1]
            applied.append("host")
    port_value: Optional[int] = None
    if forwarded_port is not None:
        port_value = parse_port(forwarded_port)
        if port_value is None:
            ignored.append(f"port {forwarded_port[:64]!r} is not a port number 1-65535")
    if port_value is not None:
        # Like werkzeug: the forwarded port replaces the port in Host — but only in a Host
        # that is valid.  The request's own Host was never checked, and rebuilding one
        # such as "x@evil.example" or "[::1" would write a forged or broken Host
        # ("x@evil.example:443", "[::443") that no client sent: then only the port changes.
        if not host_given:  # the forwarded Host was split above
            split = host_port(new_host) if new_host else None
        if split is not None:
            new_host = f"{split[0]}:{port_value}"
        new_port = port_value
        applied.append("port")
    elif host_port_value is not None:
        new_port = host_port_value
    elif host_given or new_scheme != scheme:
        # The client used the scheme's default port when the Host it sent had none.
        # The request's own scheme is the caller's, in any case (RFC 3986 §3.1).
        default = DEFAULT_PORTS.get(new_scheme) or DEFAULT_PORTS.get(new_scheme.lower())
        if default is not None:
            new_port = default
    new_prefix = prefix
    if forwarded_prefix is not None:
        checked = valid_prefix(forwarded_prefix)
        if checked is None:
            ignored.append(f"prefix {forwarded_prefix[:64]!r} is not a safe path prefix")
        elif checked:
            new_prefix = checked + prefix
            applied.append("prefix")
    return _new(
        Checked, (new_scheme, new_host, new_port, new_prefix, tuple(applied), tuple(ignored))
    )
