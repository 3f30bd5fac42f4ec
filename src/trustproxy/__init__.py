"""trustproxy: see the real client behind reverse proxies, and never a forged one."""

from ._forwarded import parse_forwarded
from ._key import client_key
from ._resolve import (
    APPLIED,
    CONFLICT,
    UNRESOLVED,
    UNTRUSTED_PEER,
    UNVERIFIED_PEER,
    Resolution,
    Resolver,
)
from .asgi import ASGIMiddleware
from .errors import ConfigError, HeaderError
from .presets import load_networks
from .proxy_headers import ProxyHeadersMiddleware
from .proxyfix import ProxyFix
from .trust import PRESETS, Hop, TrustPolicy
from .wsgi import WSGIMiddleware

__version__ = "0.1.0"

__all__ = [
    "APPLIED",
    "CONFLICT",
    "PRESETS",
    "UNRESOLVED",
    "UNTRUSTED_PEER",
    "UNVERIFIED_PEER",
    "ASGIMiddleware",
    "ConfigError",
    "HeaderError",
    "Hop",
    "ProxyFix",
    "ProxyHeadersMiddleware",
    "Resolution",
    "Resolver",
    "TrustPolicy",
    "WSGIMiddleware",
    "__version__",
    "client_key",
    "load_networks",
    "parse_forwarded",
]
