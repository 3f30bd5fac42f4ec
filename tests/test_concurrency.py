"""One middleware shared by many threads (gunicorn gthread, waitress): no cross-talk.

Each request carries its own client address, scheme, host and prefix; the app checks that
it sees exactly its own.  More distinct addresses than the caches hold are used, so the
bounded caches are emptied again and again while other threads read them (the core's
lookups are single ``dict.get(key, MISSING)`` calls, so an entry vanishing between two
requests is only a miss).  The thread switch interval is lowered to interleave as much as
possible.  Bounded in count, never timed.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trustproxy import APPLIED, Resolver, WSGIMiddleware, _address, _values, asgi
from trustproxy._memo import MEMO_SIZE
from trustproxy.asgi import ASGIMiddleware

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import invariants

THREADS = 16
REQUESTS = 1500  # per thread; 24,000 in all, several times every cache size


@pytest.fixture(autouse=True)
def _fast_switching() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def _request(thread: int, n: int) -> tuple[dict[str, Any], dict[str, str]]:
    """A distinct request and what the app must see for it."""
    client = f"2001:db8:{thread + 1:x}::{n:x}" if n % 2 else f"100.{thread}.{n >> 8}.{n & 255}"
    scheme = "https" if n % 3 else "http"
    host = f"t{thread}-{n}.example"
    prefix = f"/t{thread}/r{n}"
    environ = {
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": "127.0.0.1" if n % 5 else "10.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "app.example",
        "SERVER_NAME": "app.example",
        "SERVER_PORT": "80",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {client}, 10.{thread}.{n & 255}.1",
        # Hop-aligned: the client's values are second from the right, like its address.
        "HTTP_X_FORWARDED_PROTO": f"ftp, {scheme}, http",
        "HTTP_X_FORWARDED_HOST": f"evil.example, {host}, internal.example",
        "HTTP_X_FORWARDED_PREFIX": f"//evil, {prefix}, /internal",
    }
    expected = {
        "REMOTE_ADDR": client,
        "wsgi.url_scheme": scheme,
        "HTTP_HOST": host,
        "SCRIPT_NAME": prefix,
        "SERVER_PORT": "443" if scheme == "https" else "80",
    }
    return environ, expected


def _run_threads(target: Any) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(thread: int) -> None:
        try:
            barrier.wait()
            target(thread)
        except BaseException as error:  # collected and re-raised in the main thread
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_concurrency_wsgi_threads_see_their_own_request() -> None:
    local = threading.local()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        local.seen = {key: environ[key] for key in local.expected}
        local.status = environ["trustproxy.resolution"].status
        return []

    middleware = WSGIMiddleware(app, trusted="loopback, 10.0.0.0/8", fields="for,proto,host,prefix")
    mismatches: list[tuple[int, int, dict[str, str]]] = []
    served = [0] * THREADS

    def work(thread: int) -> None:
        for n in range(REQUESTS):
            environ, local.expected = _request(thread, n)
            middleware(environ, lambda *a: None)
            if local.seen != local.expected or local.status != APPLIED:
                mismatches.append((thread, n, local.seen))
            served[thread] += 1

    assert _run_threads(work) == []
    assert mismatches == []
    assert served == [REQUESTS] * THREADS


def test_concurrency_caches_cleared_under_readers() -> None:
    """A thread that keeps emptying every cache never breaks or confuses the readers."""
    resolver = Resolver(trusted="loopback, 10.0.0.0/8", fields="for,proto,host,prefix")
    stop = threading.Event()
    clears = [0]

    def clearer() -> None:
        while not stop.is_set():
            for cache in (
                _address._cache,
                _values._host_cache,
                _values._prefix_cache,
                resolver._memo,
                resolver.policy._cache,
            ):
                if cache is not None:
                    cache.clear()
            clears[0] += 1

    wrong: list[tuple[int, int]] = []

    def work(thread: int) -> None:
        for n in range(REQUESTS // 3):
            environ, expected = _request(thread, n)
            values = tuple(environ.get(key) for key in resolver.keys(_environ_key))
            result = resolver._resolve(environ["REMOTE_ADDR"], values, "http", "app.example",
                                       80, "")  # fmt: skip
            if (result.client, result.host, result.prefix) != (
                expected["REMOTE_ADDR"],
                expected["HTTP_HOST"],
                expected["SCRIPT_NAME"],
            ):
                wrong.append((thread, n))

    background = threading.Thread(target=clearer)
    background.start()
    try:
        errors = _run_threads(work)
    finally:
        stop.set()
        background.join()
    assert errors == []
    assert wrong == []
    assert clears[0] > 0
    assert resolver._memo is not None and len(resolver._memo) <= MEMO_SIZE


def _environ_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def test_concurrency_asgi_tasks_see_their_own_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many asyncio tasks in flight at once through one ASGIMiddleware, each yielding to
    the others between reading its scope and checking it: no cross-talk, and
    ``trustproxy.asgi.current`` (a context variable) is each task's own scope."""
    tasks_count = 200
    rounds = 20

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        snapshot = (scope["client"][0], scope["scheme"], scope["root_path"])
        await asyncio.sleep(0)
        own = asgi.current.get()
        await asyncio.sleep(0)
        await send({"seen": snapshot, "current": own is scope})

    middleware = ASGIMiddleware(app, trusted="loopback, 10.0.0.0/8", fields="for,proto,host,prefix")
    # What creating an AccessLogFilter does, undone after the test: set the context
    # variable the access log reads.
    monkeypatch.setattr(asgi, "_tracking", True)

    async def one(thread: int, n: int) -> bool:
        environ, expected = _request(thread, n)
        lines = [
            (key[5:].replace("_", "-").lower(), value)
            for key, value in environ.items()
            if key.startswith("HTTP_X_FORWARDED_")
        ]
        scope = invariants.asgi_scope(environ["REMOTE_ADDR"], lines)
        scope["path"] = "/"
        messages: list[Any] = []

        async def send(message: Any) -> None:
            messages.append(message)

        await middleware(scope, None, send)
        want = (expected["REMOTE_ADDR"], expected["wsgi.url_scheme"], expected["SCRIPT_NAME"])
        return messages == [{"seen": want, "current": True}]

    async def main() -> list[bool]:
        results: list[bool] = []
        for round_ in range(rounds):
            batch = [one(task, round_ * tasks_count + task) for task in range(tasks_count)]
            results += await asyncio.gather(*batch)
        return results

    results = asyncio.run(main())
    assert results == [True] * (tasks_count * rounds)
