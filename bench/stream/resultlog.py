"""The result reader of a freshness run, in a process of its own.

Reads the result topics with isolation.level=read_committed (rows become
visible when the job's checkpoint commits its Kafka transaction) and writes
one JSON line per row: topic, the record's timestamp (CreateTime: when the
job's producer wrote it into the still open transaction), the wall clock at
which this reader got it, and the row. Parsing waits until the run is over.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from contract import topics

TOPICS = (topics.MESSAGE_COUNT, topics.MODERATION, topics.CONTROL)


async def _run(bootstrap: str, partitions: int, path: Path, ready: MpEvent, stop: MpEvent) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed",
        fetch_max_wait_ms=50, max_partition_fetch_bytes=8 * 2**20,
    )  # fmt: skip
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in TOPICS for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        for tp in tps:  # resolve the positions before the run starts
            await consumer.position(tp)
        ready.set()
        with path.open("wb") as f:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=100_000)
                at = time.time()
                for tp, recs in batch.items():
                    k = TOPICS.index(tp.topic)
                    for r in recs:
                        line = {"k": k, "ts": r.timestamp, "tt": r.timestamp_type, "at": at,
                                "v": orjson.Fragment(r.value)}  # fmt: skip
                        f.write(orjson.dumps(line) + b"\n")
    finally:
        await consumer.stop()


def main(bootstrap: str, partitions: int, path: Path, ready: MpEvent, stop: MpEvent) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Right after the topics are created their leaders may not be known for a moment;
    # aiokafka retries and logs each try (errors that matter raise).
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    asyncio.run(_run(bootstrap, partitions, path, ready, stop))
