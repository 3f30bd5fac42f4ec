"""The trustproxy settings of every deployment recipe in ``docs/deploy/``.

The tests start their app servers with exactly these, and ``scripts/gen_deploy_docs.py``
writes them into the pages, so a page cannot show settings the suite did not run.
"""

from __future__ import annotations

ALL_FIELDS = ["for", "proto", "host", "port", "prefix"]

RECIPES: dict[str, dict[str, object]] = {
    # One proxy on the same host, connecting from 127.0.0.1 (test_xforwarded.py).
    "single": {"trusted": "127.0.0.1", "fields": ALL_FIELDS},
    # lighttpd writes no X-Forwarded-Port or -Prefix (the recipe removes a client's), so
    # its page applies neither: only what the proxy writes.
    "lighttpd": {"trusted": "127.0.0.1", "fields": ALL_FIELDS[:3]},
    # One proxy writing RFC 7239 Forwarded (test_forwarded.py).
    "forwarded": {
        "trusted": "127.0.0.1",
        "headers": "forwarded",
        "fields": ["for", "proto", "host"],
    },
    # client -> HAProxy (connects from 127.0.0.3) -> nginx (from 127.0.0.2) -> app.
    # 127.0.0.2/31 is exactly the two proxies, 127.0.0.2 and 127.0.0.3.
    "chain-trusted": {"trusted": ["127.0.0.2/31"], "fields": ALL_FIELDS[:4]},
    "chain-hops": {"trusted": "*", "hops": 2, "fields": ALL_FIELDS[:4]},
    # Recorded header shapes (test_recorded.py).  "cloudflare" is the preset of
    # Cloudflare's published ranges; 10.0.0.0/16 stands for the load balancer's subnets.
    "cloudflare-connecting-ip": {"trusted": ["cloudflare"], "headers": "cf-connecting-ip"},
    "cloudflare": {"trusted": ["cloudflare"], "fields": ["for", "proto"]},
    # Cloudflare -> the chain's inner nginx, which connects from 127.0.0.2 (proxy_bind).
    "cloudflare-nginx": {"trusted": ["127.0.0.2", "cloudflare"], "fields": ["for", "proto"]},
    "aws-alb": {"trusted": ["10.0.0.0/16"], "fields": ["for", "proto", "port"]},
}


def python_snippet(name: str) -> str:
    """The recipe as a WSGI app (Flask here) and an ASGI app would write it."""
    args = []
    for key, value in RECIPES[name].items():
        if isinstance(value, list):
            value = tuple(value)
        args.append(f"    {key}={repr(value).replace(chr(39), chr(34))},")
    return (
        "\n".join(
            [
                "# WSGI (gunicorn): Flask, Django, any WSGI app",
                "from trustproxy import WSGIMiddleware",
                "",
                "app.wsgi_app = WSGIMiddleware(",
                "    app.wsgi_app,",
                *args,
                ")",
                "",
                "# ASGI (uvicorn --no-proxy-headers, hypercorn): Starlette, FastAPI, Quart, Django",
                "from trustproxy.asgi import ASGIMiddleware",
                "",
                "app = ASGIMiddleware(",
                "    app,",
                *args,
                ")",
            ]
        )
        + "\n"
    )
