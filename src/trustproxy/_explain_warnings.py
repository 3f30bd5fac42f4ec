"""Plain-language warnings about a configuration, judged on one request: what
``trustproxy explain`` and ``whoami`` print under "warnings" (``docs/cli.md``)."""

from __future__ import annotations

from collections.abc import Sequence

from ._config import BOTH
from ._explain_trail import family_header, left_of_stop
from ._resolve import APPLIED, MAX_HOPS, UNRESOLVED, UNTRUSTED_PEER, Resolution, Resolver
from .trust import TrustPolicy

__all__ = ["config_warnings"]

_PRIVATE = TrustPolicy("private")
_LOOPBACK = TrustPolicy("loopback")


def config_warnings(
    resolver: Resolver, result: Resolution, lines: Sequence[tuple[str, str]]
) -> list[str]:
    """Plain-language warnings about the configuration, judged on this request."""
    policy = resolver.policy
    warnings: list[str] = []
    header = family_header(resolver)
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
        and not left_of_stop(resolver, lines)
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
