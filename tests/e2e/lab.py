"""The proxy lab: start real proxies and app servers on loopback, and talk to them.

Everything here runs foreground processes in their own process group (so a stop kills
the workers too), on ephemeral ports, with configs rendered from ``configs/*.tmpl`` into a
temporary folder.  Readiness is a real HTTP request in a bounded loop: a bare TCP connect
shows up as a bad request in HAProxy's log and proves nothing about the upstream.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"
APPS = HERE / "apps"

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: Every live process, so an interrupted session still stops them (see conftest).
LIVE: list[Proc] = []


#: Every port :func:`free_port` has handed out in this process.
_HANDED_OUT: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port the kernel just handed out (other sessions run servers too).

    There is a small window before the server binds it again; the kernel hands ports out
    in a rotating order, so a clash within that window is unlikely.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The kernel may hand the same port out again once the probing socket is closed (a
    # proxy's plain and TLS listeners once got one port: nginx "duplicate listen"), so a
    # port is never handed out twice in one test run.
    for _ in range(100):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("the kernel keeps handing out ports already in use by this run")


def free_port_pair() -> int:
    """A port free on both 127.0.0.1 and ::1, so a recipe's IPv4 and IPv6 listeners can
    share one port number, as ``listen 80`` and ``listen [::]:80`` do in the docs (a
    recipe that writes its port as a literal then holds for both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("::1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def render(text: str, values: Mapping[str, object]) -> str:
    """Replace ``{{name}}`` placeholders; a placeholder with no value is an error.

    ``{{`` is used because nginx and Apache own ``$name`` and Caddy owns ``{name}``.
    """

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for placeholder {{{{{name}}}}}")
        return str(values[name])

    return _PLACEHOLDER.sub(one, text)


def docs_part(text: str) -> str:
    """The lines of a template between ``docs:begin`` and ``docs:end`` marker lines.

    The lines outside are lab plumbing (pid files, temp paths, logs) a reader does not need.
    """
    out: list[str] = []
    keep = False
    for line in text.splitlines():
        if "docs:begin" in line:
            keep = True
            continue
        if "docs:end" in line:
            keep = False
            continue
        if keep:
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def find_binary(name: str) -> str:
    """The full path of a proxy binary; in CI a missing one is a failure, not a skip."""
    import pytest

    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        where = {"envoy": "pip install '.[e2e]'", "traefik": "pip install '.[e2e]'"}
        hint = where.get(name, "scripts/test installs it with apt-get")
        if IN_CI:
            pytest.fail(f"{name} is not installed ({hint})", pytrace=False)
        pytest.skip(f"{name} is not installed ({hint})")
    return path


class Proc:
    """A foreground server process in its own process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        env: Optional[Mapping[str, str]] = None,
        grace: float = 3.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.grace = grace
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.popen = subprocess.Popen(
            self.argv,
            cwd=workdir,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        LIVE.append(self)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM the whole group, SIGKILL it after ``grace`` seconds."""
        if self in LIVE:
            LIVE.remove(self)
        pgid = self.popen.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(self.grace)
        # the workers too, even when the master already exited
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._log.close()

    def wait_ready(
        self, url: str, *, timeout: float = 15.0, expect: int = 200, netns: Optional[str] = None
    ) -> None:
        """Poll ``url`` with real GET requests until it answers ``expect`` (bounded)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.log()}")
            try:
                status = (netns_fetch(netns, url) if netns else fetch(url, timeout=2.0)).status
                if status == expect:
                    return
                last = f"HTTP {status}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.03)
        self.stop()
        raise RuntimeError(f"{self.name} not ready at {url} ({last}):\n{self.log()}")


def stop_all() -> None:
    for proc in list(LIVE):
        proc.stop()


class Reply:
    """One HTTP response: status, headers, body, and the body as JSON when it is JSON."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def json(self) -> dict[str, Any]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


def fetch(
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    source: Optional[str] = None,
    timeout: float = 10.0,
    target: Optional[str] = None,
) -> Reply:
    """GET ``url`` from the loopback address ``source``, sending ``headers`` verbatim.

    ``http.client`` sends each line as given (duplicates and underscore names included) and
    never follows redirects.  https is not verified: the lab certificate is self-signed.
    Host lines in ``headers`` replace the one built from ``url``; ``target`` replaces the
    request target (an absolute-form ``http://host/path``, RFC 9112 section 3.2.2).
    """
    scheme, rest = url.split("://", 1)
    hostport, _, path = rest.partition("/")
    host, port = _split_hostport(hostport)
    source_address = (source, 0) if source else None
    conn: http.client.HTTPConnection
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(
            host, port, timeout=timeout, source_address=source_address, context=ctx
        )
    else:
        conn = http.client.HTTPConnection(
            host, port, timeout=timeout, source_address=source_address
        )
    try:
        headers = list(headers)
        own_host = any(name.lower() == "host" for name, _ in headers)
        conn.putrequest("GET", target or "/" + path, skip_host=own_host, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return Reply(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def netns_fetch(
    netns: str, url: str, headers: Iterable[tuple[str, str]] = (), source: Optional[str] = None
) -> Reply:
    """:func:`fetch` run inside network namespace ``netns`` (``ip netns exec``)."""
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from lab import fetch; "
        "r = fetch(sys.argv[2], json.loads(sys.argv[3]), source=sys.argv[4] or None, timeout=5); "
        "print(json.dumps([r.status, r.headers, r.body.decode('latin-1')]))"
    )
    argv = ["ip", "netns", "exec", netns, python(), "-c", script, str(HERE), url,
            json.dumps(list(headers)), source or ""]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        raise OSError(f"fetch in {netns} failed: {done.stderr.strip()[-300:]}")
    status, reply_headers, body = json.loads(done.stdout)
    return Reply(status, [tuple(h) for h in reply_headers], body.encode("latin-1"))


def _split_hostport(hostport: str) -> tuple[str, int]:
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]:")
        return host, int(port)
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def make_cert(folder: Path) -> dict[str, Path]:
    """A self-signed EC P-256 certificate for localhost/127.0.0.1 (0.01 s; RSA takes 0.2 s)."""
    openssl = find_binary("openssl")
    key, cert, both = folder / "key.pem", folder / "cert.pem", folder / "both.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    both.write_bytes(cert.read_bytes() + key.read_bytes())  # HAProxy wants one file
    key.chmod(0o644)  # workers that drop to nobody must still read it
    return {"cert": cert, "key": key, "both": both}


def python() -> str:
    return sys.executable
