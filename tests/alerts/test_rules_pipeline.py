"""alerts/rules/pipeline.yaml, promtool-style: the streaming job's samples, the watchers'
probes, and TelemetryStale holding the rules over ops samples while none arrive."""

from __future__ import annotations

import pytest

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import FIRING, RESOLVED, Ops, put_ops, timeline
from tests.alerts.test_rules_gateway import counter

HEARTBEAT = "monitor_samples_written_total"


async def test_telemetry_stale_after_3_rounds_without_a_sample_for_30_s(db: ClickHouse) -> None:
    await put_ops(db, Ops(HEARTBEAT, "0+40x30 _x19 800+40x10"))  # none from 310 to 490 s
    tl = await timeline(db, "TelemetryStale", 600)
    assert tl.changes() == [(340, "pending"), (370, "firing"), (500, "resolved")]
    assert tl.value(370) == 70.0


async def test_no_sample_in_the_last_hour_is_an_hour_stale(db: ClickHouse) -> None:
    tl = await timeline(db, "TelemetryStale", 30)
    assert tl.changes() == [(0, "pending"), (30, "firing")]
    assert tl.value(30) == 3600.0


async def test_while_telemetry_is_stale_the_rules_over_samples_neither_resolve_nor_fire(
    db: ClickHouse,
) -> None:
    # Every sample stops from 310 to 490 s: the memory alert firing since 120 s stays
    # firing (held), and the node that stopped with the rest is not "missing".
    await put_ops(
        db,
        Ops(HEARTBEAT, "0+40x30 _x19 800+40x30"),
        Ops("redis_memory_used_ratio", "0.95x30 _x19 0.95x30", {"policy": "noeviction"}),
        Ops("im_connections", "5x30 _x19 5x30", {"node": "a"}),
    )
    held = await timeline(db, "RedisOutOfConfiguredMaxmemory", 800, also=["TelemetryStale"])
    assert held.changes("policy=noeviction") == [(0, "pending"), (120, "firing")]
    assert held.notified("policy=noeviction") == [(120, FIRING)]
    alone = await timeline(db, "RedisOutOfConfiguredMaxmemory", 800)  # what it would do
    assert alone.changes("policy=noeviction") == [(0, "pending"), (120, "firing"),
                                                  (360, "resolved"), (500, "pending"),
                                                  (620, "firing")]  # fmt: skip
    node = await timeline(db, "GatewayNodeMissing", 800, also=["TelemetryStale"])
    assert node.changes("node=a") == []
    assert (await timeline(db, "GatewayNodeMissing", 800)).changes("node=a") == [
        (340, "pending"), (400, "firing"), (500, "resolved")
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["CollectorDown", "AnalyticsDown", "ClickHouseDown"])
async def test_the_watchers_are_probes_failing_for_a_minute(db: ClickHouse, name: str) -> None:
    probe = {"CollectorDown": "collector", "AnalyticsDown": "analytics",
             "ClickHouseDown": "clickhouse"}[name]  # fmt: skip

    def probes(t: int) -> dict[str, tuple[bool, float]]:
        return {probe: (not (100 <= t <= 160 or 300 <= t <= 350), 0.01)}

    tl = await timeline(db, name, 400, probes=probes)
    assert tl.changes() == [(100, "pending"), (160, "firing"), (170, "resolved"),
                            (300, "pending"), (360, "inactive")]  # fmt: skip
    assert tl.notified() == [(160, FIRING), (170, RESOLVED)]


async def test_analytics_sink_lag_over_a_minute_for_2m(db: ClickHouse) -> None:
    def probes(t: int) -> dict[str, tuple[bool, float]]:
        if t >= 400:
            return {"analytics_lag": (False, 0.0)}  # not measurable: Kafka's alerts speak
        return {"analytics_lag": (True, 61.0 if 100 <= t <= 220 else 60.0)}

    tl = await timeline(db, "AnalyticsSinkLag", 500, probes=probes)
    assert tl.changes() == [(100, "pending"), (220, "firing"), (230, "resolved")]


async def test_flink_job_not_running_for_a_minute(db: ClickHouse) -> None:
    await put_ops(db, Ops("pipeline_job_up", "1x10 0x20 1x10"))
    tl = await timeline(db, "FlinkJobNotRunning", 420)
    assert tl.changes() == [(110, "pending"), (170, "firing"), (320, "resolved")]
    assert tl.value(170) == 70.0  # last seen running at 100 s


async def test_flink_job_without_samples_for_3_rounds_is_not_running(db: ClickHouse) -> None:
    await put_ops(db, Ops("pipeline_job_up", "1x10 _x30 1x5"))  # Flink's REST API silent
    tl = await timeline(db, "FlinkJobNotRunning", 460)
    assert tl.changes() == [(140, "pending"), (200, "firing"), (410, "resolved")]


async def test_no_job_samples_at_all_is_no_alert(db: ClickHouse) -> None:
    await put_ops(db, Ops(HEARTBEAT, "0+40x30"))  # IM_FLINK_REST_URL unset: no job samples
    assert (await timeline(db, "FlinkJobNotRunning", 300)).changes() == []


async def test_checkpoint_older_than_3_intervals(db: ClickHouse) -> None:
    await put_ops(db, Ops("pipeline_checkpoint_age_seconds", "5x10 31x4 30x5"))
    tl = await timeline(db, "FlinkCheckpointsStalled", 220)
    assert tl.changes() == [(110, "firing"), (160, "resolved")]


async def test_message_counts_15_min_behind_while_messages_were_sent(db: ClickHouse) -> None:
    fresh = "pipeline_result_freshness_seconds"
    await put_ops(
        db,
        Ops(fresh, "100x20 901x130", {"table": "message_counts"}),
        Ops(fresh, "5000x150", {"table": "moderation"}),  # stale, but not watched
        Ops("im_sends_total", counter((30, 0), (10, 5), (110, 0)), {"node": "a"}),
    )
    tl = await timeline(db, "ResultTableStale", 1500)
    # Sends at 310..400 s fall in [now - 15 min, now - 2 min] from 430 s to 1280 s.
    assert tl.changes("table=message_counts") == [(430, "firing"), (1290, "resolved")]
    assert tl.series() == {"table=message_counts"}


async def test_a_stale_result_without_messages_sent_is_no_alert(db: ClickHouse) -> None:
    fresh = Ops("pipeline_result_freshness_seconds", "5000x60", {"table": "message_counts"})
    await put_ops(db, fresh, Ops("im_sends_total", "7x60", {"node": "a"}))
    assert (await timeline(db, "ResultTableStale", 600)).changes("table=message_counts") == []
