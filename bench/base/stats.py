"""Nearest-rank percentiles, and the two summaries the reports print.

`Pcts`: p50/p99/p99.9 of latency samples in microseconds, in milliseconds (the
chat benchmark). `Dist`: p50/p99/max of values in seconds (the streaming one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T", int, float)
NAN = float("nan")


def nearest_rank(sorted_values: Sequence[T], q: float) -> T:
    """The nearest-rank q-quantile of non-empty, sorted values."""
    n = len(sorted_values)
    return sorted_values[min(n - 1, max(0, math.ceil(q * n) - 1))]


@dataclass(frozen=True)
class Pcts:
    """p50/p99/p99.9 in milliseconds over `n` sorted samples (nearest rank)."""

    n: int
    p50: float
    p99: float
    p999: float

    @classmethod
    def of(cls, sorted_us: list[int]) -> Pcts:
        if not sorted_us:
            return cls(0, NAN, NAN, NAN)
        p50, p99, p999 = (nearest_rank(sorted_us, q) / 1000.0 for q in (0.50, 0.99, 0.999))
        return cls(len(sorted_us), p50, p99, p999)

    def fmt(self) -> str:
        if self.n == 0:
            return "–"
        return f"{_ms(self.p50)} / {_ms(self.p99)} / {_ms(self.p999)}"


def _ms(v: float) -> str:
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


@dataclass(frozen=True)
class Dist:
    """p50/p99/max in seconds over `n` values (nearest rank)."""

    n: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Dist:
        v = sorted(values)
        if not v:
            return cls(0, NAN, NAN, NAN)
        return cls(len(v), nearest_rank(v, 0.50), nearest_rank(v, 0.99), v[-1])

    def fmt(self) -> str:
        if self.n == 0:
            return "–"
        return f"{self.p50:.2f} / {self.p99:.2f} / {self.max:.2f}"
