"""uvicorn's own HTTP and WebSocket protocol tests, run with trustproxy.uvicorn's wrapper.

uvicorn's ``tests/protocols/test_http.py`` and ``test_websocket.py`` (from its source
distribution, fetched by ``scripts/fetch_peer_tests.py`` as for tests/test_uvicorn_peer.py)
run in a child pytest whose ``http_protocol_cls`` fixture gives, for httptools and h11,
``proxy_protocol(base=...)`` fed a PROXY header carrying the connection's own addresses as
soon as the connection is made (uvicorn's tests do not send one).  So every request,
keep-alive cycle, pipelined request, flow-control pause, upgrade and shutdown of its suite
goes through the wrapper, after the header path.  EXCLUDED lists what is not run, with the
reason; each excluded case must really fail (checked), so none is kept for nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from fetch_peer_tests import fetch_tree  # noqa: E402

from test_uvicorn_peer import MODULE, NEW_IMPORT, ORIGINAL_IMPORT  # noqa: E402

MODULES = ["tests/protocols/test_http.py", "tests/protocols/test_websocket.py"]

FIXTURE = """def http_protocol_cls(request: pytest.FixtureRequest):
    return import_from_string(request.param)"""
WRAPPED = """def http_protocol_cls(request: pytest.FixtureRequest):
    import trustproxy_fed
    return trustproxy_fed.fed(import_from_string(request.param))"""

FED = '''
"""uvicorn's protocol, wrapped by trustproxy.uvicorn, fed the connection's own header."""
import os

import trustproxy.uvicorn as tpu


def fed(base):
    if base.__name__ not in ("H11Protocol", "HttpToolsProtocol"):
        return base  # zttp: not wrapped
    kind = "h11" if base.__name__ == "H11Protocol" else "httptools"
    trusted = os.environ.get("FED_TRUSTED", "127.0.0.1, ::1, unix")
    proxied = tpu.proxy_protocol(trusted=trusted, base=kind)

    class Fed(proxied):
        def connection_made(self, transport):
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            local = transport.get_extra_info("sockname")
            if isinstance(peer, tuple) and isinstance(local, tuple):
                family = "TCP6" if ":" in peer[0] else "TCP4"
                line = f"PROXY {family} {peer[0]} {local[0]} {peer[1]} {local[1]}\\r\\n"
            else:
                line = "PROXY UNKNOWN\\r\\n"
            self.data_received(line.encode())

    Fed.__name__ = base.__name__  # uvicorn's tests branch on the protocol's name
    return Fed
'''

#: test id -> why it is not run.  None: all of uvicorn's HTTP and WebSocket protocol
#: tests pass with the wrapper (zttp, which it does not wrap, is left out with -k).
EXCLUDED: dict[str, str] = {}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Fetched with test_uvicorn_peer's edit, so both share one cached tree; copied here.
    fetched = fetch_tree(
        "uvicorn", ["tests/", "pyproject.toml"], {MODULE: [(ORIGINAL_IMPORT, NEW_IMPORT)]}
    )
    root = tmp_path_factory.mktemp("uvicorn-suite") / "tree"
    shutil.copytree(fetched, root)
    conftest = root / "tests" / "conftest.py"
    text = conftest.read_text()
    assert FIXTURE in text, "uvicorn's http_protocol_cls fixture changed"
    conftest.write_text(text.replace(FIXTURE, WRAPPED))
    (root / "trustproxy_fed.py").write_text(FED)
    return root


def _pytest(
    root: Path, *args: str, env: Optional[dict[str, str]] = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(root)])
    env.pop("TRUSTPROXY_PROXY_PROTOCOL_TRUSTED", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-p", "no:cacheprovider",
         "-o", "addopts=-rfE --strict-markers", "-q", "-k", "not zttp", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_uvicorn_protocol_tests_pass_with_the_wrapper(suite: Path) -> None:
    deselect = [f"--deselect={name}" for name in EXCLUDED]
    run = _pytest(suite, *MODULES, *deselect)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary, summary


def test_the_wrapper_was_used(suite: Path) -> None:
    """The fixture edit took: with the peer untrusted, uvicorn's test fails (the
    connection is closed before its request is read), and passes otherwise."""
    case = "tests/protocols/test_http.py::test_get_request"
    assert " 2 passed" in " " + _pytest(suite, case).stdout.strip().splitlines()[-1]
    refused = _pytest(suite, case, env={"FED_TRUSTED": "10.0.0.0/8"})
    assert refused.stdout.strip().splitlines()[-1].startswith("2 failed"), refused.stdout


def test_every_excluded_case_really_fails(suite: Path) -> None:
    if not EXCLUDED:
        return
    run = _pytest(suite, *EXCLUDED)
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"{len(EXCLUDED)} failed"), summary
