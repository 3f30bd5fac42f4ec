"""Trusted ranges kept as data: shipped presets, files and environment variables.

A range list is text with one entry per line — an IP address or a network in CIDR form,
host bits zero — with ``#`` starting a comment and blank lines ignored:

```text
# my load balancers
10.1.0.0/16
2001:db8:5::/48   # the IPv6 ones
```

Three ways to use one, all read when the trust policy is built (never per request, and
never at import):

* a **preset** shipped inside the package: ``trusted=["cloudflare"]`` (the file
  ``presets/cloudflare.txt``, with the date Cloudflare published it).  Setting the
  environment variable ``TRUSTPROXY_CLOUDFLARE_FILE`` to a file path makes the preset read
  that file instead, so operators can refresh the ranges without a release;
* a **file** entry: ``trusted=["file:/etc/trustproxy/lb.txt"]``;
* an **environment variable** entry: ``trusted=["env:MY_PROXIES"]``, whose value lists
  entries separated by commas or whitespace.

Every mistake raises :class:`~trustproxy.ConfigError` naming the file and line (or the
variable and entry).  A source that lists no entry at all is an error too: a preset that
silently trusted nothing would turn every CDN request into a direct one.
"""

from __future__ import annotations

import ipaddress
import os
from importlib import resources
from typing import Union

from ..errors import ConfigError

__all__ = [
    "DATA_PRESETS",
    "from_env",
    "load_networks",
    "parse_networks",
    "preset",
    "read_file",
]

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: Presets kept as data files in this directory: name -> file name.
DATA_PRESETS = {"cloudflare": "cloudflare.txt"}

_shipped: dict[str, tuple[Network, ...]] = {}


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


def read_file(path: str) -> tuple[Network, ...]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read trusted ranges from {path!r}: {error}") from None
    return parse_networks(text, f"file {path!r}")


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
    """The environment variable that replaces preset ``name``'s file."""
    return f"TRUSTPROXY_{name.upper()}_FILE"


def preset(name: str) -> tuple[Network, ...]:
    """The networks of data preset ``name``: the override file if its variable is set,
    else the shipped file (read once, on first use)."""
    override = os.environ.get(override_variable(name))
    if override:
        return read_file(override)
    cached = _shipped.get(name)
    if cached is None:
        text = resources.files(__name__).joinpath(DATA_PRESETS[name]).read_text("utf-8")
        cached = _shipped[name] = parse_networks(text, f"preset {name!r}")
    return cached
