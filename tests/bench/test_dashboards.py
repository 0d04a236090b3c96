"""The dashboards benchmark: its data is what it says, every query is timed at both sizes,
and its section goes inside the checks block."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from bench.base.report import CHECKS
from bench.dashboards.cli import DashboardsBench
from bench.dashboards.config import parse_args
from bench.dashboards.measure import SizeResult, default_range_s, interval_s, measure
from bench.dashboards.series import SERIES
from dashboards.catalog import load, queries


def test_defaults_are_the_full_run_with_a_one_day_baseline() -> None:
    cfg = parse_args([])
    assert (cfg.days, cfg.baseline_days, cfg.runs, cfg.whole_range, cfg.full_run) == (
        30, 1, 5, True, True)  # fmt: skip
    assert cfg.chat_per_day * 30 >= 10_000_000
    assert not parse_args(["--days", "2"]).full_run


def test_ranges_and_intervals_as_grafana_would_ask() -> None:
    assert sorted({default_range_s(b) for b in load()}) == [6 * 3600, 24 * 3600]
    assert [interval_s(r) for r in (3600, 6 * 3600, 86400, 30 * 86400)] == [10, 30, 120, 3600]


def test_a_small_run_fills_exact_rows_and_times_every_query(tmp_path: Path) -> None:
    cfg = dataclasses.replace(parse_args(["--days", "2", "--runs", "2", "--chat-per-day",
                                          "3000"]), out_dir=tmp_path)  # fmt: skip
    sizes: list[SizeResult] = []
    asyncio.run(measure(cfg, lambda _m: None, sizes))
    assert [s.days for s in sizes] == [1, 2]
    assert sizes[1].rows == {"ops_samples": len(SERIES) * 8640 * 2, "chat_events": 6000,
                             "session_events": 2 * 3 * 20, "reply_rates": 2 * 288 * 21}  # fmt: skip
    n = len(queries(load()))
    assert [len(s.default) for s in sizes] == [n, n] and len(sizes[1].whole) == n
    assert sizes[0].whole == [] and all(len(t.ms) == 2 for t in sizes[1].default)
    assert not (tmp_path / "chdb").exists()  # removed at the end


def test_the_section_goes_inside_the_checks_block(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# report\n\n" + CHECKS.replace("", "## an earlier check\nkept"))
    bench = DashboardsBench(parse_args(["--results", str(results)]), lambda _m: None)
    bench.publish("## Dashboards\nfirst\n")
    bench.publish("## Dashboards\nsecond\n")
    block = CHECKS.extract(results.read_text())
    assert block is not None and "## an earlier check\nkept" in block
    assert "<!-- dashboards:begin -->\n## Dashboards\nsecond\n<!-- dashboards:end -->" in block
    assert "first" not in results.read_text()
