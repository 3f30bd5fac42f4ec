"""What a mypyc build of the per-request modules would buy: an experiment, not shipped.

    python3 benchmarks/mypyc_experiment.py [--runs 3] [--rounds 9] [--number 2000]
                                           [--only wsgi|asgi] [--modules a,b,...] [--keep]

It copies ``src/trustproxy`` into a temporary directory, compiles the modules on the
per-request path there with mypyc (``mypycify`` + ``setup.py build_ext --inplace``),
and runs ``benchmarks/bench.py --json`` against that compiled copy and against the pure
``src`` tree, alternately, ``--runs`` times each (bench.py interleaves its contenders
within one process, so each run puts one trustproxy beside werkzeug and uvicorn in the
same process; the two trees cannot share one).  It then prints, side by side, the Core v2
target ratios and the added µs of the headline rows, each run set combined with
``bench.py --combine`` (medians of the runs' medians).

A module mypyc refuses is left out and named in the output, with mypyc's first error.
An uncompiled module whose class subclasses a compiled one (interpreted classes cannot
inherit from mypyc's native classes) is compiled as well, and named.  Nothing is written
into the repository: the copy, the build and the JSON runs live in the temporary
directory, which is removed at the end (``--keep`` keeps it and prints where).

Needs ``mypy`` (which ships mypyc), ``setuptools`` and a C compiler; the benchmark's
own dependencies are bench.py's (werkzeug, uvicorn, hypercorn).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT / "src" / "trustproxy"
BENCH = HERE / "bench.py"

#: The modules a request goes through, from the adapters down to the address parser.
HOT_PATH = (
    "_address",
    "_lists",
    "_values",
    "_walk",
    "_nodes",
    "_outcome",
    "_resolve",
    "_aligned",
    "_request",
    "_families",
    "_headers",
    "_memo",
    "trust",
    "wsgi",
    "asgi",
    "_asgi_wire",
)

#: The rows whose added µs are printed side by side (every target is printed anyway).
HEADLINE_ROWS = (
    "wsgi-for-proto-new",
    "wsgi-five-new",
    "wsgi-no-headers",
    "asgi-one-hop-new",
    "asgi-one-hop-repeated",
    "asgi-no-headers",
)

SETUP = """\
import sys
from setuptools import setup
from mypyc.build import mypycify

