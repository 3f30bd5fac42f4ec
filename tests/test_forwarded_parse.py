"""The RFC 7239 parser on its own: grammar table, RFC examples, errors, properties.

Addresses: the RFC's examples use 192.0.2.0/24, which this project never uses; they are
rewritten to 203.0.113.0/24 (another documentation range) with the same last octet.
"""

from __future__ import annotations

from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustproxy import HeaderError, parse_forwarded
from trustproxy._forwarded import (
    MAX_ELEMENT_LENGTH,
    _scan,
    _scan_pairs,
    _scan_simple,
    elements_from_right,
    format_element,
    node_text,
    parse_element,
    quote,
)

# -- RFC 7239 examples -------------------------------------------------------------------

RFC_EXAMPLES = [
    # §4: quoted obfuscated node; "For" capitalised (names are case-insensitive, errata
    # 7973 rejected); the three parameters of one element; a two-element list.
    pytest.param('for="_gazonk"', [{"for": "_gazonk"}], id="s4-quoted-obfnode"),
    pytest.param(
        'For="[2001:db8:cafe::17]:4711"',
        [{"for": "[2001:db8:cafe::17]:4711"}],
        id="s4-capitalised-name-ipv6-port",
    ),
    pytest.param(
        "for=203.0.113.60;proto=http;by=203.0.113.43",
        [{"for": "203.0.113.60", "proto": "http", "by": "203.0.113.43"}],
        id="s4-three-parameters",
    ),
    pytest.param(
        "for=203.0.113.43, for=198.51.100.17",
        [{"for": "203.0.113.43"}, {"for": "198.51.100.17"}],
        id="s4-two-elements",
    ),
    # §5.3 / §5.4: host and proto values.
    pytest.param(
        'host="example.com:8080";proto=https',
        [{"host": "example.com:8080", "proto": "https"}],
        id="s5-host-and-proto",
    ),
    # §6: nodes with ports must be quoted.
    pytest.param('for="203.0.113.43:47011"', [{"for": "203.0.113.43:47011"}], id="s6-v4-port"),
    pytest.param(
        'for="[2001:db8:cafe::17]:47011"',
        [{"for": "[2001:db8:cafe::17]:47011"}],
        id="s6-v6-port",
    ),
    # §6.3: obfuscated identifiers.
    pytest.param(
        "for=_hidden, for=_SEVKISEK", [{"for": "_hidden"}, {"for": "_SEVKISEK"}], id="s6.3"
    ),
    # §7.1: one list, with or without spaces (the two-line form is tested below).
    pytest.param(
        'for=203.0.113.43,for="[2001:db8:cafe::17]",for=unknown',
        [{"for": "203.0.113.43"}, {"for": "[2001:db8:cafe::17]"}, {"for": "unknown"}],
        id="s7.1-no-spaces",
    ),
    pytest.param(
        'for=203.0.113.43, for="[2001:db8:cafe::17]", for=unknown',
        [{"for": "203.0.113.43"}, {"for": "[2001:db8:cafe::17]"}, {"for": "unknown"}],
        id="s7.1-spaces",
    ),
    # §7.4: the X-Forwarded-For transition example.
    pytest.param(
        'for=203.0.113.43, for="[2001:db8:cafe::17]"',
        [{"for": "203.0.113.43"}, {"for": "[2001:db8:cafe::17]"}],
        id="s7.4-transition",
    ),
    # §7.5: the example usage.
    pytest.param(
        "for=203.0.113.43,for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com",
        [
            {"for": "203.0.113.43"},
            {"for": "198.51.100.17", "by": "203.0.113.60", "proto": "http", "host": "example.com"},
        ],
        id="s7.5-usage",
    ),
]


@pytest.mark.parametrize(("value", "expected"), RFC_EXAMPLES)
def test_rfc_examples_parse(value: str, expected: list[dict[str, str]]) -> None:
    assert parse_forwarded(value) == expected


def test_rfc_7_1_lines_joined_equal_one_line() -> None:
    # §7.1: "Forwarded: for=192.0.2.43" + "Forwarded: for="[…]", for=unknown" is the same
    # list as the one-line form; callers join lines with ",".
    two_lines = ",".join(["for=203.0.113.43", 'for="[2001:db8:cafe::17]", for=unknown'])
    one_line = 'for=203.0.113.43, for="[2001:db8:cafe::17]", for=unknown'
    assert parse_forwarded(two_lines) == parse_forwarded(one_line)
    assert len(parse_forwarded(two_lines)) == 3


# -- the grammar table -------------------------------------------------------------------

