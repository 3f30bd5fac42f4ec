"""Providers that cannot run here (Cloudflare, AWS ALB): their documented header shapes.

The shapes follow the providers' documentation, quoted in ``docs/deploy/cloudflare.md``
and ``docs/deploy/aws-alb.md``; the settings are the pages' (``recipes.RECIPES``).
173.245.48.20 is an address in Cloudflare's published ranges (the ``cloudflare`` preset),
10.0.0.0/16 stands for the load balancer's subnets.  No network traffic: the WSGI
middleware is called in-process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

import pytest

from trustproxy import WSGIMiddleware

from .recipes import RECIPES


def run(recipe: str, peer: str, headers: dict[str, str], host: str = "www.example.com") -> Any:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.update(environ)
        return [b""]

    environ = {
        "REMOTE_ADDR": peer,
        "REMOTE_PORT": "40000",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": host,
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SCRIPT_NAME": "",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    WSGIMiddleware(app, **RECIPES[recipe])(environ, lambda *a: None)  # type: ignore[arg-type]
    return seen


def status(seen: dict[str, Any]) -> Optional[str]:
    resolution = seen.get("trustproxy.resolution")
    return resolution.status if resolution else None


CF_EDGE = "173.245.48.20"

CLOUDFLARE = [
    pytest.param(
        "cloudflare-connecting-ip", CF_EDGE,
        {"X-Forwarded-For": "6.6.6.6,203.0.113.1", "CF-Connecting-IP": "203.0.113.1"},
        ("applied", "203.0.113.1", "http", "www.example.com"),
        id="cf-connecting-ip",
    ),
    pytest.param(
        "cloudflare-connecting-ip", "203.0.113.9",
        {"CF-Connecting-IP": "6.6.6.6"},
        ("untrusted-peer", "203.0.113.9", "http", "www.example.com"),
        id="cf-connecting-ip-bypassed",
    ),
    pytest.param(
        "cloudflare", CF_EDGE,
        {"X-Forwarded-For": "203.0.113.1", "X-Forwarded-Proto": "https",
         "CF-Connecting-IP": "203.0.113.1", "CF-Visitor": '{"scheme":"https"}'},
        ("applied", "203.0.113.1", "https", "www.example.com"),
        id="cloudflare-plain",
    ),
    pytest.param(
        "cloudflare", CF_EDGE,
        {"X-Forwarded-For": "6.6.6.6,203.0.113.1", "X-Forwarded-Proto": "https",
         "X-Forwarded-Host": "evil.test", "CF-Connecting-IP": "203.0.113.1"},
        ("applied", "203.0.113.1", "https", "www.example.com"),
        id="cloudflare-visitor-forged-xff-and-host",
    ),
    pytest.param(
        "cloudflare", "203.0.113.9",
        {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https",
         "CF-Connecting-IP": "6.6.6.6"},
        ("untrusted-peer", "203.0.113.9", "http", "www.example.com"),
        id="cloudflare-bypassed",
    ),
    pytest.param(
        "cloudflare-nginx", "127.0.0.2",
        {"X-Forwarded-For": f"6.6.6.6,203.0.113.1, {CF_EDGE}",
         "X-Forwarded-Proto": "https, http", "CF-Connecting-IP": "203.0.113.1"},
        ("applied", "203.0.113.1", "https", "www.example.com"),
        id="cloudflare-then-nginx",
    ),
    pytest.param(
        "cloudflare-nginx", "127.0.0.2",
        {"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https, http"},
        ("applied", "203.0.113.9", "http", "www.example.com"),
        id="cloudflare-nginx-bypassed-cloudflare",
    ),
]  # fmt: skip

ALB = [
    pytest.param(
        {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
         "X-Forwarded-Port": "443"},
        ("applied", "203.0.113.7", None, "https", "443"),
        id="alb-append",
    ),
    pytest.param(
        {"X-Forwarded-For": "6.6.6.6, 203.0.113.7:51234", "X-Forwarded-Proto": "https",
         "X-Forwarded-Port": "443", "X-Forwarded-Host": "evil.test"},
        ("applied", "203.0.113.7", "51234", "https", "443"),
        id="alb-client-port-forged-xff",
    ),
    pytest.param(
        {"X-Forwarded-For": "[2001:db8::7]:51234", "X-Forwarded-Proto": "http",
         "X-Forwarded-Port": "80"},
        ("applied", "2001:db8::7", "51234", "http", "80"),
        id="alb-ipv6-client-port",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("recipe", "peer", "headers", "expected"), CLOUDFLARE)
def test_cloudflare_shapes(
    recipe: str, peer: str, headers: dict[str, str], expected: tuple[str, ...]
) -> None:
    seen = run(recipe, peer, headers)
    got = (status(seen), seen["REMOTE_ADDR"], seen["wsgi.url_scheme"], seen["HTTP_HOST"])
    assert got == expected


@pytest.mark.parametrize(("headers", "expected"), ALB)
def test_aws_alb_shapes(headers: dict[str, str], expected: tuple[Optional[str], ...]) -> None:
    seen = run("aws-alb", "10.0.1.23", headers)
    port = seen["REMOTE_PORT"] if seen["REMOTE_PORT"] != "40000" else None
    got = (status(seen), seen["REMOTE_ADDR"], port, seen["wsgi.url_scheme"], seen["SERVER_PORT"])
    assert got == expected
    # a client's X-Forwarded-Host is not used; the forwarded port joins the Host (as
    # werkzeug's ProxyFix does; Werkzeug drops a default port when it builds URLs)
    assert seen["HTTP_HOST"] == f"www.example.com:{expected[4]}"


def test_aws_alb_from_elsewhere_applies_nothing() -> None:
    seen = run("aws-alb", "203.0.113.50", {"X-Forwarded-For": "6.6.6.6"})
    assert (status(seen), seen["REMOTE_ADDR"]) == ("untrusted-peer", "203.0.113.50")
