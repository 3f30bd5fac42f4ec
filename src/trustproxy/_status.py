"""The words a Resolution's ``status`` can take, and the walk's bound.

One definition for the walk (``_walk``), the resolver (``_resolve``) and the adapters;
what each status means to an application: ``docs/api.md``.
"""

from __future__ import annotations

__all__ = ["APPLIED", "CONFLICT", "MAX_HOPS", "UNRESOLVED", "UNTRUSTED_PEER", "UNVERIFIED_PEER"]

#: The peer is trusted and the headers were used.
APPLIED = "applied"
#: The peer is not a trusted proxy: nothing was read.
UNTRUSTED_PEER = "untrusted-peer"
#: The peer is a trusted proxy but a header of ``require_headers`` is missing or wrong
#: (tenant binding): treated as an untrusted peer, nothing read; 403 with ``strict``.
UNVERIFIED_PEER = "unverified-peer"
#: The headers could not be trusted (an invalid hop, a chain shorter than ``hops``).
UNRESOLVED = "unresolved"
#: Two header families, or two scheme or host sources, contradict each other.
CONFLICT = "conflict"

#: The longest chain walked.  Real chains are a handful of proxies; a walk that meets
#: more trusted hops than this stops as unresolved, so the work per request is bounded.
MAX_HOPS = 64
