"""The trustproxy settings of every deployment recipe in ``docs/deploy/``.

The tests start their app servers with exactly these, and ``scripts/gen_deploy_docs.py``
writes them into the pages, so a page cannot show settings the suite did not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    # The decision page's setups that cannot run here (docs/setup.md): a balancer on its
    # own host, a proxy container, an ingress controller.  tests/test_docs_setups.py runs
    # each through WSGIMiddleware with the headers its diagram shows.
    "balancer": {"trusted": "10.0.0.5", "fields": ALL_FIELDS},
    "containers": {"trusted": "172.18.0.2", "fields": ALL_FIELDS},
    "kubernetes": {"trusted": "10.244.0.0/16", "fields": ALL_FIELDS[:4]},
}


def _literal(value: object, *, dict_form: bool = False) -> str:
    """A setting as the docs write it: lists as tuples in keywords, lists in a dict."""
    if isinstance(value, (list, tuple)):
        items = ", ".join(_literal(v) for v in value)
        if dict_form:
            return f"[{items}]"
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value).replace(chr(39), chr(34))


def settings_forms(name: str) -> dict[str, str]:
    """The recipe in each form a user writes it: Flask, Django settings, FastAPI."""
    settings = RECIPES[name]
    keywords = [f"    {k}={_literal(v)}," for k, v in settings.items()]
    entries = [f'    "{k}": {_literal(v, dict_form=True)},' for k, v in settings.items()]
    return {
        "Flask": "\n".join(
            ["from trustproxy import WSGIMiddleware", "",
             "app.wsgi_app = WSGIMiddleware(", "    app.wsgi_app,", *keywords, ")"]
        ),
        "Django": "\n".join(
            ["# settings.py", "MIDDLEWARE = [",
             '    "trustproxy.django.TrustProxyMiddleware",  # first',
             "    # ... the project's other middleware", "]",
             "TRUSTPROXY = {", *entries, "}"]
        ),
        "FastAPI, Starlette": "\n".join(
            ["# run uvicorn with --no-proxy-headers (hypercorn needs nothing)",
             "from trustproxy import ASGIMiddleware", "",
             "app.add_middleware(", "    ASGIMiddleware,", *keywords, ")"]
        ),
    }  # fmt: skip


def python_snippet(name: str) -> str:
    """The recipe as Material for MkDocs tabs, one per form (``settings_forms``)."""
    parts = []
    for title, code in settings_forms(name).items():
        body = "\n".join(f"    {line}" if line else "" for line in code.splitlines())
        parts.append(f'=== "{title}"\n\n    ```python\n{body}\n    ```\n')
    return "\n".join(parts)


@dataclass(frozen=True)
class Node:
    """One box of a setup's diagram: who, at which address, and the headers it sends on."""

    name: str
    address: str
    writes: tuple[str, ...] = ()
    #: A layer-4 balancer that keeps the client's address: not a hop the app sees.
    passthrough: bool = False
    #: What the box shows instead of ``address`` (an address that changes).
    shown: str = ""


@dataclass(frozen=True)
class Setup:
    """One answer of docs/setup.md: a chain of nodes and the recipe that matches it."""

    key: str
    title: str
    recipe: str  # a key of RECIPES
    nodes: tuple[Node, ...]  # the client first, the app's peer last
    client: str  # what the app must see
    page: str  # where the proxy's own configuration is
    #: (first node, last node, label) of a box drawn around nodes: a host, a network.
    group: tuple[int, int, str] | None = None
    hops: int | None = None  # draw where hops=N would count to, too
    notes: tuple[str, ...] = field(default=())


FORGED = "6.6.6.6"
CLIENT = "203.0.113.7"
FIVE = (
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: example.com",
    "X-Forwarded-Port: 443",
    "X-Forwarded-Prefix: /app",
)
BROWSER = Node("client", CLIENT, (f"X-Forwarded-For: {FORGED}  (forged)",))

SETUPS: list[Setup] = [
    Setup(
        "same-host", "A proxy on the same host", "single",
        (BROWSER, Node("nginx", "127.0.0.1", (f"X-Forwarded-For: {FORGED}, {CLIENT}", *FIVE))),
        CLIENT, "deploy/nginx.md", group=(1, 2, "one machine"),
    ),
    Setup(
        "balancer", "A load balancer on its own host", "balancer",
        (BROWSER, Node("HAProxy", "10.0.0.5", (f"X-Forwarded-For: {FORGED}, {CLIENT}", *FIVE))),
        CLIENT, "deploy/haproxy.md",
    ),
    Setup(
        "cloud", "A cloud load balancer (addresses unknown)", "aws-alb",
        (BROWSER, Node("AWS ALB", "10.0.3.17", shown="10.0.x.x, changing", writes=(
            f"X-Forwarded-For: {FORGED}, {CLIENT}", "X-Forwarded-Proto: https",
            "X-Forwarded-Port: 443")),),
        CLIENT, "deploy/aws-alb.md", group=(1, 2, "VPC subnets 10.0.0.0/16"),
    ),
    Setup(
        "cdn", "A CDN (Cloudflare)", "cloudflare-connecting-ip",
        (Node("client", CLIENT, (f"CF-Connecting-IP: {FORGED}  (forged)",)),
         Node("Cloudflare", "162.158.0.1", (f"CF-Connecting-IP: {CLIENT}",))),
        CLIENT, "deploy/cloudflare.md",
    ),
    Setup(
        "two-proxies", "Two proxies in a row", "chain-trusted",
        (BROWSER,
         Node("HAProxy", "127.0.0.3", (f"X-Forwarded-For: {FORGED}, {CLIENT}",
                                       "X-Forwarded-Proto: https",
                                       "X-Forwarded-Host: example.com")),
         Node("nginx", "127.0.0.2", (f"X-Forwarded-For: {FORGED}, {CLIENT}, 127.0.0.3",
                                     "X-Forwarded-Proto: https, http",
                                     "X-Forwarded-Host: example.com, example.com"))),
        CLIENT, "deploy/chain.md", hops=2,
    ),
    Setup(
        "containers", "Containers (Docker Compose)", "containers",
        (BROWSER, Node("proxy container", "172.18.0.2",
                       (f"X-Forwarded-For: {FORGED}, {CLIENT}", *FIVE))),
        CLIENT, "deploy/nginx.md", group=(1, 2, "network appnet 172.18.0.0/24"),
    ),
    Setup(
        "kubernetes", "Kubernetes (an ingress controller)", "kubernetes",
        (BROWSER,
         Node("cloud L4 balancer", "keeps the client's address", passthrough=True),
         Node("ingress-nginx pod", "10.244.1.7", (
             f"X-Forwarded-For: {CLIENT}", *FIVE[:3]))),
        CLIENT, "deploy/nginx.md", group=(2, 3, "cluster pods 10.244.0.0/16"),
    ),
]  # fmt: skip
