"""Networks of one IP version by prefix length: the lookup behind
:class:`~trustproxy.TrustPolicy`, one dict probe per distinct prefix length, whatever the
number of networks (10,000 trusted /24s cost what one does; ``docs/benchmarks.md``)."""

from __future__ import annotations

from typing import Optional

__all__ = ["PrefixTable"]


class PrefixTable:
    """Networks of one IP version, by prefix length: {length: {network >> shift: label}}."""

    __slots__ = ("bits", "by_length", "lengths")

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.by_length: dict[int, dict[int, str]] = {}
        self.lengths: tuple[int, ...] = ()

    def add(self, network: int, length: int, label: str) -> None:
        self.by_length.setdefault(length, {}).setdefault(network >> (self.bits - length), label)
        # Most specific first, so the label reported is the narrowest matching entry.
        self.lengths = tuple(sorted(self.by_length, reverse=True))

    def lookup(self, value: int) -> Optional[str]:
        bits = self.bits
        by_length = self.by_length
        for length in self.lengths:
            label = by_length[length].get(value >> (bits - length))
            if label is not None:
                return label
        return None
