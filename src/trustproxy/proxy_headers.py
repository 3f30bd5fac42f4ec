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
* a ``trusted_hosts`` entry that is neither an IP address, a network nor ``"*"`` raises
  :class:`~trustproxy.ConfigError` instead of being kept as a never-matching literal;
  ``"*"`` must be the only entry; empty entries (a stray comma) are skipped;
* the trust lookup costs the same for 10,000 networks as for one.

``"*"`` keeps uvicorn's meaning — every peer and every hop is trusted, so the client is
the *leftmost* X-Forwarded-For item, which whoever connects first writes at will — and
logs a warning naming the safe alternative.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Union

from .asgi import ASGIApp, ASGIMiddleware
from .errors import ConfigError
from .trust import Deliberate, TrustSpec

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


def _entries(trusted_hosts: Union[list[str], str]) -> list[str]:
    if isinstance(trusted_hosts, str):
        items = trusted_hosts.split(",")
    elif isinstance(trusted_hosts, (list, tuple, set, frozenset)):
        items = list(trusted_hosts)
    else:
        raise ConfigError(
            f"trusted_hosts must be a string or a list of strings, not {trusted_hosts!r}"
        )
    entries = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"trusted_hosts entry {item!r} is not a string")
        entry = item.strip()
        if entry:
            entries.append(entry)
    return entries


def _check(entry: str) -> str:
    try:
        if "/" in entry:
            ipaddress.ip_network(entry, strict=True)
        else:
            ipaddress.ip_address(entry)
    except ValueError as error:
        raise ConfigError(
            f"trusted_hosts entry {entry!r} is neither an IP address, a network nor '*': {error}"
        ) from None
    return entry


class ProxyHeadersMiddleware(ASGIMiddleware):
    """Drop-in for ``uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware``.

    :param app: the ASGI application to wrap.
    :param trusted_hosts: the proxies' addresses and networks, as a comma-separated
        string or a list; ``"*"`` trusts everything (unsafe, see the module docs).
    :raises ConfigError: for an entry that is not an address, a network or ``"*"``.
    """

    def __init__(self, app: ASGIApp, trusted_hosts: Union[list[str], str] = "127.0.0.1") -> None:
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