VALID = [
    pytest.param("for=1.2.3.4", {"for": "1.2.3.4"}, id="token-value"),
    pytest.param('for="1.2.3.4"', {"for": "1.2.3.4"}, id="quoted-value"),
    pytest.param("FOR=1.2.3.4", {"for": "1.2.3.4"}, id="name-case-insensitive"),
    pytest.param("Proto=HTTPS", {"proto": "HTTPS"}, id="value-case-kept"),
    pytest.param("for = 1.2.3.4", {"for": "1.2.3.4"}, id="ows-around-equals"),
    pytest.param(
        " for=1.2.3.4 ;\tproto=https ", {"for": "1.2.3.4", "proto": "https"}, id="ows-semi"
    ),
    pytest.param("for=1.2.3.4;;proto=https", {"for": "1.2.3.4", "proto": "https"}, id="empty-pair"),
    pytest.param(";for=1.2.3.4;", {"for": "1.2.3.4"}, id="leading-trailing-empty-pairs"),
    pytest.param("", {}, id="empty-element"),
    pytest.param(" ; ;", {}, id="only-empty-pairs"),
    pytest.param('host="a\\.b"', {"host": "a.b"}, id="quoted-pair-unescaped"),
    pytest.param('x="say \\"hi\\""', {"x": 'say "hi"'}, id="escaped-quote"),
    pytest.param('x="back\\\\slash"', {"x": "back\\slash"}, id="escaped-backslash"),
    pytest.param('x="a;b"', {"x": "a;b"}, id="semicolon-inside-quotes"),
    pytest.param('x="a=b"', {"x": "a=b"}, id="equals-inside-quotes"),
    pytest.param('for=""', {"for": ""}, id="empty-quoted-string"),
    pytest.param("for=[2001:db8::1]", {"for": "[2001:db8::1]"}, id="unquoted-bracketed-ipv6"),
    pytest.param("for=2001:db8::1", {"for": "2001:db8::1"}, id="unquoted-bare-ipv6"),
    pytest.param("for=1.2.3.4:80", {"for": "1.2.3.4:80"}, id="unquoted-port"),
    pytest.param("by=_proxy;ext=x", {"by": "_proxy", "ext": "x"}, id="by-and-extension-kept"),
    pytest.param('x="caf\xe9"', {"x": "caf\xe9"}, id="obs-text-in-quotes"),
    pytest.param('x="\ta b"', {"x": "\ta b"}, id="htab-and-space-in-quotes"),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_elements(text: str, expected: dict[str, str]) -> None:
    assert parse_element(text) == expected


INVALID = [
    # (element, position of the first rejected character, why)
    pytest.param("for", 0, id="no-equals"),
    pytest.param("for=", 0, id="no-value"),
    pytest.param("=1.2.3.4", 0, id="no-name"),
    pytest.param("for=1.2.3.4;for=5.6.7.8", 12, id="repeated-parameter"),
    pytest.param("for=1.2.3.4;FOR=5.6.7.8", 12, id="repeated-other-case"),
    pytest.param('for="1.2.3.4', 0, id="unbalanced-quote"),
    pytest.param('for=1.2.3.4"', 11, id="quote-after-token"),
    pytest.param("for=1.2.3.4 proto=https", 12, id="missing-semicolon"),
    pytest.param("fo r=1.2.3.4", 0, id="space-in-name"),
    pytest.param("for=a/b", 5, id="slash-not-tchar"),
    pytest.param("for=a b", 6, id="space-in-token"),
    pytest.param('for="a\x00b"', 0, id="control-char-in-quotes"),
    pytest.param('for="a\\', 0, id="dangling-backslash"),
    pytest.param('for="\u0100"', 0, id="beyond-obs-text"),
    pytest.param("for=1.2.3.4,for=5.6.7.8", 11, id="comma-ends-element"),
]


@pytest.mark.parametrize(("text", "position"), INVALID)
def test_invalid_elements_raise_with_position(text: str, position: int) -> None:
    with pytest.raises(HeaderError) as caught:
        parse_element(text)
    assert caught.value.text == text
    assert caught.value.position == position
    assert f"at character {position}" in str(caught.value)


@pytest.mark.parametrize(("text", "position"), INVALID[:-1])
def test_invalid_elements_are_reported_not_raised_by_the_walk_parser(
    text: str, position: int
) -> None:
    (element,) = list(elements_from_right(text))
    assert element.params is None
    assert element.text == text.strip(" \t")
    assert element.error


def test_parse_forwarded_error_points_into_the_whole_value() -> None:
    value = "for=1.2.3.4, for=5.6.7.8;for=9.9.9.9"
    with pytest.raises(HeaderError) as caught:
        parse_forwarded(value)
    assert caught.value.position == value.index("for=9.9.9.9")
    assert caught.value.text == value


def test_repeated_parameter_error_names_it() -> None:
    with pytest.raises(HeaderError, match="'proto' occurs more than once"):
        parse_element("proto=http;Proto=https")


# -- splitting on every comma ------------------------------------------------------------

UNBALANCED = [
    pytest.param('for="6.6.6.6, for=1.2.3.4', "for=1.2.3.4", id="open-quote-before-comma"),
    pytest.param('for="6.6.6.6,for=1.2.3.4"', 'for=1.2.3.4"', id="quote-spanning-comma"),
    pytest.param('for=6.6.6.6", for=1.2.3.4', "for=1.2.3.4", id="stray-closing-quote"),
    pytest.param('for="a\\", for=1.2.3.4', "for=1.2.3.4", id="escaped-quote-at-end"),
]


@pytest.mark.parametrize(("value", "rightmost"), UNBALANCED)
def test_a_client_quote_spoils_only_its_own_element(value: str, rightmost: str) -> None:
    elements = list(elements_from_right(value))
    assert elements[0].text == rightmost
    assert elements[-1].params is None  # the client's own element is malformed


def test_elements_are_yielded_from_the_right_and_empty_ones_skipped() -> None:
    elements = list(elements_from_right(" , for=a1 ,,\t, for=a2;proto=http , ;, "))
    assert [e.params for e in elements] == [{"for": "a2", "proto": "http"}, {"for": "a1"}]


def test_a_too_long_element_stops_the_scan() -> None:
    value = "for=" + "x" * MAX_ELEMENT_LENGTH + ", for=1.2.3.4"
    elements = list(elements_from_right(value))
    assert elements[0].params == {"for": "1.2.3.4"}
    assert elements[1].params is None
    assert "longer than" in elements[1].error
    assert len(elements) == 2


def test_the_scan_is_lazy() -> None:
    # Only the rightmost element is parsed when only one is asked for.
    value = "garbage" * 10_000 + ", for=1.2.3.4"
    first = next(iter(elements_from_right(value)))
    assert first.params == {"for": "1.2.3.4"}


# -- nodes -------------------------------------------------------------------------------

NODES = [
    pytest.param("1.2.3.4:_abc", "1.2.3.4", id="obfport-after-ipv4"),
    pytest.param("[2001:db8::1]:_x.y-z", "[2001:db8::1]", id="obfport-after-ipv6"),
    pytest.param("1.2.3.4:8080", "1.2.3.4:8080", id="real-port-kept"),
    pytest.param("_hidden:_p", "_hidden", id="obfnode-loses-obfport-stays-no-address"),
    pytest.param("2001:db8::1:_x", "2001:db8::1:_x", id="bare-ipv6-cannot-carry-a-port"),
    pytest.param("1.2.3.4:_", "1.2.3.4:_", id="empty-obfport-is-not-one"),
]


@pytest.mark.parametrize(("node", "expected"), NODES)
def test_node_text(node: str, expected: str) -> None:
    assert node_text(node) == expected


# -- serialisation and properties --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        pytest.param("1.2.3.4", "1.2.3.4", id="token"),
        pytest.param("[::1]:80", '"[::1]:80"', id="needs-quotes"),
        pytest.param('a"b\\c', '"a\\"b\\\\c"', id="escapes"),
        pytest.param("", '""', id="empty"),
    ],
)
def test_quote(value: str, written: str) -> None:
    assert quote(value) == written


TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
names = st.text(alphabet=TCHAR, min_size=1, max_size=8).map(str.lower)
# Any value a quoted-string can carry (RFC 9110 §5.6.4: HTAB, SP, VCHAR, obs-text) except
# "," — every comma ends an element (see _forwarded's docstring).
values = st.text(
    alphabet=st.sampled_from(
        ["\t", " "]
        + [chr(c) for c in range(0x21, 0x7F) if chr(c) != ","]
        + ["\x80", "\xe9", "\xff"]
    ),
    max_size=20,
)
elements = st.dictionaries(names, values, min_size=1, max_size=5)


@given(st.lists(elements, min_size=1, max_size=6), st.sampled_from([",", ", ", " ,\t"]))
def test_round_trip(built: list[dict[str, str]], separator: str) -> None:
    """RFC 7239 §4: a list of elements serialised with token / quoted-string values parses
    back to the same parameters, left to right and (lazily) right to left."""
    value = separator.join(format_element(element) for element in built)
    assert parse_forwarded(value) == built
    assert [e.params for e in elements_from_right(value)] == built[::-1]


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_in_the_walk_parser(text: str) -> None:
    for element in elements_from_right(text):
        assert (element.params is None) == bool(element.error)


@given(st.text(max_size=300))
def test_strict_parser_raises_only_header_error(text: str) -> None:
    result: Optional[list[dict[str, str]]]
    try:
        result = parse_forwarded(text)
    except HeaderError as error:
        assert 0 <= error.position <= len(text)
        result = None
    if result is not None:
        assert all(isinstance(element, dict) and element for element in result)


# The element parser has fast paths (a split for quote-free elements, one fullmatch +
# findall for quoted ones) in front of the pair-by-pair scan; all must agree.
element_text = st.text(alphabet=' \t;=",\\abFORp1.:[]_-/\xe9', max_size=40)


@given(element_text)
def test_fast_paths_agree_with_the_pair_by_pair_scan(text: str) -> None:
    text = text.replace(",", "")
    slow = _scan_pairs(text)
    assert _scan(text) == slow
    if '"' not in text:
        assert _scan_simple(text) == slow[0]
