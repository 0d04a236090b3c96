"""The streaming block of bench/RESULTS.md (Markdown), printed and written between markers."""

from __future__ import annotations

from bench.base.report import RunInfo, cores, disturbed, num, preamble, table
from bench.stream.config import StreamBenchConfig
from bench.stream.freshness import FreshResult, Latency
from bench.stream.throughput import ThroughputResult

GOAL_P99_S = 5.0  # the issue: p99 under 5 s of avoidable delay at 10k events/s


def _throughput(t: ThroughputResult) -> list[str]:
    b = t.batch
    ok = t.rows_seen == t.rows_expected and t.counted_seen == t.counted_expected
    check = (
        f"{t.rows_seen:,}/{t.rows_expected:,} rows, {t.counted_seen:,}/{t.counted_expected:,} "
        f"msgs{'' if ok else ' **(mismatch)**'}"
    )
    row = [
        f"{b.records:,}",
        f"{b.messages:,} + {b.duplicates:,} dup + {b.ticks:,} ticks",
        num(t.startup_s, 1),
        num(t.processing_s, 1),
        f"**{num(t.events_per_s)}**",
        num(t.steady_per_s),
        num(t.results_s, 1),
        check,
        cores(t.cpu, t.cpu.server_s),
        cores(t.cpu, t.cpu.aux_s),
        num(t.cpu.others_cores, 2),
        num(t.job_rss_mib),
    ]
    head = [
        "im.chat records",
        "of which",
        "job start-up s",
        "processing s",
        "events/s",
        "steady events/s (10→90 %)",
        "all count rows visible after s",
        "message_count check",
        "job cores",
        "Kafka cores",
        "others' cores",
        "job RSS MiB",
    ]
    out = ["### 1. Sustained throughput: a pre-produced batch, the job from the earliest offset"]
    out.append("")
    out += [*table(head, [row]), ""]
    outputs = ", ".join(f"`{k}` {v:,}" for k, v in sorted(t.output.items())) or "none"
    out += [
        f"- Batch: {b.records:,} records ({b.bytes / 2**20:,.0f} MiB of JSON) in im.chat, "
        f"produced before the job starts ({b.produce_s:.0f} s); event time spread evenly "
        f"over {b.span_s:,.0f} s, ts moved back by up to 1 s (relay disorder), 0.5 % relayed "
        f"twice, ticks every 2 s into every partition and a final tick an hour later that "
        f"closes every window. Traffic: {b.traffic}.",
        f"- Job: {t.settings}; `{t.env}`.",
        "- **events/s** = im.chat records ÷ **processing s**: from the job graph submitted "
        "(its ready file) until the committed offsets of its consumer group reach the end of "
        "im.chat in every partition (the source commits them when a checkpoint completes: "
        "consumed and checkpointed). It includes task deployment and the first checkpoint "
        f"(first offsets committed {num(t.first_commit_s, 1)} s after submission); **steady** is "
        "the slope between 10 % and 90 % of the offsets. **job start-up** (process spawned → "
        "job submitted: Python, the JVM gateway, planning) is not in either.",
        f"- Result rows visible (read_committed) at the end: {outputs}. Moderation "
        "detections by rule and sender: "
        + (", ".join(f"{k} {v:,}" for k, v in t.detections.items()) or "none")
        + " (bots and agents repeat canned texts, so the rules fire on them too).",
        f"- Checkpoints while processing: {t.checkpoints.fmt()}"
        + (f", {t.checkpoints.failed} expired" if t.checkpoints.failed else "")
        + ".",
    ]
    out += [f"- Note: {n}" for n in t.notes]
    return [*out, ""]


def _lat_rows(f: FreshResult) -> list[list[str]]:
    rows = []
    for lat in (f.count, f.moderation, f.mute):
        if lat.expected >= 0:
            seen = f"{lat.seen:,}/{lat.expected:,} ({lat.windows} windows)"
        else:
            seen = f"{lat.seen:,} (injected floods {lat.floods[0]}/{lat.floods[1]})"
        verdict = "–"
        if lat.total.n:
            verdict = "yes" if lat.total.p99 <= GOAL_P99_S else "**no**"
        rows.append(
            [
                f"{f.rate:,.0f} ({f.achieved_per_s:,.0f})",
                lat.name,
                seen,
                f"**{lat.total.fmt()}**",
                lat.processing.fmt(),
                lat.commit.fmt(),
                verdict,
                f"{f.backlog_start:,} → {f.backlog_end:,}",
                cores(f.cpu, f.cpu.server_s),
                cores(f.cpu, f.cpu.aux_s),
                cores(f.cpu, f.cpu.client_s),
                num(f.cpu.others_cores, 2),
            ]
        )
    return rows


def _share(lat: Latency) -> str:
    if not lat.total.n or lat.total.p50 <= 0:
        return "–"
    return f"{lat.commit.p50:.2f} of {lat.total.p50:.2f} s ({lat.commit.p50 / lat.total.p50:.0%})"


