"""The Kafka sampler: cluster health, what is produced, what each group consumed, its lag.

- Metadata: brokers, whether a controller is known, partitions whose ISR is
  smaller than their replicas (under-replicated), partitions without a leader
  (offline).
- Per topic and partition, the end offset (the last stable offset: what a
  read_committed consumer can reach); per topic, the produce rate between
  two rounds.
- Per consumer group (IM_OPS_GROUPS, or every group Kafka knows), per topic
  and partition: the committed offset, the lag in records (end - committed)
  and in seconds (now - timestamp of the record at the committed offset,
  the oldest one not consumed; 0 when there is none; a partition of a topic
  the group reads but never committed on counts from its first record); per group and topic
  the sums (`partition=all`; the seconds: the largest), and the consume rate.
"""

from __future__ import annotations

import time
from collections import defaultdict

from aiokafka import TopicPartition

from monitor.kafka_read import KafkaClients
from monitor.sample import Maker, Sample

S = Maker("kafka")


class KafkaSampler:
    name = "kafka"

    def __init__(self, bootstrap: str, groups: tuple[str, ...] = ()) -> None:
        self.groups = groups
        self.kafka = KafkaClients(bootstrap)
        self._last: dict[tuple[str, str], tuple[float, int]] = {}  # (group, topic) -> at, offset

    async def close(self) -> None:
        await self.kafka.close()

    async def sample(self) -> list[Sample]:
        return await self.kafka.fresh_after_failure(self._sample)

    async def _sample(self) -> list[Sample]:
        admin = await self.kafka.admin()
        cluster = await admin.describe_cluster()
        topics = [t for t in await admin.describe_topics() if not t["is_internal"]]
        parts = [p for t in topics for p in t["partitions"]]
        out = [
            S("kafka_brokers", len(cluster["brokers"])),
            S("kafka_controller_present", 1 if cluster.get("controller_id", -1) >= 0 else 0),
            S("kafka_partitions", len(parts)),
            S("kafka_partitions_under_replicated", sum(len(p["isr"]) < len(p["replicas"])
                                                       for p in parts)),
            S("kafka_partitions_offline", sum(p["leader"] < 0 for p in parts)),
        ]  # fmt: skip
        tps = [TopicPartition(t["topic"], p["partition"]) for t in topics for p in t["partitions"]]
        ends = await self.kafka.end_offsets(tps)
        now = time.monotonic()
        for tp, end in sorted(ends.items()):
            out.append(
                S("kafka_partition_end_offset", end, topic=tp.topic, partition=str(tp.partition))
            )
        out += [
            S("kafka_topic_produce_rate_per_second", rate, topic=topic)
            for topic, rate in self._rates("", ends, now).items()
        ]
        groups = self.groups or tuple(sorted(str(g[0]) for g in await admin.list_consumer_groups()))
        begins: dict[TopicPartition, int] | None = None
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            offsets = {tp: m.offset for tp, m in committed.items() if m.offset >= 0 and tp in ends}
            # A partition of a topic the group reads that it never committed on (it had
            # no records yet when the group last committed) is read from its start:
            # its lag is counted from there, not left out.
            read_topics = {tp.topic for tp in offsets}
            unread = [tp for tp in ends if tp.topic in read_topics and tp not in offsets]
            if unread:
                begins = begins or await self.kafka.begin_offsets(list(ends))
                offsets.update({tp: begins[tp] for tp in unread})
            out += await self._lag(group, offsets, ends)
            out += [
                S("kafka_consumer_rate_per_second", rate, group=group, topic=topic)
                for topic, rate in self._rates(group, offsets, now).items()
            ]
        return out

    def _rates(
        self, group: str, offsets: dict[TopicPartition, int], now: float
    ) -> dict[str, float]:
        """topic -> records per second of the offsets' growth since the last round
        (none on the first round, or when an offset went back)."""
        per_topic: dict[str, int] = defaultdict(int)
        for tp, n in offsets.items():
            per_topic[tp.topic] += n
        out = {}
        for topic, total in sorted(per_topic.items()):
            last = self._last.get((group, topic))
            self._last[(group, topic)] = (now, total)
            if last is not None and now > last[0] and total >= last[1]:
                out[topic] = (total - last[1]) / (now - last[0])
        return out

    async def _lag(
        self, group: str, committed: dict[TopicPartition, int], ends: dict[TopicPartition, int]
    ) -> list[Sample]:
        lagging = {tp: (off, ends[tp]) for tp, off in committed.items() if ends[tp] > off}
        oldest = await self.kafka.read(lagging, limit=1)
        now_ms = time.time() * 1000
        out: list[Sample] = []
        records: dict[str, int] = defaultdict(int)
        seconds: dict[str, float] = defaultdict(float)
        for tp, off in sorted(committed.items()):
            lag = max(0, ends[tp] - off)
            first = oldest.get(tp)
            age = max(0.0, (now_ms - first[0].timestamp) / 1000) if first else 0.0
            records[tp.topic] += lag
            seconds[tp.topic] = max(seconds[tp.topic], age)
            labels = {"group": group, "topic": tp.topic, "partition": str(tp.partition)}
            out += [
                S("kafka_consumer_committed_offset", off, **labels),
                S("kafka_consumer_lag_records", lag, **labels),
                S("kafka_consumer_lag_seconds", age, **labels),
            ]
        for topic in sorted(records):
            labels = {"group": group, "topic": topic, "partition": "all"}
            out.append(S("kafka_consumer_lag_records", records[topic], **labels))
            out.append(S("kafka_consumer_lag_seconds", seconds[topic], **labels))
        return out
