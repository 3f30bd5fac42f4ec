"""The one options object: the defaults and the validation every adapter shares.

:class:`~trustproxy.WSGIMiddleware`, :class:`~trustproxy.ASGIMiddleware`, the Django
``TRUSTPROXY`` setting and the command line each turn what the user wrote into one
:class:`Options` and hand it to the :class:`~trustproxy.Resolver`, so a configuration
builds on one exactly when it builds on all, with the same defaults and the same
:class:`~trustproxy.ConfigError` (the keywords are described in docs/api.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional, Union

from ._status import MAX_HOPS
from ._tenant import HIDDEN, Secret, secrets_from
from ._values import FIELDS
from .errors import ConfigError
from .trust import TrustPolicy, TrustSpec

__all__ = [
    "BOTH",
    "DEFAULT_HEADERS",
    "DEFAULT_TRUSTED",
    "NAMES",
    "SINGLE_HEADERS",
    "X_FORWARDED",
    "Options",
    "options_from",
]

#: The defaults, stated once: every adapter's signature uses these.
DEFAULT_TRUSTED = "loopback"
DEFAULT_HEADERS = "x-forwarded"

#: The keywords an adapter takes (and the keys of Django's ``TRUSTPROXY``).
NAMES = ("trusted", "hops", "fields", "headers", "strict", "presets_dir", "require_headers")

#: Single-address headers that CDNs and platforms write, each holding the client's
#: address: ``headers=`` takes any header name, these are the ones documented (see
#: docs/providers.md).  ``cloudfront-viewer-address`` is ``address:port``, the port always
#: written (see ``trustproxy._nodes.ADDRESS_AND_PORT``).
SINGLE_HEADERS = (
    "cf-connecting-ip",
    "true-client-ip",
    "fly-client-ip",
    "cloudfront-viewer-address",
    "x-azure-clientip",
    "fastly-client-ip",
    "x-real-ip",
)

#: ``headers=("forwarded", "x-forwarded")``: both families are read and cross-checked.
BOTH = "forwarded+x-forwarded"

#: The X-Forwarded-* header read for each field, in field order.
X_FORWARDED = {
    "for": "x-forwarded-for",
    "proto": "x-forwarded-proto",
    "host": "x-forwarded-host",
    "port": "x-forwarded-port",
    "prefix": "x-forwarded-prefix",
}

#: X-Forwarded-* names, refused as single-address headers: they have their family.
_X_NAMES = frozenset(X_FORWARDED.values())


@dataclass(frozen=True, init=False, eq=False)
class Options:
    """A validated configuration: the trust policy (compiled once), the fields to apply,
    the header family and ``strict``.

    Built with the adapters' keywords; the defaults are those of every adapter.

    :param trusted: the proxies you control; see :class:`~trustproxy.TrustPolicy`.
    :param hops: the number of proxies in front of the app (optional).
    :param fields: which values to apply: any of ``"for"``, ``"proto"``, ``"host"``,
        ``"port"``, ``"prefix"``; by default ``("for", "proto")``, or ``("for",)`` for a
        single-address header.
    :param headers: ``"x-forwarded"``, ``"forwarded"``, ``("forwarded", "x-forwarded")``
        or the name of a single-address header such as ``"x-real-ip"``.
    :param strict: answer 400 when the headers could not be resolved, and 403 when a
        required header is missing or wrong.
    :param require_headers: headers a trusted proxy must carry, name -> value, for
        tenant binding (see :mod:`trustproxy._tenant`): the value itself,
        ``"env:NAME"`` or ``"file:PATH"``, read now.  Forwarding headers are applied
        only when every one carries its value.
    :param presets_dir: a folder of provider presets refreshed by ``trustproxy presets
        update`` (default: ``TRUSTPROXY_PRESETS_DIR``; see :mod:`trustproxy.presets`).
    :raises ConfigError: for anything malformed, naming the fix.
    """

    __slots__ = ("fields", "headers", "policy", "presets_dir", "required", "strict")

    policy: TrustPolicy
    #: The fields applied, in field order.
    fields: tuple[str, ...]
    #: The header family: ``"x-forwarded"``, ``"forwarded"``, :data:`BOTH`, or the
    #: lower-case name of a single-address header.
    headers: str
    strict: bool
    presets_dir: Optional[str]
    #: The required headers (tenant binding), their values resolved; empty when off.
    required: tuple[Secret, ...]

    def __init__(
        self,
        *,
        trusted: TrustSpec = DEFAULT_TRUSTED,
        hops: Optional[int] = None,
        fields: Union[str, Iterable[str], None] = None,
        headers: Union[str, Iterable[str]] = DEFAULT_HEADERS,
        strict: bool = False,
        presets_dir: Union[str, os.PathLike[str], None] = None,
        require_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        if presets_dir is not None:
            if not isinstance(presets_dir, (str, os.PathLike)):
                raise ConfigError(f"presets_dir must be a folder path, not {presets_dir!r}")
            presets_dir = os.fspath(presets_dir)
        policy = TrustPolicy(trusted, hops, presets_dir)
        if hops is not None and hops > MAX_HOPS:
            raise ConfigError(f"hops={hops} is more than the {MAX_HOPS} hops trustproxy walks")
        family = _family(headers)
        single = family not in (BOTH, "forwarded", "x-forwarded")
        if fields is None:
            fields = ("for",) if single else ("for", "proto")
        chosen = _fields(fields)
        if family == "forwarded":
            extra = chosen - {"for", "proto", "host"}
            if extra:
                raise ConfigError(
                    f"Forwarded carries no {' or '.join(sorted(extra))}; use"
                    " headers=('forwarded', 'x-forwarded') to read X-Forwarded-* for them"
                )
        elif single:
            extra = chosen - {"for"}
            if extra:
                raise ConfigError(
                    f"header {family!r} carries only the client address; fields"
                    f" {sorted(extra)} need headers='x-forwarded'"
                )
        if not isinstance(strict, bool):
            # "False" from a settings file is a true value: refuse rather than guess.
            raise ConfigError(f"strict must be True or False, not {strict!r}")
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "fields", tuple(name for name in FIELDS if name in chosen))
        object.__setattr__(self, "headers", family)
        object.__setattr__(self, "strict", strict)
        object.__setattr__(self, "presets_dir", presets_dir)
        read = X_FORWARDED.values() if family in (BOTH, "x-forwarded") else ()
        object.__setattr__(
            self, "required", secrets_from(require_headers, (family, "forwarded", *read))
        )

    def __repr__(self) -> str:
        required = {secret.name: HIDDEN for secret in self.required}
        return (
            f"Options(trusted={list(self.trusted)!r}, hops={self.hops!r},"
            f" fields={list(self.fields)!r}, headers={self.headers!r},"
            f" strict={self.strict!r}, require_headers={required!r},"
            f" presets_dir={self.presets_dir!r})"
        )

    @property
    def trusted(self) -> tuple[str, ...]:
        """The trust entries, as the policy describes them."""
        return self.policy.entries

    @property
    def hops(self) -> Optional[int]:
        return self.policy.hops

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str) -> Options:
        """Options from a settings dict such as Django's ``TRUSTPROXY``; ``source`` names
        it in the error for an unknown key."""
        if isinstance(mapping, (str, list, tuple)):
            # TRUSTPROXY = ["127.0.0.1"]: the proxies, where a dict of options belongs.
            raise ConfigError(
                f"{source} must be a dict of options, not {mapping!r}: write"
                f" {{'trusted': {mapping!r}}}"
            )
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"{source} must be a dict of {', '.join(NAMES)}, not {mapping!r}")
        unknown = sorted(set(mapping) - set(NAMES), key=str)
        if unknown:
            raise ConfigError(f"{source} has unknown keys {unknown}: use {', '.join(NAMES)}")
        return cls(**mapping)


def options_from(
    options: Optional[Options],
    trusted: TrustSpec,
    hops: Optional[int],
    fields: Union[str, Iterable[str], None],
    headers: Union[str, Iterable[str]],
    strict: bool = False,
    presets_dir: Union[str, os.PathLike[str], None] = None,
    require_headers: Optional[Mapping[str, str]] = None,
) -> Options:
    """An adapter's keywords as :class:`Options`, or the ``options`` it was given.

    ``options`` replaces every other keyword: one left at a value other than its default
    next to it is a mistake (which of the two was meant?), refused.
    """
    if options is None:
        return Options(
            trusted=trusted,
            hops=hops,
            fields=fields,
            headers=headers,
            strict=strict,
            require_headers=require_headers,
            presets_dir=presets_dir,
        )
    if not isinstance(options, Options):
        raise ConfigError(f"options must be a trustproxy Options, not {options!r}")
    given = [
        name
        for name, value, default in (
            ("trusted", trusted, DEFAULT_TRUSTED),
            ("hops", hops, None),
            ("fields", fields, None),
            ("headers", headers, DEFAULT_HEADERS),
            ("strict", strict, False),
            ("presets_dir", presets_dir, None),
            ("require_headers", require_headers, None),
        )
        if value is not default and value != default
    ]
    if given:
        raise ConfigError(f"pass options= or {', '.join(given)}=, not both")
    return options


def _fields(fields: Union[str, Iterable[str]]) -> frozenset[str]:
    if isinstance(fields, str):
        names = [part.strip() for part in fields.split(",")]
    else:
        try:
            names = list(fields)
        except TypeError:
            raise ConfigError(
                f"fields must be a string or a list of names, not {fields!r}"
            ) from None
    if not names:
        raise ConfigError(f"fields is empty: choose from {', '.join(FIELDS)}")
    for name in names:
        if name not in FIELDS:
            raise ConfigError(f"unknown field {name!r}: choose from {', '.join(FIELDS)}")
    return frozenset(names)


def _family(headers: Union[str, Iterable[str]]) -> str:
    if not isinstance(headers, str):
        try:
            names = {str(name).strip().lower() for name in headers}
        except TypeError:
            raise ConfigError(f"headers must be a header family name, not {headers!r}") from None
        if names == {"forwarded", "x-forwarded"}:
            return BOTH
        if len(names) != 1:
            raise ConfigError(
                f"headers {headers!r}: only the tuple ('forwarded', 'x-forwarded') names"
                " more than one family"
            )
        headers = names.pop()
    name = headers.strip().lower()
    if name in ("x-forwarded", "forwarded"):
        return name
    if name in _X_NAMES:
        raise ConfigError(f"headers={headers!r}: use headers='x-forwarded' for X-Forwarded-*")
    if not name or any(c in name for c in ' \t,:;"()/[]?={}@\\'):
        raise ConfigError(f"headers {headers!r} is not a header family or a header name")
    if name.startswith(("x-forwarded", "forwarded", "x_forwarded")):
        # A typo of a family would be read as a single-address header that never
        # arrives: nothing would ever be applied, silently.
        raise ConfigError(
            f"headers={headers!r} is not a header family: did you mean 'x-forwarded' or"
            " 'forwarded'?"
        )
    if "_" in name:
        # WSGI servers turn "-" and "_" into the same environ key (Django CVE-2015-0219):
        # a header named with "_" cannot be told apart from its "-" twin.
        raise ConfigError(f"headers={headers!r}: header names use '-', not '_'")
    return name
