"""The collector's Kafka clients: an admin client (metadata, groups) and a consumer of
no group that reads a few chosen records (at an offset, or the last few of a partition).

The consumer reads `read_committed` like every reader of the project (end
offsets are then the last stable offsets: what a consumer can reach). Both
are made on first use and made again after `close()` (a sampler closes them
when a round fails, so the next round starts from fresh connections).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

T = TypeVar("T")


class KafkaClients:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def admin(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
            await admin.start()
            self._admin = admin
        return self._admin

    async def consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest",
                request_timeout_ms=10_000,
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=256 * 1024,
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def fresh_after_failure(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`; if it fails the clients are closed, so the next round reconnects."""
        try:
            return await work()
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        admin, self._admin = self._admin, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not tps:
            return {}
        found = await (await self.consumer()).end_offsets(tps)
        return {tp: int(n) for tp, n in found.items()}

    async def begin_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not tps:
            return {}
        found = await (await self.consumer()).beginning_offsets(tps)
        return {tp: int(n) for tp, n in found.items()}

    async def read(
        self,
        ranges: Mapping[TopicPartition, tuple[int, int]],
        limit: int | None = None,
        timeout_s: float = 5.0,
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """The records of [start, end) of each partition (at most `limit` each).

        Transaction markers and aborted records take offsets but are not
        returned; a partition is done when its position reaches `end`."""
        out: dict[TopicPartition, list[ConsumerRecord]] = {tp: [] for tp in ranges}
        todo = {tp for tp, (start, end) in ranges.items() if start < end}
        if not todo:
            return out
        consumer = await self.consumer()
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, ranges[tp][0])
        deadline = time.monotonic() + timeout_s
        while todo and time.monotonic() < deadline:
            batch = await consumer.getmany(*todo, timeout_ms=200)
            for tp, records in batch.items():
                end = ranges[tp][1]
                out[tp] += [r for r in records if r.offset < end]
                if limit is not None:
                    out[tp] = out[tp][:limit]
            for tp in list(todo):
                full = limit is not None and len(out[tp]) >= limit
                if full or await consumer.position(tp) >= ranges[tp][1]:
                    todo.discard(tp)
                    consumer.pause(tp)
        if todo:
            raise TimeoutError(f"reading {sorted(map(str, todo))} took over {timeout_s}s")
        return out
