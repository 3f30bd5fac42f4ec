"""``trustproxy`` command line: ``main(argv)`` in process, and once as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from trustproxy.cli import main

XFF = "X-Forwarded-For"


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        pytest.param(
            [], 0, ["explaining a sample", "client: 203.0.113.9", "not examined", "6.6.6.6"],
            id="no-arguments-runs-the-sample",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "-H", f"{XFF}: 6.6.6.6, 203.0.113.9"],
            0, ["a1", "203.0.113.9", "STOP: first untrusted address = client",
                "client: 203.0.113.9", "127.0.0.0/8 (loopback)"],
            id="forged-item-left-of-the-stop",
        ),
        pytest.param(
            ["explain", "--peer", "10.0.0.5", "-H", f"{XFF}: 1.2.3.4"],
            0, ["status: untrusted-peer", "client: 10.0.0.5", "--trusted 10.0.0.5"],
            id="untrusted-peer-is-untouched-and-warned",
        ),
        pytest.param(
            ["explain", "--peer", "10.0.0.5"],
            0, ["STOP: peer not trusted", "client: 10.0.0.5"],
            id="no-headers-untrusted-peer",
        ),
        pytest.param(
            ["explain", "--peer", "10.0.0.5", "-H", "X-Forwarded-Proto: https"],
            0, ["status: untrusted-peer", "scheme: http\n", "--trusted 10.0.0.5"],
            id="proto-only-from-untrusted-peer-warned",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "-H", f"{XFF}: unknown"],
            1, ["status: unresolved", "not an IP address", "(not an address)",
                "STOP: unresolved"],
            id="unknown-item-is-unresolved-exit-1",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--trusted", "*", "--hops", "3",
             "-H", f"{XFF}: 1.1.1.1, 2.2.2.2"],
            1, ["trusted='*' with hops=3", "the chain is shorter than hops=3"],
            id="star-with-hops-and-short-chain",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--scheme", "HTTP", "--fields", "for,host",
             "-H", "X-Forwarded-Host: a.example"],
            0, ["status: applied", "scheme: http\n", "host:   a.example\n", "port:   80\n"],
            id="scheme-in-capitals-with-forwarded-host",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--trusted", "*", "--hops", "2",
             "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: evil.example:8443",
             "--fields", "for,proto,host"],
            1, ["status: unresolved", "no X-Forwarded-For address but hops=2", "scheme: http\n"],
            id="star-with-hops-and-no-xff-is-unresolved",
        ),
        pytest.param(
            ["explain", "--peer", "10.0.0.5", "--trusted", "private",
             "-H", f"{XFF}: 10.9.9.9"],
            0, ["and the client 10.9.9.9 is a private address too",
                "every address in X-Forwarded-For is trusted"],
            id="private-trusted-private-client",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--trusted", "10.0.0.0/8",
             "--trusted", "127.0.0.1,192.168.0.0/16", "-H", f"{XFF}: 8.8.8.8, 10.1.1.1"],
            0, ["client: 8.8.8.8", "trusted=['10.0.0.0/8', '127.0.0.1', '192.168.0.0/16']"],
            id="trusted-repeated-and-comma-separated",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--trusted", "*", "--hops", "2",
             "-H", f"{XFF}: 6.6.6.6", "-H", f"{XFF}: 1.1.1.1, 2.2.2.2"],
            0, ["client: 1.1.1.1", "STOP: hops=2 reached = client",
                "never trusted): 6.6.6.6\n"],
            id="repeated-lines-kept-in-order",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--fields", "for,proto,host",
             "-H", f"{XFF}: 1.2.3.4", "-H", "X-Forwarded-Proto: ftp",
             "-H", "X-Forwarded-Host: a<b>"],
            0, ["ignored: proto 'ftp'", "ignored: host 'a<b>'"],
            id="invalid-values-listed",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "--headers", "x-real-ip",
             "-H", "X-Real-IP: 1.2.3.4"],
            0, ["x-real-ip, 1st from right", "client: 1.2.3.4"],
            id="single-address-header-family",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "-H", f"{XFF}: " + ",".join(["127.0.0.1"] * 100)],
            1, ["more than 64 trusted hops", "a64", "(26 more), 127.0.0.1"],
            id="walk-bounded-and-long-tail-shortened",
        ),
        pytest.param(
            ["explain", "--peer", "127.0.0.1", "-H", f"{XFF}: " + ",".join(["6.6.6.6"] * 3000)],
            0, ["(at least 1064 more), 6.6.6.6"],
            id="huge-tail-counted-up-to-a-bound",
        ),
        pytest.param(
            ["explain", "--peer", "unix", "--trusted", "unix", "-H", f"{XFF}: 1.2.3.4"],
            0, ["(unix socket)", "client: 1.2.3.4"],
            id="unix-socket-peer",
        ),
    ],
)  # fmt: skip
def test_explain(
    argv: list[str], code: int, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert err == ""
    for text in expected:
        assert text in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["explain"], "required: --peer", id="missing-peer"),
        pytest.param(["explain", "--peer", "1.2.3.4", "-H", "no colon"], "not a 'Name: value'",
                     id="bad-header-line"),
        pytest.param(["explain", "--peer", "1.2.3.4", "-H", "Bad Name: x"], "not a 'Name: value'",
                     id="space-in-header-name"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--hops", "two"], "invalid int value",
                     id="hops-not-a-number"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--hops", "0"], "hops must be",
                     id="hops-zero-config-error"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--trusted", "10.0.0.1/8"],
                     "trusted entry '10.0.0.1/8'", id="host-bits-set"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--trusted", "*"], "needs hops",
                     id="star-without-hops"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--fields", "for,user"],
                     "unknown field 'user'", id="unknown-field"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--headers", "x forwarded"],
                     "not a header family", id="bad-header-family"),
        pytest.param(["explain", "--peer", "localhost"], "--peer 'localhost' is not an IP address",
                     id="peer-host-name"),
        pytest.param(["explain", "--peer", "127.0.0.1:8080"], "is not an IP address",
                     id="peer-with-port"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--trusted", "loopbak"],
                     "did you mean 'loopback'?", id="misspelt-preset"),
        pytest.param(["frobnicate"], "invalid choice", id="unknown-command"),
        pytest.param(["--json"], "unrecognized arguments", id="option-without-command"),
    ],
)  # fmt: skip
def test_usage_and_configuration_errors_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("trustproxy: error: ")
    assert message in err
    assert "Traceback" not in err


def test_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["explain", "--json", "--peer", "127.0.0.1", "--fields", "for,proto,host,port,prefix"]
    argv += ["-H", f"{XFF}: 6.6.6.6, 203.0.113.9:4711", "-H", "X-Forwarded-Proto: https"]
    argv += ["-H", "X-Forwarded-Host: example.com", "-H", "X-Forwarded-Prefix: /app"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"client", "scheme", "host", "port", "prefix", "status", "reason", "hops"} <= set(data)
    assert (data["client"], data["client_port"]) == ("203.0.113.9", 4711)
    assert (data["scheme"], data["host"], data["port"], data["prefix"]) == (
        "https", "example.com", 443, "/app",
    )  # fmt: skip
    assert data["status"] == "applied"
    assert [hop["text"] for hop in data["hops"]] == ["127.0.0.1", "203.0.113.9:4711"]
    assert data["stopped_at"] == 1
    assert data["not_examined"] == ["6.6.6.6"]
    assert (data["not_examined_more"], data["not_examined_complete"]) == (0, True)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--help"]) == 0
    assert "--trusted" in capsys.readouterr().out


def test_real_subprocess() -> None:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    argv = [sys.executable, "-m", "trustproxy", "explain", "--json", "--peer", "127.0.0.1"]
    argv += ["-H", f"{XFF}: 6.6.6.6, 203.0.113.9"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["client"] == "203.0.113.9"
    bad = subprocess.run(
        [*argv[:3], "explain", "--peer"], capture_output=True, text=True, env=env, timeout=60
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    sample = subprocess.run(argv[:3], capture_output=True, text=True, env=env, timeout=60)
    assert sample.returncode == 0, sample.stderr
    assert "client: 203.0.113.9" in sample.stdout


def test_the_cli_docs_example_is_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    block = re.search(r"```console\n\$ trustproxy (explain .*?)\n(.*?)```", page, re.S)
    assert block is not None
    assert main(shlex.split(block.group(1))) == 0
    assert capsys.readouterr().out == block.group(2)


# --- terminal escapes from the request or the command line (issue 10, item 7) ---------

# OSC (set the window title), BEL, CSI clear screen, a C1 CSI, DEL, bidi overrides and
# isolates, a line separator, and a newline that would start a forged line.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\x7f\u202eevil\u202c\u2067x\u2069\u2028\nstatus: applied"
ESCAPED = "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\x7f\\u202eevil\\u202c\\u2067x\\u2069\\u2028\\x0a"


def _terminal_safe(text: str) -> bool:
    return all(c.isprintable() or c == "\n" for c in text)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--peer", "127.0.0.1", "-H", "Host: a" + HOSTILE], id="host"),
        pytest.param(["--peer", "127.0.0.1", "--fields", "for,host", "-H", "Host: a" + HOSTILE,
                      "-H", f"{XFF}: 1.1.1.1"], id="host-with-host-field"),
        pytest.param(["--peer", "127.0.0.1", "--fields", "for,host,port,prefix",
                      "-H", f"{XFF}: 1.1.1.1", "-H", "X-Forwarded-Host: a" + HOSTILE,
                      "-H", "X-Forwarded-Port: 1" + HOSTILE,
                      "-H", "X-Forwarded-Prefix: /a" + HOSTILE], id="ignored-values"),
        pytest.param(["--peer", "127.0.0.1", "-H", f"{XFF}: 6.6.6.6{HOSTILE}, 1.1.1.1{HOSTILE}"],
                     id="xff-items"),
        pytest.param(["--peer", "127.0.0.1", "-H", f"{XFF}: a{HOSTILE}, 1.1.1.1"],
                     id="not-examined"),
        pytest.param(["--peer", "127.0.0.1", "--prefix", "/p" + HOSTILE], id="prefix"),
        pytest.param(["--peer", "127.0.0.1", "--scheme", "h" + HOSTILE], id="scheme"),
    ],
)  # fmt: skip
def test_explain_escapes_what_it_prints(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["explain", *argv])
    out, err = capsys.readouterr()
    assert _terminal_safe(out + err), repr(out + err)
    assert "\x1b" not in out + err
    assert out.count("\nstatus: ") == 1  # no forged line
    assert "owned" in out  # shown, escaped: the value is still there to read


def test_explain_escapes_values_as_python_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    main(["explain", "--peer", "1.2.3.4", "-H", "Host: a" + HOSTILE])
    out = capsys.readouterr().out
    assert f"host:   a{ESCAPED}status: applied\n" in out


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["explain", "--peer", "1.2.3.4", HOSTILE], id="unrecognized-argument"),
        pytest.param(["explain", "--peer", "1.2.3.4" + HOSTILE], id="peer"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--trusted", HOSTILE], id="trusted"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--headers", HOSTILE], id="headers"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--fields", HOSTILE], id="fields"),
        pytest.param(["explain", "--peer", "1.2.3.4", "--hops", HOSTILE], id="hops"),
        pytest.param(["explain", "--peer", "1.2.3.4", "-H", HOSTILE], id="header-line"),
        pytest.param([HOSTILE], id="command"),
    ],
)
def test_error_line_escapes_what_it_prints(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert _terminal_safe(err), repr(err)


def test_json_is_ascii_and_keeps_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["explain", "--json", "--peer", "127.0.0.1", "-H", "Host: a" + HOSTILE,
            "-H", f"{XFF}: b{HOSTILE}"]  # fmt: skip
    main(argv)
    out = capsys.readouterr().out
    assert out.isascii()
    assert _terminal_safe(out)
    data = json.loads(out)
    assert data["host"] == "a" + HOSTILE
    assert data["hops"][1]["text"] == "b" + HOSTILE  # the bad X-Forwarded-For item, as sent


def test_real_subprocess_output_is_terminal_safe() -> None:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-m", "trustproxy"]
    for argv in (
        ["explain", "--peer", "1.2.3.4" + HOSTILE, "-H", "Host: a" + HOSTILE],
        ["explain", "--peer", "127.0.0.1", "-H", f"{XFF}: x{HOSTILE}, 1.1.1.1"],
        ["explain", "--peer", "1.2.3.4", HOSTILE],
    ):
        done = subprocess.run([*cli, *argv], capture_output=True, env=env, timeout=60)
        for stream in (done.stdout, done.stderr):
            assert b"\x1b" not in stream and b"\x07" not in stream and b"\x7f" not in stream
            assert _terminal_safe(stream.decode())
        assert (done.stdout + done.stderr).count(b"\n") >= 1
        assert b"owned" in done.stdout + done.stderr


def test_repeated_headers_flags_all_count(capsys: pytest.CaptureFixture[str]) -> None:
    """``--headers forwarded --headers x-forwarded`` reads both families (a repeated flag
    once kept only the last): a disagreement between them is a conflict, exit 1."""
    argv = ["explain", "--peer", "127.0.0.1", "--headers", "forwarded", "--headers",
            "x-forwarded", "-H", "Forwarded: for=198.51.100.1", "-H",
            "X-Forwarded-For: 198.51.100.2", "--json"]  # fmt: skip
    assert main(argv) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "conflict"
    assert main([*argv[:3], "--headers", "forwarded,x-forwarded", *argv[7:]]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "conflict"
