"""A drop-in for uvicorn's ``ProxyHeadersMiddleware``, over trustproxy's core.

``from trustproxy import ProxyHeadersMiddleware`` replaces
``from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware``: same constructor
(``app, trusted_hosts="127.0.0.1"``), same results on well-formed input — the client
from X-Forwarded-For (the first untrusted address from the right; the leftmost when
every address is trusted; port ``0`` when the item has none) and the scheme from
X-Forwarded-Proto (``ws``/``wss`` on WebSocket scopes).  Where it departs from uvicorn
(``docs/migrate-uvicorn.md`` lists each case):

* the server's scope is never edited; the application gets a new one;
* an X-Forwarded-For item the walk must examine that is not an address
  (``1.2.3.4:notaport``, ``[2001:db8::1]extra``, junk) leaves the peer as the client and
  the scheme unchanged, instead of becoming the client;
* empty list items are skipped (``9.9.9.9, , 10.0.0.1`` -> ``9.9.9.9``);
* the scheme is hop-aligned with the client when several proxies appended to
  X-Forwarded-Proto;
* ``trusted_hosts`` also takes the rest of trustproxy's trust syntax — presets
  (``"loopback"``, ``"private"``, ``"unix"``, ``"cloudflare"``…) and, in a list,
  callables — so a migration can tighten the policy without changing the middleware;
* an entry that is none of these raises :class:`~trustproxy.ConfigError` (naming the
  nearest preset for a typo) instead of being kept as a never-matching literal;
  ``"*"`` must be the only entry; empty entries (a stray comma) are skipped;
* the trust lookup costs the same for 10,000 networks as for one.

``"*"`` keeps uvicorn's meaning — every peer and every hop is trusted, so the client is
the *leftmost* X-Forwarded-For item, which whoever connects first writes at will — and
logs a warning naming the safe alternative.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Union

from ._entries import TrustEntry
from .asgi import ASGIApp, ASGIMiddleware
from .errors import ConfigError
from .trust import Deliberate, TrustPolicy, TrustSpec

__all__ = ["ProxyHeadersMiddleware"]

logger = logging.getLogger("trustproxy")

#: Every IPv4 and IPv6 address, plus a peer on a UNIX socket: uvicorn's ``"*"``.  The core
#: refuses a policy covering every address without ``hops`` (it is ``*`` under another
#: name, almost always a mistake); here it is uvicorn's documented behaviour, reproduced
#: on purpose and warned about, so it is marked :class:`~trustproxy.trust.Deliberate`.
_EVERYTHING = Deliberate(("0.0.0.0/0", "::/0", "unix"))


def _never(address: str) -> bool:
    """An empty ``trusted_hosts``: uvicorn then trusts no peer."""
    return False


def _entries(trusted_hosts: Union[str, Sequence[TrustEntry]]) -> list[TrustEntry]:
    items: list[TrustEntry]
    if isinstance(trusted_hosts, str):
        items = list(trusted_hosts.split(","))
    elif isinstance(trusted_hosts, (list, tuple, set, frozenset)):
        items = list(trusted_hosts)
    else:
        raise ConfigError(
            f"trusted_hosts must be a string or a list of strings, not {trusted_hosts!r}"
        )
    entries: list[TrustEntry] = []
    for item in items:
        if callable(item):
            entries.append(item)
            continue
        if not isinstance(item, str):
            raise ConfigError(f"trusted_hosts entry {item!r} is neither a string nor a callable")
        entry = item.strip()
        if entry:
            entries.append(entry)
    return entries


def _check(entry: TrustEntry) -> TrustEntry:
    if callable(entry):
        return entry
    try:
        if "/" in entry:
            ipaddress.ip_network(entry, strict=True)  # host bits refused, as uvicorn does
        elif entry[0].isdigit() or ":" in entry:
            ipaddress.ip_address(entry)
        else:
            TrustPolicy([entry])  # a preset, or the reason it is not one
    except ValueError as error:  # ConfigError is one too
        raise ConfigError(
            f"trusted_hosts entry {entry!r} is neither an IP address, a network, a preset"
            f" nor '*': {error}"
        ) from None
    return entry


class ProxyHeadersMiddleware(ASGIMiddleware):
    """Drop-in for ``uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware``.

    :param app: the ASGI application to wrap.
    :param trusted_hosts: the proxies' addresses, networks and presets, as a
        comma-separated string or a list (which may also hold callables); ``"*"`` trusts
        everything (unsafe, see the module docs).
    :raises ConfigError: for an entry that is not an address, a network, a preset, a
        callable or ``"*"``.
    """

    def __init__(
        self, app: ASGIApp, trusted_hosts: Union[str, Sequence[TrustEntry]] = "127.0.0.1"
    ) -> None:
        entries = _entries(trusted_hosts)
        trusted: TrustSpec
        if "*" in entries:
            if len(entries) > 1:
                raise ConfigError(
                    f"trusted_hosts {trusted_hosts!r} mixes '*' with other entries: '*'"
                    " trusts every address, so it must be the only entry"
                )
            logger.warning(
                "trustproxy.ProxyHeadersMiddleware(trusted_hosts='*') trusts every address:"
                " the client is the leftmost X-Forwarded-For item, which anyone who reaches"
                " the server can write. List your proxies instead, e.g."
                " trusted_hosts='10.0.0.0/8', or use"
                " trustproxy.ASGIMiddleware(app, trusted='*', hops=1) for one proxy in front."
            )
            trusted = _EVERYTHING
        elif not entries:
            trusted = [_never]
        else:
            trusted = [_check(entry) for entry in entries]
        super().__init__(app, trusted=trusted, fields=("for", "proto"))
        self.trusted_hosts = trusted_hosts
