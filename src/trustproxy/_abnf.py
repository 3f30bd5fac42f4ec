"""Grammar pieces, each under the rule it encodes.

Only what the resolver needs to *validate* values it may copy into a request lives here.
The regexes are compiled once at import; every one is anchored with ``fullmatch``.
"""

from __future__ import annotations

import re

# RFC 3986 §3.2.2:
#   dec-octet   = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "25" %x30-35 / "2" %x30-34 DIGIT
#   IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet
# dec-octet has no leading zeros, so "01.2.3.4" (octal to some parsers, decimal to
# nginx) is rejected: only the canonical dotted quad is an address here.
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = re.compile(rf"{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}")

# RFC 3986 §3.2.3: port = *DIGIT.  RFC 7239 §6 narrows it to 1*5DIGIT; a port that is
# written must be 1-65535 to name a real TCP port, so 0 and >65535 are rejected by value.
PORT_DIGITS = re.compile(r"[0-9]{1,5}")

# RFC 4007 §11.2: a zone id follows "%" and is not part of the address; it is meaningless
# to anyone but the host that wrote it, so it is dropped.  Characters kept conservative.
ZONE_ID = re.compile(r"[0-9A-Za-z._~-]+")

# IPv6address (RFC 3986 §3.2.2) is validated by the ipaddress module on a cache miss; this
# only screens the characters first so that junk never reaches it.
IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]{2,45}")

# RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ).
# A forwarded Host is copied into the request and then into URLs, caches and e-mails,
# so trustproxy accepts the DNS-shaped subset only: labels of unreserved characters
# (ALPHA / DIGIT / "-" / "_" / "~") separated by ".", each 1-63 characters (RFC 1035
# §2.3.4, RFC 1123 §2.1) — no empty label, so no "a..b" or ".a" — with at most one
# trailing "." (the absolute form, RFC 1034 §3.1).  The name without that dot is 1-253
# characters (checked by length).  sub-delims ("!$&'()*+,;=") and percent-encoding are
# refused: no real host name needs them and each has been used for cache poisoning or
# header smuggling.
REG_NAME = re.compile(r"[A-Za-z0-9_~-]{1,63}(?:\.[A-Za-z0-9_~-]{1,63})*\.?")
MAX_NAME_LENGTH = 253
# WHATWG URL Standard, host parsing, "ends in a number checker": when the last label (the
# trailing empty one dropped) is all ASCII digits, or "0x"/"0X" and hex digits (the IPv4
# number parser accepts "0x" alone as 0), URL parsers read the whole host as IPv4:
# "0x7f.0.0.1", "0x7f000001" and "1.0x2.3.4" are 127.0.0.1 and 1.2.3.4 to a browser.
# Such a name is accepted only when it is a canonical IPv4address (RFC 3986 §3.2.2: the
# IPv4 rule takes precedence over reg-name), so "01.2.3.4", "1.2.3" and "a.1" are refused.
ENDS_IN_NUMBER = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")

# RFC 3986 §3.3: path-absolute = "/" [ segment-nz *( "/" segment ) ]
#   pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
# A prefix is prepended to SCRIPT_NAME / root_path and ends up at the front of every URL
# the app builds, so it must not start with "//" (a network-path reference: an open
# redirect) and must not contain "\" (browsers read it as "/"), "?" or "#".
PREFIX = re.compile(r"(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+)+/?|/")
PCT_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")

# -- RFC 7239 Forwarded ------------------------------------------------------------------

# RFC 9110 §5.6.2: token = 1*tchar
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`"
#           / "|" / "~" / DIGIT / ALPHA
# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string.
# The value alternative also admits ":", "[" and "]": they are not tchars, so RFC 7239 §6
# wants any node with an IPv6 address or a port quoted, but proxies configured by hand
# write ``for=[2001:db8::1]`` and ``for=2001:db8::1`` unquoted.  Nothing else is relaxed,
# and the node grammar below still decides what the value means.
TCHARS = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
TOKEN = re.compile(rf"[{TCHARS}]+")

# RFC 9110 §5.6.4:
#   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
#   quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text );  obs-text = %x80-FF
# RFC 9110 §5.6.1 / RFC 7239 §4: OWS (SP / HTAB) is tolerated around ";", "," and "=".
# One pair, matched at a position inside an element: group 1 the name, group 2 an unquoted
# value, group 3 the inside of a quoted-string (quoted-pairs still escaped).
FORWARDED_PAIR = re.compile(
    rf"[ \t]*([{TCHARS}]+)[ \t]*=[ \t]*"
    rf"(?:([{TCHARS}:\[\]]+)|\"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]"
    rf"|\\[\t \x21-\x7e\x80-\xff])*)\")[ \t]*"
)
# A whole element: pairs separated by ";", each pair possibly empty (RFC 7239 §4).  Used
# to accept a well-formed element with one fullmatch + findall; on failure the pair-by-pair
# scan finds the position of the error.
FORWARDED_ELEMENT = re.compile(
    rf"(?:{FORWARDED_PAIR.pattern}|[ \t]*)(?:;(?:{FORWARDED_PAIR.pattern}|[ \t]*))*"
)
# The characters of an element made only of token pairs (no quoted-string): tchars, the
# relaxed ":[]" of unquoted values, "=", ";" and OWS.
FORWARDED_SIMPLE_CHARS = re.compile(rf"[{TCHARS}:\[\]=; \t]*")
QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)

# RFC 7239 §6:
#   node      = nodename [ ":" node-port ]
#   nodename  = IPv4address / "[" IPv6address "]" / "unknown" / obfnode
#   obfnode   = "_" 1*( ALPHA / DIGIT / "." / "_" / "-" )
#   node-port = port / obfport;  port = 1*5DIGIT
#   obfport   = "_" 1*( ALPHA / DIGIT / "." / "_" / "-" )
# The address forms are parsed by _address.parse_node; these two recognise the rest.
OBFNODE = re.compile(r"_[A-Za-z0-9._-]+")
OBFPORT_SUFFIX = re.compile(r":_[A-Za-z0-9._-]+\Z")
