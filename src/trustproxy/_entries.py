"""Trust entries before they are compiled: splitting a specification into entries, the
coverage check behind "every address without hops", and the messages for entries that
are no address, network or preset (each naming the fix for the usual mistake).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Callable, Union

from . import presets as _presets
from .errors import ConfigError

__all__ = [
    "AddressPredicate",
    "Deliberate",
    "TrustEntry",
    "TrustSpec",
    "covered",
    "label",
    "names",
    "not_an_entry",
    "split",
]

AddressPredicate = Callable[[str], bool]
TrustEntry = Union[str, AddressPredicate]
TrustSpec = Union[str, AddressPredicate, Iterable[TrustEntry]]

#: Named groups of networks.  ``unix`` and ``*`` are handled separately (they are not
#: networks).  Sources: RFC 1122 §3.2.1.3 and RFC 4291 §2.5.3 (loopback); RFC 1918 and
#: RFC 4193 (private); RFC 3927 and RFC 4291 §2.5.6 (link-local).
PRESETS: dict[str, tuple[str, ...]] = {
    "loopback": ("127.0.0.0/8", "::1/128"),
    "private": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
    "linklocal": ("169.254.0.0/16", "fe80::/10"),
}


class Deliberate(tuple[str, ...]):
    """Trust entries that may cover every address without ``hops``, on purpose.

    Only for a drop-in that reproduces another library's documented behaviour and warns
    about it (uvicorn's ``trusted_hosts="*"``, see :mod:`trustproxy.proxy_headers`).  Any
    other spelling of "every address" without ``hops`` is refused.
    """

    __slots__ = ()


def covered(spans: list[tuple[int, int, str]], end: int) -> bool:
    """Whether the half-open intervals ``spans`` cover ``[0, end)``: merged in order."""
    reach = 0
    for start, stop, _ in sorted(spans):
        if start > reach:
            return False
        if stop > reach:
            reach = stop
    return reach >= end


def names(spans: list[tuple[int, int, str]]) -> str:
    """``entry '0.0.0.0/0' covers`` / ``entries 'a', 'b' … cover``, widest first."""
    labels = list(dict.fromkeys(label for start, stop, label in sorted(
        spans, key=lambda span: (span[0] - span[1], span[0])
    )))  # fmt: skip
    shown = ", ".join(repr(label) for label in labels[:4])
    if len(labels) == 1:
        return f"entry {shown} covers"
    more = f" and {len(labels) - 4} more" if len(labels) > 4 else ""
    return f"entries {shown}{more} cover"


def split(spec: TrustSpec) -> list[TrustEntry]:
    if isinstance(spec, str):
        return [part.strip() for part in spec.split(",")]
    if callable(spec):
        return [spec]
    if isinstance(spec, (bytes, bytearray)) or not isinstance(spec, Iterable):
        raise ConfigError(
            f"trusted must be a string, a callable or an iterable of entries, not {spec!r}"
        )
    entries: list[TrustEntry] = []
    for entry in spec:
        if isinstance(entry, str):
            entries.extend(part.strip() for part in entry.split(","))
        elif callable(entry):
            entries.append(entry)
        else:
            raise ConfigError(f"trusted entry {entry!r} is neither a string nor a callable")
    return entries


def not_an_entry(entry: str, error: str) -> str:
    """The message for an entry that is no address, network or preset, naming the fix
    for the usual mistakes: a preset misspelt, a host name, an address with a port."""
    names = sorted([*PRESETS, *_presets.DATA_PRESETS, "unix"])
    known = ", ".join([*names, "*"])
    name = entry.lower()
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    if close:
        return f"trusted entry {entry!r} is not a preset: did you mean {close[0]!r}?"
    bracketed = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)", entry)
    if bracketed or re.fullmatch(r"[0-9.]+:\d+", entry):
        address = bracketed.group(1) if bracketed else entry.rsplit(":", 1)[0]
        return (
            f"trusted entry {entry!r} has a port: trust is decided per address, so write"
            f" {address!r}"
        )
    if name == "localhost" or name.endswith(".localhost"):
        return (
            f"trusted entry {entry!r} is a host name: write the addresses your proxy connects"
            " from, '127.0.0.1' and/or '::1' (or the preset 'loopback')"
        )
    if re.fullmatch(
        r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", name
    ) and any(c.isalpha() for c in name):
        return (
            f"trusted entry {entry!r} looks like a host name: host names are never resolved"
            " (DNS would decide who is trusted); write the addresses or networks your proxies"
            f" connect from, or a preset ({known})"
        )
    return f"trusted entry {entry!r} is not an IP address, a network or a preset ({known}): {error}"


def label(function: AddressPredicate) -> str:
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"callable {name}"
