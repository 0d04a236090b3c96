"""The results as Markdown: printed at the end of a run and written to bench/RESULTS.md."""

from __future__ import annotations

import math

from bench.artillery import ArtilleryResult
from bench.base.report import (
    CHECKS,
    STREAMING,
    RunInfo,
    cores,
    disturbed,
    num,
    preamble,
    ratio,
    standing,
    table,
)
from bench.config import BenchConfig
from bench.runner import ScenarioResult, verdict_of
from bench.stats import StepResult

TARGET_RATIO = 0.8


def _step_row(s: StepResult, bound: float) -> list[str]:
    errs = ", ".join(f"{k}: {v}" for k, v in sorted(s.errors.items())) or "–"
    return [
        s.server,
        f"{s.rate:g}",
        num(s.sends_per_s),
        num(s.delivered_per_s),
        s.sent.fmt(),
        s.msg.fmt(),
        num(s.lag.p99, 1),
        str(s.lost),
        errs,
        num(s.server_cpu_per_1k, 3),
        num(s.aux_cpu_per_1k, 3) if s.server.startswith("im") else "–",
        cores(s.cpu, s.cpu.client_s),
        num(s.cpu.others_cores, 2),
        "yes" if s.within(bound) else f"**no**{verdict_of(s, bound)[4:]}",
    ]


STEP_HEAD = [
    "server",
    "rate/client (msg/s)",
    "sends/s",
    "delivered/s",
    "send→sent p50/p99/p99.9 ms",
    "send→msg p50/p99/p99.9 ms",
    "send lag p99 ms",
    "lost",
    "errors",
    "server CPU s/1k del",
    "Redis+Kafka CPU s/1k del",
    "client cores",
    "others' cores",
    "within bound",
]


def _summary(cfg: BenchConfig, results: list[ScenarioResult]) -> list[str]:
    bound = cfg.p99_bound_ms
    titles: dict[str, dict[str, ScenarioResult]] = {}
    for r in results:
        titles.setdefault(r.scenario.title, {})[r.target] = r
    rows = []
    for title, by in titles.items():
        best = {t: by[t].best(bound) if t in by else None for t in ("im", "bare", "centrifugo")}
        rate = {t: (b.delivered_per_s if b else float("nan")) for t, b in best.items()}
        # Within the bound even at the last swept rate: the capacity is higher than shown.
        more = {t: t in by and by[t].saturated_at_top(bound) for t in best}
        # The baselines ran in the same go: the ceiling (bare) and the peer (centrifugo).
        to_bare = ratio(rate["im"], rate["bare"])
        verdict = "met" if to_bare >= TARGET_RATIO else "**not met**"
        verdict = "–" if math.isnan(to_bare) else verdict
        if more["bare"] and verdict != "–":
            verdict += " (bare not saturated)"
        peer = standing(ratio(rate["im"], rate["centrifugo"]))
        cells = [
            ("≥ " if more[t] else "") + num(rate[t]) if t in by else "not run"
            for t in ("im", "bare", "centrifugo")
        ]
        rows.append([title, *cells, num(to_bare, 2), verdict, peer])
    head = ["scenario", "im", "bare", "centrifugo", "im / bare", "≥ 0.8 × bare", "im vs peer"]
    note = (
        "`≥`: still within the bound at the highest swept rate (the capacity is higher; "
        "sweep further with `--rate`/`--direct-rate` to find it). `–`: no rate was within. "
        "`even`: within 2 % of each other (typically both carried the whole offered load)."
    )
    return [*table(head, rows), "", note]


def _collector_cost(results: list[ScenarioResult]) -> list[str]:
    """im with the ops collector against im alone, rate by rate (same go, same users)."""
    by = {(r.scenario.title, r.target): r for r in results}
    rows = []
    for title in dict.fromkeys(r.scenario.title for r in results):
        alone, watched = by.get((title, "im")), by.get((title, "im-monitor"))
        if alone is None or watched is None:
            continue
        steps = {s.rate: s for s in watched.steps}
        for a in alone.steps:
            w = steps.get(a.rate)
            if w is None:
                continue
            rows.append([
                title, f"{a.rate:g}", num(a.delivered_per_s), num(w.delivered_per_s),
                num(ratio(w.delivered_per_s, a.delivered_per_s), 3),
                f"{num(a.msg.p99, 1)} / {num(w.msg.p99, 1)}",
                f"{num(a.server_cpu_per_1k, 3)} / {num(w.server_cpu_per_1k, 3)}",
                num(ratio(w.server_cpu_per_1k, a.server_cpu_per_1k), 2),
                f"{num(a.cpu.others_cores, 2)} / {num(w.cpu.others_cores, 2)}",
            ])  # fmt: skip
    if not rows:
        return []
    head = ["scenario", "msg/s per client", "delivered/s alone", "with collector", "ratio",
            "send→msg p99 ms alone / with", "server CPU s/1k del alone / with", "CPU ratio",
            "others' cores alone / with"]  # fmt: skip
    return ["## With the ops collector running (`--servers im,im-monitor`)", "",
            *table(head, rows), ""]  # fmt: skip


