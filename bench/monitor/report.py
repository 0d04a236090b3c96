"""The collector benchmark's section of bench/RESULTS.md (inside the checks block)."""

from __future__ import annotations

from bench.base.report import Block, RunInfo, disturbed, num, preamble, ratio, table
from bench.monitor.config import MonitorBenchConfig
from bench.monitor.measure import SizeResult

# Its own block inside the checks block: a new run replaces it, other checks stay.
SECTION = Block("monitor")


def longest_command(s: SizeResult) -> str:
    return max(s.rounds, key=lambda r: r.longest_us).longest_command


def render(cfg: MonitorBenchConfig, info: RunInfo, sizes: list[SizeResult]) -> str:
    smoke = None if cfg.full_run else "Fewer key counts or rounds than the full run."
    about = [
        "- What runs: a Redis of its own (`redis-server` with the stack's flags, maxmemory "
        f"{cfg.maxmemory}, noeviction) filled with N keys by pipelined SETs "
        f"({cfg.value_bytes}-byte values, five key families of `im/keys.py` in turn); the "
        "collector's round "
        f"(`Collector.round()`: Redis and host samplers, IM_OPS_SCAN_KEYS={cfg.scan_keys}, "
        f"IM_OPS_BIG_KEYS={cfg.big_keys}, then the samples XADDed to the outbox) in the "
        f"benchmark's process, one warm-up round then {cfg.rounds} measured rounds per N",
        "- **Redis ms/round**: the sum of the slow log's durations of the round's commands "
        "(threshold 0 during the run; the collector reads 1 entry a round, as it finds few "
        "or none in production at the 10 ms threshold); **command p99 µs**: the 99th "
        "percentile of a round's command durations (median over rounds); **longest µs**: "
        "the longest command of all rounds, the longest Redis was held for others (on a busy "
        "machine it includes time the Redis process waited for a core); **Redis CPU**: the server "
        "process' CPU time over all rounds / rounds (commands plus connection I/O, and the "
        "benchmark's own SLOWLOG calls); **collector CPU**: this process' CPU time over the "
        "round. Medians over the rounds (max in brackets); `× empty`: ratio to the same "
        "number on the empty Redis of the same run",
    ]
    warn = disturbed(
        [(f"{num(s.keys)} keys", s.others_cores) for s in sizes],
        "key counts' rounds",
        "the CPU numbers of those rows measure a shared machine",
        by_name=True,
    )
    out = preamble("## Collector cost per round (`python -m bench.monitor`)", info,
                   smoke=smoke, about=about, disturbed=warn)  # fmt: skip
    base = sizes[0] if sizes and sizes[0].keys == 0 else None
    rows = []
    for s in sizes:
        if not s.rounds:
            continue
        cpu, redis = s.median("cpu_ms"), s.median("redis_ms")
        rows.append([
            num(s.keys), num(s.used_memory / 2**20, 1), f"{s.fill_s:.1f}",
            num(s.median("samples")), num(s.median("redis_commands")),
            f"{redis:.2f} ({s.most('redis_ms'):.2f})",
            num(ratio(redis, base.median("redis_ms")), 2) if base else "–",
            f"{s.median('p99_us'):.0f}",
            f"{num(s.most('longest_us'))} ({longest_command(s)})",
            f"{s.redis_cpu_ms:.1f}",
            f"{cpu:.1f} ({s.most('cpu_ms'):.1f})",
            num(ratio(cpu, base.median("cpu_ms")), 2) if base else "–",
            f"{s.median('wall_ms'):.1f}", f"{s.others_cores:.2f}",
        ])  # fmt: skip
    head = ["keys", "used MiB", "fill s", "samples/round", "Redis commands/round",
            "Redis ms/round", "× empty", "command p99 µs", "longest µs (command)",
            "Redis CPU ms/round (mean)", "collector CPU ms/round", "× empty",
            "round wall ms", "others' cores"]  # fmt: skip
    return "\n".join([*out, "", *table(head, rows)])
