"""trustproxy: see the real client behind reverse proxies, and never a forged one."""

from ._forwarded import parse_forwarded
from ._resolve import APPLIED, CONFLICT, UNRESOLVED, UNTRUSTED_PEER, Resolution, Resolver
from .errors import ConfigError, HeaderError
from .presets import load_networks
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
    "ConfigError",
    "HeaderError",
    "Hop",
    "ProxyFix",
    "Resolution",
    "Resolver",
    "TrustPolicy",
    "WSGIMiddleware",
    "__version__",
    "load_networks",
    "parse_forwarded",
]