paths = [f"trustproxy/{name}.py" for name in sys.argv[1].split(",")]
sys.argv[1:] = ["build_ext", "--inplace"]
setup(name="trustproxy-mypyc-experiment", packages=[], ext_modules=mypycify(paths))
"""

ERROR = re.compile(r"^trustproxy/(\w+)\.py:\d+: error: (.*)$", re.MULTILINE)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def module_names() -> list[str]:
    return sorted(path.stem for path in SOURCE.glob("*.py"))


def classes_by_module(package: Path) -> dict[str, set[str]]:
    """The names of the classes each module of the package defines at top level."""
    found: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[path.stem] = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    return found


def subclassing_modules(package: Path, compiled: Sequence[str]) -> dict[str, str]:
    """Uncompiled modules with a class whose base a compiled module defines: name -> why."""
    defined = classes_by_module(package)
    pulled: dict[str, str] = {}
    for path in sorted(package.glob("*.py")):
        if path.stem in compiled:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: dict[str, str] = {}  # local name -> module it comes from
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                for alias in node.names:
                    imported[alias.asname or alias.name] = node.module
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                if not isinstance(base, ast.Name):
                    continue
                origin = imported.get(base.id, "")
                if origin in compiled and base.id in defined.get(origin, set()):
                    pulled[path.stem] = f"{node.name} subclasses {origin}.{base.id}"
    return pulled


def build(work: Path, wanted: Sequence[str]) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Compile ``wanted`` in the copy at ``work``: (compiled, left out -> why, pulled in -> why).

    Each failed attempt drops the modules mypyc names in its errors and tries again.
    """
    modules = list(wanted)
    left_out: dict[str, str] = {}
    pulled_in: dict[str, str] = {}
    (work / "setup_mypyc.py").write_text(SETUP, encoding="utf-8")
    while modules:
        for name, why in subclassing_modules(work / "trustproxy", modules).items():
            if name not in left_out:
                pulled_in[name] = why
                modules.append(name)
        log(f"mypyc: compiling {len(modules)} modules: {', '.join(modules)}")
        begin = time.monotonic()
        done = subprocess.run(
            [sys.executable, "setup_mypyc.py", ",".join(modules)],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        log(f"mypyc: exit {done.returncode} after {time.monotonic() - begin:.0f} s")
        if done.returncode == 0:
            return modules, left_out, pulled_in
        output = done.stdout + done.stderr
        failed: dict[str, str] = {}
        for name, message in ERROR.findall(output):
            failed.setdefault(name, message)
        failed = {name: why for name, why in failed.items() if name in modules}
        if not failed:
            raise SystemExit(f"mypyc failed without naming a module:\n{output[-4000:]}")
        for name, why in failed.items():
            log(f"mypyc: leaving out {name}: {why}")
            left_out[name] = why
            modules.remove(name)
            pulled_in.pop(name, None)
        # A module pulled in for a base class that is now left out is not needed any more.
        for name in list(pulled_in):
            if name not in subclassing_modules(work / "trustproxy", modules):
                pulled_in.pop(name)
                modules.remove(name)
    raise SystemExit("mypyc compiled none of the modules")


CHECK_IMPORTS = """\
import importlib, json, sys
import trustproxy
out = {}
for name in sys.argv[1].split(","):
    out[name] = importlib.import_module("trustproxy." + name).__file__
print(json.dumps({"package": trustproxy.__file__, "modules": out}))
"""


def check_compiled(work: Path, compiled: Sequence[str]) -> None:
    """The copy imports, and every compiled module is the extension, not the .py."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS, ",".join(compiled)],
        env={**os.environ, "PYTHONPATH": str(work)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the compiled copy does not import:\n{done.stderr[-4000:]}")
    files: dict[str, Any] = json.loads(done.stdout)
    if not str(files["package"]).startswith(str(work)):
        raise SystemExit(f"imported trustproxy from {files['package']}, not the compiled copy")
    python = [name for name, path in files["modules"].items() if str(path).endswith(".py")]
    if python:
        raise SystemExit(f"not compiled after the build: {', '.join(python)}")


def bench(tree: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One bench.py --json run with trustproxy imported from ``tree``."""
    command = [sys.executable, str(BENCH), "--json", "--rounds", str(args.rounds)]
    command += ["--number", str(args.number), "--clock", args.clock]
    if args.only:
        command += ["--only", args.only]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(HERE)])}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench.py failed with PYTHONPATH={tree}:\n{done.stderr[-4000:]}")
    out.write_text(done.stdout, encoding="utf-8")
    found: dict[str, Any] = json.loads(done.stdout)
    path = str(found["meta"]["trustproxy_path"])
    if not path.startswith(str(tree)):
        raise SystemExit(f"bench.py measured trustproxy from {path}, not {tree}")
    return found


def combine(paths: Sequence[Path]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--combine", *map(str, paths)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)])},
        capture_output=True,
        text=True,
        check=True,
    )
    combined: dict[str, Any] = json.loads(done.stdout)
    return combined


