"""The console benchmark's section of bench/RESULTS.md (inside the checks block)."""

from __future__ import annotations

from bench.base.report import Block, RunInfo, disturbed, num, preamble, ratio, table
from bench.console.config import BOUND_MS, UID, ConsoleBenchConfig
from bench.console.measure import SizeResult
from dashboards import catalog

SECTION = Block("console")


def _median(xs: list[float]) -> float:
    return xs[len(xs) // 2] if xs else float("nan")


def _shape() -> str:
    """The dashboard's panels, those with a query, and its queries (variables' included)."""
    board = next(b for b in catalog.load() if b["uid"] == UID)
    queried = [p for p in board["panels"] if p.get("targets")]
    n = len(catalog.queries([board]))
    return f"{len(board['panels'])} panels, {len(queried)} queried, {n} queries"


def render(cfg: ConsoleBenchConfig, info: RunInfo, sizes: list[SizeResult]) -> str:
    smoke = None if cfg.full_run else "Fewer days, runs or chat events than the full run."
    about = [
        "- What runs: a stack of its own (Redis, Kafka, analytics on embedded chDB, one "
        "server node, `python -m console`) whose chDB holds "
        f"{cfg.chat_per_day:,} raw chat events a day (bench.alerts' generator: a third cs, "
        "with session events and reply-rate windows of 20 agents), the data ending now; "
        f"Debian's Chromium (Playwright) opens `/d/{UID}` ({_shape()}) at its defaults "
        "(last 24 h, agent All) in a fresh context (empty cache) "
        f"signed in as an admin; 1 warm-up load, then {cfg.runs} measured",
        "- **first render**: navigation start to the page's `console:rendered` mark (every "
        "panel drawn, its queries answered through console → analytics → chDB), median (max); "
        f"`× baseline`: the medians' ratio to the {cfg.baseline_days}-day baseline of the "
        f"same run; bound {BOUND_MS:.0f} ms on the max (issue 14); **page weight**: bytes "
        "transferred (the page, its scripts, uPlot and its CSS, every query answer)",
    ]
    warn = disturbed([(f"{s.days} days", s.others_cores) for s in sizes], "sizes' measurements",
                     "their times include waiting for a core", by_name=True)  # fmt: skip
    title = "## Console: first render of a dashboard in Chromium (`python -m bench.console`)"
    out = preamble(title, info, smoke=smoke, about=about, disturbed=warn)
    if not sizes:
        return "\n".join(out)
    base = _median(sizes[0].times)
    rows = []
    for s in sizes:
        t = s.times
        last = s.loads[-1] if s.loads else None
        states = ", ".join(f"{k} {v}" for k, v in sorted(last.states.items())) if last else "–"
        rows.append([num(s.days), num(s.chat_events), f"{s.fill_s:.0f}",
                     f"{_median(t):.0f} ({t[-1]:.0f})" if t else "–",
                     num(ratio(_median(t), base), 2), "yes" if t and t[-1] < BOUND_MS else "**no**",
                     num(last.bytes) if last else "–", str(last.requests) if last else "–",
                     states, f"{s.others_cores:.2f}"])  # fmt: skip
    head = ["days", "chat events", "fill s", "first render ms", "× baseline",
            f"< {BOUND_MS:.0f} ms", "page bytes", "requests", "panels",
            "others' cores"]  # fmt: skip
    return "\n".join([*out, "", *table(head, rows)])
