"""Resolution as a tuple subclass against a frozen, slotted dataclass: build and read.

    PYTHONPATH=src python3 benchmarks/resolution_shape.py [--rounds 7] [--number 200000]

Issue 11 asks for results as frozen, slotted dataclasses "or say, with figures, why not".
This times, in one process and interleaved round by round, what the per-request path does
with a :class:`~trustproxy.Resolution`: build one from the decision (ten values), then
read the decision as :func:`trustproxy._outcome.changes` and the adapters do (status,
ignored, and the eight stored fields).  Three shapes:

* ``tuple``: the shipped :class:`~trustproxy.Resolution`, built with ``tuple.__new__``
  and read positionally (``result[:8]``, ``result[0]``, ``result[8]``);
* ``dataclass``: ``@dataclass(frozen=True)`` with ``__slots__``, built through its
  generated ``__init__`` and read by attribute;
* ``dataclass, no __init__``: the same class built with ``object.__new__`` and
  ``object.__setattr__`` per field, the cheapest way to fill a frozen dataclass's slots.

The figure is the median over rounds of nanoseconds per build-and-read, less the cost of
calling a function that does nothing (timed in the same rounds); the quartiles are
printed beside it.  A benchmark, not a test: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from dataclasses import make_dataclass
from typing import Any

from trustproxy import Resolution

#: The stored decision of a Resolution (what ``Resolution.__new__`` keeps, in order).
_NAMES = (
    "status", "client", "client_port", "scheme", "host", "port", "prefix", "applied",
    "ignored", "box",
)  # fmt: skip

#: The same fields as a frozen dataclass with ``__slots__`` (Python 3.9's spelling).
Slotted = make_dataclass(
    "Slotted", [(name, Any) for name in _NAMES], frozen=True, namespace={"__slots__": _NAMES}
)

_new = tuple.__new__
_object_new = object.__new__
_set = object.__setattr__


def build_tuple(values: tuple[Any, ...]) -> Any:
    result = _new(Resolution, values)
    _, client, client_port, scheme, host, port, prefix, applied = result[:8]
    return result[0], result[8], client, client_port, scheme, host, port, prefix, applied


def build_dataclass(values: tuple[Any, ...]) -> Any:
    result = Slotted(*values)
    return (
        result.status, result.ignored, result.client, result.client_port, result.scheme,
        result.host, result.port, result.prefix, result.applied,
    )  # fmt: skip


def build_dataclass_raw(values: tuple[Any, ...]) -> Any:
    result = _object_new(Slotted)
    for name, value in zip(_NAMES, values):
        _set(result, name, value)
    return (
        result.status, result.ignored, result.client, result.client_port, result.scheme,
        result.host, result.port, result.prefix, result.applied,
    )  # fmt: skip


def call_only(values: tuple[Any, ...]) -> Any:
    return values


SHAPES = {
    "tuple (shipped)": build_tuple,
    "frozen slotted dataclass": build_dataclass,
    "dataclass, no __init__": build_dataclass_raw,
    "call overhead (subtracted)": call_only,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=200_000)
    args = parser.parse_args()
    values = (
        "applied", "203.0.113.9", None, "https", "app.example", 443, "", ("for", "proto"),
        (), [None, None],
    )  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in SHAPES}
    names = list(SHAPES)
    for round_ in range(args.rounds + 1):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            build = SHAPES[name]
            took = timeit.timeit(lambda: build(values), number=args.number)  # noqa: B023
            if round_:  # the first round warms the adaptive interpreter up
                times[name].append(took / args.number * 1e9)
    overhead = times.pop(names.pop())
    for name in names:
        times[name] = [took - spent for took, spent in zip(times[name], overhead)]
    base = statistics.median(times[names[0]])
    print(f"call overhead subtracted: {statistics.median(overhead):.1f} ns")
    for name in names:
        quartiles = statistics.quantiles(times[name], n=4)
        median = statistics.median(times[name])
        print(
            f"{name:28} {median:7.1f} ns [{quartiles[0]:6.1f} - {quartiles[2]:6.1f}]"
            f"  {median / base:5.2f}x tuple"
        )


if __name__ == "__main__":
    main()
