"""Options of the collector benchmark, in one frozen object (read by bench.base.config.parse)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.base.config import OUT_DIR, RESULTS, OptionError, csv, option, parse
from monitor.settings import MonitorSettings

FULL_KEYS = (0, 100_000, 1_000_000)  # 0: the baseline, an empty Redis
_DEFAULTS = MonitorSettings()


@dataclass(frozen=True)
class MonitorBenchConfig:
    keys: tuple[int, ...] = option(FULL_KEYS, "--keys", csv(int), "key counts; 0 first (baseline)")
    rounds: int = option(20, "--rounds", int, "measured rounds per key count (after a warm-up)")
    scan_keys: int = option(_DEFAULTS.scan_keys, "--scan-keys", int, "IM_OPS_SCAN_KEYS")
    big_keys: int = option(_DEFAULTS.big_keys, "--big-keys", int, "IM_OPS_BIG_KEYS")
    value_bytes: int = option(64, "--value-bytes", int, "bytes of each key's value")
    maxmemory: str = "4gb"  # the bench Redis' IM_REDIS_MAXMEMORY: 1M keys fit
    out_dir: Path = OUT_DIR / "monitor"
    results: Path = option(RESULTS, "--results", Path,
                           "Markdown file whose checks block gets the monitor section")  # fmt: skip

    @property
    def full_run(self) -> bool:
        return set(FULL_KEYS) <= set(self.keys) and self.rounds >= 20


def _settle(c: MonitorBenchConfig, given: frozenset[str]) -> MonitorBenchConfig:
    if not c.keys or c.keys[0] != 0 or min(c.keys) < 0:
        raise OptionError("--keys starts with 0 (the baseline), none negative")
    if c.rounds < 1 or c.scan_keys < 1 or c.big_keys < 0 or c.value_bytes < 1:
        raise OptionError("--rounds, --scan-keys, --value-bytes >= 1; --big-keys >= 0")
    return c


def parse_args(argv: list[str]) -> MonitorBenchConfig:
    return parse(
        MonitorBenchConfig,
        argv,
        prog="python -m bench.monitor",
        description="CPU of the collector and Redis time per round of Redis sampling, on a "
        "Redis of its own filled with N keys; results into bench/RESULTS.md (checks block).",
        settle=_settle,
    )
