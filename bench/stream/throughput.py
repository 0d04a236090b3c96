"""1. Sustained throughput: a pre-produced batch, the job started from the earliest offset.

The batch: `events` chat messages of realistic traffic (traffic.rate)
spread evenly over `span_s` of event time, ts moved back by up to 1 s (the
relay's disorder), 0.5 % relayed twice (up to 2 s later), ticks into every
partition every 2 s of event time (the server's default), then one tick per
partition an hour after the last message so every window and session closes.

Measured: the job's start-up (process spawned -> job graph submitted, its
ready file), then the time from submission until the committed offsets of
its consumer group reach the end of the batch in every partition of im.chat
(the source commits them when a checkpoint completes, so this is "consumed
and checkpointed"; meanwhile a tick per partition every 0.5 s, as the server
keeps ticking, so the source never idles in a long poll with its last
commit pending). events/s = records of the batch ÷ that time. Also the slope
between 10 % and 90 % of the offsets (the steady rate, without the task
deployment and the first checkpoint), and when the last expected
message_count row became visible to a read_committed reader (a check that
every message was counted: rows and their sum of `messages` as expected).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.base import machine
from bench.base.cli import Say
from bench.stream import flinklog
from bench.stream import job as jobproc
from bench.stream.config import StreamBenchConfig
from bench.stream.kafkaio import Batcher, GroupOffsets, behind, end_offsets, producer
from contract import topics
from stack.manager import Stack
from traffic.chat import Event
from traffic.rate import Conversations, tick

START_MS = 1_795_000_123_456  # event time of the batch's first message (not window-aligned)
SERVER_TICK_S = 2.0
DUP_RATE = 0.005
_SENDER_KIND = {"bot": "bots", "agent": "agents", "cust": "customers", "u": "users"}
RESULT_TOPICS = (
    topics.MESSAGE_COUNT,
    topics.REPLY_RATE,
    topics.SESSIONS,
    topics.MODERATION,
    topics.CONTROL,
)


@dataclass
class Batch:
    messages: int = 0  # unique chat.message events
    duplicates: int = 0
    ticks: int = 0
    records: int = 0  # what im.chat holds
    bytes: int = 0
    produce_s: float = 0.0
    span_s: float = 0.0  # event time the messages cover
    final_tick_ms: int = 0
    traffic: str = ""
    # expected message_count rows: (window_start, conv) -> messages
    expected: Counter[tuple[int, str]] = field(default_factory=Counter)


@dataclass
class ThroughputResult:
    batch: Batch
    settings: str
    env: str
    startup_s: float
    first_commit_s: float  # submitted -> first offsets committed
    processing_s: float  # submitted -> every offset committed (nan: not within the timeout)
    steady_per_s: float
    results_s: float  # submitted -> last expected message_count row visible
    rows_expected: int
    rows_seen: int
    counted_expected: int
    counted_seen: int
    output: dict[str, int]
    detections: dict[str, int]
    checkpoints: flinklog.Checkpoints
    timeline: list[tuple[float, int]]  # (s after submission, offsets committed) at changes
    cpu: machine.CpuDelta
    job_rss_mib: float
    notes: list[str] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        return self.batch.records / self.processing_s if self.processing_s > 0 else math.nan


async def produce_batch(cfg: StreamBenchConfig, bootstrap: str, say: Say) -> Batch:
    b = Batch(span_s=cfg.span_s)
    rate = cfg.events / cfg.span_s
    jitter = min(1000, cfg.lateness_s * 250)
    dup_delay = min(2000, cfg.lateness_s * 400)
    gen = Conversations(rate, cfg.seed, cfg.partitions, jitter_ms=jitter)
    b.traffic = gen.describe()
    rng = random.Random(cfg.seed + 1)
    window_ms = cfg.batch_count_window_s * 1000
    dups: list[tuple[int, int, Event]] = []  # (due ms, serial, event)
    prod = producer(bootstrap)
    await prod.start()
    started = time.monotonic()
    try:
        out = Batcher(prod, topics.CHAT, cfg.partitions)

        async def put(ev: Event) -> None:
            value = orjson.dumps(ev)
            b.bytes += len(value)
            conv = ev["conv"]
            await out.add(gen.partition(conv), conv.encode(), value)

        async def ticks(ts: int) -> None:
            for p in range(cfg.partitions):
                value = orjson.dumps(tick(ts, serial=p))
                b.bytes += len(value)
                b.ticks += 1
                await out.add(p, None, value)

        step_ms = cfg.span_s * 1000 / cfg.events
        next_tick = START_MS
        for i in range(cfg.events):
            now = START_MS + int(i * step_ms)
            while dups and dups[0][0] <= now:
                await put(heapq.heappop(dups)[2])
                b.duplicates += 1
            if now >= next_tick:
                await ticks(now - jitter)  # never newer than what is still to come
                next_tick += int(SERVER_TICK_S * 1000)
            ev = gen.message(now)
            await put(ev)
            b.messages += 1
            ts = ev["ts"]
            b.expected[(ts - ts % window_ms, ev["conv"])] += 1
            if rng.random() < DUP_RATE:
                heapq.heappush(dups, (now + rng.randint(1, dup_delay), i, ev))
            if i and i % 100_000 == 0:
                say(f"  produced {i:,} messages")
        while dups:
            await put(heapq.heappop(dups)[2])
            b.duplicates += 1
        b.final_tick_ms = START_MS + int(cfg.span_s * 1000) + 3_600_000
        await ticks(b.final_tick_ms)  # closes every window and session
        await out.flush()
    finally:
        await prod.stop()
    b.produce_s = time.monotonic() - started
    b.records = out.records
    return b


class ResultReader:
    """Every result topic read with read_committed from the start, in this process."""

    def __init__(self, bootstrap: str, partitions: int) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed",
            fetch_max_wait_ms=100, max_partition_fetch_bytes=4 * 2**20,
        )  # fmt: skip
        self.tps = [TopicPartition(t, p) for t in RESULT_TOPICS for p in range(partitions)]
        self.rows: Counter[str] = Counter()
        self.counts: dict[tuple[int, str], int] = {}
        self.detections: Counter[str] = Counter()  # "rule by sender kind"

    async def run(self, stop: asyncio.Event) -> None:
        await self.consumer.start()
        try:
            self.consumer.assign(self.tps)
            await self.consumer.seek_to_beginning(*self.tps)
            while not stop.is_set():
                batch = await self.consumer.getmany(timeout_ms=200, max_records=20000)
                for tp, recs in batch.items():
                    self.rows[tp.topic] += len(recs)
                    if tp.topic == topics.MESSAGE_COUNT:
                        for r in recs:
                            row = orjson.loads(r.value)
                            self.counts[(int(row["window_start"]), row["conv"])] = int(
                                row["messages"]
                            )
                    elif tp.topic == topics.MODERATION:
                        for r in recs:
                            row = orjson.loads(r.value)
                            who = _SENDER_KIND.get(str(row["user"]).rstrip("0123456789"), "user")
                            self.detections[f"{row['rule']} by {who}"] += 1
        finally:
            await self.consumer.stop()


async def _monitor(
    cfg: StreamBenchConfig, st: Stack, job: jobproc.Job, batch: Batch, say: Say
) -> ThroughputResult:
    bootstrap = st.settings.kafka_bootstrap
    ends = await end_offsets(bootstrap, topics.CHAT, cfg.partitions)
    roles_at_ready = machine.Roles(server=job.pids(), aux=_kafka_pids(st), client=[_me()])
    cpu0 = machine.sample(roles_at_ready, job.ready_at)
    reader = ResultReader(bootstrap, cfg.partitions)
    stop = asyncio.Event()
    reading = asyncio.create_task(reader.run(stop))
    ticking = asyncio.create_task(_keep_ticking(bootstrap, cfg.partitions, batch.final_tick_ms))
    rows_expected, counted_expected = len(batch.expected), sum(batch.expected.values())
    timeline: list[tuple[float, int]] = []
    first_commit = done_at = results_at = math.nan
    cpu1: machine.CpuSample | None = None
    deadline = job.ready_at + cfg.timeout_s
    last_say = time.monotonic()
    try:
        async with GroupOffsets(bootstrap, job.settings.group_id, topics.CHAT,
                                cfg.partitions) as group:  # fmt: skip
            while time.time() < deadline:
                if not job.proc.running():
                    raise RuntimeError(f"the job exited:\n{job.proc.tail(30)}")
                now = time.time()
                with contextlib.suppress(Exception):  # group not known yet: nothing committed
                    committed = await group.committed()
                    n = sum(committed.values())
                    if n and math.isnan(first_commit):
                        first_commit = now
                    timeline.append((now, n))
                    if math.isnan(done_at) and behind(ends, committed) == 0:
                        done_at = now
                        cpu1 = machine.sample(roles_at_ready, now)
                        say(f"  every offset committed after {done_at - job.ready_at:.1f} s")
                if math.isnan(results_at) and len(reader.counts) >= rows_expected:
                    results_at = time.time()
                    took = results_at - job.ready_at
                    say(f"  every message_count row visible after {took:.1f} s")
                if not math.isnan(done_at) and (
                    not math.isnan(results_at) or now > done_at + 10 * cfg.checkpoint_s + 10
                ):
                    break
                if time.monotonic() - last_say > 10 and timeline:
                    last_say = time.monotonic()
                    say(f"  {timeline[-1][1]:,} of {batch.records:,} offsets committed, "
                        f"{len(reader.counts):,}/{rows_expected:,} count rows")  # fmt: skip
                await asyncio.sleep(0.2)
            # the rows of the last checkpoint: one more period to arrive
            await asyncio.sleep(min(3.0, 2 * cfg.checkpoint_s))
    finally:
        stop.set()
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking
        await reading
    end = machine.sample(roles_at_ready, time.time()) if cpu1 is None else cpu1
    notes = []
    if math.isnan(done_at):
        notes.append(f"the job did not consume the whole batch within {cfg.timeout_s:.0f} s")
    size = jobproc.state_size_note(job)
    if size:
        notes.append(size)
    wrong = sum(1 for k, v in batch.expected.items() if reader.counts.get(k) != v)
    if wrong:
        notes.append(f"{wrong:,} message_count rows missing or with a wrong count")
    return ThroughputResult(
        batch=batch,
        settings=jobproc.describe(job.settings, job.where if cfg.cluster else ""),
        env="",
        startup_s=job.startup_s,
        first_commit_s=first_commit - job.ready_at,
        processing_s=done_at - job.ready_at,
        steady_per_s=_steady(timeline, batch.records),
        results_s=results_at - job.ready_at,
        rows_expected=rows_expected,
        rows_seen=len(reader.counts),
        counted_expected=counted_expected,
        counted_seen=sum(reader.counts.values()),
        output=dict(reader.rows),
        detections=dict(reader.detections.most_common()),
        checkpoints=flinklog.summary(job.flink_logs, job.job_id, job.ready_at),
        timeline=_changes(timeline, job.ready_at),
        cpu=machine.delta(cpu0, end),
        job_rss_mib=job.rss_bytes() / 2**20,
        notes=notes,
    )


async def _keep_ticking(bootstrap: str, partitions: int, ts: int) -> None:
    """A tick per partition every 0.5 s (ts of the final tick: event time stays put), as the
    server keeps ticking. Without new records the job's Kafka source sits in a 10 s poll
    once it reached the end, and the offsets of its last checkpoints wait for that poll."""
    prod = producer(bootstrap)
    await prod.start()
    try:
        n = 0
        while True:
            for p in range(partitions):
                n += 1
                await prod.send(topics.CHAT, orjson.dumps(tick(ts, serial=n)), partition=p)
            await asyncio.sleep(0.5)
    finally:
        await prod.stop()


def _steady(timeline: list[tuple[float, int]], total: int) -> float:
    """Records per second between the first commits at >= 10 % and >= 90 % of the batch."""
    t10 = next((t for t, n in timeline if n >= 0.1 * total), None)
    t90 = next(((t, n) for t, n in timeline if n >= 0.9 * total), None)
    n10 = next((n for t, n in timeline if n >= 0.1 * total), 0)
    if t10 is None or t90 is None or t90[0] <= t10:
        return math.nan
    return (t90[1] - n10) / (t90[0] - t10)


def _changes(timeline: list[tuple[float, int]], t0: float) -> list[tuple[float, int]]:
    out: list[tuple[float, int]] = []
    for t, n in timeline:
        if not out or n != out[-1][1]:
            out.append((round(t - t0, 2), n))
    return out


def _kafka_pids(st: Stack) -> list[int]:
    pid = st.proc("kafka").pid()
    return [pid] if pid else []


def _me() -> int:
    return os.getpid()


def run(cfg: StreamBenchConfig, st: Stack, say: Say) -> ThroughputResult:
    say(f"throughput: producing {cfg.events:,} messages over {cfg.span_s:g} s of event time")
    batch = asyncio.run(produce_batch(cfg, st.settings.kafka_bootstrap, say))
    say(f"  {batch.records:,} records ({batch.messages:,} messages, {batch.duplicates:,} "
        f"duplicates, {batch.ticks:,} ticks, {batch.bytes / 2**20:.0f} MiB) in "
        f"{batch.produce_s:.1f} s; {batch.traffic}")  # fmt: skip
    overrides = {
        "IM_STREAM_CHECKPOINT_S": f"{cfg.checkpoint_s:g}",
        "IM_STREAM_COUNT_WINDOW_S": str(cfg.batch_count_window_s),
        "IM_STREAM_PARALLELISM": str(cfg.parallelism),
    }
    job = jobproc.start(st, overrides, say, cluster=cfg.cluster)
    try:
        result = asyncio.run(_monitor(cfg, st, job, batch, say))
    finally:
        job.stop()
    result.env = jobproc.env_line(overrides)
    batch.expected.clear()  # checked; too big for the raw results
    return result
