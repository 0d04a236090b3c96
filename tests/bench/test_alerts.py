"""The alerts benchmark: its data is what it says, and its section goes inside the checks block."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from bench.alerts.cli import AlertsBench
from bench.alerts.config import parse_args
from bench.alerts.measure import SizeResult, measure
from bench.alerts.series import ROUND
from bench.base.report import CHECKS, STREAMING


def test_defaults_are_the_full_run_with_a_one_day_baseline() -> None:
    cfg = parse_args([])
    assert (cfg.days, cfg.baseline_days, cfg.runs, cfg.full_run) == (30, 1, 5, True)
    assert cfg.chat_per_day * 30 == 10_000_500
    assert not parse_args(["--days", "2"]).full_run


def test_a_small_run_fills_exact_rows_and_no_rule_fires_or_fails(tmp_path: Path) -> None:
    cfg = dataclasses.replace(parse_args(["--days", "2", "--runs", "1", "--chat-per-day",
                                          "3000"]), out_dir=tmp_path)  # fmt: skip
    sizes: list[SizeResult] = []
    asyncio.run(measure(cfg, lambda _m: None, sizes))
    assert [s.days for s in sizes] == [1, 2]
    assert sizes[1].rows == {"ops_samples": len(ROUND) * 8640 * 2, "chat_events": 6000,
                             "session_events": 2 * 3 * 20, "reply_rates": 2 * 288 * 21}  # fmt: skip
    assert all(s.fired == [] and len(s.wall_ms) == 1 for s in sizes)
    assert len(sizes[1].rule_ms) == 37
    assert not (tmp_path / "chdb").exists()  # removed at the end


def test_the_section_goes_inside_the_checks_block_and_replaces_its_old_self(
    tmp_path: Path,
) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# chat report\n\n"
        + CHECKS.replace("", "## an earlier check\nkept 1")
        + "\n"
        + STREAMING.replace("", "## streaming\nkept 2")
    )
    bench = AlertsBench(parse_args(["--results", str(results)]), lambda _m: None)
    bench.publish("## Alert rules\nfirst run\n")
    bench.publish("## Alert rules\nsecond run\n")
    text = results.read_text()
    block = CHECKS.extract(text)
    assert block is not None and "## an earlier check\nkept 1" in block
    assert "<!-- alerts:begin -->\n## Alert rules\nsecond run\n<!-- alerts:end -->" in block
    assert "first run" not in text and "kept 2" in text
