"""The benchmark runner still runs: every row and target is there, every ratio a number.

A smoke run with tiny counts (``benchmarks/bench.py --quick``), so the yardstick cannot
rot while the core changes under it.  It does not check that any target is met: that is
the benchmark's job, on a quiet machine, not a test's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"

ROWS = [
    "wsgi-for-proto-new",
    "wsgi-for-proto-repeated",
    "wsgi-for-proto-identical",
    "wsgi-five-new",
    "wsgi-five-repeated",
    "wsgi-five-identical",
    "wsgi-no-headers",
    "wsgi-forwarded-new",
    "wsgi-long-new",
    "wsgi-cidrs-new",
    "asgi-one-hop-new",
    "asgi-one-hop-repeated",
    "asgi-one-hop-identical",
    "asgi-no-headers",
    "asgi-long-new",
    "asgi-cidrs-new",
]

# (row, limit) of every Core v2 target (issue 11).
TARGETS = sorted(
    [("wsgi-for-proto-new", 0.5)] * 2
    + [("wsgi-for-proto-new", 1.3)]
    + [("wsgi-five-new", 0.3)] * 2
    + [("wsgi-five-new", 1.3)]
    + [("wsgi-long-new", 2.0)] * 2
    + [("wsgi-no-headers", 0.5)]
    + [("wsgi-cidrs-new", 1.5)] * 2
    + [("asgi-one-hop-new", 0.5)] * 2
    + [("asgi-one-hop-new", 1.3)]
    + [("asgi-one-hop-repeated", 0.5)] * 2
    + [("asgi-one-hop-repeated", 1.3)]
    + [("asgi-long-new", 2.0)] * 2
    + [("asgi-cidrs-new", 1.5)] * 2
)


def run(*args: str) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "benchmarks")]),
    }
    done = subprocess.run(
        [sys.executable, str(BENCH), *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def positive(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


def test_quick_run_has_every_row_and_target() -> None:
    found = json.loads(run("--quick", "--json"))
    assert [row["key"] for row in found["rows"]] == ROWS
    assert sorted((t["row"], t["limit"]) for t in found["targets"]) == TARGETS
    for row in found["rows"]:
        names = [entry["name"] for entry in row["contenders"]]
        assert any(entry["bare"] for entry in row["contenders"]), row["key"]
        for entry in row["contenders"]:
            assert len(entry["samples"]) == found["meta"]["rounds"], (row["key"], entry["name"])
            assert all(math.isfinite(sample) for sample in entry["samples"])
            if "versus" in entry:
                assert entry["versus"] in names
                assert positive(entry["ratio"]), (row["key"], entry["name"], entry["ratio"])
        # Every trustproxy row is measured with its memos off as well as on.
        if (
            any(entry["memos"] is True for entry in row["contenders"])
            and "no-headers" not in row["key"]
        ):
            assert any(entry["memos"] is False for entry in row["contenders"]), row["key"]
    for target in found["targets"]:
        assert positive(target["ratio"]), target
        assert target["met"] is (target["ratio"] <= target["limit"])
    # The new-client traffic really is what the docs say: 70 % IPv4, 30 % IPv6.
    assert abs(found["meta"]["ipv6_share"] - 0.3) < 0.02


def test_text_report_and_profile() -> None:
    report = run("--quick", "--only", "asgi")
    assert "ASGI, one hop, new client" in report
    assert "Core v2 targets" in report
    verdicts = [line for line in report.splitlines() if line.endswith((" met", " NOT MET"))]
    assert len(verdicts) == 10  # one per ASGI target
    profile = run("--quick", "--profile", "--only", "wsgi")
    assert profile.count("Python calls and") == 4
    assert "trustproxy/wsgi.py" in profile


def test_mypyc_experiment_help_and_module_list() -> None:
    """The mypyc experiment's command line still parses; its modules still exist.

    Nothing is compiled here: ``--help`` and a refused ``--modules`` exit before the copy.
    """
    script = ROOT / "benchmarks" / "mypyc_experiment.py"
    shown = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    for option in ("--runs", "--rounds", "--number", "--modules", "--keep"):
        assert option in shown.stdout
    refused = subprocess.run(
        [sys.executable, str(script), "--modules", "_address,_no_such_module"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "_no_such_module" in refused.stderr
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import mypyc_experiment
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    present = set(mypyc_experiment.module_names())
    assert set(mypyc_experiment.HOT_PATH) <= present, set(mypyc_experiment.HOT_PATH) - present
