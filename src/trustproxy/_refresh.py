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
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Optional, TextIO

from . import __version__, presets
from ._provider_lists import PROVIDERS, Fetch, Refused
from .errors import ConfigError
from .trust import TrustPolicy

__all__ = ["DOWNLOAD_FAILED", "PROVIDERS", "REFUSED", "list_presets", "update_presets"]

#: Exit statuses of ``presets update`` (2 is a usage error, as for every command).
DOWNLOAD_FAILED = 1
REFUSED = 3

#: The largest document read (Azure's ServiceTags file is about 4 MB).
MAX_BYTES = 32 * 1024 * 1024


class Failed(Exception):
    """A download that did not complete."""


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
            # An empty file never gets here: presets.effective refuses it (ConfigError).
            notes.append("partial")
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
