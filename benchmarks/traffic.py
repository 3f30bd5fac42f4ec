"""The requests a real server hands a middleware, built for the benchmarks.

One traffic generator for ``bench.py``, the instruction counters (``icount_*.py``) and
``throughput.py``'s in-process estimate.  Three ways of repeating a request:

``NEW``
    every request from a client address the middleware has not seen lately: the
    addresses cycle through a pool of 200,000 (70 % IPv4, 30 % IPv6, public-looking,
    drawn once with a fixed seed before anything is timed), far more than any memo holds.
    One cursor serves every batch, so no two requests within 200,000 share a client.
``REPEATED``
    one client over and over, but every request still built afresh.
``IDENTICAL``
    a shallow copy of one prepared environ or scope: every value is the *same* object
    on every request, so its hash is already cached.  The old benchmarks' way, kept for
    reference; no server works like that.

In ``NEW`` and ``REPEATED`` every value is a new object with no cached hash, as servers
build them.  gunicorn decodes each header line it parses into new ``str`` objects and
names the environ key ``"HTTP_" + name``; uvicorn builds a new ``headers`` list of new
``bytes`` tuples (``name.lower()``, value) and a new scope dict for every request.  Here a
WSGI environ gets values decoded from bytes (``bytes.decode`` always makes a new string)
and keys made by concatenation; an ASGI scope gets names and values encoded from text
(``str.encode`` always makes new bytes).  ``REMOTE_ADDR`` and ``client`` are new objects
too: nginx opens a new upstream connection for every request unless ``keepalive`` is
configured.  All of this happens when a batch is built, before the clock starts.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Environ = dict[str, Any]
Scope = dict[str, Any]

NEW = "new client"
REPEATED = "repeated client"
IDENTICAL = "identical objects"
MODES = (NEW, REPEATED, IDENTICAL)

#: The proxy in front of the app: every benchmark trusts it.
PEER = "127.0.0.1"
CLIENTS = 200_000
IPV6_SHARE = 0.3
SEED = 11

#: The forwarding headers a proxy sends for each field (nginx's usual set), in order.
FORWARDED_VALUES = {
    "proto": ("X-Forwarded-Proto", "https"),
    "host": ("X-Forwarded-Host", "shop.example"),
    "port": ("X-Forwarded-Port", "443"),
    "prefix": ("X-Forwarded-Prefix", "/app"),
}

#: What a browser sends besides, as a proxy passes it on (nginx sends ``Connection:
#: close`` upstream by default).  Middleware that scans every header pays for these.
ORDINARY = (
    ("Host", "127.0.0.1:8000"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en-GB,en;q=0.7"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
    ("Cookie", "session=0123456789abcdef0123456789abcdef"),
    ("Connection", "close"),
)

#: The item written left of the client in a padded X-Forwarded-For (never trusted).
PADDING_ITEM = "6.6.6.6"


@dataclass(frozen=True)
class Shape:
    """Which forwarding headers a request carries.

    :param fields: X-Forwarded-* fields sent (``"for"`` is X-Forwarded-For with the
        client); ``()`` sends none.
    :param padding: how many items stand left of the client in X-Forwarded-For.
    :param forwarded: send one RFC 7239 ``Forwarded`` header (for, proto, host) instead.
    """

    fields: tuple[str, ...] = ("for", "proto")
    padding: int = 0
    forwarded: bool = False

    @property
    def batch_scale(self) -> float:
        """Fraction of the usual number of requests to time (a 90 KB header takes a while
        to build)."""
        return 0.1 if self.padding >= 1000 else 1.0

    @property
    def chunk(self) -> int:
        """How many requests to build at a time: about 150 KB, so they stay in cache."""
        return 2 if self.padding >= 1000 else 50


FOR_PROTO = Shape()
FIVE = Shape(("for", "proto", "host", "port", "prefix"))
NO_HEADERS = Shape(())
LONG = Shape(padding=9_999)
FORWARDED = Shape((), forwarded=True)


def client_pool(count: int = CLIENTS, seed: int = SEED) -> list[str]:
    """``count`` distinct public-looking client addresses, ``IPV6_SHARE`` of them IPv6.

    Canonical text, as a proxy writes ``$remote_addr``.  None is in 10.0.0.0/8,
    127.0.0.0/8 or fc00::/7, where the benchmarks' trusted networks are.
    """
    rng = random.Random(seed)
    excluded = {0, 10, 100, 127, 169, 172, 192, 198}  # private, shared, loopback, special
    seen: set[str] = set()
    pool: list[str] = []
    while len(pool) < count:
        if rng.random() < IPV6_SHARE:
            # 2000::/3, global unicast; 2001:db8::/32 (documentation) left out.
            value = (1 << 125) | rng.getrandbits(125)
            if value >> 96 == 0x20010DB8:
                continue
            text = socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
        else:
            first = rng.randint(1, 223)
            if first in excluded:
                continue
            text = f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if text not in seen:
            seen.add(text)
            pool.append(text)
    return pool


def _environ_key(name: str) -> bytes:
    return name.upper().replace("-", "_").encode("latin-1")


class Traffic:
    """Batches of WSGI environs or ASGI scopes, ready to hand to a middleware."""

    def __init__(self, count: int = CLIENTS, seed: int = SEED) -> None:
        self.clients = client_pool(count, seed)
        self._cursor = 0
        self._identical: dict[tuple[str, Shape], Any] = {}
        self._padding: dict[int, str] = {}
        rng = random.Random(seed + 1)
        self._ports = [str(rng.randint(32768, 60999)) for _ in range(4096)]

    # -- which clients --------------------------------------------------------------

    def _indices(self, mode: str, n: int) -> Sequence[int]:
        if mode == REPEATED:
            return [0] * n
        start = self._cursor
        count = len(self.clients)
        self._cursor = (start + n) % count
        return [(start + i) % count for i in range(n)]

    def _pad(self, shape: Shape) -> str:
        if shape.padding not in self._padding:
            self._padding[shape.padding] = (PADDING_ITEM + ", ") * shape.padding
        return self._padding[shape.padding]

    def header_lines(self, shape: Shape, client: str) -> list[tuple[str, str]]:
        """The request's header lines as text, for a client address."""
        return [
            (name, head + self._node(shape, name, client) + tail if carries else head)
            for name, head, tail, carries in self._template(shape)
        ]

    def _template(self, shape: Shape) -> list[tuple[str, str, str, bool]]:
        """(name, text before the client, text after it, whether the line carries it)."""
        lines = [(name, value, "", False) for name, value in ORDINARY]
        if shape.forwarded:
            lines.append(("Forwarded", "for=", ";proto=https;host=shop.example", True))
        for field in shape.fields:
            if field == "for":
                lines.append(("X-Forwarded-For", self._pad(shape), "", True))
            else:
                name, value = FORWARDED_VALUES[field]
                lines.append((name, value, "", False))
        return lines

    @staticmethod
    def _node(shape: Shape, name: str, client: str) -> str:
        # RFC 7239 section 6: an IPv6 node is bracketed, and so quoted.
        if name == "Forwarded" and ":" in client:
            return f'"[{client}]"'
        return client

    # -- WSGI ----------------------------------------------------------------------

    def wsgi(self, shape: Shape, mode: str, n: int) -> list[Environ]:
        """``n`` environs as gunicorn builds them, behind the proxy at ``PEER``."""
        if mode == IDENTICAL:
            key = ("wsgi", shape)
            if key not in self._identical:
                self._identical[key] = self.wsgi(shape, REPEATED, 1)[0]
            prepared: Environ = self._identical[key]
            return [prepared.copy() for _ in range(n)]
        # Each line as bytes, as the server read it: decoded per request into new str.
        template = [
            (_environ_key(name), head.encode("latin-1"), tail.encode("latin-1"), carries)
            for name, head, tail, carries in self._template(shape)
        ]
        clients = self.clients
        ports = self._ports
        environs = []
        for number, index in enumerate(self._indices(mode, n)):
            client = clients[index]
            environ: Environ = {
                "wsgi.version": (1, 0),
                "wsgi.multithread": False,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "wsgi.input_terminated": True,
                "SERVER_SOFTWARE": "gunicorn/23.0.0",
                "REQUEST_METHOD": b"GET".decode("latin-1"),
                "QUERY_STRING": "",
                "RAW_URI": b"/orders/42".decode("latin-1"),
                "SERVER_PROTOCOL": b"HTTP/1.1".decode("latin-1"),
            }
            for key, head, tail, carries in template:
                if carries:
                    node = self._node(shape, "Forwarded" if key == b"FORWARDED" else "", client)
                    value = (head + node.encode("latin-1") + tail).decode("latin-1")
                else:
                    value = head.decode("latin-1")
                environ["HTTP_" + key.decode("latin-1")] = value
            environ["wsgi.url_scheme"] = "http"
            environ["REMOTE_ADDR"] = PEER.encode("latin-1").decode("latin-1")
            environ["REMOTE_PORT"] = ports[number & 4095].encode("latin-1").decode("latin-1")
            environ["SERVER_NAME"] = b"127.0.0.1".decode("latin-1")
            environ["SERVER_PORT"] = b"8000".decode("latin-1")
            environ["PATH_INFO"] = b"/orders/42".decode("latin-1")
            environ["SCRIPT_NAME"] = ""
            environs.append(environ)
        return environs

    # -- ASGI ----------------------------------------------------------------------

    def asgi(self, shape: Shape, mode: str, n: int) -> list[Scope]:
        """``n`` HTTP scopes as uvicorn builds them, behind the proxy at ``PEER``."""
        if mode == IDENTICAL:
            key = ("asgi", shape)
            if key not in self._identical:
                self._identical[key] = self.asgi(shape, REPEATED, 1)[0]
            prepared: Scope = self._identical[key]
            return [dict(prepared) for _ in range(n)]
        template = [
            (name.encode("latin-1"), head, tail, carries)
            for name, head, tail, carries in self._template(shape)
        ]
        clients = self.clients
        ports = self._ports
        scopes = []
        for number, index in enumerate(self._indices(mode, n)):
            client = clients[index]
            headers = []
            for name, head, tail, carries in template:
                if carries:
                    node = self._node(shape, "Forwarded" if name == b"Forwarded" else "", client)
                    value = (head + node + tail).encode("latin-1")
                else:
                    value = head.encode("latin-1")
                # bytes.lower() always returns a new object, as uvicorn's name.lower() does.
                headers.append((name.lower(), value))
            scopes.append(
                {
                    "type": "http",
                    "asgi": {"version": "3.0", "spec_version": "2.4"},
                    "http_version": "1.1",
                    "server": (b"127.0.0.1".decode("latin-1"), 8000),
                    "client": (PEER.encode("latin-1").decode("latin-1"), int(ports[number & 4095])),
                    "scheme": "http",
                    "method": b"GET".decode("latin-1"),
                    "root_path": "",
                    "path": b"/orders/42".decode("latin-1"),
                    "raw_path": b"/orders/42".lower(),
                    "query_string": b"",
                    "headers": headers,
                    "state": {},
                }
            )
        return scopes
