"""2. Freshness at a fixed input rate: how long after a result row could first be final
it is visible to a read_committed reader.

"Could first be final" (the job's rules aside): the watermark is the newest
event time minus the lateness bound L (IM_STREAM_LATENESS_S), so
- a message_count window [start, end) can close no earlier than end + L;
- a moderation detection (and its user.mute command in im.control) can come
  no earlier than its last message's ts (`last_ts`) + L.
Everything after that is delay the job adds: watermark propagation and
computing (until the job's Kafka producer writes the row, the record's
CreateTime: "processing") and waiting for the checkpoint that commits the
transaction the row was written in (from CreateTime until visible: "commit
wait", the exactly-once share, about uniform in [0, checkpoint period] plus
the time a checkpoint takes).

Measured per rate on a fresh Kafka and a fresh job: warm-up, then
`duration_s` measured (windows ending in it, detections whose last message
is in it), with the input at the full rate until L + 3 s after the measured
interval, then ticks only until the job has consumed everything (bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import orjson

from bench.base import machine
from bench.base.cli import Say
from bench.base.stats import Dist
from bench.stream import flinklog, loadgen, resultlog
from bench.stream import job as jobproc
from bench.stream.config import StreamBenchConfig
from bench.stream.kafkaio import GroupOffsets, behind, end_offsets
from contract import topics
from stack.manager import Stack
from traffic.rate import Conversations


@dataclass
class Latency:
    """Latencies of one kind of result row, in seconds."""

    name: str
    expected: int  # rows the measured input must give (-1: not known in advance)
    seen: int
    total: Dist  # could be final -> visible
    processing: Dist  # could be final -> written (CreateTime)
    commit: Dist  # written -> visible
    windows: int = 0  # message_count: windows (closes) measured
    floods: tuple[int, int] = (0, 0)  # moderation: injected floods detected, injected


@dataclass
class FreshResult:
    rate: float
    env: str
    settings: str
    traffic: str
    startup_s: float
    achieved_per_s: float
    lag_p99_s: float
    lag_max_s: float
    count: Latency
    moderation: Latency
    mute: Latency
    backlog_start: int  # im.chat records not yet committed by the job: at the window's start
    backlog_end: int  # ... and at its end
    backlog_max: int
    cpu: machine.CpuDelta
    job_rss_mib: float
    checkpoints: flinklog.Checkpoints  # completed within the measured interval
    notes: list[str] = field(default_factory=list)


def _stop_process(p: BaseProcess | None) -> None:
    if p is None or p.pid is None:
        return
    p.join(10)
    if p.is_alive():
        p.terminate()
        p.join(5)
    if p.is_alive():
        p.kill()
        p.join()


def _recv(conn: Connection, timeout_s: float, what: str) -> object:
    if not conn.poll(timeout_s):
        raise RuntimeError(f"the load generator sent no {what} within {timeout_s:.0f} s")
    return conn.recv()


async def _watch(
    cfg: StreamBenchConfig,
    st: Stack,
    job: jobproc.Job,
    t0: float,
    ours: list[int],
    msgs_done: mp.synchronize.Event,
    say: Say,
) -> tuple[machine.CpuDelta, int, int, int]:
    """CPU over the measured interval, the job's backlog during and at its end; then wait
    (bounded) until the job has committed every chat record of the run."""
    bootstrap = st.settings.kafka_bootstrap
    m_from, m_to = t0 + cfg.warmup_s, t0 + cfg.warmup_s + cfg.duration_s
    backlog_max = backlog_end = backlog_start = 0
    async with GroupOffsets(bootstrap, job.settings.group_id, topics.CHAT,
                            cfg.partitions) as group:  # fmt: skip

        async def backlog() -> int:
            ends = await end_offsets(bootstrap, topics.CHAT, cfg.partitions)
            try:
                return behind(ends, await group.committed())
            except Exception:
                return sum(ends.values())

        await asyncio.sleep(max(0.0, m_from - time.time()))
        roles = machine.Roles(server=job.pids(), aux=_kafka_pids(st), client=ours)
        cpu0 = machine.sample(roles, time.time())
        backlog_start = await backlog()
        while time.time() < m_to:
            if not job.proc.running():
                raise RuntimeError(f"the job exited:\n{job.proc.tail(30)}")
            backlog_max = max(backlog_max, await backlog())
            await asyncio.sleep(max(0.0, min(1.0, m_to - time.time())))
        cpu1 = machine.sample(roles, time.time())
        backlog_end = await backlog()
        backlog_max = max(backlog_max, backlog_end)
        say(f"  measured; job backlog at the end {backlog_end:,} records (max {backlog_max:,})")
        await asyncio.to_thread(msgs_done.wait, cfg.lateness_s + 30.0)
        ends = await end_offsets(bootstrap, topics.CHAT, cfg.partitions)
        deadline = time.time() + cfg.grace_max_s
        while time.time() < deadline:
            with contextlib.suppress(Exception):
                if behind(ends, await group.committed()) == 0:
                    break
            await asyncio.sleep(0.25)
        else:
            say(f"  the job had not consumed the input {cfg.grace_max_s:g} s after it stopped")
        # The rows of that checkpoint's transactions: one more period or two to show.
        await asyncio.sleep(2 * cfg.checkpoint_s + 1)
    return machine.delta(cpu0, cpu1), backlog_start, backlog_end, backlog_max


def _kafka_pids(st: Stack) -> list[int]:
    pid = st.proc("kafka").pid()
    return [pid] if pid else []


def _latencies(
    path: Path, rep: loadgen.LoadReport, cfg: StreamBenchConfig
) -> tuple[Latency, Latency, Latency, list[str]]:
    lat_ms = cfg.lateness_s * 1000
    m_from = int((rep.t0 + cfg.warmup_s) * 1000)
    m_to = int((rep.t0 + cfg.warmup_s + cfg.duration_s) * 1000)
    # name -> (final s, written s, visible s) per row
    got: dict[str, list[tuple[float, float, float]]] = {"count": [], "mod": [], "mute": []}
    flood_rows: set[str] = set()
    timestamp_types: set[int] = set()
    with path.open("rb") as f:
        for line in f:
            d = orjson.loads(line)
            v, k = d["v"], d["k"]
            timestamp_types.add(int(d["tt"]))
            if k == 0:
                end = int(v["window_end"])
                if not m_from < end <= m_to:
                    continue
                name, final = "count", end + lat_ms
            elif k == 1:
                last = int(v["last_ts"])
                if not m_from <= last < m_to:
                    continue
                name, final = "mod", last + lat_ms
                if v["rule"] == "flood" and str(v["user"]).startswith("flooder"):
                    flood_rows.add(str(v["user"]))
            elif v.get("type") == "user.mute":
                last = int(v["ts"])
                if not m_from <= last < m_to:
                    continue
                name, final = "mute", last + lat_ms
            else:
                continue
            got[name].append((final / 1000, int(d["ts"]) / 1000, float(d["at"])))
    floods = {u for u, last in rep.floods if m_from <= last < m_to}
    notes = []
    if timestamp_types != {0}:
        notes.append(f"result records' timestamp types {sorted(timestamp_types)} (0 = CreateTime "
                     "expected): the processing/commit split is not meaningful")  # fmt: skip
    missed = floods - flood_rows
    if missed:
        notes.append(f"{len(missed)} of {len(floods)} injected floods not detected (visible)")
    if not floods:
        notes.append("no injected flood in the measured interval")
    if not rep.windows:
        notes.append("no message_count window ended in the measured interval (a window "
                     "longer than it? see --fresh-count-window)")  # fmt: skip

    def lat(name: str, label: str, expected: int) -> Latency:
        rows = got[name]
        return Latency(
            name=label,
            expected=expected,
            seen=len(rows),
            total=Dist.of(vis - fin for fin, _, vis in rows),
            processing=Dist.of(wr - fin for fin, wr, _ in rows),
            commit=Dist.of(vis - wr for _, wr, vis in rows),
        )

    count = lat("count", "message_count rows (window end + L)", sum(rep.windows.values()))
    count.windows = len(rep.windows)
    if count.seen < count.expected:
        notes.append(f"{count.expected - count.seen:,} of {count.expected:,} message_count rows "
                     "of the measured windows never became visible")  # fmt: skip
    moderation = lat("mod", "moderation rows (last_ts + L)", -1)
    mute = lat("mute", "user.mute commands, im.control (last_ts + L)", -1)
    moderation.floods = mute.floods = (len(floods & flood_rows), len(floods))
    return count, moderation, mute, notes


def run(cfg: StreamBenchConfig, st: Stack, rate: float, say: Say) -> FreshResult:
    say(f"freshness at {rate:,.0f} events/s: {cfg.warmup_s:g} s warm-up + "
        f"{cfg.duration_s:g} s measured")  # fmt: skip
    overrides = {
        "IM_STREAM_CHECKPOINT_S": f"{cfg.checkpoint_s:g}",
        "IM_STREAM_COUNT_WINDOW_S": str(cfg.fresh_count_window_s),
        "IM_STREAM_PARALLELISM": str(cfg.parallelism),
    }
    bootstrap = st.settings.kafka_bootstrap
    ctx = mp.get_context("spawn")
    rows = cfg.out_dir / f"rows-{rate:g}.jsonl"
    reader_ready, reader_stop = ctx.Event(), ctx.Event()
    msgs_done, load_stop = ctx.Event(), ctx.Event()
    reader: BaseProcess | None = None
    load: BaseProcess | None = None
    job: jobproc.Job | None = None
    try:
        reader = ctx.Process(
            target=resultlog.main, name="bench-stream-reader", daemon=True,
            args=(bootstrap, cfg.partitions, rows, reader_ready, reader_stop),
        )  # fmt: skip
        reader.start()
        if not reader_ready.wait(60):
            raise RuntimeError("the result reader did not start within 60 s")
        job = jobproc.start(st, overrides, say, cluster=cfg.cluster)
        s = job.settings
        plan = loadgen.LoadPlan(
            bootstrap=bootstrap, partitions=cfg.partitions, rate=rate, seed=cfg.seed,
            warmup_s=cfg.warmup_s, duration_s=cfg.duration_s, tail_s=s.lateness_s + 3.0,
            tick_interval_s=cfg.tick_interval_s, flood_every_s=cfg.flood_every_s,
            flood_count=s.flood_count, flood_within_s=s.flood_within_s,
            window_ms=s.count_window_s * 1000,
        )  # fmt: skip
        here, there = ctx.Pipe()
        load = ctx.Process(target=loadgen.main, name="bench-stream-load", daemon=True,
                           args=(plan, there, msgs_done, load_stop))  # fmt: skip
        load.start()
        msg = _recv(here, 60, "start time")
        assert isinstance(msg, tuple) and msg[0] == "t0"
        t0 = float(msg[1])
        ours = [os.getpid(), *(p for p in (reader.pid, load.pid) if p is not None)]
        cpu, backlog_start, backlog_end, backlog_max = asyncio.run(
            _watch(cfg, st, job, t0, ours, msgs_done, say)
        )
        load_stop.set()
        msg = _recv(here, 60, "report")
        assert isinstance(msg, tuple) and msg[0] == "report"
        rep: loadgen.LoadReport = msg[1]
        if rep.error:
            raise RuntimeError(f"the load generator failed: {rep.error}")
        reader_stop.set()
        _stop_process(reader)
        rss = job.rss_bytes() / 2**20
    finally:
        load_stop.set()
        reader_stop.set()
        _stop_process(load)
        _stop_process(reader)
        if job is not None:
            job.stop()
    count, moderation, mute, notes = _latencies(rows, rep, cfg)
    growth = (backlog_end - backlog_start) / cfg.duration_s
    if growth > 0.05 * rate:
        notes.append(
            f"the job does not keep up: its backlog grew by {growth:,.0f} records/s over the "
            f"measured interval (it consumed about {rate - growth:,.0f} of the {rate:,.0f} "
            "events/s), so these latencies are queueing and grow with the run's length"
        )
    if rep.lag_p99_s > 0.1:
        notes.append(f"the load generator fell behind its schedule (p99 {rep.lag_p99_s:.2f} s)")
    traffic = Conversations(rate, cfg.seed, cfg.partitions).describe()
    m_from = rep.t0 + cfg.warmup_s
    checkpoints = flinklog.summary(job.flink_logs, job.job_id, m_from, m_from + cfg.duration_s)
    return FreshResult(
        rate=rate,
        env=jobproc.env_line(overrides),
        settings=jobproc.describe(job.settings, job.where if cfg.cluster else ""),
        traffic=traffic,
        startup_s=job.startup_s,
        achieved_per_s=rep.measured_messages / cfg.duration_s,
        lag_p99_s=rep.lag_p99_s,
        lag_max_s=rep.lag_max_s,
        count=count,
        moderation=moderation,
        mute=mute,
        backlog_start=backlog_start,
        backlog_end=backlog_end,
        backlog_max=backlog_max,
        cpu=cpu,
        job_rss_mib=rss,
        checkpoints=checkpoints,
        notes=notes,
    )
