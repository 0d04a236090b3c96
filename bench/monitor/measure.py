"""One key count: fill a Redis of the benchmark's own, then time rounds of the collector.

Each measured round is `Collector.round()` with the Redis and host samplers
(INFO, the bounded SCAN sample, MEMORY USAGE of each sampled key, TYPE of
the biggest, the slow log, the host; then the samples XADDed into the
outbox), in this process. Per round:
- collector CPU: this process' CPU time over the round (the coordinator
  does nothing else meanwhile);
- Redis time: the sum of the durations Redis' slow log gives for the
  round's commands (the slow log logs every command during the run:
  threshold 0, reset before each round; the bench's own client is named
  `bench` and left out) — how long the round held Redis, command by
  command; and the longest single command (how long it blocked others);
- Redis CPU: the server process' CPU time over all rounds / rounds
  (commands plus connection I/O, and the bench's own SLOWLOG calls).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import psutil
import redis.asyncio as aioredis

from bench.base import machine
from bench.monitor.config import MonitorBenchConfig
from im import keys
from monitor.collector import Collector
from monitor.host import HostSampler
from monitor.redis_sampler import RedisSampler, redis_client
from monitor.redis_slowlog import command_name
from monitor.sample import Sampler
from monitor.writer import SampleWriter

FILL_BATCH = 10_000


@dataclass
class Round:
    samples: int
    wall_ms: float
    cpu_ms: float
    redis_commands: int
    redis_ms: float  # sum of the round's command durations
    longest_us: int  # its longest command
    longest_command: str
    p99_us: float  # 99th percentile of its commands' durations


@dataclass
class SizeResult:
    keys: int
    dbsize: int
    used_memory: int
    fill_s: float
    rounds: list[Round] = field(default_factory=list)
    # The server's CPU over all rounds / rounds (the kernel counts it in 10 ms ticks).
    redis_cpu_ms: float = 0.0
    others_cores: float = 0.0

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in self.rounds))

    def most(self, attr: str) -> float:
        return float(max(getattr(r, attr) for r in self.rounds))


def key_name(i: int) -> str:
    """Keys of five families of im/keys.py, in turn."""
    kind = i % 5
    if kind == 0:
        return keys.PREFIXES["dedup"] + f"u{i % 9973}:c{i}"
    if kind == 1:
        return keys.token(f"{i:064x}")
    if kind == 2:
        return keys.user(str(i))
    if kind == 3:
        return keys.presence(str(i))
    return keys.conv(str(i))


async def fill(r: aioredis.Redis, n: int, value_bytes: int) -> None:
    value = "v" * value_bytes
    for start in range(0, n, FILL_BATCH):
        pipe = r.pipeline(transaction=False)
        for i in range(start, min(n, start + FILL_BATCH)):
            pipe.set(key_name(i), value)
        await pipe.execute()


async def measure(url: str, redis_pid: int, n: int, cfg: MonitorBenchConfig) -> SizeResult:
    bench = aioredis.Redis.from_url(url, decode_responses=True, client_name="bench")
    client = redis_client(url)
    server = psutil.Process(redis_pid)
    try:
        await bench.flushall()
        started = time.monotonic()
        await fill(bench, n, cfg.value_bytes)
        fill_s = time.monotonic() - started
        info = await bench.info("memory")
        result = SizeResult(n, int(await bench.dbsize()), int(info["used_memory"]), fill_s)
        await bench.config_set("slowlog-max-len", 100_000)
        await bench.config_set("slowlog-log-slower-than", 0)
        samplers: list[Sampler] = [
            # 1 slow-log entry per round: the log holds every command during the
            # run, and in production (10 ms threshold) a round finds few or none.
            RedisSampler(client, cfg.scan_keys, cfg.big_keys, 1),
            HostSampler(None, ()),
        ]
        coll = Collector(samplers, SampleWriter(client, "bench", 300, 20_000), 60)
        await coll.round()  # warm-up: connections, the first INFO interval
        me = [psutil.Process().pid, redis_pid]
        before = machine.sample(machine.Roles([], me, []), time.monotonic())
        cpu0 = server.cpu_times()
        for _ in range(cfg.rounds):
            result.rounds.append(await one_round(bench, coll))
        cpu1 = server.cpu_times()
        after = machine.sample(machine.Roles([], me, []), time.monotonic())
        busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        result.redis_cpu_ms = busy * 1000 / cfg.rounds  # with the bench's own few calls
        result.others_cores = machine.delta(before, after).others_cores
        return result
    finally:
        await bench.config_set("slowlog-log-slower-than", 10_000)
        await bench.aclose()
        await client.aclose()


async def one_round(bench: aioredis.Redis, coll: Collector) -> Round:
    await bench.slowlog_reset()
    t0, c0 = time.perf_counter(), time.process_time()
    written = await coll.round()
    t1, c1 = time.perf_counter(), time.process_time()
    entries = [
        e
        for e in await bench.slowlog_get(100_000)
        if e.get("client_name") not in (b"bench", "bench")
    ]
    durations = sorted(int(e["duration"]) for e in entries)
    longest = max(entries, key=lambda e: int(e["duration"]), default=None)
    return Round(
        samples=written,
        wall_ms=(t1 - t0) * 1000,
        cpu_ms=(c1 - c0) * 1000,
        redis_commands=len(durations),
        redis_ms=sum(durations) / 1000,
        longest_us=durations[-1] if durations else 0,
        longest_command=command_name(longest["command"]) if longest else "",
        p99_us=float(durations[int(0.99 * (len(durations) - 1))]) if durations else 0.0,
    )
