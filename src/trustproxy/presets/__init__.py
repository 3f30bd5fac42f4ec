"""Trusted ranges kept as data: provider presets, files and environment variables.

A **preset** names the published ranges of one CDN or cloud load balancer: ``cloudflare``,
``cloudfront``, ``fastly``, ``google-cloud-lb`` and ``azure-front-door`` (see
``docs/providers.md`` for each one's header and caveats).  Each is a JSON file shipped in
this directory, recording where the list came from (``source``), the date it was taken
(``date``), the provider's own publication date when it states one (``published``),
whether the snapshot is ``complete``, and the ``networks``.  Everything is read when the
trust policy is built — never per request, never at import.

Where a preset is read from, first match wins:

1. ``TRUSTPROXY_<NAME>_FILE`` (``TRUSTPROXY_CLOUDFLARE_FILE``, ``TRUSTPROXY_GOOGLE_CLOUD_LB_FILE``):
   a plain range list, one entry per line (below);
2. ``<presets_dir>/<name>.json`` as written by ``trustproxy presets update``, where
   ``presets_dir`` is the option of that name or else ``TRUSTPROXY_PRESETS_DIR``;
3. the file shipped in the package.

A preset whose data is older than :data:`MAX_AGE_DAYS` (or of unknown date) logs one
warning on the ``trustproxy`` logger when it is first loaded: stale ranges fail both
ways (new edges refused, released addresses still trusted).

A **range list** is text with one entry per line — an IP address or a network in CIDR
form, host bits zero — with ``#`` starting a comment and blank lines ignored; it is what
``file:PATH`` entries and the ``TRUSTPROXY_<NAME>_FILE`` overrides read.  ``env:NAME``
entries read entries separated by commas or whitespace from a variable.

Every mistake raises :class:`~trustproxy.ConfigError` naming the file and line (or the
variable and entry).  A source that lists no entry at all is an error too: a preset that
silently trusted nothing would turn every CDN request into a direct one.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
import os
from importlib import resources
from typing import Any, NamedTuple, Optional, Union

from ..errors import ConfigError

__all__ = [
    "DATA_PRESETS",
    "MAX_AGE_DAYS",
    "PresetData",
    "from_env",
    "load_networks",
    "parse_networks",
    "preset",
    "read_file",
]

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: Presets kept as data files in this directory: name -> file name.
DATA_PRESETS = {
    name: f"{name}.json"
    for name in ("cloudflare", "cloudfront", "fastly", "google-cloud-lb", "azure-front-door")
}

#: A preset whose ``date`` is older than this many days logs a warning when loaded.
MAX_AGE_DAYS = 90

#: The environment variable naming the folder ``trustproxy presets update`` writes to.
PRESETS_DIR_VARIABLE = "TRUSTPROXY_PRESETS_DIR"

LOGGER = logging.getLogger("trustproxy")

_shipped: dict[str, PresetData] = {}
# (preset, file) pairs already warned about: one warning per process, not per middleware.
_warned: set[tuple[str, str]] = set()


class PresetData(NamedTuple):
    """One preset's data: the fields of its JSON file, and where it was read from."""

    name: str
    header: str
    source: str
    date: Optional[datetime.date]
    published: Optional[datetime.date]
    complete: bool
    #: Documented constants with nothing to download (``google-cloud-lb``): no age warning.
    static: bool
    note: str
    networks: tuple[Network, ...]
    #: ``"shipped"`` or the path of the file read.
    origin: str

    def age(self, today: Optional[datetime.date] = None) -> Optional[int]:
        """Days since ``date``, or ``None`` when the date is unknown."""
        if self.date is None:
            return None
        return ((today or _today()) - self.date).days


def _today() -> datetime.date:
    # One place to read the clock, so the age warning can be tested with a fake date.
    return datetime.datetime.now(datetime.timezone.utc).date()


def _network(entry: str, where: str) -> Network:
    try:
        return ipaddress.ip_network(entry, strict=True)
    except ValueError as error:
        raise ConfigError(f"{where}: {entry!r} is not an IP address or network: {error}") from None


def parse_networks(text: str, source: str) -> tuple[Network, ...]:
    """Parse a range list (see the module docstring); ``source`` names it in errors."""
    networks: list[Network] = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            networks.append(_network(entry, f"{source}, line {number}"))
    if not networks:
        raise ConfigError(f"{source} lists no addresses or networks")
    return tuple(networks)


