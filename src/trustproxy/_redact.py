"""Which header values the whoami page must not echo: credentials and identities.

Used by :mod:`trustproxy._whoami`; pure and bounded (each check reads at most
:data:`~trustproxy._display.MAX_SHOWN` characters of a value, and a name is searched once
by a linear regex).
"""

from __future__ import annotations

import re

from ._display import MAX_SHOWN

__all__ = ["ALWAYS_SHOWN", "IDENTITY_PARTS", "REDACTED", "SECRET_PARTS", "hidden"]

#: Header values never echoed: the page sits behind authenticating proxies (AWS ALB,
#: Cloudflare Access, Google IAP, oauth2-proxy, Azure App Service, Authelia…) and is
#: shown on shared screens and pasted into bug reports.  These are the names the proxies
#: document for the credentials and identities they inject that :data:`SECRET_PARTS`
#: does not already catch.
REDACTED = frozenset(
    {
        "cookie",
        "authorization",
        "proxy-authorization",
        "cf-access-client-id",  # half of a Cloudflare Access service token
        "x-amzn-oidc-data",  # AWS ALB: the user's claims, a signed JWT
        "x-forwarded-user",  # oauth2-proxy, Traefik forward auth
        "x-forwarded-preferred-username",
        "x-forwarded-groups",
        "x-ms-client-principal",  # Azure App Service authentication
        "remote-user",  # Authelia, Apache mod_auth forwarding
        "remote-name",
        "remote-groups",
        "x-remote-user",
        "x-webauth-user",  # Grafana's auth proxy convention
        "x-webauth-login",
    }
)

#: A header whose name has a ``-``/``_``/``.``-separated part containing one of these is
#: hidden: ``X-Amzn-Oidc-Accesstoken``, ``Cf-Access-Jwt-Assertion``, ``X-Api-Key``,
#: ``X-Ms-Token-Aad-Refresh-Token``, ``X-Auth-Request-Email``, ``X-Csrf-Token``…  Hiding a
#: harmless header costs a line of the page; showing a credential costs the credential.
SECRET_PARTS = (
    "auth",
    "token",
    "jwt",
    "secret",
    "assertion",
    "session",
    "passw",
    "pwd",
    "credential",
    "signature",
    "key",
    "cookie",
    "oidc",
    "saml",
    "csrf",
    "xsrf",
    "email",
    "principal",
    "identity",
    "claim",
)

#: Name parts that are a person's identity on their own (``X-Auth-User``…).  Matched
#: whole, so that ``User-Agent`` stays shown.
IDENTITY_PARTS = ("user", "username", "userid", "login", "groups")

# No stem holds a separator, so "a part contains a stem" is "the name contains it": one
# regex search each, linear in the name (a header name may be 64 KB long).
_SECRET_NAME = re.compile("|".join(SECRET_PARTS))
_IDENTITY_NAME = re.compile(rf"(?:\A|[-_.])(?:{'|'.join(IDENTITY_PARTS)})(?:[-_.]|\Z)")

#: Shown whatever they look like: what the page is for.
ALWAYS_SHOWN = frozenset(
    {
        "host",
        "user-agent",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-real-ip",
        "via",
    }
)

#: A value holding a JWT (RFC 7519 §3: base64url of a JSON object, so ``eyJ``, then a
#: ``.``) or a credential with an RFC 9110 §11 auth-scheme is hidden under any name.
_SECRET_VALUE = re.compile(
    r"eyJ[A-Za-z0-9_-]{2,}\.|\A[ \t]*(?:bearer|basic|digest|negotiate|token)[ \t]+\S",
    re.IGNORECASE,
)


def hidden(name: str, value: str, shown: frozenset[str] = ALWAYS_SHOWN) -> bool:
    """Whether the value of the header line ``name: value`` must not be echoed.

    ``shown`` names headers always shown (the forwarding headers the page is about).
    Only the first :data:`~trustproxy._display.MAX_SHOWN` characters of the value are
    examined: nothing beyond them is echoed either.
    """
    lower = name.lower()
    if lower in shown:
        return False
    if lower in REDACTED:
        return True
    if _SECRET_NAME.search(lower) or _IDENTITY_NAME.search(lower):
        return True
    return _SECRET_VALUE.search(value[:MAX_SHOWN]) is not None
