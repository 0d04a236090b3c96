"""The pipeline sampler: how fresh each result of the streaming job is.

Freshness of a result table = now - the newest time field (contract.results
`time_field`: window end, last message) among the newest rows of its topic,
read from Kafka with read_committed (what the analytics sink can store),
not from ClickHouse (chDB belongs to the analytics process). A row comes a
result's own delay after its time field (window rules, lateness, the
checkpoint that commits it), so each result has its own normal level.
The analytics sink's lag is its consumer group's (the Kafka sampler's
`kafka_consumer_lag_*` with `group=im-analytics`).

The job itself (state, restarts, checkpoints, records) is the flink sampler's.
"""

from __future__ import annotations

import time

import orjson
from aiokafka import TopicPartition

from contract import results
from monitor.kafka_read import KafkaClients
from monitor.sample import Maker, Sample

S = Maker("pipeline")
TAIL = 20  # records read back from each partition's end (transaction markers take offsets)


class PipelineSampler:
    name = "pipeline"

    def __init__(self, bootstrap: str, tables: tuple[results.Result, ...] = results.STORED):
        self.tables = tables
        self.kafka = KafkaClients(bootstrap)

    async def close(self) -> None:
        await self.kafka.close()

    async def sample(self) -> list[Sample]:
        return await self.kafka.fresh_after_failure(self.freshness)

    async def _partitions(self, topics: list[str]) -> list[TopicPartition]:
        described = await (await self.kafka.admin()).describe_topics(topics)
        return [
            TopicPartition(t["topic"], p["partition"])
            for t in described
            if not t["error_code"]  # a topic not created yet
            for p in t["partitions"]
        ]

    async def freshness(self) -> list[Sample]:
        tps = await self._partitions([r.topic for r in self.tables])
        ends = await self.kafka.end_offsets(tps)
        starts = await self.kafka.begin_offsets(tps)
        ranges = {tp: (max(starts[tp], end - TAIL), end) for tp, end in ends.items()}
        tails = await self.kafka.read(ranges)
        now_ms = time.time() * 1000
        out = []
        for result in self.tables:
            times = [
                t
                for tp, records in tails.items()
                if tp.topic == result.topic
                for rec in records
                if (t := _time_of(rec.value, result.time_field)) is not None
            ]
            if times:  # an empty topic has no freshness yet
                age = max(0.0, now_ms - max(times)) / 1000
                out.append(S("pipeline_result_freshness_seconds", age, table=result.table))
        return out


def _time_of(value: bytes | None, field: str | None) -> int | None:
    if value is None or field is None:
        return None
    try:
        row = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    t = row.get(field) if isinstance(row, dict) else None
    return int(t) if isinstance(t, int | float) else None
