"""docs/platforms.md: each section's code block, run as printed, against the header shapes
the platform documents (recorded here as data, with where they come from).

The blocks are taken from the page (``<!-- platform: NAME -->`` before a fenced python
block) and executed with ``app`` bound to a recording application, so the page cannot
show a configuration the suite did not run.  No network traffic: the middlewares are
called in-process with requests built by tests/builders.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest

import builders
from test_scenarios import run_asgi
from trustproxy import ASGIMiddleware, ConfigError, WSGIMiddleware

PAGE = Path(__file__).resolve().parent.parent / "docs" / "platforms.md"
BLOCK = re.compile(r"<!-- platform: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)```", re.S)
BLOCKS = {m.group("name"): m.group("code") for m in BLOCK.finditer(PAGE.read_text())}

SECRET = "platform-test-origin-secret"
FDID = "55ce4ed1-4b06-4bf1-b40e-4638452104da"  # the format Microsoft documents
CLIENT = "203.0.113.7"
FORGED = "6.6.6.6"


class Shape(NamedTuple):
    id: str
    peer: str
    lines: tuple[tuple[str, str], ...]
    status: str
    client: str
    scheme: str = "http"


def xff(value: str) -> tuple[str, str]:
    return ("X-Forwarded-For", value)


HTTPS = ("X-Forwarded-Proto", "https")

SHAPES: dict[str, list[Shape]] = {
    # Heroku (devcenter "HTTP Routing", headers): the router appends the connecting
    # address to X-Forwarded-For and sets X-Forwarded-Proto/-Port; dynos see a private
    # 10.x router address.
    "heroku": [
        Shape("plain", "10.1.45.23", (xff(CLIENT), HTTPS, ("X-Forwarded-Port", "443")),
              "applied", CLIENT, "https"),
        Shape("client-sent-xff", "10.1.45.23", (xff(f"{FORGED}, {CLIENT}"), HTTPS),
              "applied", CLIENT, "https"),
    ],
    # Render: client -> Cloudflare -> Render proxy -> app; "X-Forwarded-For: <client>,
    # <Cloudflare edge>" from a 10.x address (104.22.17.40 is in Cloudflare's ranges).
    "render": [
        Shape("plain", "10.21.157.68", (xff(f"{CLIENT}, 104.22.17.40"), HTTPS),
              "applied", CLIENT, "https"),
        Shape("client-sent-xff", "10.21.157.68",
              (xff(f"{FORGED}, {CLIENT}, 104.22.17.40"),), "applied", CLIENT),
        Shape("not-via-cloudflare", "10.21.157.68", (xff(f"{FORGED}, 198.51.100.20"),),
              "applied", "198.51.100.20"),
    ],
    # Fly.io ("Request headers"): Fly-Client-IP is the address the Fly Proxy accepted the
    # connection from; X-Forwarded-For's rightmost item is the app's own address.
    "fly": [
        Shape("fly-client-ip", "172.16.5.2",
              (("Fly-Client-IP", CLIENT), xff(f"{FORGED}, {CLIENT}, 66.241.124.10")),
              "applied", CLIENT),
        Shape("not-via-fly-proxy", "198.51.100.9", (("Fly-Client-IP", FORGED),),
              "untrusted-peer", "198.51.100.9"),
    ],
    # Google external Application Load Balancer ("HTTP headers"): "X-Forwarded-For:
    # <supplied-value>,<client-ip>,<load-balancer-ip>".
    "cloud-run": [
        Shape("via-load-balancer", "169.254.169.126",
              (xff(f"{CLIENT}, 34.120.0.10"), HTTPS), "applied", CLIENT, "https"),
        Shape("client-sent-xff", "169.254.169.126",
              (xff(f"{FORGED}, {CLIENT}, 34.120.0.10"), HTTPS), "applied", CLIENT, "https"),
        Shape("run-app-url-one-item", "169.254.169.126", (xff(CLIENT),), "unresolved",
              "169.254.169.126"),
    ],
    # CloudFront appends the viewer; the ALB appends the edge that connected to it and
    # sets X-Forwarded-Proto; the custom origin header comes from the distribution.
    "alb-cloudfront": [
        Shape("with-origin-header", "10.0.1.23",
              (xff(f"{CLIENT}, 130.176.1.1"), HTTPS, ("X-Origin-Verify", SECRET)),
              "applied", CLIENT, "https"),
        Shape("client-sent-xff", "10.0.1.23",
              (xff(f"{FORGED}, {CLIENT}, 130.176.1.1"), ("X-Origin-Verify", SECRET)),
              "applied", CLIENT),
        Shape("another-distribution", "10.0.1.23",
              (xff(f"{FORGED}, 130.176.1.1"), HTTPS), "unverified-peer", "10.0.1.23"),
        Shape("wrong-origin-header", "10.0.1.23",
              (xff(f"{FORGED}, 130.176.1.1"), ("X-Origin-Verify", "guess")),
              "unverified-peer", "10.0.1.23"),
    ],
    # Azure Front Door ("Protocol support for HTTP headers"): X-Azure-FDID on every
    # request to the origin; App Service passes X-Forwarded-For with the address it saw,
    # port included.
    "azure-front-door": [
        Shape("via-front-door", "169.254.130.5",
              (xff(f"{CLIENT}, 147.243.0.10:50312"), HTTPS, ("X-Azure-FDID", FDID),
               ("X-Azure-ClientIP", CLIENT)), "applied", CLIENT, "https"),
        Shape("client-sent-xff", "169.254.130.5",
              (xff(f"{FORGED}, {CLIENT}:51234, 147.243.0.10:50312"), ("X-Azure-FDID", FDID)),
              "applied", CLIENT),
        Shape("another-front-door", "169.254.130.5",
              (xff(f"{FORGED}, 147.243.0.10:50312"),
               ("X-Azure-FDID", "00000000-0000-0000-0000-000000000000")),
              "unverified-peer", "169.254.130.5"),
    ],
    # ingress-nginx with use-forwarded-headers + compute-full-forwarded-for: the
    # controller (pod network) appends $remote_addr (the load balancer) to the
    # load balancer's X-Forwarded-For.
    "ingress-nginx": [
        Shape("behind-l7-lb", "10.244.1.17", (xff(f"{CLIENT}, 10.0.3.4"), HTTPS),
              "applied", CLIENT, "https"),
        Shape("client-sent-xff", "10.244.1.17", (xff(f"{FORGED}, {CLIENT}, 10.0.3.4"),),
              "applied", CLIENT),
        # use-forwarded-headers off, behind an L4 balancer: the controller writes the
        # client it saw.
        Shape("controller-writes-xff", "10.244.1.17", (xff(CLIENT),), "applied", CLIENT),
        # use-forwarded-headers WITHOUT compute-full-forwarded-for: the client's own header
        # is passed on as is, and its forged item is all there is (the page's warning).
        Shape("without-compute-full-forwarded-for", "10.244.1.17", (xff(FORGED),),
              "applied", FORGED),
    ],
    # nginx's $proxy_add_x_forwarded_for appends $remote_addr.
    "docker-compose": [
        Shape("via-nginx", "172.28.0.2", (xff(f"{FORGED}, {CLIENT}"), HTTPS), "applied",
              CLIENT, "https"),
        Shape("from-outside-the-network", "172.29.0.5", (xff(FORGED),), "untrusted-peer",
              "172.29.0.5"),
    ],
}  # fmt: skip

CASES = [
    pytest.param(name, shape, id=f"{name}/{shape.id}")
    for name, shapes in SHAPES.items()
    for shape in shapes
]


@pytest.fixture(autouse=True)
def platform_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORIGIN_SECRET", SECRET)
    monkeypatch.setenv("AZURE_FDID", FDID)


def test_every_section_is_tested() -> None:
    assert set(BLOCKS) == set(SHAPES)


class Recorder:
    """The ``app`` a block wraps: WSGI and ASGI at once, keeping what it was given."""

    def __init__(self) -> None:
        self.seen: Optional[dict[str, Any]] = None

    def __call__(self, first: Any, second: Any, third: Any = None) -> Any:
        self.seen = first
        if third is None:  # WSGI
            second("200 OK", [])
            return [b""]

        async def done() -> None:
            return None

        return done()


def middleware(name: str) -> tuple[Any, Recorder]:
    recorder = Recorder()
    namespace: dict[str, Any] = {"app": recorder}
    exec(compile(BLOCKS[name], f"docs/platforms.md:{name}", "exec"), namespace)
    return namespace["app"], recorder


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_platform_shape(name: str, shape: Shape) -> None:
    wrapped, recorder = middleware(name)
    if isinstance(wrapped, ASGIMiddleware):
        assert run_asgi(wrapped, builders.scope(shape.peer, shape.lines)) == []
        seen = recorder.seen
        assert seen is not None
        got = (seen["trustproxy.resolution"].status, seen["client"][0], seen["scheme"])
    else:
        assert isinstance(wrapped, WSGIMiddleware)
        wrapped(builders.environ(shape.peer, shape.lines), lambda *a: None)
        seen = recorder.seen
        assert seen is not None
        got = (seen["trustproxy.resolution"].status, seen["REMOTE_ADDR"],
               seen["wsgi.url_scheme"])  # fmt: skip
        assert "HTTP_X_ORIGIN_VERIFY" not in seen and "HTTP_X_AZURE_FDID" not in seen
    assert got == (shape.status, shape.client, shape.scheme)


def test_compose_service_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="host name"):
        WSGIMiddleware(Recorder(), trusted="nginx")
