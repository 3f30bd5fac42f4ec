"""Each provider's published list of ranges: where it is and how to read its format.

One parser per provider, each a pure function of the downloaded document (the Azure one
may follow a link); :data:`PROVIDERS` names them.  Downloading, validating and writing
are `_refresh`'s; the presets and their sources are in ``docs/providers.md``.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, Callable, NamedTuple, Optional

__all__ = ["PROVIDERS", "Fetch", "Parsed", "Provider", "Refused"]

Fetch = Callable[[str], bytes]


class Refused(Exception):
    """A document that was downloaded but is not a list this preset may become."""


class Parsed(NamedTuple):
    networks: list[str]
    published: Optional[datetime.date]


class Provider(NamedTuple):
    name: str
    #: The provider's official, machine-readable list.
    url: str
    #: ``(document, its URL, fetch)`` -> ranges; ``fetch`` for a document that links on.
    parse: Callable[[bytes, str, Fetch], Parsed]


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise Refused(f"{what} is not valid JSON: {error}") from None


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Refused(f"{what} is not a list of strings")
    return list(value)


def _cloudflare(body: bytes, url: str, fetch: Fetch) -> Parsed:
    # https://api.cloudflare.com/client/v4/ips: the API envelope, "result" holding
    # "ipv4_cidrs" and "ipv6_cidrs" (the same lists as /ips-v4 and /ips-v6).
    document = _json(body, "Cloudflare's /client/v4/ips answer")
    result = document.get("result") if isinstance(document, dict) else None
    if not isinstance(result, dict) or document.get("success") is not True:
        raise Refused("Cloudflare's /client/v4/ips answer has no successful 'result'")
    return Parsed(
        _strings(result.get("ipv4_cidrs"), "result.ipv4_cidrs")
        + _strings(result.get("ipv6_cidrs"), "result.ipv6_cidrs"),
        None,
    )


def _cloudfront(body: bytes, url: str, fetch: Fetch) -> Parsed:
    # ip-ranges.json: "prefixes" (ip_prefix) and "ipv6_prefixes" (ipv6_prefix), each with
    # a "service"; CloudFront's origin-facing servers are CLOUDFRONT_ORIGIN_FACING (the
    # "CLOUDFRONT" service also holds viewer-facing edges that never connect to origins).
    # "createDate" is the publication time, "YYYY-MM-DD-hh-mm-ss" in UTC.
    document = _json(body, "ip-ranges.json")
    if not isinstance(document, dict):
        raise Refused("ip-ranges.json is not a JSON object")
    networks: list[str] = []
    for key, field in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
        entries = document.get(key)
        if not isinstance(entries, list):
            raise Refused(f"ip-ranges.json has no {key!r} list")
        for entry in entries:
            if isinstance(entry, dict) and entry.get("service") == "CLOUDFRONT_ORIGIN_FACING":
                networks.append(str(entry.get(field)))
    created = str(document.get("createDate", ""))
    published = None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}", created):
        published = datetime.date.fromisoformat(created[:10])
    return Parsed(networks, published)


def _fastly(body: bytes, url: str, fetch: Fetch) -> Parsed:
    # https://api.fastly.com/public-ip-list: {"addresses": [...], "ipv6_addresses": [...]}.
    document = _json(body, "Fastly's public-ip-list")
    if not isinstance(document, dict):
        raise Refused("Fastly's public-ip-list is not a JSON object")
    return Parsed(
        _strings(document.get("addresses"), "addresses")
        + _strings(document.get("ipv6_addresses", []), "ipv6_addresses"),
        None,
    )


#: The weekly file's link on Microsoft's download page (id=56519), whose name carries the
#: publication date: .../ServiceTags_Public_20241118.json.
_SERVICE_TAGS_LINK = re.compile(
    rb"""["'](https?://[^"'\s<>]+/ServiceTags_Public_(\d{8})\.json)["']"""
)


def _azure(body: bytes, url: str, fetch: Fetch) -> Parsed:
    # The stable address is a download page linking to this week's JSON; a --source may
    # point at the JSON itself.  The JSON's "values" hold one entry per service tag,
    # "properties.addressPrefixes" the ranges.
    published = None
    if body.lstrip()[:1] != b"{":
        link = _SERVICE_TAGS_LINK.search(body)
        if link is None:
            raise Refused("the Azure download page links no ServiceTags_Public_YYYYMMDD.json")
        url = link.group(1).decode("ascii")
        digits = link.group(2).decode("ascii")
        published = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        body = fetch(url)
    document = _json(body, "the ServiceTags file")
    values = document.get("values") if isinstance(document, dict) else None
    if not isinstance(values, list):
        raise Refused("the ServiceTags file has no 'values' list")
    for value in values:
        if isinstance(value, dict) and value.get("name") == "AzureFrontDoor.Backend":
            properties = value.get("properties")
            prefixes = properties.get("addressPrefixes") if isinstance(properties, dict) else None
            return Parsed(_strings(prefixes, "AzureFrontDoor.Backend addressPrefixes"), published)
    raise Refused("the ServiceTags file has no AzureFrontDoor.Backend tag")


#: The refreshable presets.  ``google-cloud-lb`` is not here: Google documents its
#: front-end ranges as fixed values on a web page, with no list to download.
PROVIDERS = {
    provider.name: provider
    for provider in (
        Provider("cloudflare", "https://api.cloudflare.com/client/v4/ips", _cloudflare),
        Provider("cloudfront", "https://ip-ranges.amazonaws.com/ip-ranges.json", _cloudfront),
        Provider("fastly", "https://api.fastly.com/public-ip-list", _fastly),
        Provider(
            "azure-front-door",
            "https://www.microsoft.com/en-us/download/details.aspx?id=56519",
            _azure,
        ),
    )
}
