"""Hostile Host and duplicate-header input, sent through every recipe that writes the Host
into a header the app trusts (``Forwarded``'s ``host=``, ``X-Forwarded-Host``).

A proxy that copies the client's Host into its own header must not let one client byte end
the quoted string or start a new element or list item.  Given
``Host: a",for=6.6.6.6;host="evil.example``, nginx and HAProxy used to write
``for=127.0.0.5;host="a",for=6.6.6.6;host="evil.example";proto=http``: split on commas, the
client's tail became the rightmost element, credited to the trusted proxy (issue 10, item 1).
A comma in the Host shifts X-Forwarded-Host items between hops (item 14).

Each case is the headers a client sends (and, for the absolute-form cases, the request
target).  :func:`check` states what must hold: the proxy refuses the request (4xx), or the
app sees the real client and a Host that is a plain name or address, never a forged one.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

import pytest

from .lab import Reply, fetch

#: The attacker's address in every case (any untrusted loopback address would do).
SOURCE = "127.0.0.5"

#: What the recipes let through (the ``plain_host`` maps, ACLs and matchers in configs/):
#: a name of letters, digits, ".", "-", "_", or an [IPv6] literal, with an optional port.
#: Nothing here can end a quoted-string or start an element, a parameter or a list item.
PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?")

#: Text that appears only where the client forged something.
FORGED = ("6.6.6.6", "evil")

INJECT = 'a",for=6.6.6.6;host="evil.example'


class Case(NamedTuple):
    headers: list[tuple[str, str]]
    target: Optional[str] = None  # an absolute-form request target (RFC 9112 section 3.2.2)


def _host(value: str) -> list[tuple[str, str]]:
    return [("Host", value)]


def _plain(*lines: tuple[str, str]) -> Case:
    """A plain Host and ``lines``."""
    return Case([("Host", "good.example"), *lines])


XFH = ("X-Forwarded-Host", "evil.example")


#: A Host (or absolute-form target) that is not a plain name or address.
HOSTS = [
    pytest.param(Case(_host(INJECT)), id="quote-comma-element"),
    pytest.param(Case(_host("evil.example,good.example")), id="comma"),
    pytest.param(Case(_host("evil.example, good.example")), id="comma-space"),
    pytest.param(Case(_host("good.example:,evil.example")), id="port-comma"),
    pytest.param(Case(_host("good.example:80,evil.example:80")), id="comma-after-port"),
    pytest.param(Case(_host("good.example;for=6.6.6.6;host=evil.example")), id="semicolon"),
    pytest.param(Case(_host('good.example"evil.example')), id="quote"),
    pytest.param(Case(_host("evil.example\\")), id="backslash-end"),
    pytest.param(
        Case(_host('good.example\\",for=6.6.6.6;host=\\"evil.example')), id="backslash-quote"
    ),
    pytest.param(Case(_host("evil.example=6.6.6.6")), id="equals"),
    pytest.param(Case([("Host", "evil.example"), ("Host", "good.example")]), id="two-hosts"),
    pytest.param(Case([("Host", "good.example"), ("Host", INJECT)]), id="two-hosts-inject"),
    pytest.param(Case([("Host", "good.example"), ("Host", "good.example")]), id="two-same-hosts"),
    pytest.param(Case(_host("good.example"), f"http://{INJECT}/echo"), id="absolute-inject"),
    pytest.param(
        Case(_host("good.example"), "http://evil.example,good.example/echo"), id="absolute-comma"
    ),
]

#: A plain Host, and forwarding headers of the client's own on two lines each.
LINES = [
    pytest.param(_plain(XFH, XFH), id="two-xf-host-lines"),
    pytest.param(
        _plain(
            ("Forwarded", "for=6.6.6.6;host=evil.example"),
            ("Forwarded", 'for=6.6.6.6;host="evil.example"'),
        ),
        id="two-forwarded-lines",
    ),
    pytest.param(
        _plain(("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "6.6.6.6"), XFH),
        id="two-xff-lines",
    ),
]

HOSTILE = HOSTS + LINES

#: Hosts every recipe must still pass on, so the check cannot refuse everything.
GOOD = [
    pytest.param("good.example", id="name"),
    pytest.param("Good-1.example:8080", id="name-port"),
    pytest.param("203.0.113.7", id="ipv4"),
    pytest.param("[2001:db8::7]:8443", id="ipv6-port"),
]


def send(url: str, case: Case, source: str = SOURCE) -> Reply:
    """``url`` with ``case``'s headers (its own Host lines) and request target; an
    absolute-form target keeps ``url``'s path."""
    target = None
    if case.target:
        path = "/" + url.split("://", 1)[1].partition("/")[2]
        target = case.target.replace("/echo", path)
    return fetch(url, case.headers, source=source, target=target)


def check(reply: Reply, source: str = SOURCE) -> None:
    """The request was refused, or the app saw ``source`` and a plain, unforged Host.

    The app servers answer 200 to every Host of :data:`HOSTS` but the two-line and
    absolute-form ones (test_hostile_host_app_reached_directly), so a 4xx for those is the
    proxy's; two Host lines or an absolute-form target that reached the server may be
    refused there, which keeps them from the app just as well.
    """
    if 400 <= reply.status < 500:
        return  # refused: the app never saw it
    assert reply.status == 200, (reply.status, reply.body[:300])
    seen = reply.json
    assert (seen["status"], seen["client"]) == ("applied", source), seen
    assert PLAIN_HOST.fullmatch(seen["host"]), seen
    for forged in FORGED:
        assert forged not in seen["host"] and forged not in seen["url"], seen


def name_of(host: str) -> str:
    """A Host without its port."""
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.rpartition(":")[0] if ":" in host else host


def check_good(reply: Reply, sent: str, source: str = SOURCE) -> None:
    """A plain Host reaches the app, as the host the app uses."""
    assert reply.status == 200, (reply.status, reply.body[:300])
    seen = reply.json
    assert (seen["status"], seen["client"]) == ("applied", source), seen
    assert name_of(seen["host"]).lower() == name_of(sent).lower(), seen


def good_case(host: str) -> Case:
    return Case(_host(host))
