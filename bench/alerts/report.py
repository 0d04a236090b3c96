"""The alerts benchmark's section of bench/RESULTS.md (inside the checks block)."""

from __future__ import annotations

from bench.alerts.config import BOUND_MS, AlertsBenchConfig
from bench.alerts.measure import WARM_UPS, SizeResult
from bench.alerts.series import ROUND
from bench.base.report import Block, RunInfo, disturbed, num, preamble, ratio, table

SECTION = Block("alerts")
SLOWEST = 5


def render(cfg: AlertsBenchConfig, info: RunInfo, sizes: list[SizeResult]) -> str:
    smoke = None if cfg.full_run else "Fewer days or runs than the full run."
    about = [
        "- What runs: embedded chDB (the analytics tables of `analytics/schema.py`) in this "
        f"process, filled inside ClickHouse with `numbers()`: {len(ROUND)} ops series every 10 s "
        f"(one collector round of a one-node stack: Redis, Kafka, host, pipeline, collector, "
        f"gateway incl. its latency histogram), {cfg.chat_per_day:,} raw chat events a day (a "
        "third in cs conversations, with their session events), reply-rate windows of 20 "
        "agents and 50 detections a day; the data ends now. Each size: "
        f"{WARM_UPS} warm-up evaluations, then "
        f"{cfg.runs} evaluations of every rule of `alerts/rules` (`alerts.evaluate.evaluate`, "
        "one query after the other, probes all up) at now",
        f"- **ms/evaluation**: wall time of one evaluation of all rules (median, max in "
        "brackets); **CPU ms**: this process' CPU over it (chDB runs inside it); `× baseline`: "
        f"ratio to the {cfg.baseline_days}-day baseline of the same run; bound: "
        f"{BOUND_MS:.0f} ms (issue 12)",
    ]
    warn = disturbed([(f"{s.days} days", s.others_cores) for s in sizes], "sizes' evaluations",
                     "their times include waiting for a core", by_name=True)  # fmt: skip
    out = preamble("## Alert rules: one evaluation of all rules (`python -m bench.alerts`)",
                   info, smoke=smoke, about=about, disturbed=warn)  # fmt: skip
    base = sizes[0] if sizes and sizes[0].days == cfg.baseline_days else None
    rows = []
    for s in sizes:
        if not s.wall_ms:
            continue
        wall = s.median("wall_ms")
        slowest = sorted(s.rule_ms.items(), key=lambda kv: -kv[1])[:SLOWEST]
        rows.append([
            num(s.days), num(s.rows["ops_samples"]), num(s.rows["chat_events"]),
            num(s.disk_mib), f"{s.fill_s:.0f}",
            f"{wall:.0f} ({max(s.wall_ms):.0f})",
            num(ratio(wall, base.median("wall_ms")), 2) if base else "–",
            f"{s.median('cpu_ms'):.0f}",
            "yes" if max(s.wall_ms) < BOUND_MS else "**no**",
            ", ".join(f"{n} {ms:.0f}" for n, ms in slowest),
            f"{s.others_cores:.2f}",
        ])  # fmt: skip
    head = ["days", "ops samples", "chat events", "chDB MiB", "fill s", "ms/evaluation",
            "× baseline", "CPU ms", "< 1 s", f"slowest {SLOWEST} rules (median ms)",
            "others' cores"]  # fmt: skip
    fired = sizes[-1].fired if sizes else []
    tail = [f"Rules firing on this data: {', '.join(fired) if fired else 'none'}."]
    return "\n".join([*out, "", *table(head, rows), "", *tail])
