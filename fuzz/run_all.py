"""Run every atheris harness for a bounded time; exit non-zero on any crash or broken invariant.

Usage: ``python3 fuzz/run_all.py [--seconds 15] [name ...]``.  Each harness runs in its
own process on a scratch corpus seeded from ``fuzz/corpus/<name>/`` (the committed corpus
is only read, never written).  A failing input is kept under ``artifacts/fuzz/``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NAMES = sorted(path.stem[len("fuzz_") :] for path in HERE.glob("fuzz_*.py"))


def run(name: str, seconds: int, artifacts: Path) -> bool:
    artifacts.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(HERE)]))
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as scratch:
        command = [
            sys.executable,
            str(HERE / f"fuzz_{name}.py"),
            scratch,
            str(HERE / "corpus" / name),
            f"-max_total_time={seconds}",
            "-rss_limit_mb=1024",
            "-timeout=10",
            "-print_final_stats=1",
            f"-artifact_prefix={artifacts}/{name}-",
        ]
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
    log = completed.stderr
    runs = [line for line in log.splitlines() if line.startswith("stat::number_of_executed_units")]
    ok = completed.returncode == 0
    print(f"fuzz {name}: {'ok' if ok else 'FAILED'} ({runs[-1] if runs else 'no stats'})")
    if not ok:
        print(log[-4000:], file=sys.stderr)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="time per harness")
    parser.add_argument("names", nargs="*", help=f"harnesses to run: {', '.join(NAMES)}")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(NAMES)
    if unknown:
        parser.error(f"unknown harness(es) {sorted(unknown)}: choose from {NAMES}")
    artifacts = ROOT / "artifacts" / "fuzz"
    results = [run(name, args.seconds, artifacts) for name in args.names or NAMES]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
