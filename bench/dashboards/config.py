"""Options of the dashboards benchmark, in one frozen object (read by bench.base.config.parse)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.base.config import OUT_DIR, RESULTS, OptionError, option, parse

BOUND_MS = 200.0  # issue 13: every panel's query under 200 ms (p50 and max)


@dataclass(frozen=True)
class DashboardsBenchConfig:
    days: int = option(30, "--days", int, "days of telemetry (IM_OPS_TTL_DAYS) and chat events")
    baseline_days: int = option(1, "--baseline-days", int, "days of the baseline, first")
    runs: int = option(5, "--runs", int, "measured runs per query and size (after a warm-up)")
    chat_per_day: int = option(333_350, "--chat-per-day", int,
                               "raw chat events a day (10M in 30 days), a third cs")  # fmt: skip
    whole_range: bool = option(True, "--no-whole-range", None,
                               "skip timing every query over all the days as its range",
                               action="store_false")  # fmt: skip
    out_dir: Path = OUT_DIR / "dashboards"
    results: Path = option(RESULTS, "--results", Path,
                           "Markdown file whose checks block gets this section")  # fmt: skip

    @property
    def full_run(self) -> bool:
        return self.days >= 30 and self.runs >= 5 and self.chat_per_day * self.days >= 10**7


def _settle(c: DashboardsBenchConfig, given: frozenset[str]) -> DashboardsBenchConfig:
    if not 1 <= c.baseline_days < c.days:
        raise OptionError("--baseline-days must be at least 1 and under --days")
    if c.runs < 1 or c.chat_per_day < 0:
        raise OptionError("--runs >= 1, --chat-per-day >= 0")
    return c


def parse_args(argv: list[str]) -> DashboardsBenchConfig:
    return parse(
        DashboardsBenchConfig,
        argv,
        prog="python -m bench.dashboards",
        description="Time of every dashboard panel's query (dashboards/build, macros expanded "
        "for the dashboard's default range ending now) over N days of synthetic telemetry "
        "and raw chat events in embedded chDB, against a baseline of fewer days in the same "
        "run; results into bench/RESULTS.md (checks block).",
        settle=_settle,
    )
