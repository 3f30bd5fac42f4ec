"""Count the instructions a benchmark child process executes, with valgrind's callgrind.

Shared by ``icount_wsgi.py`` and ``icount_asgi.py``: each re-runs itself as
``SCRIPT --child CONTENDER SCENARIO N`` under callgrind, with 0 and with N requests, and
takes the difference per request.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys


def require_valgrind() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")


def count(script: str, contender: str, scenario: str, requests: int) -> int:
    """Instructions executed by ``script --child contender scenario requests``."""
    # The real interpreter binary: a launcher script (a pyenv shim) would be measured
    # instead of Python.
    python = os.path.realpath(sys.executable)
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        python, script, "--child", contender, scenario, str(requests),
    ]  # fmt: skip
    # A fixed hash seed: str hashes (and so dict probe sequences) are then the same in
    # every run, and the count is exactly repeatable.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no callgrind total in:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(script: str, contender: str, scenario: str, requests: int) -> float:
    """Instructions per request: the run with ``requests`` minus the run with none."""
    with_requests = count(script, contender, scenario, requests)
    return (with_requests - count(script, contender, scenario, 0)) / requests