def report(
    pure: dict[str, Any],
    compiled: dict[str, Any],
    modules: Sequence[str],
    left_out: dict[str, str],
    pulled_in: dict[str, str],
    loads: Sequence[float],
) -> str:
    meta = pure["meta"]
    lines = [
        f"trustproxy {meta['trustproxy']} ({meta['commit']}), python {meta['python']},"
        f" werkzeug {meta['werkzeug']}, uvicorn {meta['uvicorn']}, {meta['cpus']} cpus",
        f"{meta['runs']} runs of each tree, alternating; each run {meta['rounds']} rounds x"
        f" {meta['number']:,} requests per contender, {meta['clock']}",
        f"load average (1 min) {min(loads):.2f} - {max(loads):.2f} over the runs",
        f"compiled with mypyc: {', '.join(modules)}",
    ]
    for name, why in pulled_in.items():
        lines.append(f"  ({name} compiled too: {why})")
    if left_out:
        lines.append("left out (mypyc refused them):")
        lines += [f"  {name}: {why}" for name, why in left_out.items()]
    else:
        lines.append("left out: none")
    lines += ["", "added µs, medians of the runs' medians (ratio to the peer in the same runs)"]
    lines.append(f"  {'':<46} {'pure Python':>22} {'mypyc':>22}")
    pure_rows = {row["key"]: row for row in pure["rows"]}
    compiled_rows = {row["key"]: row for row in compiled["rows"]}
    for key in HEADLINE_ROWS:
        if key not in pure_rows:
            continue
        lines.append(pure_rows[key]["title"])
        others = {entry["name"]: entry for entry in compiled_rows[key]["contenders"]}
        for entry in pure_rows[key]["contenders"]:
            if entry["bare"]:
                continue
            cells = []
            for side in (entry, others[entry["name"]]):
                cell = f"{side['us']:7.2f} µs"
                if "ratio" in side:
                    cell += f" ({side['ratio']:5.2f}x)"
                cells.append(cell)
            lines.append(f"  {entry['name']:<46} {cells[0]:>22} {cells[1]:>22}")
    lines += ["", "Core v2 targets (issue 11), ratios of added cost"]
    lines.append(f"  {'':<58} {'pure':>7} {'mypyc':>7}  limit")
    for mine, theirs in zip(pure["targets"], compiled["targets"]):
        verdicts = "/".join("met" if t["met"] else "NOT MET" for t in (mine, theirs))
        lines.append(
            f"  {mine['label']:<58} {mine['ratio']:6.2f}x {theirs['ratio']:6.2f}x"
            f"  <= {mine['limit']:.1f}  {verdicts}"
        )
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="bench.py runs of each tree (3)")
    parser.add_argument("--rounds", type=int, default=9, help="bench.py --rounds (9)")
    parser.add_argument("--number", type=int, default=2000, help="bench.py --number (2000)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="bench.py --clock")
    parser.add_argument("--only", choices=("wsgi", "asgi"), help="bench.py --only")
    parser.add_argument(
        "--modules",
        default=",".join(HOT_PATH),
        help="comma-separated trustproxy modules to compile (default: the per-request path)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory and print where it is"
    )
    parser.add_argument("--json", action="store_true", help="print both combined runs as JSON")
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.modules.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(module_names()))
    if unknown:
        parser.error(f"no such module in src/trustproxy: {', '.join(unknown)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    temporary = Path(tempfile.mkdtemp(prefix="trustproxy-mypyc-"))
    try:
        work = temporary / "compiled"
        shutil.copytree(SOURCE, work / "trustproxy", ignore=shutil.ignore_patterns("__pycache__"))
        modules, left_out, pulled_in = build(work, wanted)
        check_compiled(work, modules)
        trees = {"pure": ROOT / "src", "mypyc": work}
        runs: dict[str, list[Path]] = {"pure": [], "mypyc": []}
        loads: list[float] = []
        for index in range(args.runs):
            order = ["mypyc", "pure"] if index % 2 == 0 else ["pure", "mypyc"]
            for label in order:
                log(f"run {index + 1}/{args.runs}: {label} (load {os.getloadavg()[0]:.2f})")
                out = temporary / f"{label}-{index}.json"
                found = bench(trees[label], out, args)
                loads += [found["meta"]["load_before"], found["meta"]["load_after"]]
                runs[label].append(out)
        pure, compiled = combine(runs["pure"]), combine(runs["mypyc"])
        if args.json:
            summary = {"modules": modules, "left_out": left_out, "pulled_in": pulled_in}
            print(json.dumps({**summary, "pure": pure, "mypyc": compiled}, indent=1))
        else:
            print(report(pure, compiled, modules, left_out, pulled_in, loads))
    finally:
        if args.keep:
            log(f"kept {temporary}")
        else:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
