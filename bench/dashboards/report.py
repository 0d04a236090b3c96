"""The dashboards benchmark's section of bench/RESULTS.md (inside the checks block)."""

from __future__ import annotations

from bench.base.report import Block, RunInfo, disturbed, num, preamble, ratio, table
from bench.dashboards.config import BOUND_MS, DashboardsBenchConfig
from bench.dashboards.measure import POINTS, QueryTimes, SizeResult
from bench.dashboards.series import SERIES

SECTION = Block("dashboards")


def _ms(t: QueryTimes | None) -> str:
    return "–" if t is None or not t.ms else f"{t.p50:.0f} ({max(t.ms):.0f})"


def _ok(t: QueryTimes) -> bool:
    return max(t.ms) < BOUND_MS


def render(cfg: DashboardsBenchConfig, info: RunInfo, sizes: list[SizeResult]) -> str:
    smoke = None if cfg.full_run else "Fewer days, runs or chat events than the full run."
    about = [
        "- What runs: embedded chDB (the tables of `analytics/schema.py`) in this process, "
        f"filled inside ClickHouse with `numbers()` by bench.alerts' generator: {len(SERIES)} "
        "ops series every 10 s (bench.alerts' round plus the series only the dashboards read), "
        f"{cfg.chat_per_day:,} raw chat events a day (a third cs, with session events), "
        "reply-rate windows of 20 agents, 50 detections a day; the data ends now. Every query "
        "of `dashboards/build` (panels and query variables) expanded by `dashboards.macros` "
        "for its dashboard's default range ending now (6 h SRE, 24 h customer service), "
        f"variables at their defaults, interval = range / {POINTS:,} points rounded up "
        f"(≥ 10 s); each size once the fill's background merges are done; 1 warm-up, then "
        f"{cfg.runs} timed runs. The SRE panels read "
        "`ops_samples` when the interval is not whole minutes (their default 6 h: 30 s) and "
        "else the coarsest rollup it is made of (`analytics/rollups.py`; the whole range: "
        "1-hour blocks); each dashboard's last query is its alert rules' conditions",
        "- The baseline runs each query first in the process: ClickHouse compiles a query's "
        "expressions at its 4th run (`min_count_to_compile_expression` = 3), about 100 ms of "
        "CPU once, inside the baseline's timed runs; the full size's runs reuse the compiled "
        "code, so a baseline time can exceed its full-size time",
        "- **ms**: wall time of one query, median (max in brackets); `× baseline`: ratio of "
        f"the medians to the {cfg.baseline_days}-day baseline of the same run; bound "
        f"{BOUND_MS:.0f} ms on the max (issue 13); **whole range**: the same query with all "
        f"{cfg.days} days as its range (not bounded: what a user asking for a month waits)",
    ]
    warn = disturbed([(f"{s.days} days", s.others_cores) for s in sizes], "sizes' measurements",
                     "their times include waiting for a core", by_name=True)  # fmt: skip
    out = preamble("## Dashboards: every panel's query (`python -m bench.dashboards`)", info,
                   smoke=smoke, about=about, disturbed=warn)  # fmt: skip
    if not sizes:
        return "\n".join(out)
    sums = [[num(s.days), num(s.rows["ops_samples"]), num(s.rows["chat_events"]),
             num(s.disk_mib), f"{s.fill_s:.0f}", str(len(s.default)),
             str(sum(1 for t in s.default if _ok(t))),
             f"{max(max(t.ms) for t in s.default):.0f}", f"{s.others_cores:.2f}"]
            for s in sizes]  # fmt: skip
    head = ["days", "ops samples", "chat events", "chDB MiB", "fill s", "queries",
            f"max < {BOUND_MS:.0f} ms", "slowest max ms", "others' cores"]  # fmt: skip
    base, full = sizes[0], sizes[-1]
    by_key = {t.key: t for t in base.default}
    whole = {t.key: t for t in full.whole}
    rows = [[f"`{t.key}`", t.title, str(t.range_s // 3600) + " h", _ms(by_key.get(t.key)),
             _ms(t), num(ratio(t.p50, by_key[t.key].p50), 2) if t.key in by_key else "–",
             "yes" if _ok(t) else "**no**", _ms(whole.get(t.key))]
            for t in full.default]  # fmt: skip
    qhead = ["query", "panel", "range", f"{base.days} day ms", f"{full.days} days ms",
             "× baseline", f"< {BOUND_MS:.0f} ms", f"whole range ({full.days} d) ms"]  # fmt: skip
    slow = [t.key for t in full.whole if not _ok(t)]
    tail = [f"Over the whole {full.days}-day range, {len(slow)} of {len(full.whole)} queries "
            f"take {BOUND_MS:.0f} ms or more." if full.whole else ""]  # fmt: skip
    return "\n".join([*out, "", *table(head, sums), "", *table(qhead, rows), "", *tail])
