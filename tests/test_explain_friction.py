"""``trustproxy explain`` on the requests a newcomer tries first (issue 14 §1)."""

from __future__ import annotations

import json

import pytest

from trustproxy.cli import main


def explain(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["explain", "--json", *argv]) in (0, 1)
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def test_forwarded_alone_is_noticed(capsys: pytest.CaptureFixture[str]) -> None:
    """The reason still says no X-Forwarded-For arrived; a warning says the Forwarded
    header that did arrive was not read, and how to read it."""
    report = explain(capsys, "--peer", "127.0.0.1", "-H", "Forwarded: for=203.0.113.9")
    assert report["warnings"] == [
        "a Forwarded header (RFC 7239) arrived, but headers='x-forwarded' does not read it;"
        " if your proxy writes Forwarded, use headers='forwarded' (or ('forwarded',"
        " 'x-forwarded') to cross-check both)"
    ]


def test_x_forwarded_for_alone_under_forwarded_is_noticed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--peer", "127.0.0.1", "--headers", "forwarded", "-H", "X-Forwarded-For: 1.2.3.4"]
    assert explain(capsys, *argv)["warnings"] == [
        "X-Forwarded-For arrived, but headers='forwarded' reads only Forwarded (RFC 7239);"
        " if your proxy writes X-Forwarded-*, use headers='x-forwarded'"
    ]


@pytest.mark.parametrize("headers", ["forwarded", "forwarded,x-forwarded"])
def test_forwarded_walk_lists_what_it_did_not_examine(
    capsys: pytest.CaptureFixture[str], headers: str
) -> None:
    line = "Forwarded: for=6.6.6.6, for=5.5.5.5;proto=https, for=203.0.113.9, for=10.0.0.2"
    argv = ["--peer", "127.0.0.1", "--trusted", "loopback,10.0.0.0/8", "--headers", headers]
    argv += ["-H", line, "-H", "X-Forwarded-For: 6.6.6.6, 5.5.5.5, 203.0.113.9, 10.0.0.2"]
    report = explain(capsys, *argv)
    assert report["client"] == "203.0.113.9"
    assert report["not_examined"] == ["for=6.6.6.6", "for=5.5.5.5;proto=https"]
    assert (report["not_examined_more"], report["not_examined_complete"]) == (0, True)
    assert [row["source"] for row in report["hops"]] == [  # type: ignore[attr-defined,index]
        "socket peer",
        "Forwarded, 1st from right",
        "Forwarded, 2nd from right",
    ]
    assert main(["explain", *argv]) == 0
    text = capsys.readouterr().out
    assert (
        "not examined (left of the stop, never trusted): for=6.6.6.6, for=5.5.5.5;proto=https"
        in text
    )


def test_forwarded_not_examined_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    line = "Forwarded: " + ", ".join(["for=6.6.6.6"] * 5000) + ", for=203.0.113.9"
    report = explain(capsys, "--peer", "127.0.0.1", "--headers", "forwarded", "-H", line)
    assert report["client"] == "203.0.113.9"
    assert len(report["not_examined"]) == 64  # type: ignore[arg-type]
    assert report["not_examined_complete"] is False


LOCAL_CURL = (
    "the peer 127.0.0.1 is on loopback and trusted: if this request came from curl or a"
    " browser on this machine, that client is itself the trusted proxy and the header it"
    " sent is believed; to see what a forged header does, send from a loopback address you"
    " do not trust, e.g. trust only 127.0.0.1 and use curl --interface 127.0.0.5"
)


@pytest.mark.parametrize("trusted", ["127.0.0.1", "loopback"])
def test_local_curl_forgery_is_explained(capsys: pytest.CaptureFixture[str], trusted: str) -> None:
    """`curl -H 'X-Forwarded-For: 6.6.6.6'` on the server itself "works": say why."""
    argv = ["--peer", "127.0.0.1", "--trusted", trusted, "-H", "X-Forwarded-For: 6.6.6.6"]
    report = explain(capsys, *argv)
    assert report["client"] == "6.6.6.6"
    assert report["warnings"] == [LOCAL_CURL]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--peer", "127.0.0.5", "--trusted", "127.0.0.1"], id="untrusted-loopback"),
        pytest.param(["--peer", "10.0.0.2", "--trusted", "10.0.0.2"], id="not-loopback"),
    ],
)
def test_no_local_curl_note_elsewhere(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    report = explain(capsys, *argv, "-H", "X-Forwarded-For: 6.6.6.6")
    assert LOCAL_CURL not in report["warnings"]  # type: ignore[operator]
