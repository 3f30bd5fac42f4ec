"""How to run each proxy, and the values its config template is rendered with.

One :class:`ProxyKind` per proxy: the templates it reads, the command line, and two ways
to fill the placeholders — the lab's (loopback, ephemeral ports, a temp folder) and the
docs' (plain ports and paths a reader would use).  ``scripts/gen_deploy_docs.py`` renders
the same templates with the docs' values into ``docs/deploy/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .lab import CONFIGS, Proc, find_binary, free_port, free_port_pair, render

#: Placeholder values shared by every docs page.
DOCS_COMMON = {
    "app": "127.0.0.1:8000",
    "app_host": "127.0.0.1",
    "app_port": 8000,
    "cert": "/etc/ssl/example/cert.pem",
    "key": "/etc/ssl/example/key.pem",
    "both": "/etc/ssl/example/cert-and-key.pem",
    "modules": "/usr/lib/apache2/modules",
}

IS_ROOT = os.geteuid() == 0


@dataclass(frozen=True)
class Ports:
    port: int
    port6: int
    tls_port: int


@dataclass(frozen=True)
class ProxyKind:
    name: str
    binary: str
    templates: tuple[str, ...]
    argv: Callable[[str, Path], list[str]]
    lab_values: Callable[[Ports], dict[str, object]]
    docs_values: dict[str, object]
    env: Callable[[Path], dict[str, str]] = field(default=lambda lab: {})
    grace: float = 3.0
    ipv6: bool = True  # the recipe has an IPv6 listener
    prefix: bool = True  # the recipe strips /app and announces it in X-Forwarded-Prefix
    underscores: bool = True  # passes header names with "_" (X_Forwarded_For) on
    forwarded_quotes_ipv6: bool = True  # writes an IPv6 node as RFC 7239 wants: for="[...]"
    recipe: str = "single"  # the page's trustproxy settings: a key of recipes.RECIPES
    # Forwarding headers that, named in a client's Connection header, make the proxy
    # answer 400 itself (instead of dropping the header as hop-by-hop, RFC 9110 7.6.1)
    refuses_connection_naming: tuple[str, ...] = ()

    def start(
        self,
        lab: Path,
        app: str,
        certs: dict[str, Path],
        extra: Optional[dict[str, object]] = None,
        netns: Optional[str] = None,
        edit: Optional[Callable[[str], str]] = None,
    ) -> Running:
        """Render the templates into a fresh folder, start, and wait for ``/health``.

        ``edit`` rewrites each rendered config (a deliberately broken variant)."""
        folder = lab / self.name
        n = 0
        while folder.exists():
            n += 1
            folder = lab / f"{self.name}-{n}"
        folder.mkdir(parents=True)
        # One port number for the IPv4 and the IPv6 listener, as on the docs pages.
        both = free_port_pair()
        ports = Ports(both, both, free_port())
        host, _, app_port = app.rpartition(":")
        values: dict[str, object] = {
            "lab": folder,
            "app": app,
            "app_host": host,
            "app_port": app_port,
            "modules": "/usr/lib/apache2/modules",
            "dynamic": folder / "dynamic.yml",
            "user_lines": "User nobody\nGroup nogroup" if IS_ROOT else "",
            **{k: str(v) for k, v in certs.items()},
            **self.lab_values(ports),
            **(extra or {}),
        }
        paths = []
        for template in self.templates:
            target = folder / template.replace(".tmpl", "").replace("traefik-dynamic", "dynamic")
            text = render((CONFIGS / template).read_text(), values)
            target.write_text(edit(text) if edit else text)
            paths.append(target)
        binary = find_binary(self.binary)
        argv = self.argv(binary, paths[0])
        if netns:  # the namespace's own loopback and addresses
            argv = ["ip", "netns", "exec", netns, *argv]
        proc = Proc(self.name, argv, folder, self.env(folder), self.grace)
        running = Running(self, proc, ports)
        try:
            health = running.url("/health")
            if netns:
                health = f"http://{values['listen_check']}/health"
            proc.wait_ready(health, netns=netns)
        except BaseException:
            proc.stop()
            raise
        return running


@dataclass
class Running:
    kind: ProxyKind
    proc: Proc
    ports: Ports

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.ports.port}{path}"

    def url6(self, path: str) -> str:
        return f"http://[::1]:{self.ports.port6}{path}"

    def tls_url(self, path: str) -> str:
        return f"https://localhost:{self.ports.tls_port}{path}"

    def stop(self) -> None:
        self.proc.stop()


def _nginx_argv(binary: str, conf: Path) -> list[str]:
    # -p: prefix for relative paths; -e: the error log before the config is read
    return [binary, "-p", f"{conf.parent}/", "-e", "stderr", "-c", str(conf), "-g", "daemon off;"]


def _caddy_env(folder: Path) -> dict[str, str]:
    # Caddy keeps its state under the XDG folders; keep it inside the lab.
    return {
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "HOME": str(folder),
    }


KINDS: dict[str, ProxyKind] = {
    kind.name: kind
    for kind in [
        ProxyKind(
            name="nginx",
            binary="nginx",
            templates=("nginx.conf.tmpl",),
            argv=_nginx_argv,
            lab_values=lambda p: {
                "listen": f"127.0.0.1:{p.port}",
                "listen6": f"[::1]:{p.port6}",
                "tls_listen": f"127.0.0.1:{p.tls_port}",
            },
            docs_values={"listen": "80", "listen6": "[::]:80", "tls_listen": "443"},
            underscores=False,  # underscores_in_headers off
        ),
        ProxyKind(
            name="haproxy",
            binary="haproxy",
            templates=("haproxy.cfg.tmpl",),
            argv=lambda binary, conf: [binary, "-db", "-f", str(conf)],
            lab_values=lambda p: {
                "listen": f"127.0.0.1:{p.port}",
                "listen6": f"ipv6@::1:{p.port6}",
                "tls_listen": f"127.0.0.1:{p.tls_port}",
            },
            docs_values={"listen": ":80", "listen6": ":::80 v6only", "tls_listen": ":443"},
            underscores=False,  # option http-restrict-req-hdr-names delete
        ),
        ProxyKind(
            name="apache",
            binary="apache2",
            templates=("apache.conf.tmpl",),
            argv=lambda binary, conf: [
                binary,
                "-d",
                str(conf.parent),
                "-f",
                str(conf),
                "-DFOREGROUND",
            ],
            lab_values=lambda p: {
                "listen": f"127.0.0.1:{p.port}",
                "listen6": f"[::1]:{p.port6}",
                "tls_listen": f"127.0.0.1:{p.tls_port}",
                "vhost": f"127.0.0.1:{p.port}",
                "vhost6": f"[::1]:{p.port6}",
                "tls_vhost": f"127.0.0.1:{p.tls_port}",
            },
            docs_values={
                "listen": "0.0.0.0:80",
                "listen6": "[::]:80",
                "tls_listen": "0.0.0.0:443",
                "vhost": "*:80",
                "vhost6": "[::]:80",
                "tls_vhost": "*:443",
            },
        ),
        ProxyKind(
            name="caddy",
            binary="caddy",
            templates=("Caddyfile.tmpl",),
            argv=lambda binary, conf: [
                binary,
                "run",
                "--config",
                str(conf),
                "--adapter",
                "caddyfile",
            ],
            # ":port", as the docs' ":80": a site address with a host name would also
            # match only that Host, and other Hosts would get an empty 200 from Caddy.
            lab_values=lambda p: {
                "site": f":{p.port}",
                "tls_site": f"localhost:{p.tls_port}",
                "port": p.port,
                "tls_port": p.tls_port,
                "port6": p.port6,
            },
            docs_values={"site": ":80", "tls_site": "example.com", "port": 80, "tls_port": 443},
            env=_caddy_env,
        ),
        ProxyKind(
            name="lighttpd",
            binary="lighttpd",
            templates=("lighttpd.conf.tmpl",),
            argv=lambda binary, conf: [binary, "-D", "-f", str(conf)],
            lab_values=lambda p: {
                "user_lines": 'server.username = "nobody"' if IS_ROOT else "",
                "bind": "127.0.0.1",
                "port": p.port,
                "listen6": f"[::1]:{p.port6}",
                "tls_listen": f"127.0.0.1:{p.tls_port}",
                "tls_port": p.tls_port,
            },
            docs_values={
                "bind": "0.0.0.0",
                "port": 80,
                "listen6": "[::]:80",
                "tls_listen": ":443",
                "tls_port": 443,
                "user_lines": "",
            },
            prefix=False,
            recipe="lighttpd",
        ),
        ProxyKind(
            name="envoy",
            binary="envoy",
            templates=("envoy.yaml.tmpl",),
            argv=lambda binary, conf: [
                binary,
                "-c",
                str(conf),
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "-l",
                "warn",
            ],
            lab_values=lambda p: {
                "bind": "127.0.0.1",
                "port": p.port,
                "tls_port": p.tls_port,
            },
            docs_values={"bind": "0.0.0.0", "port": 80, "tls_port": 443},
            # Envoy writes a client on 127.0.0.1 or ::1 as its own host address
            # (test_envoy_writes_loopback_clients_as_its_own_address): no ::1 test.
            ipv6=False,
            # Envoy refuses a request whose Connection names one of these (envoy#8862);
            # other names it strips before its router adds the recipe's headers.
            refuses_connection_naming=("x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"),
        ),
        ProxyKind(
            name="traefik",
            binary="traefik",
            templates=("traefik.yml.tmpl", "traefik-dynamic.yml.tmpl"),
            argv=lambda binary, conf: [binary, f"--configFile={conf}"],
            lab_values=lambda p: {
                "listen": f"127.0.0.1:{p.port}",
                "tls_listen": f"127.0.0.1:{p.tls_port}",
                "port": p.port,  # web6 listens on the same port number
                "tls_port": p.tls_port,
                "port6": p.port6,
                "web": "web, web6",
            },
            docs_values={
                "listen": ":80",
                "tls_listen": ":443",
                "port": 80,
                "tls_port": 443,
                "dynamic": "/etc/traefik/dynamic.yml",
                "web": "web",
            },
            grace=0.3,  # graceful shutdown takes ~2 s; the tests need no grace
            underscores=False,
        ),
    ]
}


#: Proxies writing RFC 7239 Forwarded (``test_forwarded.py``).
FORWARDED: dict[str, ProxyKind] = {
    "nginx": ProxyKind(
        name="nginx-forwarded",
        binary="nginx",
        templates=("nginx-forwarded.conf.tmpl",),
        argv=_nginx_argv,
        lab_values=KINDS["nginx"].lab_values,
        docs_values=KINDS["nginx"].docs_values,
    ),
    "lighttpd": ProxyKind(
        name="lighttpd-forwarded",
        binary="lighttpd",
        templates=("lighttpd-forwarded.conf.tmpl",),
        argv=KINDS["lighttpd"].argv,
        lab_values=KINDS["lighttpd"].lab_values,
        docs_values=KINDS["lighttpd"].docs_values,
    ),
    "haproxy": ProxyKind(
        name="haproxy-forwarded",
        binary="haproxy",
        templates=("haproxy-forwarded.cfg.tmpl",),
        argv=KINDS["haproxy"].argv,
        lab_values=KINDS["haproxy"].lab_values,
        docs_values=KINDS["haproxy"].docs_values,
        forwarded_quotes_ipv6=False,
    ),
    "apache": ProxyKind(
        name="apache-forwarded",
        binary="apache2",
        templates=("apache-forwarded.conf.tmpl",),
        argv=KINDS["apache"].argv,
        lab_values=KINDS["apache"].lab_values,
        docs_values=KINDS["apache"].docs_values,
        forwarded_quotes_ipv6=False,
    ),
}

#: The two proxies of the chain client -> HAProxy -> nginx -> app (``test_chain.py``).
CHAIN: dict[str, ProxyKind] = {
    "haproxy": ProxyKind(
        name="chain-haproxy",
        binary="haproxy",
        templates=("chain-haproxy.cfg.tmpl",),
        argv=KINDS["haproxy"].argv,
        lab_values=KINDS["haproxy"].lab_values,
        docs_values={
            **KINDS["haproxy"].docs_values,
            "app": "127.0.0.1:8080",
            "source": "127.0.0.3",
        },
    ),
    "nginx": ProxyKind(
        name="chain-nginx",
        binary="nginx",
        templates=("chain-nginx.conf.tmpl",),
        argv=_nginx_argv,
        lab_values=KINDS["nginx"].lab_values,
        docs_values={"listen": "127.0.0.1:8080", "source": "127.0.0.2"},
    ),
}


def able(capability: str) -> list[str]:
    """The names of the proxies whose recipe has ``capability`` (a ProxyKind flag)."""
    return sorted(name for name, kind in KINDS.items() if getattr(kind, capability))
