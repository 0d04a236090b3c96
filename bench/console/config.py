"""Options of the console benchmark, in one frozen object (read by bench.base.config.parse)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.base.config import OUT_DIR, RESULTS, OptionError, option, parse

BOUND_MS = 2000.0  # issue 14: first render of a 10-panel dashboard over 10M events under 2 s
UID = "im-cs-reply-rate"


@dataclass(frozen=True)
class ConsoleBenchConfig:
    days: int = option(30, "--days", int, "days of raw chat events and reply-rate windows")
    baseline_days: int = option(1, "--baseline-days", int, "days of the baseline, first")
    runs: int = option(5, "--runs", int, "measured page loads per size (after a warm-up)")
    chat_per_day: int = option(333_350, "--chat-per-day", int,
                               "raw chat events a day (10M in 30 days), a third cs")  # fmt: skip
    out_dir: Path = OUT_DIR / "console"
    results: Path = option(RESULTS, "--results", Path,
                           "Markdown file whose checks block gets this section")  # fmt: skip

    @property
    def full_run(self) -> bool:
        return self.days >= 30 and self.runs >= 5 and self.chat_per_day * self.days >= 10**7


def _settle(c: ConsoleBenchConfig, given: frozenset[str]) -> ConsoleBenchConfig:
    if not 1 <= c.baseline_days < c.days:
        raise OptionError("--baseline-days must be at least 1 and under --days")
    if c.runs < 1 or c.chat_per_day < 0:
        raise OptionError("--runs >= 1, --chat-per-day >= 0")
    return c


def parse_args(argv: list[str]) -> ConsoleBenchConfig:
    return parse(
        ConsoleBenchConfig,
        argv,
        prog="python -m bench.console",
        description="First render of the reply-rate dashboard in Debian's "
        "Chromium through the console, on a stack of its own whose chDB holds N days of raw "
        "chat events (bench.alerts' generator), against a baseline of fewer days in the same "
        "run; page weight too; results into bench/RESULTS.md (checks block).",
        settle=_settle,
    )
