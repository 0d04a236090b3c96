"""Nearest-rank percentiles of latencies in seconds."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from bench.stats import nearest_rank


@dataclass(frozen=True)
class Dist:
    n: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Dist:
        v = sorted(values)
        n = len(v)
        if n == 0:
            return cls(0, math.nan, math.nan, math.nan)

        return cls(n, nearest_rank(v, 0.50), nearest_rank(v, 0.99), v[-1])

    def fmt(self) -> str:
        if self.n == 0:
            return "–"
        return f"{self.p50:.2f} / {self.p99:.2f} / {self.max:.2f}"
