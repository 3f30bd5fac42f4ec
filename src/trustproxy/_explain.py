"""Turn a :class:`~trustproxy.Resolution` into words: a hop table, a JSON-able report and
warnings about the configuration.  Shared by ``trustproxy explain`` and ``whoami``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Optional, Union

from ._config import BOTH
from ._display import items_from_right, shorten, visible
from ._forwarded import elements_from_right
from ._lists import MAX_EMPTY_ITEMS
from ._resolve import APPLIED, MAX_HOPS, UNRESOLVED, UNTRUSTED_PEER, Resolution, Resolver
from ._tenant import HIDDEN
from .trust import Hop, TrustPolicy

__all__ = ["JSON", "config_warnings", "render_text", "report"]

JSON = Union[None, bool, int, str, Sequence["JSON"], Mapping[str, "JSON"]]

_PRIVATE = TrustPolicy("private")
# With both families the walk is over Forwarded; X-Forwarded-* is the cross-check.
_FAMILY_HEADER = {"x-forwarded": "X-Forwarded-For", "forwarded": "Forwarded", BOTH: "Forwarded"}
_LOOPBACK = TrustPolicy("loopback")


def _header(resolver: Resolver) -> str:
    return _FAMILY_HEADER.get(resolver.family, resolver.family)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _source(resolver: Resolver, index: int) -> str:
    if index == 0:
        return "socket peer"
    return f"{_header(resolver)}, {_ordinal(index)} from right"


#: How many of the items left of the stop ``explain --json`` and ``whoami`` list, and how
#: far beyond them they count: both bound the work and the output, whatever the header size.
NOT_EXAMINED_SHOWN = 64
NOT_EXAMINED_COUNTED = 1000


class NotExamined(NamedTuple):
    """The address-header items left of where the walk stopped (never looked at)."""

    #: the items nearest the stop, left to right (at most the number asked for)
    items: tuple[str, ...]
    #: how many more items lie further left (a lower bound unless ``complete``)
    more: int
    #: whether the header was read to its left end, so ``more`` is exact
    complete: bool


def not_examined(
    resolver: Resolver,
    result: Resolution,
    lines: Sequence[tuple[str, str]],
    shown: int = NOT_EXAMINED_SHOWN,
) -> NotExamined:
    """Up to ``shown`` of the items left of the stop, and a bounded count of the rest.

    Reading is bounded (:func:`~trustproxy._display.items_from_right`): a 6 MB header of
    junk costs what a short one does, and the list shown stays short.
    """
    if result.status == UNTRUSTED_PEER:
        return NotExamined((), 0, True)
    examined = len(result.hops) - 1
    steps = examined + shown + NOT_EXAMINED_COUNTED + MAX_EMPTY_ITEMS
    if resolver.family in ("forwarded", BOTH):
        items, complete = _elements(lines, steps)
    else:
        name = "x-forwarded-for" if resolver.family == "x-forwarded" else resolver.family
        values = [value for key, value in lines if key.lower() == name]
        items, complete = items_from_right(values, steps)
    left = items[examined:]
    return NotExamined(tuple(reversed(left[:shown])), max(0, len(left) - shown), complete)


def _elements(lines: Sequence[tuple[str, str]], steps: int) -> tuple[list[str], bool]:
    """The Forwarded elements as written, rightmost first, at most ``steps`` of them, and
    whether the header was read to its left end (each element is bounded in length)."""
    joined = ",".join(value for key, value in lines if key.lower() == "forwarded")
    items: list[str] = []
    for element in elements_from_right(joined):
        if len(items) >= steps:
            return items, False
        items.append(element.text)
        if element.params is None and element.error.startswith(("longer", "more than")):
            return items, False  # the scan stopped there: what is left of it is unread
    return items, True


def _left_of_stop(resolver: Resolver, lines: Sequence[tuple[str, str]]) -> bool:
    """Whether the address header holds a second item (a few bounded steps only)."""
    if resolver.family in ("forwarded", BOTH):
        return len(_elements(lines, 2)[0]) > 1
    name = "x-forwarded-for" if resolver.family == "x-forwarded" else resolver.family
    values = [value for key, value in lines if key.lower() == name]
    return len(items_from_right(values, 2 + MAX_EMPTY_ITEMS)[0]) > 1


def _note(result: Resolution, index: int, hops: int) -> str:
    """What happened at hop ``index`` of the trail."""
    hop = result.hops[index]
    last = index == len(result.hops) - 1
    if not last:
        return "trusted proxy, walk goes on"
    if result.status == UNTRUSTED_PEER:
        return "STOP: peer not trusted, headers not read"
    if result.status != APPLIED:
        return f"STOP: {result.status}"
    if index == 0:
        return "STOP: the peer is the client"
    if hop.trusted_by is None:
        return "STOP: first untrusted address = client"
    if hops == index:
        return f"STOP: hops={hops} reached = client"
    return "STOP: end of list = client"


def hop_rows(resolver: Resolver, result: Resolution) -> list[dict[str, JSON]]:
    hops = resolver.policy.hops or 0
    return [
        {
            "index": index,
            "source": _source(resolver, index),
            "text": hop.text,
            "address": hop.address,
            "port": hop.port,
            "trusted_by": hop.trusted_by,
            "note": _note(result, index, hops),
        }
        for index, hop in enumerate(result.hops)
    ]


def config_warnings(
    resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]
) -> list[str]:
    """Plain-language warnings about the configuration, judged on this request."""
    policy = resolver.policy
    warnings: list[str] = []
    header = _header(resolver)
    if policy.any:
        warnings.append(
            f"trusted='*' with hops={policy.hops}: only the hop count protects you —"
            " anyone who reaches the app without passing your proxies can forge every"
            " header; list your proxies' addresses instead"
        )
    wide = [e for e in policy.entries if e in ("private", "linklocal")]
    client_private = result.client is not None and _private(result.client)
    if wide and client_private:
        warnings.append(
            f"trusted includes {', '.join(repr(e) for e in wide)} and the client"
            f" {result.client} is a private address too: a client on those networks is"
            f" treated as a proxy and can forge {header}; list your proxies instead"
        )
    last = result.hops[-1]
    if (
        result.status == APPLIED
        and len(result.hops) > 1
        and last.trusted_by is not None
        and (policy.hops is None or len(result.hops) - 1 < policy.hops)
    ):
        warnings.append(
            f"every address in {header} is trusted, so the leftmost one, written by"
            f" the client side, was taken as the client; is {last.trusted_by!r} a"
            " network your clients live in?"
        )
    if result.status == UNTRUSTED_PEER and any(
        name.lower() in resolver.header_names for name, _ in lines
    ):
        peer = result.hops[0].text or "a UNIX socket"
        add = peer if result.hops[0].text else "unix"
        warnings.append(
            f"forwarding headers arrived but the peer {peer} is not trusted, so they were"
            f" ignored; if {peer} is your proxy, add it: --trusted {add}"
        )
    if (
        result.status == UNRESOLVED
        and last.trusted_by is not None
        and policy.hops is not None
        and len(result.hops) - 1 < min(policy.hops, MAX_HOPS)
    ):
        warnings.append(
            f"the chain is shorter than hops={policy.hops}: {header} has"
            f" {len(result.hops) - 1} address(es); a proxy does not append, or hops is"
            " too high"
        )
    names = {name.lower() for name, _ in lines}
    if "forwarded" in names and resolver.family not in ("forwarded", BOTH):
        warnings.append(
            f"a Forwarded header (RFC 7239) arrived, but headers={resolver.family!r} does not"
            " read it; if your proxy writes Forwarded, use headers='forwarded' (or"
            " ('forwarded', 'x-forwarded') to cross-check both)"
        )
    elif resolver.family == "forwarded" and "x-forwarded-for" in names and "forwarded" not in names:
        warnings.append(
            "X-Forwarded-For arrived, but headers='forwarded' reads only Forwarded (RFC"
            " 7239); if your proxy writes X-Forwarded-*, use headers='x-forwarded'"
        )
    socket = result.hops[0]
    if (
        len(result.hops) == 2
        and result.status == APPLIED
        and socket.address is not None
        and _LOOPBACK.peer(socket.address).trusted_by is not None
        and not _left_of_stop(resolver, lines)
    ):
        # One address behind a loopback peer: the shape of `curl -H 'X-Forwarded-For: …'`
        # run on the server itself (issue 14), where the forgery "works".
        warnings.append(
            f"the peer {socket.address} is on loopback and trusted: if this request came from"
            " curl or a browser on this machine, that client is itself the trusted proxy"
            " and the header it sent is believed; to see what a forged header does, send"
            " from a loopback address you do not trust, e.g. trust only 127.0.0.1 and use"
            " curl --interface 127.0.0.5"
        )
    warnings.extend(f"ignored: {item}" for item in result.ignored)
    return warnings


def _private(address: str) -> bool:
    hop = _PRIVATE.hop(address)
    return hop is not None and hop.trusted_by is not None


def report(
    resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]
) -> dict[str, JSON]:
    """Everything ``explain --json`` prints, as one JSON-able dict."""
    policy = resolver.policy
    skipped = not_examined(resolver, result, lines)

    def hop_json(hop: Hop) -> JSON:
        return {"text": hop.text, "address": hop.address, "trusted_by": hop.trusted_by}

    return {
        "status": result.status,
        "reason": result.reason,
        "client": result.client,
        "client_port": result.client_port,
        "scheme": result.scheme,
        # The request's own Host, when nothing replaced it, is as long as the server allows.
        "host": None if result.host is None else shorten(result.host),
        "port": result.port,
        "prefix": result.prefix,
        "applied": list(result.applied),
        "ignored": list(result.ignored),
        "hops": hop_rows(resolver, result),
        "stopped_at": len(result.hops) - 1,
        "proxies": [hop_json(hop) for hop in result.proxies],
        "not_examined": list(skipped.items),
        "not_examined_more": skipped.more,
        "not_examined_complete": skipped.complete,
        "warnings": list(config_warnings(resolver, result, lines)),
        "config": {
            "trusted": list(policy.entries),
            "hops": policy.hops,
            "fields": sorted(resolver.fields),
            "headers": resolver.family,
            # Tenant binding: the names only, never a value (secrets_shown).
            "require_headers": {name: HIDDEN for name in resolver.required_names},
        },
        "required_headers": secrets_shown(resolver, result, lines),
    }


def secrets_shown(
    resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]
) -> list[dict[str, JSON]]:
    """Each required header (``require_headers``) as it arrived, its value ``<hidden>``:
    ``explain`` is pasted into tickets and chats, and a secret must not travel with it."""
    given = {name.lower() for name, _ in lines}
    return [
        {"name": name, "value": HIDDEN if name in given else None}
        for name in resolver.required_names
    ]


def _cell(value: Optional[object]) -> str:
    return "-" if value is None else visible(shorten(str(value)))


def render_text(resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]) -> str:
    """The human-readable form of :func:`report`, safe to print to a terminal.

    The peer, the Host and every forwarded value are somebody else's text: each goes
    through :func:`~trustproxy._display.visible` before it is placed, and each finished
    line once more, so no control, C1 or bidi character reaches the terminal and no
    value can start a line of its own.
    """
    policy = resolver.policy
    out = [
        f"configuration: trusted={list(policy.entries)!r} hops={policy.hops!r}"
        f" fields={sorted(resolver.fields)!r} headers={resolver.family!r}",
        "",
    ]
    for secret in secrets_shown(resolver, result, lines):
        out.insert(
            1, f"required header: {secret['name']}: {secret['value'] or '(not in the request)'}"
        )
    rows = [["hop", "source", "as written", "address", "trusted by", "decision"]]
    for index, hop in enumerate(result.hops):
        if hop.address is None:
            address = "(unix socket)" if index == 0 and not hop.text else "(not an address)"
        else:
            address = hop.address + (f" port {hop.port}" if hop.port is not None else "")
        rows.append(
            [
                f"a{index}",
                _source(resolver, index),
                repr(hop.text)[1:-1][:40] or "-",
                address,
                _cell(hop.trusted_by),
                _note(result, index, policy.hops or 0),
            ]
        )
    rows = [[visible(cell) for cell in row] for row in rows]  # before the widths are taken
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    skipped = not_examined(resolver, result, lines, shown=10)
    if skipped.items:
        shown = ", ".join(repr(s)[1:-1][:40] for s in skipped.items)
        if skipped.more:
            more = f"{skipped.more}" if skipped.complete else f"at least {skipped.more}"
            shown = f"({more} more), {shown}"
        out.append(f"  not examined (left of the stop, never trusted): {shown}")
    out.append("")
    out.append(f"status: {result.status} — {_cell(result.reason)}")
    client_port = f" (port {result.client_port})" if result.client_port is not None else ""
    out.extend(
        [
            f"client: {_cell(result.client)}{client_port}",
            f"scheme: {_cell(result.scheme)}",
            f"host:   {_cell(result.host)}",
            f"port:   {_cell(result.port)}",
            f"prefix: {shorten(result.prefix)!r}",
            f"applied: {', '.join(result.applied) or 'nothing'}",
        ]
    )
    warnings = config_warnings(resolver, result, lines)
    if warnings:
        out.append("")
        out.append("warnings:")
        out.extend(f"  ! {_cell(w)}" for w in warnings)
    return "\n".join(visible(line) for line in out)
