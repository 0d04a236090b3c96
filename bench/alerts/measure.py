"""Fill a chDB of the benchmark's own day by day and time evaluations of every rule.

The baseline's days are filled first and measured, then the remaining days
are added (older ones: the data always ends now) and the full size is
measured, so both sizes run in one process on one machine in one go. Each
size: WARM_UPS evaluations, then `runs` measured ones (`alerts.evaluate`,
every rule of alerts/rules one after the other, probes all up), each timed
wall and CPU (this process: chDB runs inside it), and the CPU other
processes of the machine used meanwhile.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from alerts.evaluate import evaluate
from alerts.rulefile import PROBES
from alerts.rules import Rule, load_rules
from analytics.clickhouse import ClickHouse
from bench.alerts.config import AlertsBenchConfig
from bench.alerts.data import DAY_MS, growing, scratch_chdb
from bench.alerts.series import ROUND
from bench.base import machine
from bench.base.cli import Say
from bench.base.config import ROOT

COUNTED = ("ops_samples", "chat_events", "session_events", "reply_rates")
WARM_UPS = 3  # evaluations before the measured ones (caches, the first parts read)


@dataclass
class SizeResult:
    days: int
    rows: dict[str, int]
    fill_s: float
    disk_mib: float
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    rule_ms: dict[str, float] = field(default_factory=dict)  # median per rule
    fired: list[str] = field(default_factory=list)
    others_cores: float = 0.0

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(self, attr)))


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


async def _size(ch: ClickHouse, rules: list[Rule], now_ms: int, days: int, fill_s: float,
                folder: Path, runs: int) -> SizeResult:  # fmt: skip
    count = "SELECT count() FROM {t:Identifier}"
    rows = {t: int((await ch.query(count, {"t": t}))[1][0][0]) for t in COUNTED}
    result = SizeResult(days, rows, fill_s, _dir_mib(folder))
    probes = {p: (True, 0.0) for p in PROBES}
    for _ in range(WARM_UPS):
        first = await evaluate(ch, rules, now_ms, probes)
        assert first.errors == 0, {n: r.error for n, r in first.items() if r.error}
    result.fired = sorted(n for n, r in first.items() if r.series)
    per_rule: dict[str, list[float]] = {}
    me = psutil.Process()
    before = machine.sample(machine.Roles([], [], [me.pid]), time.monotonic())
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        results = await evaluate(ch, rules, now_ms, probes)
        result.wall_ms.append((time.perf_counter() - t0) * 1000)
        result.cpu_ms.append((time.process_time() - c0) * 1000)
        for name, r in results.items():
            per_rule.setdefault(name, []).append(r.seconds * 1000)
    after = machine.sample(machine.Roles([], [], [me.pid]), time.monotonic())
    result.others_cores = machine.delta(before, after).others_cores
    result.rule_ms = {n: float(statistics.median(v)) for n, v in per_rule.items()}
    return result


async def measure(cfg: AlertsBenchConfig, say: Say, sizes: list[SizeResult]) -> None:
    """Append the baseline's result, then the full size's, to `sizes` as each is done."""
    folder = cfg.out_dir / "chdb"
    rules = load_rules(ROOT / "alerts" / "rules")
    now_ms = int(time.time() * 1000) // 10_000 * 10_000
    start_ms = now_ms - cfg.days * DAY_MS + 10_000  # the newest round is at now
    async with scratch_chdb(folder) as ch:
        fills = growing(ch, start_ms, (cfg.baseline_days, cfg.days), cfg.chat_per_day, ROUND, say)
        async for days, fill_s in fills:
            sizes.append(await _size(ch, rules, now_ms, days, fill_s, folder, cfg.runs))
            s = sizes[-1]
            say(f"  {s.rows['ops_samples']:,} samples: {s.median('wall_ms'):.0f} ms per "
                f"evaluation of {len(rules)} rules (max {max(s.wall_ms):.0f})")  # fmt: skip
