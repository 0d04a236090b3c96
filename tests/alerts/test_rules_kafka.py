"""alerts/rules/kafka.yaml, promtool-style: samples and probes at chosen times."""

from __future__ import annotations

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import FIRING, RESOLVED, Ops, put_ops, timeline

LAG = {"group": "im-stream", "topic": "im.chat", "partition": "all"}
SERIES = "group=im-stream,topic=im.chat"


async def test_broker_down_is_the_probe_failing_for_a_minute(db: ClickHouse) -> None:
    tl = await timeline(
        db, "KafkaBrokerDown", 300, probes=lambda t: {"kafka": (not 100 <= t <= 160, 1.0)}
    )
    assert tl.changes() == [(100, "pending"), (160, "firing"), (170, "resolved")]
    assert tl.notified() == [(160, FIRING), (170, RESOLVED)]


async def test_broker_down_for_50_s_does_not_fire(db: ClickHouse) -> None:
    tl = await timeline(
        db, "KafkaBrokerDown", 300, probes=lambda t: {"kafka": (not 100 <= t <= 150, 1.0)}
    )
    assert tl.changes() == [(100, "pending"), (160, "inactive")]


async def test_under_replicated_for_5m_then_kept_firing_5m_after_it_clears(db: ClickHouse) -> None:
    # 1 from 60 to 460 s; 0 from 470 but 1 again at 570; 0 from 580.
    await put_ops(db, Ops("kafka_partitions_under_replicated", "0x5 1x40 0x9 1 0x60"))
    tl = await timeline(db, "KafkaUnderReplicatedPartitions", 900)
    assert tl.changes() == [(60, "pending"), (360, "firing"), (880, "resolved")]
    assert tl.notified() == [(360, FIRING), (880, RESOLVED)]


async def test_under_replicated_for_less_than_5m_does_not_fire(db: ClickHouse) -> None:
    await put_ops(db, Ops("kafka_partitions_under_replicated", "0x5 1x29 0x10"))
    tl = await timeline(db, "KafkaUnderReplicatedPartitions", 400)
    assert tl.changes() == [(60, "pending"), (360, "inactive")]


async def test_offline_partitions_for_5m_resolve_5m_after_they_clear(db: ClickHouse) -> None:
    await put_ops(db, Ops("kafka_partitions_offline", "0x5 2x35 0x60"))
    tl = await timeline(db, "KafkaOfflinePartitions", 800)
    assert tl.changes() == [(60, "pending"), (360, "firing"), (720, "resolved")]
    assert tl.value(360) == 2.0


async def test_consumer_lag_over_10000_records_for_a_minute(db: ClickHouse) -> None:
    await put_ops(
        db,
        Ops("kafka_consumer_lag_records", "10000x5 10001x10 5x5", LAG),
        Ops("kafka_consumer_lag_records", "99999x25", {**LAG, "partition": "0"}),
    )
    tl = await timeline(db, "KafkaConsumerLagRecords", 240)
    assert tl.changes(SERIES) == [(60, "pending"), (120, "firing"), (170, "resolved")]
    assert tl.series() == {SERIES}  # per-partition rows are not series of their own


async def test_consumer_lag_over_5_minutes_for_2m(db: ClickHouse) -> None:
    await put_ops(db, Ops("kafka_consumer_lag_seconds", "300x5 301x15 0x5", LAG))
    tl = await timeline(db, "KafkaConsumerLagSeconds", 260)
    assert tl.changes(SERIES) == [(60, "pending"), (180, "firing"), (220, "resolved")]


async def test_lag_not_shrinking_for_15m_fires_and_is_kept_10m_once_it_shrinks(
    db: ClickHouse,
) -> None:
    # 5 records behind from 0 to 1300 s, then shrinking a little every round.
    await put_ops(db, Ops("kafka_consumer_lag_records", "5x130 4-0.001x100", LAG))
    tl = await timeline(db, "KafkaConsumerLagNotShrinking", 1930)
    # Pending once a sample 5 minutes old exists (300 s); firing 15 minutes later;
    # shrinking from 1310 s, resolved 10 minutes after.
    assert tl.changes(SERIES) == [(300, "pending"), (1200, "firing"), (1910, "resolved")]


async def test_lag_shrinking_before_15m_does_not_fire(db: ClickHouse) -> None:
    await put_ops(db, Ops("kafka_consumer_lag_records", "5x118 4x5", LAG))
    tl = await timeline(db, "KafkaConsumerLagNotShrinking", 1250)
    assert tl.changes(SERIES) == [(300, "pending"), (1190, "inactive")]


async def test_no_lag_is_never_stuck(db: ClickHouse) -> None:
    await put_ops(db, Ops("kafka_consumer_lag_records", "0x100", LAG))
    assert (await timeline(db, "KafkaConsumerLagNotShrinking", 1000, every_s=50)).changes() == []


async def test_outbox_backlog_over_30_s_for_a_minute(db: ClickHouse) -> None:
    def probes(t: int) -> dict[str, tuple[bool, float]]:
        if 300 <= t <= 400:
            return {"relay": (False, 0.0)}  # Redis does not answer: RedisDown's business
        return {"relay": (True, 31.0 if 100 <= t <= 160 else 30.0)}

    tl = await timeline(db, "OutboxBacklog", 450, probes=probes)
    assert tl.changes() == [(100, "pending"), (160, "firing"), (170, "resolved")]
    assert tl.value(160) == 31.0
