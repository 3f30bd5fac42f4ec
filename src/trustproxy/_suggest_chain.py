"""Which header carries the chain a suggestion is made from, and its items.

The first step of :func:`trustproxy._suggest.suggest`: X-Forwarded-For, ``Forwarded``
``for=`` or a single-address header (Cloudflare's behind Cloudflare's own addresses),
with the caveats and flags the choice raises.  Reads are bounded as in
:mod:`trustproxy._suggest_read`; ``docs/cli.md`` (whoami) shows the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Optional, Union

from . import presets
from ._suggest_read import X_FIELD, canonical, forwarded_chain, items
from ._suggest_text import in_policy
from .trust import TrustPolicy

__all__ = ["SINGLE_HEADERS", "Chain", "Headers", "read_chain"]

# Only to recognise Cloudflare's edges in what arrived, never to trust them: built from
# the shipped ranges, without the stale-preset warning, which is about a configuration
# that trusts the preset (it would otherwise greet every `trustproxy whoami` once the
# snapshot is 90 days old).
_CLOUDFLARE = TrustPolicy([str(network) for network in presets.shipped("cloudflare").networks])

#: Single-address headers a CDN or proxy writes instead of (or besides) a list, in the
#: order they are preferred: Cloudflare's own header, Akamai's / Cloudflare Enterprise's,
#: then nginx's ``proxy_set_header X-Real-IP $remote_addr`` convention.
SINGLE_HEADERS = ("cf-connecting-ip", "true-client-ip", "x-real-ip")

Headers = Union[str, tuple[str, str]]


class Chain(NamedTuple):
    """The chain read: its items (leftmost first), the ``headers=`` that reads it, the
    header's name in words, the fields seen (``for`` first), whether it is Cloudflare's
    header from Cloudflare, and the ``Forwarded`` nodes (``None``: not all addresses)."""

    items: list[str]
    headers: Headers
    source: str
    fields: list[str]
    cloudflare: bool
    forwarded: Optional[list[str]]


def read_chain(
    peer: Optional[str],
    peer_text: Optional[str],
    lines: Sequence[tuple[str, str]],
    names: set[str],
    xff: list[str],
    caveats: list[str],
    flags: list[str],
) -> Chain:
    """Choose the header to read and its items; append what the choice raises to
    ``caveats`` and ``flags``."""
    headers: Headers = "x-forwarded"
    fields: list[str] = ["for"]
    source = "X-Forwarded-For"
    single = next((name for name in SINGLE_HEADERS if name in names), None)
    forwarded: Optional[list[str]] = None
    forwarded_fields: tuple[str, ...] = ()
    if "forwarded" in names:
        forwarded, forwarded_fields = forwarded_chain(peer, lines)
    cloudflare = (
        single == "cf-connecting-ip" and peer_text is not None and in_policy(_CLOUDFLARE, peer_text)
    )
    chain_items = xff
    if single is not None and (cloudflare or (not xff and not forwarded)):
        chain_items = items(lines, single, 1)[0][-1:]
        headers = single
        source = single.title().replace("Ip", "IP")
    elif forwarded and not xff:
        chain_items = forwarded
        headers = "forwarded"
        source = "Forwarded for="
        fields.extend(f for f in ("proto", "host") if f in forwarded_fields)
        if any(name in names for name in X_FIELD.values()):
            caveats.append(
                "X-Forwarded-Proto/-Host/-Port/-Prefix arrived without X-Forwarded-For:"
                " with headers='forwarded' they are not read"
            )
    elif xff:
        xff_addresses = [canonical(item) for item in xff]
        if forwarded is not None and "forwarded" in names:
            if forwarded == xff_addresses:
                headers = ("forwarded", "x-forwarded")
                caveats.append(
                    "Forwarded and X-Forwarded-For name the same chain: both are read and"
                    " cross-checked (a request where they disagree is refused as a conflict)"
                )
            else:
                flags.append(
                    f"Forwarded (for= {', '.join(forwarded)}) and X-Forwarded-For"
                    f" ({', '.join(x or '?' for x in xff_addresses)}) disagree: one of them is"
                    " passed through from the client, not written by your proxies. The"
                    " suggestion reads X-Forwarded-For; if your proxies write Forwarded,"
                    " use headers='forwarded' and make them drop X-Forwarded-For"
                )
        elif "forwarded" in names:
            flags.append(
                "a Forwarded header arrived whose for= nodes are not all addresses"
                " (obfuscated, 'unknown' or malformed): trustproxy could not walk it;"
                " X-Forwarded-For is read"
            )
    return Chain(chain_items, headers, source, fields, cloudflare, forwarded)
