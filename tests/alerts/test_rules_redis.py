"""alerts/rules/redis.yaml, promtool-style: samples at chosen times, exact transitions."""

from __future__ import annotations

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import FIRING, RESOLVED, Ops, put, put_ops, timeline


async def test_redis_down_is_the_probe_failing_for_a_minute(db: ClickHouse) -> None:
    def probes(t: int) -> dict[str, tuple[bool, float]]:
        return {"redis": (not (100 <= t <= 160 or 300 <= t <= 350), 0.001)}

    tl = await timeline(db, "RedisDown", 400, probes=probes)
    # Down at 100..160 (60 s: fires), then at 300..350 (50 s: does not).
    assert tl.changes() == [(100, "pending"), (160, "firing"), (170, "resolved"),
                            (300, "pending"), (360, "inactive")]  # fmt: skip
    assert tl.notified() == [(160, FIRING), (170, RESOLVED)]


async def test_memory_over_90_percent_of_maxmemory_for_2m(db: ClickHouse) -> None:
    await put_ops(
        db, Ops("redis_memory_used_ratio", "0.9x5 0.91x20 0.5x5", {"policy": "noeviction"})
    )
    tl = await timeline(db, "RedisOutOfConfiguredMaxmemory", 330)
    assert tl.changes("policy=noeviction") == [(60, "pending"), (180, "firing"), (270, "resolved")]
    assert tl.value(180, "policy=noeviction") == 0.91


async def test_memory_over_90_percent_for_less_than_2m_does_not_fire(db: ClickHouse) -> None:
    await put_ops(
        db, Ops("redis_memory_used_ratio", "0.5x5 0.95x10 0.9x10", {"policy": "noeviction"})
    )
    tl = await timeline(db, "RedisOutOfConfiguredMaxmemory", 260)
    assert tl.changes("policy=noeviction") == [(60, "pending"), (170, "inactive")]


async def test_memory_series_missing_for_a_minute_is_no_longer_over(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_memory_used_ratio", "0.95x20 _x10", {"policy": "noeviction"}))
    tl = await timeline(db, "RedisOutOfConfiguredMaxmemory", 300)
    assert tl.changes("policy=noeviction") == [(0, "pending"), (120, "firing"), (260, "resolved")]


async def test_any_eviction_in_5m_fires_until_it_leaves_the_window(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_evicted_keys_total", "5x10 6x40"))
    tl = await timeline(db, "RedisEvictingKeys", 420)
    assert tl.changes() == [(110, "firing"), (400, "resolved")]  # 100 s leaves (t-300, t]
    assert tl.value(110) == 1.0


async def test_a_redis_restart_resetting_the_eviction_counter_is_no_eviction(
    db: ClickHouse,
) -> None:
    await put_ops(db, Ops("redis_evicted_keys_total", "5x10 0x10 2x10"))
    tl = await timeline(db, "RedisEvictingKeys", 300)
    # The drop to 0 is a restart; the rise to 2 after it is 2 evictions.
    assert tl.changes() == [(220, "firing")]
    assert tl.value(220) == 2.0


async def test_rejected_connections_in_the_last_minute(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_rejected_connections_total", "3x10 4x20"))
    tl = await timeline(db, "RedisRejectedConnections", 300)
    assert tl.changes() == [(110, "firing"), (160, "resolved")]


async def test_no_rejected_connections_no_alert(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_rejected_connections_total", "3x30"))
    tl = await timeline(db, "RedisRejectedConnections", 300)
    assert tl.changes() == []


async def test_clients_over_90_percent_of_maxclients_for_2m(db: ClickHouse) -> None:
    await put_ops(
        db, Ops("redis_maxclients", "100x40"), Ops("redis_connected_clients", "90x5 91x20 50x10")
    )
    tl = await timeline(db, "RedisTooManyConnections", 330)
    assert tl.changes() == [(60, "pending"), (180, "firing"), (270, "resolved")]
    assert tl.value(180) == 0.91


async def test_clients_without_a_maxclients_sample_do_not_alert(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_connected_clients", "1000x30"))
    assert (await timeline(db, "RedisTooManyConnections", 300)).changes() == []


async def test_slowlog_over_10_new_entries_in_5m(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_slowlog_new_entries", "0x5 3 3 3 2 0x40"))
    tl = await timeline(db, "RedisSlowlogGrowing", 400)
    # 9 entries by 80 s, 11 by 90 s; the 3 of 60 s leave the 5-minute window at 360 s.
    assert tl.changes() == [(90, "firing"), (360, "resolved")]
    assert tl.value(90) == 11.0


async def test_slowlog_samples_relayed_twice_count_once(db: ClickHouse) -> None:
    events = Ops("redis_slowlog_new_entries", "0x5 3 3 3 1 0x5").events()
    await put(db, "ops_samples", events + events)
    tl = await timeline(db, "RedisSlowlogGrowing", 150)
    assert tl.changes() == []  # 10 entries, not 20


async def test_a_big_key_over_10_mib_seen_in_the_last_hour(db: ClickHouse) -> None:
    labels = {"family": "conv", "type": "zset", "rank": "1"}
    await put_ops(db, Ops("redis_big_key_bytes", "10485760 _x5 10485761", labels))
    tl = await timeline(db, "RedisBigKey", 3720, every_s=60)
    assert tl.changes("family=conv,type=zset") == [(60, "firing"), (3660, "resolved")]


async def test_a_key_of_exactly_10_mib_is_not_big(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_big_key_bytes", "10485760x10", {"family": "conv", "type": "zset",
                                                                 "rank": "1"}))  # fmt: skip
    assert (await timeline(db, "RedisBigKey", 120)).changes("family=conv,type=zset") == []


async def test_a_hot_key_over_3000_per_second_for_a_minute(db: ClickHouse) -> None:
    metric = "redis_hot_key_accesses_per_second"
    await put_ops(db, Ops(metric, "3000x5 3001x20 100x10", {"family": "token", "rank": "1"}),
                  Ops(metric, "2000x40", {"family": "token", "rank": "2"}),
                  Ops(metric, "2999x40", {"family": "user", "rank": "1"}))  # fmt: skip
    tl = await timeline(db, "RedisHotKey", 330)
    assert tl.changes("family=token") == [(60, "pending"), (120, "firing"), (270, "resolved")]
    assert tl.series() == {"family=token"}


async def test_fragmentation_over_1_5_for_10m_once_100_mib_are_used(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_fragmentation_ratio", "1.6x100"),
                  Ops("redis_used_memory_bytes", "104857599x30 104857600x70"))  # fmt: skip
    tl = await timeline(db, "RedisFragmentationHigh", 1000)
    assert tl.changes() == [(310, "pending"), (910, "firing")]


async def test_fragmentation_of_1_5_is_not_high(db: ClickHouse) -> None:
    await put_ops(db, Ops("redis_fragmentation_ratio", "1.5x70"),
                  Ops("redis_used_memory_bytes", "1e9x70"))  # fmt: skip
    assert (await timeline(db, "RedisFragmentationHigh", 700)).changes() == []
