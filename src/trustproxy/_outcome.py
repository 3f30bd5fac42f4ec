"""The one translation: a :class:`~trustproxy.Resolution` -> the changes to write.

Every adapter (WSGI, ASGI, Django, the ProxyHeaders drop-in, which is the ASGI one)
asks :func:`changes` what to change and only maps the answer onto its server's shapes:
an environ's ``REMOTE_ADDR``/``wsgi.url_scheme``/``HTTP_HOST``/``SERVER_PORT``/
``SCRIPT_NAME``, a scope's ``client``/``scheme``/``headers``/``server``/``root_path``, a
Django ``request.META``.  Which field changes when is decided here, once, so the
adapters cannot drift apart (they have: the ASGI default ``fields``, Django under ASGI).
The ProxyFix drop-in has no :class:`~trustproxy.Resolution` (werkzeug counts each header
on its own, which no trust walk does): `_werkzeug_positions` states its decision as the
same :class:`Changes`.  The key tables are in each adapter's docstring and
``docs/api.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional

if TYPE_CHECKING:
    from ._result import Resolution

__all__ = ["NOTHING", "Changes", "changes"]


class Changes(NamedTuple):
    """What an adapter writes for one request; ``None`` (or empty) means "leave as is".

    ``client`` and ``client_port``: the client address (canonical) and the port its
    forwarded item carried.  ``scheme``: ``http``/``https``.  ``host``: the new Host
    header value (with the forwarded port, if any).  ``port``: the new server port.
    ``prefix``: the whole new path prefix (``SCRIPT_NAME``, ``root_path``), and
    ``added`` the part of it put in front of the request's own (for ``path``).
    ``remove``: header names, lower case, to drop before the application sees the
    request (the headers a configuration marks as secrets; none today).
    """

    client: Optional[str]
    client_port: Optional[int]
    scheme: Optional[str]
    host: Optional[str]
    port: Optional[int]
    prefix: Optional[str]
    added: str
    remove: tuple[str, ...]


#: No change at all (nothing applied).
NOTHING = Changes(None, None, None, None, None, None, "", ())

_new = tuple.__new__


def changes(result: Resolution, host: Optional[str], port: Optional[int], prefix: str) -> Changes:
    """What to write for ``result``, given the request's own Host, server port and prefix
    (as they were handed to the resolver).  A resolution that applied none of ``proto``,
    ``host`` and ``port`` has the request's own Host and port (``check_values``)."""
    # Positional reads of the resolution's stored decision (see _result.Resolution):
    # this runs for every request, and each property read is a Python-level call.
    _, client, client_port, scheme, new_host, new_port, new_prefix, applied = result[:8]
    if not applied:
        return NOTHING
    if applied in _USUAL:
        # The usual outcomes (one proxy, default fields): no prefix to work out.
        return _new(
            Changes,
            (client, client_port, None if len(applied) == 1 else scheme,
             None if new_host == host else new_host,
             None if new_port == port else new_port, None, "", ()),
        )  # fmt: skip
    if "for" not in applied:
        client = client_port = None
    added = ""
    if "prefix" in applied:
        added = new_prefix[: len(new_prefix) - len(prefix)]
    else:
        new_prefix = None
    return _new(
        Changes,
        (client, client_port, scheme if "proto" in applied else None,
         new_host if new_host is not None and new_host != host else None,
         new_port if new_port is not None and new_port != port else None,
         new_prefix, added, ()),
    )  # fmt: skip


_FOR = ("for",)
_FOR_PROTO = ("for", "proto")
_USUAL = (_FOR, _FOR_PROTO)
