"""The Kafka sampler on the session's real broker: a topic and a group of the test's own."""

from __future__ import annotations

import secrets
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from monitor.kafka_sampler import KafkaSampler
from monitor.sample import Sample
from stack.manager import Stack
from tests.monitor.helpers import find, value


async def produce(bootstrap: str, topic: str, per_partition: int, first_ts: int | None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for p in (0, 1):
            for i in range(per_partition):
                ts = first_ts if i == 0 and first_ts is not None else None
                await producer.send_and_wait(topic, b"x", partition=p, timestamp_ms=ts)
    finally:
        await producer.stop()


async def consume_all(bootstrap: str, topic: str, group: str, expect: int) -> None:
    """Read `expect` records as `group` and commit: the group is then caught up."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
    got = 0
    deadline = time.monotonic() + 30
    while got < expect and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        got += sum(len(records) for records in batch.values())
    await consumer.commit()
    await consumer.stop()
    assert got == expect


def mine(samples: list[Sample], topic: str) -> list[Sample]:
    return [s for s in samples if s.labels.get("topic") == topic]


async def test_lag_in_records_and_seconds_then_caught_up(stack: Stack, topic: str) -> None:
    bootstrap = stack.settings.kafka_bootstrap
    group = f"test-monitor-{secrets.token_hex(4)}"
    await produce(bootstrap, topic, 3, None)
    await consume_all(bootstrap, topic, group, 6)
    # The group stops; 5 records per partition come, the first of each 40 s old.
    oldest = int(time.time() * 1000) - 40_000
    await produce(bootstrap, topic, 5, oldest)
    sampler = KafkaSampler(bootstrap, (group,))
    try:
        before, a0 = time.time(), time.monotonic()
        out = mine(await sampler.sample(), topic)
        after, a1 = time.time(), time.monotonic()
        for p in ("0", "1"):
            assert value(out, "kafka_partition_end_offset", topic=topic, partition=p) == 8
            labels = {"group": group, "topic": topic, "partition": p}
            assert value(out, "kafka_consumer_committed_offset", **labels) == 3
            assert value(out, "kafka_consumer_lag_records", **labels) == 5
            age = value(out, "kafka_consumer_lag_seconds", **labels)
            assert before - oldest / 1000 <= age <= after - oldest / 1000
        total = {"group": group, "topic": topic, "partition": "all"}
        assert value(out, "kafka_consumer_lag_records", **total) == 10
        assert 40 <= value(out, "kafka_consumer_lag_seconds", **total) <= after - oldest / 1000
        assert find(out, "kafka_topic_produce_rate_per_second") == []  # first round: no rate

        await produce(bootstrap, topic, 2, None)
        await consume_all(bootstrap, topic, group, 14)
        b0 = time.monotonic()
        out = mine(await sampler.sample(), topic)
        b1 = time.monotonic()
        for p in ("0", "1"):
            labels = {"group": group, "topic": topic, "partition": p}
            assert value(out, "kafka_consumer_lag_records", **labels) == 0
            assert value(out, "kafka_consumer_lag_seconds", **labels) == 0
        # Since the last round: 4 records produced, 10 + 4 committed, over b? - a? seconds.
        rate = value(out, "kafka_topic_produce_rate_per_second", topic=topic)
        assert 4 / (b1 - a0) <= rate <= 4 / (b0 - a1)
        consumed = value(out, "kafka_consumer_rate_per_second", topic=topic, group=group)
        assert 14 / (b1 - a0) <= consumed <= 14 / (b0 - a1)
    finally:
        await sampler.close()


async def test_cluster_health_of_a_single_broker(stack: Stack) -> None:
    sampler = KafkaSampler(stack.settings.kafka_bootstrap, ("no-such-group",))
    try:
        out = await sampler.sample()
    finally:
        await sampler.close()
    assert value(out, "kafka_brokers") == 1
    assert value(out, "kafka_controller_present") == 1
    assert value(out, "kafka_partitions_under_replicated") == 0
    assert value(out, "kafka_partitions_offline") == 0
    ends = find(out, "kafka_partition_end_offset", topic="im.chat")
    assert sorted(s.labels["partition"] for s in ends) == ["0", "1", "2", "3"]
    assert value(out, "kafka_partitions") >= 9 * 4  # every topic of the contract
    assert find(out, "kafka_consumer_lag_records") == []  # a group with no offsets
