"""Hop-by-hop names and forged fields sent through every recipe, and the checks on them.

Two classes of attack on a proxy recipe rather than on trustproxy (the hostile-Host class
is in ``hostile.py``):

* **Connection stripping.**  A proxy must remove the headers a client names in
  ``Connection`` (hop-by-hop, RFC 9110 section 7.6.1).  A proxy that sets a forwarding
  header first and strips afterwards removes its own value: Apache httpd
  CVE-2022-31813 (X-Forwarded-For), Traefik CVE-2024-45410 (GHSA-62c8-mh53-4cqv).
  ``Connection: close, X-Forwarded-Proto`` then turns https into http at the app, and
  ``Connection: close, Forwarded`` makes the proxy itself the client.
* **Settings the proxy does not back.**  A page that applies a field its proxy never
  writes (or writes from the client's own bytes, such as the port of the client's
  ``Host``) hands that field to the client.
"""

from __future__ import annotations

from typing import Any

#: Every header a recipe writes or a client forges, as a client would name it.
FORWARDING_HEADERS = (
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "Forwarded",
    "X-Real-IP",
)

#: The header each field of ``fields`` is read from (``headers="x-forwarded"``).
FIELD_HEADER = {
    "for": "x-forwarded-for",
    "proto": "x-forwarded-proto",
    "host": "x-forwarded-host",
    "port": "x-forwarded-port",
    "prefix": "x-forwarded-prefix",
}


def forged_value(header: str, scheme: str) -> str:
    """A client's value for ``header`` that differs from what the proxy would write."""
    other = "http" if scheme == "https" else "https"
    return {
        "x-forwarded-for": "6.6.6.6",
        "x-forwarded-proto": other,
        "x-forwarded-host": "evil.test",
        "x-forwarded-port": "1",
        "x-forwarded-prefix": "/evil",
        "forwarded": f"for=6.6.6.6;proto={other};host=evil.test",
        "x-real-ip": "6.6.6.6",
    }[header.lower()]


def forge_all(scheme: str) -> list[tuple[str, str]]:
    """One request's worth of forged values, one line per forwarding header."""
    return [(header, forged_value(header, scheme)) for header in FORWARDING_HEADERS]


def connection_naming(header: str, scheme: str) -> list[list[tuple[str, str]]]:
    """The ways a client names ``header`` as hop-by-hop: after ``close``, with a forged
    value of the header itself, and over http also alone and upper-cased, without a
    space, and on a second Connection line.  (The spellings are parsed before TLS matters;
    https gets the two that decide, which keeps the handshakes few.)"""
    cases = [
        [("Connection", f"close, {header}")],
        [("Connection", f"close, {header}"), (header, forged_value(header, scheme))],
    ]
    if scheme == "http":
        cases += [
            [("Connection", header.upper())],
            [("Connection", f"keep-alive,{header.lower()}")],
            [("Connection", "close"), ("Connection", header)],
        ]
    return cases


def last_forwarded_parameters(value: str) -> set[str]:
    """The parameter names of the rightmost element of a ``Forwarded`` value."""
    element = value.rsplit(",", 1)[-1]
    return {pair.split("=", 1)[0].strip().lower() for pair in element.split(";") if "=" in pair}


def unwritten_fields(seen: dict[str, Any], fields: list[str]) -> list[str]:
    """The fields of ``fields`` for which no header a proxy writes reached the app."""
    raw = seen["raw"]
    return [field for field in fields if not raw.get(FIELD_HEADER[field])]
