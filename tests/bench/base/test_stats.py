"""Nearest-rank percentiles and the two summaries (bench.base.stats)."""

from __future__ import annotations

import math

from bench.base.stats import Dist, Pcts, nearest_rank


def test_nearest_rank_is_the_smallest_value_with_q_of_the_values_at_or_below_it() -> None:
    values = list(range(1, 101))  # 1..100
    assert nearest_rank(values, 0.50) == 50
    assert nearest_rank(values, 0.99) == 99
    assert nearest_rank(values, 0.999) == 100
    assert nearest_rank(values, 0.0) == 1
    assert nearest_rank(values, 1.0) == 100
    assert nearest_rank([7.5], 0.99) == 7.5
    assert nearest_rank([1, 2, 3], 0.5) == 2  # ceil(1.5) = rank 2


def test_pcts_are_milliseconds_of_microsecond_samples() -> None:
    p = Pcts.of([1000 * i for i in range(1, 1001)])  # 1..1000 ms
    assert (p.n, p.p50, p.p99, p.p999) == (1000, 500.0, 990.0, 999.0)
    assert Pcts(3, 3.44, 79.7, 112.4).fmt() == "3.4 / 79.7 / 112"  # whole ms from 100 on


def test_empty_summaries_are_nan_and_print_as_a_dash() -> None:
    p, d = Pcts.of([]), Dist.of([])
    assert p.n == 0 and math.isnan(p.p50) and math.isnan(p.p999)
    assert d.n == 0 and math.isnan(d.p99) and math.isnan(d.max)
    assert p.fmt() == d.fmt() == "–"


def test_dist_sorts_its_values_and_keeps_the_max() -> None:
    d = Dist.of(x / 10 for x in (30, 10, 20, 40))
    assert (d.n, d.p50, d.p99, d.max) == (4, 2.0, 4.0, 4.0)
    assert d.fmt() == "2.00 / 4.00 / 4.00"
