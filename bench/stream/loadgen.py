"""The open-loop producer of a freshness run, in a process of its own.

From its start t0: chat messages at `rate` per second (event time = now, the
send schedule does not wait for anything), 0.5 % of them relayed again up to
2 s later, a tick into every partition every `tick_interval_s`, and every
`flood_every_s` a flood: `flood_count` messages of a new sender into one
group, 100 ms apart (at most), which the moderation rule must detect. Chat
stops at t0 + warmup + duration + tail; ticks go on until told to stop.
It reports what the measured interval should yield: per window end, the
conversations with a message in that window, and every flood's last ts.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent

import orjson

from bench.stream.kafkaio import Batcher, producer
from contract import topics
from traffic.chat import Event
from traffic.rate import Conversations, tick

STEP_S = 0.005
DUP_RATE = 0.005


@dataclass(frozen=True)
class LoadPlan:
    bootstrap: str
    partitions: int
    rate: float
    seed: int
    warmup_s: float
    duration_s: float
    tail_s: float
    tick_interval_s: float
    flood_every_s: float
    flood_count: int
    flood_within_s: int
    window_ms: int


@dataclass
class LoadReport:
    t0: float = 0.0
    messages: int = 0
    measured_messages: int = 0  # messages with ts in the measured interval
    duplicates: int = 0
    ticks: int = 0
    lag_p99_s: float = 0.0  # how late the producer wrote what was due (schedule lag)
    lag_max_s: float = 0.0
    windows: dict[int, int] = field(default_factory=dict)  # window end -> conversations
    floods: list[tuple[str, int]] = field(default_factory=list)  # (sender, last ts)
    error: str = ""


async def _run(plan: LoadPlan, conn: Connection, msgs_done: MpEvent, stop: MpEvent) -> LoadReport:
    rep = LoadReport()
    gen = Conversations(plan.rate, plan.seed, plan.partitions)
    rng = random.Random(plan.seed + 2)
    prod = producer(plan.bootstrap)
    await prod.start()
    out = Batcher(prod, topics.CHAT, plan.partitions, in_flight=256)
    t0 = rep.t0 = time.time() + 0.2
    m_from, m_to = t0 + plan.warmup_s, t0 + plan.warmup_s + plan.duration_s
    m_from_ms, m_to_ms = int(m_from * 1000), int(m_to * 1000)
    until = m_to + plan.tail_s
    conn.send(("t0", t0))
    convs: dict[int, set[str]] = {}
    dups: list[tuple[float, int, Event]] = []
    lags: list[float] = []
    spacing_ms = min(100, plan.flood_within_s * 1000 // (2 * plan.flood_count))
    floods: list[tuple[float, int, str, str]] = []  # (due, i, sender, conv)
    next_flood, flooders = t0 + plan.flood_every_s / 2, 0
    next_tick, sent = t0, 0

    async def put(ev: Event) -> None:
        conv = ev["conv"]
        await out.add(gen.partition(conv), conv.encode(), orjson.dumps(ev))

    async def message(ev: Event) -> None:
        await put(ev)
        rep.messages += 1
        ts = ev["ts"]
        if m_from_ms <= ts < m_to_ms:
            rep.measured_messages += 1
        end = ts - ts % plan.window_ms + plan.window_ms
        if m_from_ms < end <= m_to_ms:
            convs.setdefault(end, set()).add(ev["conv"])
        if rng.random() < DUP_RATE:
            heapq.heappush(dups, (time.time() + rng.uniform(0.1, 2.0), rep.messages, ev))

    try:
        await asyncio.sleep(max(0.0, t0 - time.time()))
        while not stop.is_set():
            now = time.time()
            now_ms = int(now * 1000)
            if now < until:
                due = int((now - t0) * plan.rate)
                if due > sent:
                    lags.append(now - (t0 + (sent + 1) / plan.rate))
                    for _ in range(due - sent):
                        await message(gen.message(now_ms))
                    sent = due
                while next_flood <= now:
                    flooders += 1
                    user, conv = f"flooder{flooders:05d}", gen.some_group()
                    for i in range(plan.flood_count):
                        heapq.heappush(floods, (next_flood + i * spacing_ms / 1000, i, user, conv))
                    next_flood += plan.flood_every_s
                while floods and floods[0][0] <= now:
                    _, i, user, conv = heapq.heappop(floods)
                    ev = gen.emit(conv, "group", now_ms, user, "user", "chat", None, [])
                    await message(ev)
                    if i == plan.flood_count - 1:
                        rep.floods.append((user, ev["ts"]))
            elif not msgs_done.is_set():
                msgs_done.set()
            while dups and dups[0][0] <= now:
                await put(heapq.heappop(dups)[2])
                rep.duplicates += 1
            if now >= next_tick:
                for p in range(plan.partitions):
                    await out.add(p, None, orjson.dumps(tick(now_ms, serial=p)))
                    rep.ticks += 1
                next_tick = max(next_tick + plan.tick_interval_s, now)
            await out.send_all()
            await asyncio.sleep(max(0.0, now + STEP_S - time.time()))
        await out.flush()
    finally:
        await prod.stop()
    lags.sort()
    if lags:
        rep.lag_p99_s = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
        rep.lag_max_s = lags[-1]
    rep.windows = {end: len(c) for end, c in sorted(convs.items())}
    return rep


def main(plan: LoadPlan, conn: Connection, msgs_done: MpEvent, stop: MpEvent) -> None:
    """Process entry point; the coordinator ends it through `stop` (Ctrl-C is the parent's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # retries; errors raise
    try:
        rep = asyncio.run(_run(plan, conn, msgs_done, stop))
    except Exception as e:
        rep = LoadReport(error=f"{type(e).__name__}: {e}")
    conn.send(("report", rep))
    conn.close()