def load_networks(path: Union[str, os.PathLike[str]]) -> tuple[str, ...]:
    """Read a range file and return its entries as network strings (``"10.0.0.0/8"``).

    The result can be passed as ``trusted=`` (alone or with other entries).

    :raises ConfigError: when the file cannot be read or an entry is malformed.
    """
    return tuple(str(network) for network in read_file(os.fspath(path)))


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {what} from {path!r}: {error}") from None


def read_file(path: str) -> tuple[Network, ...]:
    return parse_networks(_read_text(path, "trusted ranges"), f"file {path!r}")


def from_env(name: str) -> tuple[Network, ...]:
    """The entries listed in environment variable ``name`` (commas or whitespace)."""
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"environment variable {name!r} (trusted entry 'env:{name}') is not set")
    entries = value.replace(",", " ").split()
    if not entries:
        raise ConfigError(f"environment variable {name!r} lists no addresses or networks")
    return tuple(
        _network(entry, f"environment variable {name!r}, entry {number}")
        for number, entry in enumerate(entries, 1)
    )


def override_variable(name: str) -> str:
    """The environment variable that replaces preset ``name``'s file with a range list."""
    return f"TRUSTPROXY_{name.upper().replace('-', '_')}_FILE"


def _date(value: Any, where: str) -> Optional[datetime.date]:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: date {value!r} is not YYYY-MM-DD") from None


def parse_preset(text: str, name: str, origin: str) -> PresetData:
    """A preset JSON document (shipped, or written by ``presets update``) as data."""
    where = f"preset {name!r} ({origin})"
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{where} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("networks"), list):
        raise ConfigError(f"{where} is not a preset file: no 'networks' list")
    networks = tuple(
        _network(str(entry), f"{where}, network {number}")
        for number, entry in enumerate(document["networks"], 1)
    )
    if not networks:
        # A preset that trusted nothing would turn every CDN request into a direct one.
        raise ConfigError(
            f"{where} lists no networks; run 'trustproxy presets update {name} --dir DIR'"
            " to write a complete file there, or remove the empty one"
        )
    return PresetData(
        name=name,
        header=str(document.get("header", "")),
        source=str(document.get("source", "")),
        date=_date(document.get("date"), where),
        published=_date(document.get("published"), where),
        complete=bool(document.get("complete", True)),
        static=bool(document.get("static", False)),
        note=str(document.get("note", "")),
        networks=networks,
        origin=origin,
    )


def presets_dir(given: Optional[str] = None) -> Optional[str]:
    """The folder of refreshed presets: ``given``, else ``TRUSTPROXY_PRESETS_DIR``."""
    return given or os.environ.get(PRESETS_DIR_VARIABLE) or None


def shipped(name: str) -> PresetData:
    """Preset ``name`` as shipped in the package (read once, on first use)."""
    cached = _shipped.get(name)
    if cached is None:
        text = resources.files(__name__).joinpath(DATA_PRESETS[name]).read_text("utf-8")
        cached = _shipped[name] = parse_preset(text, name, "shipped")
    return cached


def effective(name: str, directory: Optional[str] = None) -> PresetData:
    """The data preset ``name`` stands for now: the refreshed file in ``directory`` (or
    ``TRUSTPROXY_PRESETS_DIR``) when there is one, else the shipped file.  The
    ``TRUSTPROXY_<NAME>_FILE`` override is applied by :func:`preset`."""
    folder = presets_dir(directory)
    if folder:
        path = os.path.join(folder, DATA_PRESETS[name])
        if os.path.exists(path):
            return parse_preset(_read_text(path, f"preset {name!r}"), name, path)
    return shipped(name)


def preset(name: str, directory: Optional[str] = None) -> tuple[Network, ...]:
    """The networks of data preset ``name`` (see the module docstring for the order the
    sources are tried in); warns once if the data is stale."""
    override = os.environ.get(override_variable(name))
    if override:
        return read_file(override)
    data = effective(name, directory)
    _warn_if_stale(data)
    return data.networks


def _warn_if_stale(data: PresetData) -> None:
    if data.static or (data.name, data.origin) in _warned:
        return
    age = data.age()
    if age is not None and age <= MAX_AGE_DAYS:
        return
    _warned.add((data.name, data.origin))
    when = "of unknown date" if age is None else f"{age} days old (taken {data.date})"
    LOGGER.warning(
        "trustproxy: preset %r (%s) is %s, more than %d days: stale ranges refuse new edges"
        " and keep trusting released addresses; run 'trustproxy presets update %s --dir DIR'"
        " and set TRUSTPROXY_PRESETS_DIR=DIR",
        data.name, data.origin, when, MAX_AGE_DAYS, data.name,
    )  # fmt: skip