def _scenario(cfg: BenchConfig, title: str, results: list[ScenarioResult]) -> list[str]:
    out = [f"### {title}", ""]
    conn_rows = [
        [
            r.target,
            f"{r.connect.ok}/{r.connect.ok + r.connect.failed}",
            f"{r.connect.seconds:.1f}",
            num(r.rss_per_conn / 1024, 1),
            r.stopped_early
            or ("every rate within the bound" if r.saturated_at_top(cfg.p99_bound_ms) else "–"),
        ]
        for r in results
    ]
    head = ["server", "connected", "connect s", "server RSS KiB/conn", "sweep"]
    out += [*table(head, conn_rows), ""]
    steps = [_step_row(s, cfg.p99_bound_ms) for r in results for s in r.steps]
    out += table(STEP_HEAD, steps) if steps else ["(no step ran)"]
    failures = [f"- {r.target}: {dict(r.connect.errors)}" for r in results if r.connect.failed]
    if failures:
        out += ["", "Connection failures:", *failures]
    return [*out, ""]


def _artillery(art: ArtilleryResult | None) -> list[str]:
    out = ["## Cross-check: artillery against the IM server", ""]
    if art is None:
        return [*out, "Not run (--no-artillery, or the IM server was not part of this run).", ""]
    if not art.ok:
        return [*out, f"Could not run: `{art.detail}`", ""]
    out += [
        f"{art.vusers} virtual users × {art.loops} messages each, closed loop (each waits for "
        f"its answer), each alone in its own conversation; {art.detail}.",
        "",
    ]
    rows = []
    for metric, s in art.summaries.items():
        cells = [num(float(s.get(k, float("nan"))), 1) for k in ("p50", "p99", "p999", "max")]
        rows.append([metric, str(int(s.get("count", 0))), *cells])
    out += table(["artillery histogram", "count", "p50 ms", "p99 ms", "p99.9 ms", "max ms"], rows)
    errors = {
        k: v
        for k, v in art.counters.items()
        if k.startswith(("errors.", "im.error", "im.timeouts"))
    }
    vusers = {k: v for k, v in art.counters.items() if k.startswith("vusers.")}
    return [*out, "", f"artillery counters: {vusers}; errors: {errors or 'none'}", ""]


def _noise(results: list[ScenarioResult]) -> list[str]:
    others = [("", s.cpu.others_cores) for r in results for s in r.steps]
    consequence = (
        "those rows measure a shared machine, not the servers alone; rerun on a quiet machine"
    )
    return disturbed(others, "steps", consequence, by_name=False)


def render(
    cfg: BenchConfig, info: RunInfo, results: list[ScenarioResult], art: ArtilleryResult | None
) -> str:
    smoke = (
        "Few clients and/or short steps, to show the harness works; the numbers say little "
        "about capacity. The benchmark is `make bench` (`.venv/bin/python -m bench`, "
        "defaults) on a quiet machine."
    )
    about = [
        f"- Load client: {cfg.workers} worker processes (asyncio + `websockets`, open loop) on "
        "the same machine as the server under test, sharing its cores",
        f"- Steps: {cfg.warmup_s:g} s warm-up + {cfg.duration_s:g} s measured + "
        f"{cfg.grace_s:g} s grace per rate; message text {cfg.text_size} chars; "
        f"bound: delivery (and sent) p99 ≤ {cfg.p99_bound_ms:g} ms, nothing lost, no error",
    ]
    out = preamble(
        "# Benchmark results",
        info,
        smoke=None if cfg.full_run else smoke,
        about=about,
        disturbed=_noise(results),
    )
    out += [
        "",
        f"## Summary: delivered msgs/s at the best rate within the bound "
        f"(p99 ≤ {cfg.p99_bound_ms:g} ms)",
        "",
        *_summary(cfg, results),
        "",
        "## Scenarios",
        "",
    ]
    titles: dict[str, list[ScenarioResult]] = {}
    for r in results:
        titles.setdefault(r.scenario.title, []).append(r)
    for title, rs in titles.items():
        out += _scenario(cfg, title, rs)
    out += _collector_cost(results)
    out += _artillery(art)
    # The blocks kept in the same file by others: carried over as they are.
    for block in (CHECKS, STREAMING):
        kept = block.extract_from(cfg.results)
        if kept is not None:
            out += ["", kept]
    return "\n".join(out)
