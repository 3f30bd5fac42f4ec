"""``trustproxy probe URL``: send forgeries through the real public path, see what got in.

The URL is a page that reports what the app resolved: the ``trustproxy whoami`` page, or
the endpoint of :mod:`trustproxy.whoami` mounted in the app (behind a token).  The probe
first asks it plainly (the *baseline*: how the app sees the prober), then once per
:class:`~trustproxy._probe_checks.Check` with forged header lines, and compares.  A check
*held* when the app saw exactly the baseline, or when the path refused the request (any
answer but 200: a proxy answering 400 to a forgery is doing its job); it *failed* when a
field changed or a planted value appeared.

Requests are written on a raw socket, because duplicate lines, ``X.Forwarded.For`` and a
Host with a quote in it are what ``http.client`` would tidy away.  The probe connects to
the URL's host and port and nowhere else, and never follows a redirect.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from typing import NamedTuple, Optional, TextIO, Union
from urllib.parse import urlsplit

from . import __version__
from ._display import shorten, visible
from ._probe_checks import FIELDS, FORGED_HOST, FORGED_PREFIX, Check, checks
from ._values import host_name

__all__ = ["TOKEN_HEADER", "ProbeError", "Target", "render_text", "run", "target"]

#: The request header carrying the token of :mod:`trustproxy.whoami`'s endpoint.
TOKEN_HEADER = "Trustproxy-Probe-Token"

#: The most of an answer read: the whoami page echoes headers, shortened.
MAX_BODY = 1 << 20

Seen = dict[str, object]
JSONValue = Union[None, bool, int, float, str, list["JSONValue"], dict[str, "JSONValue"]]


class ProbeError(Exception):
    """The probe could not run (exit status 2): the message says why."""


class Target(NamedTuple):
    scheme: str
    host: str  # to connect to
    port: int
    authority: str  # the Host line, as the URL writes it
    path: str  # the request target


def target(url: str) -> Target:
    """Split an ``http``/``https`` URL; anything else is a :class:`ProbeError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"{url!r} is not an http:// or https:// URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ProbeError(f"{url!r} has a port that is not a number from 0 to 65535") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # The target goes into the request line as it is: a space or control character would
    # end it early or start a line of its own (RFC 9112 §3).
    if any(ord(char) <= 0x20 or ord(char) >= 0x7F for char in path + parts.netloc):
        raise ProbeError(f"{url!r} holds spaces, controls or non-ASCII: percent-encode them")
    return Target(parts.scheme, parts.hostname, port, parts.netloc.rpartition("@")[2], path)


def _request(where: Target, check: Optional[Check], token: Optional[str]) -> bytes:
    lines = [
        f"GET {where.path} HTTP/1.1",
        f"Host: {check.host if check and check.host else where.authority}",
    ]
    lines.append(f"User-Agent: trustproxy-probe/{__version__}")
    lines.append("Accept: application/json")
    if token:
        lines.append(f"{TOKEN_HEADER}: {token}")
    for name, value in check.lines if check else ():
        lines.append(f"{name}: {value}")
    lines.append(
        "Connection: close" + (f", {check.connection}" if check and check.connection else "")
    )
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Answer(NamedTuple):
    status: int  # 0: the connection closed without an answer
    body: bytes


def _send(
    where: Target,
    payload: bytes,
    *,
    source: Optional[str],
    timeout: float,
    context: Optional[ssl.SSLContext],
) -> _Answer:
    raw = socket.create_connection(
        (where.host, where.port), timeout, source_address=(source, 0) if source else None
    )
    sock: socket.socket = raw
    try:
        if where.scheme == "https":
            sock = (context or ssl.create_default_context()).wrap_socket(
                raw, server_hostname=where.host
            )
        sock.sendall(payload)
        response = http.client.HTTPResponse(sock, method="GET")
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return _Answer(0, b"")  # a refusal: the proxy hung up on the request
        return _Answer(response.status, response.read(MAX_BODY))
    finally:
        sock.close()


def _fields(body: bytes) -> Optional[Seen]:
    """What the app saw, from the whoami page's JSON or the endpoint's."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("resolution"), dict):
        data = data["resolution"]  # the whoami page
    if not isinstance(data, dict) or not all(key in data for key in FIELDS):
        return None
    return {key: data[key] for key in FIELDS}


def _planted(seen: Seen) -> list[str]:
    """Fields holding a value only a forgery writes."""
    found = []
    client = str(seen["client"]).lower()
    if client.startswith("6.6.6.") or client.startswith("2001:db8:6:"):
        found.append("client")
    # Exactly the planted name (with any port): a Host check's own Host holds it as text.
    if host_name(str(seen["host"])).lower() == FORGED_HOST:
        found.append("host")
    if str(seen["prefix"]).startswith(FORGED_PREFIX):
        found.append("prefix")
    return found


def run(
    url: str,
    *,
    source: Optional[str] = None,
    token: Optional[str] = None,
    timeout: float = 10.0,
    context: Optional[ssl.SSLContext] = None,
) -> dict[str, JSONValue]:
    """Probe ``url``; the report as a JSON-able dict (``"exit"`` is the exit status)."""
    where = target(url)

    def ask(check: Optional[Check]) -> _Answer:
        payload = _request(where, check, token)
        return _send(where, payload, source=source, timeout=timeout, context=context)

    try:
        first = ask(None)
    except (OSError, http.client.HTTPException) as error:
        raise ProbeError(f"cannot reach {url}: {error}") from None
    if first.status != 200:
        raise ProbeError(
            f"{url} answered HTTP {first.status or '(nothing)'} to a plain request: point the"
            " probe at the whoami page or endpoint itself (and give --token if it has one)"
        )
    baseline = _fields(first.body)
    if baseline is None:
        raise ProbeError(
            f"{url} did not answer with the JSON of trustproxy whoami or trustproxy.whoami"
        )
    rows: list[JSONValue] = []
    verdicts = []
    table = checks(
        str(baseline["client"]), str(baseline["scheme"]), where.authority, baseline["port"]
    )
    for check in table:
        sent: list[JSONValue] = [[name, shorten(value, 120)] for name, value in check.lines]
        if check.host:
            sent.append(["Host", check.host])
        if check.connection:
            sent.append(["Connection", f"close, {check.connection}"])
        row: dict[str, JSONValue] = {"name": check.name, "about": check.about, "sent": sent}
        try:
            answer = ask(check)
        except (OSError, http.client.HTTPException) as error:
            answer, row["error"] = _Answer(-1, b""), str(error)
        row["http_status"] = answer.status
        seen = _fields(answer.body) if answer.status == 200 else None
        if answer.status == -1 or (answer.status == 200 and seen is None):
            verdict = "inconclusive"
        elif seen is None:
            verdict = "refused"
        else:
            changed = {
                key: [baseline[key], seen[key]]
                for key in FIELDS
                if key not in check.ignore and seen[key] != baseline[key]
            }
            planted = _planted(seen)
            row["seen"] = dict(seen)  # type: ignore[arg-type]
            row["changed"] = changed  # type: ignore[assignment]
            row["planted"] = list(planted)
            verdict = "failed" if changed or planted else "held"
        row["verdict"] = verdict
        verdicts.append(verdict)
        rows.append(row)
    code = 1 if "failed" in verdicts else 2 if "inconclusive" in verdicts else 0
    return {
        "url": url,
        "source": source,
        "baseline": dict(baseline),  # type: ignore[arg-type]
        "checks": rows,
        "failed": [r["name"] for r in rows if isinstance(r, dict) and r["verdict"] == "failed"],
        "exit": code,
    }


def _value(value: object) -> str:
    return visible(shorten("-" if value is None else str(value), 120))


def render_text(report: dict[str, JSONValue], out: TextIO) -> None:
    """The report for a terminal: every value from the app goes through ``visible``."""
    base = report["baseline"]
    if not isinstance(base, dict):
        raise TypeError("not a run() report")
    seen_as = ", ".join(f"{key} {_value(base[key])}" for key in FIELDS)
    out.write(f"baseline: the app sees the prober as {seen_as}\n")
    source = report.get("source")
    if source and str(base["client"]) != str(source):
        out.write(
            f"note: the app does not see the prober's own address ({_value(source)}): it does"
            " not resolve the client through this path (is the proxy in `trusted`?)\n"
        )
    checks_ = report["checks"]
    for row in checks_ if isinstance(checks_, list) else []:
        if not isinstance(row, dict):
            continue
        verdict = str(row["verdict"])
        line = f"{verdict.upper():<12} {row['name']}: {row['about']}"
        if verdict == "refused":
            line += f" (HTTP {row['http_status'] or 'closed'})"
        if verdict == "inconclusive":
            line += f" ({_value(row.get('error') or 'no whoami JSON in the answer')})"
        out.write(visible(line) + "\n")
        changed = row.get("changed")
        if verdict == "failed" and isinstance(changed, dict):
            for key, pair in changed.items():
                if isinstance(pair, list):
                    out.write(f"             {key}: {_value(pair[0])} -> {_value(pair[1])}\n")
            planted = row.get("planted")
            seen = row.get("seen")
            for name in planted if isinstance(planted, list) else []:
                if isinstance(seen, dict) and name not in changed:
                    value = _value(seen.get(str(name)))
                    out.write(f"             {name}: forged value {value}\n")
    failed = report["failed"]
    if isinstance(failed, list) and failed:
        out.write(f"result: a forgery got through: {', '.join(map(str, failed))}\n")
        if not source and str(base["client"]) in ("127.0.0.1", "::1"):
            out.write(
                "note: the prober connected from loopback; if the app trusts loopback (its"
                " proxy is on this machine) it trusts the prober too: try --source 127.0.0.5\n"
            )
    elif report["exit"] == 2:
        out.write("result: some checks could not be run (see INCONCLUSIVE above)\n")
    else:
        out.write("result: every check held\n")
