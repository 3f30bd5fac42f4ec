"""RFC 7239 ``Forwarded`` text -> elements.  Knows nothing of trust.

RFC 7239 §4::

    Forwarded         = 1#forwarded-element
    forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
    forwarded-pair    = token "=" value
    value             = token / quoted-string

Every proxy appends one element on the right (§4, §7.1: several lines form one list, in
arrival order), so the resolver reads elements from the right and stops when it has found
the client: the cost follows the hops walked, not the header size.

Splitting rules, and why:

* **Elements are split on every comma, first**, quotes or not.  No valid node (§6),
  host (RFC 9110 §7.2) or proto (RFC 3986 §3.1) contains a comma, so nothing valid is lost,
  and a client's unbalanced ``"`` can spoil only its own element — it can never swallow
  the element a proxy appended after it (``for="6.6.6.6, for=1.2.3.4`` yields ``1.2.3.4``).
* Then pairs on ``;`` (a ``;`` inside a quoted-string stays in the value).  Values are a
  token or a quoted-string with quoted-pairs unescaped (RFC 9110 §5.6.4).
* Parameter names are case-insensitive (§4: "The parameter names are case-insensitive");
  a parameter repeated in one element makes the element invalid (§4: "MUST NOT occur more
  than once").  Empty elements and empty pairs are ignored (RFC 9110 §5.6.1), and spaces or
  tabs around ``;``, ``,`` and ``=`` are tolerated.
* Unquoted ``[IPv6]`` and bare IPv6 values are accepted (see ``_abnf.FORWARDED_PAIR``).

:func:`parse_forwarded` is the strict parser: it raises :class:`~trustproxy.HeaderError`
pointing at the first malformed character.  The resolver uses :func:`elements_from_right`,
which never raises and reports a malformed element in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple, Optional

from . import _abnf
from ._lists import MAX_EMPTY_ITEMS, item_left_of
from .errors import HeaderError

__all__ = [
    "MAX_ELEMENT_LENGTH",
    "Element",
    "describe_node",
    "elements_from_right",
    "format_element",
    "node_text",
    "parse_element",
    "parse_forwarded",
    "quote",
]

#: The most characters one element may span.  An element carries at most four short
#: parameters (a node, a 261-character host, a scheme); a longer one is reported as too
#: long without reading it further, so a huge header costs no more than a short one.
MAX_ELEMENT_LENGTH = 512


class Element(NamedTuple):
    """One element as found by :func:`elements_from_right`.

    ``text`` is the element as written (trimmed; cut short when too long), ``params`` the
    parameters (lower-case name -> unescaped value) or ``None`` when the element is
    malformed, in which case ``error`` says why.
    """

    text: str
    params: Optional[dict[str, str]]
    error: str


def _scan_simple(text: str) -> Optional[dict[str, str]]:
    """The common case, an element without quoted-strings: split on ``;`` and ``=``.

    Returns ``None`` when anything is unusual; the caller then runs the full grammar (which
    also finds the position of an error).  Accepts exactly what the grammar accepts (a
    property test checks this): one regex call checks the characters, then plain string
    operations check the shape of each pair.
    """
    if _abnf.FORWARDED_SIMPLE_CHARS.fullmatch(text) is None:
        return None
    params: dict[str, str] = {}
    for pair in text.split(";"):
        name, equals, value = pair.partition("=")
        if not equals:
            if pair.strip(" \t"):
                return None
            continue  # an empty pair
        name = name.strip(" \t").lower()
        value = value.strip(" \t")
        if (
            not value
            or name in params
            or (name not in _KNOWN and _abnf.TOKEN.fullmatch(name) is None)
            or "=" in value
            or " " in value
            or "\t" in value
        ):
            return None
        params[name] = value
    return params


#: RFC 7239 §5 parameters: names that need no token check.
_KNOWN = frozenset(("for", "by", "host", "proto"))


def _scan(text: str) -> tuple[Optional[dict[str, str]], str, int]:
    """Parse one element: (params, "", -1) or (None, why, position in ``text``)."""
    if '"' not in text:
        simple = _scan_simple(text)
        if simple is not None:
            return simple, "", -1
    elif _abnf.FORWARDED_ELEMENT.fullmatch(text) is not None:
        # Well-formed: every pair is found by findall, left to right (a pair match
        # consumes its whole quoted-string, so nothing inside one is taken for a pair).
        params: dict[str, str] = {}
        for name, token, quoted in _abnf.FORWARDED_PAIR.findall(text):
            name = name.lower()
            if name in params:
                break  # repeated: the scan below reports where
            if token:
                params[name] = token
            else:
                params[name] = _abnf.QUOTED_PAIR.sub(r"\1", quoted) if "\\" in quoted else quoted
        else:
            return params, "", -1
    return _scan_pairs(text)


def _scan_pairs(text: str) -> tuple[Optional[dict[str, str]], str, int]:
    """Pair by pair, to find the position of the first error."""
    params: dict[str, str] = {}
    end = len(text)
    position = 0
    match = _abnf.FORWARDED_PAIR.match
    while True:
        # RFC 7239 §4: every pair is optional, so ";;" and a leading/trailing ";" are
        # empty pairs, ignored.
        while position < end and text[position] in " \t;":
            position += 1
        if position >= end:
            return params, "", -1
        found = match(text, position)
        if found is None:
            return None, "expected a parameter as token=value", position
        name = found.group(1).lower()
        if name in params:
            # RFC 7239 §4: "Each parameter MUST NOT occur more than once per field-value."
            return None, f"parameter {name!r} occurs more than once", found.start(1)
        value = found.group(2)
        if value is None:
            value = found.group(3)
            if "\\" in value:  # RFC 9110 §5.6.4 quoted-pair
                value = _abnf.QUOTED_PAIR.sub(r"\1", value)
        params[name] = value
        position = found.end()
        if position < end and text[position] != ";":
            return None, "expected ';' between parameters", position


def parse_element(text: str) -> dict[str, str]:
    """Parse one element (no commas) into lower-case names -> unescaped values.

    :raises HeaderError: for a malformed pair, a repeated parameter or a comma.
    """
    comma = text.find(",")
    if comma >= 0:
        raise HeaderError("an element cannot contain ','", text, comma)
    params, why, position = _scan(text)
    if params is None:
        raise HeaderError(f"malformed Forwarded element: {why}", text, position)
    return params


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """Parse a whole ``Forwarded`` value (all lines joined with commas), left to right.

    Empty elements are left out.  Node, host and proto values are returned as written
    (unescaped): use :func:`node_text` and the resolver to interpret them.

    :raises HeaderError: at the first malformed element, with the position in ``value``.
    """
    elements: list[dict[str, str]] = []
    start = 0
    while start <= len(value):
        comma = value.find(",", start)
        stop = len(value) if comma < 0 else comma
        params, why, position = _scan(value[start:stop])
        if params is None:
            raise HeaderError(f"malformed Forwarded element: {why}", value, start + position)
        if params:
            elements.append(params)
        start = stop + 1
    return elements


def elements_from_right(value: str) -> Iterable[Element]:
    """The non-empty elements of ``value`` from the right, lazily.  Never raises.

    A malformed element is yielded with ``params=None``; an element longer than
    :data:`MAX_ELEMENT_LENGTH` is yielded cut short, with ``params=None``, and ends the
    iteration (what lies left of it is not read).
    """
    if "," not in value and len(value) <= MAX_ELEMENT_LENGTH:
        # One element (one proxy, the common case): no generator needed.
        text = value.strip(" \t")
        if not text:
            return ()
        params, why, position = _scan(text)
        if params is None:
            return (Element(text, None, f"{why} at character {position}"),)
        return (Element(text, params, ""),) if params else ()
    return _from_right(value)


def _from_right(value: str) -> Iterator[Element]:
    end = len(value)
    empty = 0  # elements skipped for being empty ("", ";"): capped like X-Forwarded-For's
    while end >= 0:
        right = end
        text, end = item_left_of(value, end, MAX_ELEMENT_LENGTH)
        if text is None:
            yield Element(
                value[right - 64 : right].strip(" \t"),
                None,
                f"longer than {MAX_ELEMENT_LENGTH} characters",
            )
            return
        params, why, position = _scan(text) if text else ({}, "", -1)
        if params is None:
            yield Element(text, None, f"{why} at character {position}")
        elif params:
            yield Element(text, params, "")
        else:
            # RFC 9110 §5.6.1 allows empty elements, but a run of them must not cost one
            # step each: past MAX_EMPTY_ITEMS the rest is not read, like an over-long one.
            empty += 1
            if empty > MAX_EMPTY_ITEMS:
                yield Element(text, None, f"more than {MAX_EMPTY_ITEMS} empty elements")
                return


def node_text(node: str) -> str:
    """The part of an RFC 7239 §6 node that names an address, for ``parse_node``.

    An obfuscated port (``:_abc``, §6.3) means "no port": it is dropped, after an IPv4
    address or a bracketed IPv6 address only (a bare IPv6 address cannot carry a port).
    Everything else is returned unchanged.
    """
    if ":_" in node:
        found = _abnf.OBFPORT_SUFFIX.search(node)
        if found is not None:
            name = node[: found.start()]
            if name.endswith("]") or ":" not in name:
                return name
    return node


def describe_node(node: str) -> str:
    """Why a node is not an address, in words (RFC 7239 §6.2, §6.3)."""
    name = node
    if ":" in node and not node.startswith("["):
        name = node.split(":", 1)[0]
    if name.lower() == "unknown":
        return "'unknown' (the proxy did not know its peer, RFC 7239 §6.2)"
    if _abnf.OBFNODE.fullmatch(name):
        return f"{node[:64]!r}, an obfuscated identifier (RFC 7239 §6.3), not an address"
    return f"{node[:64]!r}, which is not an IP address"


def quote(value: str) -> str:
    """A value as RFC 7239 §4 wants it written: a token as is, else a quoted-string.

    Only ``"`` and ``\\`` are escaped (RFC 9110 §5.6.4 allows a quoted-pair for any
    character, but a sender SHOULD NOT escape others).
    """
    if _abnf.TOKEN.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def format_element(params: Mapping[str, str]) -> str:
    """Serialise parameters into one element, quoting values that need it.

    Values must not contain ``,`` (every comma ends an element) or control characters
    other than HTAB.
    """
    return ";".join(f"{name}={quote(value)}" for name, value in params.items())
