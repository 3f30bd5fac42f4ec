"""Who may send a PROXY header to uvicorn, and the checks made once at start-up.

`trustproxy.uvicorn` takes its trust from `trusted=` (the factory), else the environment
variable `TRUSTPROXY_PROXY_PROTOCOL_TRUSTED`, else uvicorn's `--forwarded-allow-ips`;
a `"*"` in the first two, an empty list or uvicorn's own TLS is a `ConfigError` here,
before anything is served.  The result, one `Settings` per uvicorn `Config`, is what
every connection reads.
"""

from __future__ import annotations

import logging
import os

from uvicorn.config import Config

from ._warn import LOGGER_NAME, Limiter
from .errors import ConfigError
from .trust import Deliberate, TrustPolicy, TrustSpec

DEFAULT_TIMEOUT = 5.0
"""Seconds a connection may take to deliver its whole header (a balancer sends it at
once; a client that trickles bytes is holding a connection open)."""
ENV_TRUSTED = "TRUSTPROXY_PROXY_PROTOCOL_TRUSTED"
"""The environment variable naming who may send a header (the syntax of `trusted=`)."""
EXTENSION = "trustproxy.proxy_protocol"
"""The key of the parsed header in `scope["extensions"]`."""

logger = logging.getLogger(LOGGER_NAME)
#: Refused connections are logged apart from the middlewares' warnings, so that a flood
#: of one does not use up the budget of the other.
limiter = Limiter()

_EVERYTHING = Deliberate(("0.0.0.0/0", "::/0", "unix"))


class Settings:
    """What every connection of one uvicorn `Config` reads: the trust policy, the
    header's timeout and the longest version 2 header accepted."""

    __slots__ = ("max_length", "policy", "timeout")

    def __init__(self, policy: TrustPolicy, timeout: float, max_length: int) -> None:
        self.policy = policy
        self.timeout = timeout
        self.max_length = max_length


def tls_refused(config: Config) -> None:
    """Refuse uvicorn's own TLS: the header would reach the TLS handshake."""
    if config.is_ssl or getattr(config, "ssl_context_factory", None) is not None:
        raise ConfigError(
            "trustproxy.uvicorn cannot read a PROXY header under uvicorn's own TLS"
            " (--ssl-certfile): asyncio decrypts before the protocol sees a byte, so the"
            " balancer's header would reach the TLS handshake. Terminate TLS at the"
            " balancer (HAProxy: send-proxy-v2-ssl) and run uvicorn without --ssl-*"
        )


def trusted_from(config: Config) -> TrustPolicy:
    """The environment variable, else `--forwarded-allow-ips`, as a trust policy."""
    spec = os.environ.get(ENV_TRUSTED)
    if spec is not None:
        return policy_of(spec, ENV_TRUSTED)
    allowed = config.forwarded_allow_ips
    entries = [e.strip() for e in (allowed.split(",") if isinstance(allowed, str) else allowed)]
    entries = [entry for entry in entries if entry]
    if "*" in entries:
        # uvicorn's documented meaning of "*" (every peer), kept, and said out loud.
        logger.warning(
            "trustproxy.uvicorn: --forwarded-allow-ips='*' lets any peer that reaches this"
            " port send a PROXY header and be taken for any client; set %s to your"
            " balancers' addresses",
            ENV_TRUSTED,
        )
        return TrustPolicy(_EVERYTHING)
    if not entries:
        raise ConfigError(
            f"trustproxy.uvicorn: --forwarded-allow-ips is empty, so no balancer may send"
            f" a PROXY header; set {ENV_TRUSTED} to the balancers' addresses"
        )
    return policy_of(entries, "--forwarded-allow-ips")


def policy_of(spec: TrustSpec, origin: str) -> TrustPolicy:
    """`spec` as a trust policy; a `"*"` or a bad entry is a `ConfigError` naming `origin`."""
    if isinstance(spec, str) and "*" in (part.strip() for part in spec.split(",")):
        raise ConfigError(
            f"{origin}='*' for PROXY protocol would let any peer claim any client address;"
            " name the balancers' addresses or networks (e.g. 10.0.0.0/8)"
        )
    try:
        return TrustPolicy(spec)
    except ConfigError as error:
        raise ConfigError(f"{origin}: {error}") from None