def _freshness(cfg: StreamBenchConfig, fr: list[FreshResult]) -> list[str]:
    head = [
        "input events/s (achieved)",
        "result rows (could be final at)",
        "rows seen/expected",
        "final → visible p50 / p99 / max s",
        "processing p50 / p99 / max s",
        "commit wait p50 / p99 / max s",
        f"p99 ≤ {GOAL_P99_S:g} s",
        "job backlog start → end (records)",
        "job cores",
        "Kafka cores",
        "bench cores",
        "others' cores",
    ]
    rows = [r for f in fr for r in _lat_rows(f)]
    out = ["### 2. Freshness: open loop at fixed rates, event time = now", ""]
    out += [*table(head, rows), ""]
    f0 = fr[0]
    out += [
        f"- Job: {f0.settings}; `{f0.env}`; a fresh Kafka and job per rate, start-up "
        + ", ".join(f"{num(f.startup_s, 1)} s" for f in fr)
        + f" (not measured). {cfg.warmup_s:g} s warm-up, {cfg.duration_s:g} s measured: the "
        "windows that end in it and the detections whose last message is in it; the input "
        "stays at the rate until L + 3 s after it.",
        "- Input: chat messages at the rate (open loop: the schedule waits for nothing; "
        "producer lag p99 "
        + ", ".join(f"{f.lag_p99_s * 1000:.0f} ms" for f in fr)
        + f"), 0.5 % relayed twice, ticks every {cfg.tick_interval_s:g} s into every "
        f"partition, and every {cfg.flood_every_s:g} s a flood: a new sender writes "
        "flood_count messages 100 ms apart into a group (one detection each). Traffic at "
        f"{fr[-1].rate:,.0f}/s: {fr[-1].traffic}.",
        "- **final → visible**: from when the row could first be final (message_count: "
        "window end + L; moderation and its user.mute command: last_ts + L; L = "
        "IM_STREAM_LATENESS_S) until a read_committed reader got it — the delay the job adds "
        "over what the window rules and the lateness bound need (the avoidable delay). "
        "**processing**: until the job's producer wrote the row (the record's CreateTime); "
        "**commit wait**: from then until visible, i.e. until the checkpoint that commits "
        f"the transaction (exactly-once; checkpoint every {cfg.checkpoint_s:g} s, so about "
        f"uniform in [0, {cfg.checkpoint_s:g}] s plus the checkpoint's own time).",
        "- Commit wait in the median: "
        + "; ".join(
            f"{f.rate:,.0f}/s: message_count {_share(f.count)}, moderation {_share(f.moderation)}"
            for f in fr
        )
        + ".",
        "- Checkpoints completed in the measured interval: "
        + "; ".join(f"{f.rate:,.0f}/s: {f.checkpoints.fmt()}" for f in fr)
        + ".",
        "- Not measured here: rows of `im.metrics.sessions` and `cs.close_inactive` (final "
        "a session gap after the last message) and, if enabled, `im.metrics.reply_rate` "
        "(final a reply window after its window) cannot become final within a run this "
        "short; those queries still run and cost their share.",
        "- **job backlog**: im.chat records the job had not committed at the start and at "
        "the end of the measured interval (committed offsets move when a checkpoint "
        "completes, so about rate × (checkpoint period + duration) is normal); a growing "
        "backlog means the job does not keep up with the rate, and its latency grows with "
        "the run.",
    ]
    for f in fr:
        out += [f"- Note ({f.rate:,.0f}/s): {n}" for n in f.notes]
    return [*out, ""]


def _noise(t: ThroughputResult | None, fr: list[FreshResult]) -> list[str]:
    others = [("throughput", t.cpu.others_cores)] if t else []
    others += [(f"{f.rate:,.0f}/s", f.cpu.others_cores) for f in fr]
    consequence = "those numbers measure a shared machine; rerun on a quiet one"
    return disturbed(others, "measurements", consequence, by_name=True)


def render(
    cfg: StreamBenchConfig,
    info: RunInfo,
    t: ThroughputResult | None,
    fr: list[FreshResult],
) -> str:
    smoke = (
        "Fewer events, rates or seconds than the defaults; the benchmark is "
        "`.venv/bin/python -m bench.stream` on a quiet machine."
    )
    job = (
        "the real job graph submitted with `flink run -d -pym streaming` to a Flink session "
        "cluster configured as the local stack's (stack/flink.py; one JobManager, one "
        "TaskManager), `job RSS` = the TaskManager's"
        if cfg.cluster
        else "the real job process (`python -m streaming`: PyFlink, the whole job graph in "
        "one local mini-cluster JVM)"
    )
    about = [
        f"- What runs: {job}, its own Kafka broker (KRaft, "
        f"{cfg.partitions} partitions per topic, 127.0.0.1:{cfg.ports.kafka}, data under "
        "bench/out/stream/), the load generator and the result reader; all on this machine. "
        "`job cores` = the job's processes (Python + JVM; on the cluster the JobManager and "
        "TaskManager), `Kafka cores` = the broker, "
        "`bench cores` = generator + reader + coordinator, `others' cores` = everything else",
    ]
    out = preamble(
        "## Streaming job: throughput and freshness (`python -m bench.stream`)",
        info,
        smoke=None if cfg.full_run else smoke,
        about=about,
        disturbed=_noise(t, fr),
    )
    out.append("")
    if t is not None:
        out += _throughput(t)
    if fr:
        out += _freshness(cfg, fr)
    return "\n".join(out).rstrip() + "\n"
