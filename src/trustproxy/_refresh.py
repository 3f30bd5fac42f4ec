"""``trustproxy presets list`` and ``trustproxy presets update``: provider ranges kept
current without a release.

``update`` downloads each provider's official document (``urllib``, no dependency), reads
that provider's own format, validates the result and writes ``DIR/<name>.json`` — the
format of the shipped files, with today's date — atomically (a temporary file in the same
folder, then ``os.replace``), so a reader never sees half a file.  Middlewares read
``DIR`` when ``presets_dir=DIR`` or ``TRUSTPROXY_PRESETS_DIR=DIR`` is set (see
:mod:`trustproxy.presets`).

A download is refused, and the last good file kept, when it fails (HTTP error, refused
connection, timeout, more than :data:`MAX_BYTES`), when it cannot be parsed, lists nothing,
lists a range that is not public (private, loopback, link-local, reserved), covers every
IPv4 or IPv6 address, or has shrunk to less than half the entries it replaces (unless
``--force``: a provider may really drop ranges, but half a list vanishing is far more
often a broken document).

Exit status: 0 when every preset asked for was written (or listed); 1 when a download
failed; 3 when a document was refused (3 wins when both happen); 2 for a usage error.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple, Optional, TextIO

from . import __version__, presets
from .errors import ConfigError
from .trust import TrustPolicy

__all__ = ["DOWNLOAD_FAILED", "PROVIDERS", "REFUSED", "list_presets", "update_presets"]

#: Exit statuses of ``presets update`` (2 is a usage error, as for every command).
DOWNLOAD_FAILED = 1
REFUSED = 3

#: The largest document read (Azure's ServiceTags file is about 4 MB).
MAX_BYTES = 32 * 1024 * 1024

Fetch = Callable[[str], bytes]


class Refused(Exception):
    """A document that was downloaded but is not a list this preset may become."""


class Failed(Exception):
    """A download that did not complete."""


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


def fetcher(timeout: float) -> Fetch:
    """``fetch(url) -> bytes`` over ``urllib``, raising :class:`Failed`."""

    def fetch(url: str) -> bytes:
        if not url.lower().startswith(("https://", "http://")):
            raise Failed(f"{url!r} is not an http(s) URL")
        request = urllib.request.Request(
            url, headers={"User-Agent": f"trustproxy/{__version__} (presets update)"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body: bytes = response.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise Failed(f"HTTP {error.code} from {url}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise Failed(f"cannot download {url}: {reason}") from None
        if len(body) > MAX_BYTES:
            raise Failed(f"{url} sent more than {MAX_BYTES} bytes")
        return body

    return fetch


def validate(name: str, entries: Sequence[str], previous: int, force: bool) -> list[str]:
    """The ranges a download may replace ``previous`` entries with, or :class:`Refused`."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=True)
        except ValueError as error:
            raise Refused(f"{entry!r} is not a network: {error}") from None
        if network not in networks:
            networks.append(network)
    if not networks:
        raise Refused("the document lists no ranges")
    try:
        # The policy's own check: all of IPv4 or all of IPv6, however it is spelt.
        TrustPolicy([str(network) for network in networks])
    except ConfigError as error:
        raise Refused(str(error)) from None
    for network in networks:
        if not network.is_global:
            raise Refused(
                f"{network} is not a public range (private, loopback, link-local or"
                " reserved): no CDN connects from it"
            )
    if previous and len(networks) * 2 < previous and not force:
        raise Refused(
            f"the list shrank from {previous} to {len(networks)} entries (more than half"
            " gone); if the provider really dropped them, run again with --force"
        )
    return [str(network) for network in networks]


def write_preset(
    directory: str,
    name: str,
    networks: list[str],
    source: str,
    published: Optional[datetime.date],
    today: datetime.date,
) -> str:
    """Write ``DIR/<name>.json`` atomically; return its path."""
    os.makedirs(directory, exist_ok=True)
    document = {
        "format": 1,
        "name": name,
        "header": presets.shipped(name).header,
        "source": source,
        "date": today.isoformat(),
        "published": published.isoformat() if published else None,
        "complete": True,
        "note": f"Downloaded from {source} by trustproxy presets update on {today}.",
        "networks": networks,
    }
    path = os.path.join(directory, presets.DATA_PRESETS[name])
    # Not a with-block: the file must outlive it, to be renamed (or removed on failure).
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
        "w", encoding="utf-8", dir=directory, prefix=f".{name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
    return path


def _previous(name: str, directory: str) -> tuple[int, str]:
    """How many entries the file being replaced holds, and where it is."""
    try:
        data = presets.effective(name, directory)
    except ConfigError:
        return 0, os.path.join(directory, presets.DATA_PRESETS[name]) + " (unreadable)"
    return len(data.networks), data.origin


def update_presets(
    names: Sequence[str],
    directory: str,
    sources: dict[str, str],
    force: bool,
    out: TextIO,
    err: TextIO,
    fetch: Fetch,
) -> int:
    """Refresh ``names`` (all refreshable presets when empty) into ``directory``."""
    status = 0
    today = presets._today()
    for name in names or list(PROVIDERS):
        provider = PROVIDERS[name]
        url = sources.get(name, provider.url)
        previous, origin = _previous(name, directory)
        if origin == "shipped":
            origin = "the shipped data (nothing written)"
        try:
            parsed = provider.parse(fetch(url), url, fetch)
            networks = validate(name, parsed.networks, previous, force)
        except Failed as error:
            err.write(f"trustproxy: {name}: download failed: {error}; kept {origin}\n")
            status = max(status, DOWNLOAD_FAILED)
            continue
        except Refused as error:
            err.write(f"trustproxy: {name}: refused {url}: {error}; kept {origin}\n")
            status = REFUSED
            continue
        path = write_preset(directory, name, networks, url, parsed.published, today)
        published = f", published {parsed.published}" if parsed.published else ""
        out.write(f"{name}: {len(networks)} entries (was {previous}){published}, wrote {path}\n")
    return status


def list_presets(directory: Optional[str], out: TextIO) -> int:
    """One line per preset: name, entries, date, age, where it is read from, source."""
    today = presets._today()
    rows = [("NAME", "ENTRIES", "DATE", "AGE", "FROM", "SOURCE")]
    for name in presets.DATA_PRESETS:
        override = os.environ.get(presets.override_variable(name))
        try:
            data = presets.effective(name, directory)
        except ConfigError as error:
            rows.append((name, "-", "-", "-", "error", str(error)))
            continue
        age = data.age(today)
        notes = []
        if data.static:
            notes.append("documented constants")
        elif age is None or age > presets.MAX_AGE_DAYS:
            notes.append("stale")
        if not data.complete:
            notes.append("partial" if data.networks else "none shipped")
        where = data.origin if not override else f"{presets.override_variable(name)}={override}"
        rows.append((
            name,
            str(len(data.networks)) if not override else "?",
            str(data.date or "unknown"),
            ("?" if age is None else f"{age}d") + (f" ({', '.join(notes)})" if notes else ""),
            where,
            data.source,
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        out.write("  ".join([*cells, row[5]]) + "\n")
    return 0
