"""The benchmark's own Kafka (stack manager, own folder and ports) and small client helpers."""

from __future__ import annotations

import asyncio
import shutil
from collections import deque
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.base.cli import Say
from bench.stream.config import FLINK_REST_PORT, FLINK_RPC_PORT, StreamBenchConfig
from im.envconfig import load
from stack.manager import Stack
from stack.procs import Proc
from stack.settings import StackSettings

JOB = "stream-job"  # the job's Proc name (pid file and log under the stack folder)


def stack_settings(cfg: StreamBenchConfig) -> StackSettings:
    env = cfg.ports.stack_env(cfg.out_dir / "stack")
    env["IM_KAFKA_PARTITIONS"] = str(cfg.partitions)
    env["IM_STREAM_LATENESS_S"] = str(cfg.lateness_s)
    env["IM_FLINK_REST_PORT"] = str(FLINK_REST_PORT)
    env["IM_FLINK_RPC_PORT"] = str(FLINK_RPC_PORT)
    return load(StackSettings, env)


FLINK = ["flink-jobmanager", "flink-taskmanager"]  # the stack's cluster (--cluster)


def stop_all(st: Stack) -> None:
    """Stop the job, the Flink cluster and Kafka of this folder (also leftovers of a killed
    earlier run)."""
    Proc(JOB, st.settings.run, st.settings.logs).stop()
    st.down([*reversed(FLINK), "kafka"])


def fresh_kafka(cfg: StreamBenchConfig, say: Say) -> Stack:
    """Kafka from an empty folder, every contract topic created (partitions as the stack);
    with --cluster also the stack's Flink cluster (JobManager, one TaskManager)."""
    st = Stack(stack_settings(cfg), say=lambda m: say(f"stack: {m}"))
    stop_all(st)
    shutil.rmtree(st.settings.root, ignore_errors=True)
    st.up(["kafka", *(FLINK if cfg.cluster else [])])
    return st


def producer(bootstrap: str, **kw: Any) -> AIOKafkaProducer:
    # Batches of up to 512 KiB (the broker takes 1 MiB per batch); acks=1 like a busy relay.
    return AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=512 * 1024,
                            linger_ms=5, acks=1, request_timeout_ms=30000, **kw)  # fmt: skip


class Batcher:
    """Records into one topic, one open batch per partition, a bounded number in flight."""

    def __init__(self, prod: AIOKafkaProducer, topic: str, partitions: int, in_flight: int = 32):
        self.prod, self.topic = prod, topic
        self.open = {p: prod.create_batch() for p in range(partitions)}
        self.pending: deque[asyncio.Future[Any]] = deque()
        self.in_flight = in_flight
        self.records = 0

    async def add(self, partition: int, key: bytes | None, value: bytes) -> None:
        if self.open[partition].append(key=key, value=value, timestamp=None) is None:
            await self.send(partition)
            if self.open[partition].append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"record of {len(value)} bytes does not fit in a batch")
        self.records += 1

    async def send(self, partition: int) -> None:
        batch = self.open[partition]
        if batch.record_count() == 0:
            return
        self.open[partition] = self.prod.create_batch()
        self.pending.append(await self.prod.send_batch(batch, self.topic, partition=partition))
        while len(self.pending) > self.in_flight:
            await self.pending.popleft()
        while self.pending and self.pending[0].done():
            self.pending.popleft().result()

    async def send_all(self) -> None:
        for p in self.open:
            await self.send(p)

    async def flush(self) -> None:
        await self.send_all()
        while self.pending:
            await self.pending.popleft()


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
        return {tp.partition: int(off) for tp, off in ends.items()}
    finally:
        await consumer.stop()


class GroupOffsets:
    """Committed offsets of a consumer group (the job commits when a checkpoint completes)."""

    def __init__(self, bootstrap: str, group: str, topic: str, partitions: int) -> None:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        self.group, self.topic = group, topic
        self.tps = [TopicPartition(topic, p) for p in range(partitions)]

    async def __aenter__(self) -> GroupOffsets:
        await self.admin.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.close()

    async def committed(self) -> dict[int, int]:
        got = await self.admin.list_consumer_group_offsets(self.group, partitions=self.tps)
        return {tp.partition: max(0, int(m.offset)) for tp, m in got.items() if m is not None}


def behind(ends: dict[int, int], committed: dict[int, int]) -> int:
    """Records of `ends` not yet committed."""
    return sum(max(0, end - committed.get(p, 0)) for p, end in ends.items())
