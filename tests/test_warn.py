"""Runtime warnings: once per cause, then rate-limited per kind, with an injected clock."""

from __future__ import annotations

import logging
from typing import Optional

import pytest

import trustproxy._warn
from trustproxy import Resolution, Resolver, WSGIMiddleware
from trustproxy._warn import Limiter, classify

XFF = "X-Forwarded-For"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resolve(
    peer: str, xff: Optional[str] = None, *, hops: Optional[int] = None, **extra: str
) -> Resolution:
    headers = [(XFF, xff)] if xff is not None else []
    headers += [(f"X-Forwarded-{k.title()}", v) for k, v in extra.items()]
    return Resolver(hops=hops, fields="for,proto,host").resolve(peer, headers)


@pytest.mark.parametrize(
    ("result", "kind", "cause"),
    [
        pytest.param(resolve("127.0.0.1", "1.2.3.4"), None, None, id="healthy-request-silent"),
        pytest.param(resolve("10.0.0.9", "1.2.3.4"), "untrusted-peer", "10.0.0.9",
                     id="untrusted-peer"),
        pytest.param(resolve("127.0.0.1", "127.0.0.2", hops=3), "short-chain", "127.0.0.1 1",
                     id="chain-shorter-than-hops"),
        pytest.param(resolve("127.0.0.1", "unknown"), "unresolved", "127.0.0.1",
                     id="not-an-address"),
        pytest.param(resolve("127.0.0.1", "1.2.3.4")._replace(status="conflict"), "conflict",
                     "127.0.0.1", id="other-status-is-its-own-kind"),
        pytest.param(resolve("127.0.0.1", "1.2.3.4", proto="gopher"), "ignored",
                     "127.0.0.1 proto", id="invalid-proto-ignored"),
    ],
)  # fmt: skip
def test_classify(result: Resolution, kind: Optional[str], cause: Optional[str]) -> None:
    found = classify(result)
    got = (found[0], found[1]) if found else (None, None)
    assert got == (kind, cause)


def make(clock: Clock, **options: float) -> tuple[Limiter, list[str]]:
    lines: list[str] = []
    logger = logging.getLogger(f"trustproxy.test.{id(lines)}")
    logger.propagate = False
    logger.setLevel(logging.WARNING)

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger.addHandler(Keep())
    return Limiter(logger, clock=clock, **options), lines  # type: ignore[arg-type]


def test_same_cause_logged_once_then_again_after_repeat() -> None:
    clock = Clock()
    limiter, lines = make(clock, repeat=3600)
    result = resolve("10.0.0.9", "1.2.3.4")
    assert [limiter(result) for _ in range(1000)].count(True) == 1
    assert len(lines) == 1
    assert "10.0.0.9" in lines[0]
    assert "add its address to trusted" in lines[0]
    clock.now += 3599
    assert not limiter(result)
    clock.now += 2
    assert limiter(result)
    assert len(lines) == 2


def test_distinct_causes_share_a_token_bucket_per_kind() -> None:
    clock = Clock()
    limiter, lines = make(clock, burst=3, rate=1 / 60)
    floods = [resolve(f"10.0.{i // 250}.{i % 250 + 1}", "1.2.3.4") for i in range(500)]
    assert sum(limiter(r) for r in floods) == 3
    # Another kind has its own budget.
    assert limiter(resolve("127.0.0.1", "unknown"))
    clock.now += 60  # one token earned back
    assert limiter(resolve("10.9.9.9", "1.2.3.4"))
    assert "497 similar untrusted-peer warning(s) suppressed" in lines[-1]
    assert not limiter(resolve("10.9.9.10", "1.2.3.4"))
    assert len(lines) == 5


def test_memory_is_bounded() -> None:
    clock = Clock()
    limiter, _ = make(clock, burst=10**9, max_causes=8)
    for i in range(100):
        limiter(resolve(f"10.0.0.{i + 1}", "1.2.3.4"))
    assert len(limiter._seen) == 8
    assert len(limiter._buckets) == 1


def test_disabled_logger_costs_nothing() -> None:
    clock = Clock()
    limiter, lines = make(clock)
    limiter.logger.setLevel(logging.ERROR)
    assert not limiter(resolve("10.0.0.9", "1.2.3.4"))
    assert lines == []
    assert limiter._seen == {}


def test_wsgi_middleware_logs_through_the_trustproxy_logger(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh process-wide limiter: other tests may already have logged this cause.
    monkeypatch.setattr(trustproxy._warn, "_default", trustproxy._warn.Limiter())

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        return [b""]

    middleware = WSGIMiddleware(app)  # type: ignore[arg-type]
    environ = {"REMOTE_ADDR": "10.77.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    with caplog.at_level(logging.WARNING, logger="trustproxy"):
        for _ in range(50):
            middleware(dict(environ), lambda *a: None)  # type: ignore[arg-type]
    records = [r for r in caplog.records if r.name == "trustproxy"]
    assert len(records) == 1
    assert "10.77.0.1" in records[0].getMessage()
