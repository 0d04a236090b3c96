"""What the restart tests share: a steady stream of synthetic chat events
written straight into im.chat (with what was sent, per window and
conversation), and the message_count rows a read_committed reader sees."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contract import topics

PARTITIONS = 4


class ChatFeed:
    """Chat messages in 3 conversations every 0.1 s, ticks into every partition."""

    def __init__(self, bootstrap: str, window_s: int) -> None:
        self.window_ms = window_s * 1000
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        self.sent: Counter[tuple[int, str]] = Counter()  # (window start, conv) -> messages
        self.n = 0

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def produce(self, seconds: float) -> None:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            now = int(time.time() * 1000)
            for c in range(3):
                self.n += 1
                conv = f"c_{c}"
                event = {"v": 1, "id": f"m:{conv}:{self.n}", "type": "chat.message",
                         "ts": now, "node": "t", "conv": conv, "conv_kind": "group",
                         "seq": self.n}  # fmt: skip
                await self.producer.send(topics.CHAT, orjson.dumps(event), key=conv.encode())
                self.sent[(now // self.window_ms * self.window_ms, conv)] += 1
            await self.ticks(now)
            await asyncio.sleep(0.1)  # the subject: a steady stream over `seconds`
        await self.producer.flush()

    async def ticks(self, ts: int) -> None:
        for p in range(PARTITIONS):
            await self.producer.send(topics.CHAT, orjson.dumps(
                {"v": 1, "id": f"t:{self.n}:{p}:{ts}", "type": "tick", "ts": ts, "node": "t"}),
                partition=p)  # fmt: skip

    async def close_windows(self) -> None:
        """Far-future ticks: the watermark passes every window sent so far."""
        await self.ticks(int(time.time() * 1000) + 60_000)
        await self.producer.flush()

    def expected(self) -> dict[tuple[int, str], int]:
        return dict(self.sent)


async def committed_rows(bootstrap: str) -> list[dict[str, object]]:
    """Every message_count row, read_committed, up to the last stable offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                isolation_level="read_committed")  # fmt: skip
    await consumer.start()
    try:
        parts = [TopicPartition(topics.MESSAGE_COUNT, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)  # the last stable offsets
        rows = []
        while any([await consumer.position(p) < end[p] for p in parts]):
            batch = await consumer.getmany(timeout_ms=500)
            rows += [orjson.loads(r.value) for recs in batch.values() for r in recs]
        return rows
    finally:
        await consumer.stop()


def counts(rows: list[dict[str, object]]) -> dict[tuple[int, str], int]:
    """(window start, conv) -> messages; AssertionError when a row came twice."""
    keys = [(int(r["window_start"]), str(r["conv"])) for r in rows]  # type: ignore[call-overload]
    assert len(keys) == len(set(keys)), "a row was written twice"
    return {k: int(r["messages"]) for k, r in zip(keys, rows, strict=True)}  # type: ignore[call-overload]


async def all_counted(bootstrap: str, feed: ChatFeed) -> list[dict[str, object]] | None:
    """The committed rows once they count every message sent, else None."""
    rows = await committed_rows(bootstrap)
    total = sum(int(r["messages"]) for r in rows)  # type: ignore[call-overload]
    return rows if total >= sum(feed.sent.values()) else None
