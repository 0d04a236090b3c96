"""Options of the alerts benchmark, in one frozen object (read by bench.base.config.parse)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.base.config import OUT_DIR, RESULTS, OptionError, option, parse

BOUND_MS = 1000.0  # issue 12: all rules once in under 1 s over 30 days


@dataclass(frozen=True)
class AlertsBenchConfig:
    days: int = option(30, "--days", int, "days of telemetry to evaluate over (IM_OPS_TTL_DAYS)")
    baseline_days: int = option(1, "--baseline-days", int, "days of the baseline, first")
    runs: int = option(5, "--runs", int, "measured evaluations per size (after a warm-up)")
    chat_per_day: int = option(333_350, "--chat-per-day", int,
                               "raw chat events a day (10M in 30 days), a third cs")  # fmt: skip
    out_dir: Path = OUT_DIR / "alerts"
    results: Path = option(RESULTS, "--results", Path,
                           "Markdown file whose checks block gets the alerts section")  # fmt: skip

    @property
    def full_run(self) -> bool:
        return self.days >= 30 and self.runs >= 5


def _settle(c: AlertsBenchConfig, given: frozenset[str]) -> AlertsBenchConfig:
    if not 1 <= c.baseline_days < c.days:
        raise OptionError("--baseline-days must be at least 1 and under --days")
    if c.runs < 1 or c.chat_per_day < 0:
        raise OptionError("--runs >= 1, --chat-per-day >= 0")
    return c


def parse_args(argv: list[str]) -> AlertsBenchConfig:
    return parse(
        AlertsBenchConfig,
        argv,
        prog="python -m bench.alerts",
        description="Time to evaluate every rule of alerts/rules once over N days of "
        "synthetic telemetry (10-second ops samples, raw cs events) in embedded chDB, "
        "against a baseline of fewer days in the same run; results into bench/RESULTS.md "
        "(checks block).",
        settle=_settle,
    )
