"""The SRE dashboards' key panels give exactly what the samples say: samples go into
ops_samples as the collector writes them (tests/alerts/harness.py: promtool's series
notation, one value per 10 s from T0), then the panels run for the first 5 minutes."""

from __future__ import annotations

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import T0, Ops, put_ops
from tests.dashboards.panels import ms, query, run

END = T0 + 299_000  # five 1-minute buckets: [T0, T0 + 60 s), ...
LAG = {"group": "im-analytics", "topic": "im.chat"}


def series(rows: list[dict[str, object]], key: str, value: str) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for r in rows:
        out.setdefault(str(r[key]), []).append((ms(r["time"]) - T0) // 1000)  # type: ignore[arg-type]
        out[str(r[key])].append(r[value])
    return out


async def test_consumer_lag_in_records_is_the_lag_made(db: ClickHouse) -> None:
    # 30 rounds: the lag grows by 100 a round for 2 minutes, then is consumed in 1 minute
    await put_ops(
        db,
        Ops("kafka_consumer_lag_records", "0+100x11 1200-200x6 0x11", {**LAG, "partition": "all"}),
        Ops("kafka_consumer_lag_records", "999x29", {**LAG, "partition": "0"}),  # not a sum
        Ops(
            "kafka_consumer_lag_records",
            "7x29",
            {"group": "im-stream", "topic": "im.chat", "partition": "all"},
        ),
    )
    _, rows = await run(db, query("im-kafka-pipeline", 3), T0, END, interval_s=60)
    # the newest sample of each minute: at 50 s, 110 s, 170 s, 230 s, 290 s
    assert series(rows, "series", "records") == {
        "im-analytics / im.chat": [0, 500.0, 60, 1100.0, 120, 200.0, 180, 0.0, 240, 0.0],
        "im-stream / im.chat": [0, 7.0, 60, 7.0, 120, 7.0, 180, 7.0, 240, 7.0],
    }


async def test_connections_per_node_are_the_connections_opened(db: ClickHouse) -> None:
    await put_ops(
        db,
        Ops("im_connections", "0 5x4 12x23", {"node": "server-1"}),
        Ops("im_connections", "3x8 _x21", {"node": "server-2"}, start_s=0),  # gone after 80 s
    )
    _, rows = await run(db, query("im-gateway", 1), T0, END, interval_s=60)
    assert series(rows, "node", "connections") == {
        "server-1": [0, 5.0, 60, 12.0, 120, 12.0, 180, 12.0, 240, 12.0],
        "server-2": [0, 3.0, 60, 3.0],
    }
    _, rows = await run(db, query("im-gateway", 1), T0, T0 + 30_000, interval_s=10)
    assert [r["connections"] for r in rows if r["node"] == "server-1"] == [0, 5, 5, 5]


async def test_a_counters_rate_survives_a_restart(db: ClickHouse) -> None:
    # 2 connects a round (0.2/s), the node restarts at 150 s (its counter from 0)
    await put_ops(db, Ops("im_connects_total", "0+2x14 1+2x14", {"node": "server-1"}))
    _, rows = await run(db, query("im-gateway", 2), T0, END, interval_s=60)
    # the first bucket has 5 rises (its first sample has no predecessor), then 6 each;
    # at the restart the rise is the new value (1), as Prometheus' increase()
    assert [r["connects"] for r in rows] == [10 / 60, 12 / 60, 11 / 60, 12 / 60, 12 / 60]


async def test_send_latency_quantiles_are_prometheus_histogram_quantile(db: ClickHouse) -> None:
    # per round 100 sends: 50 <= 1 ms, 40 in (1, 5] ms, 10 in (5, 25] ms
    buckets = {"0.001": 50, "0.005": 90, "0.025": 100, "+Inf": 100}
    node = "server-1"
    await put_ops(db, *(Ops("im_send_latency_seconds_bucket", f"0+{n}x29", {"le": le, "node": node})
                        for le, n in buckets.items()))  # fmt: skip
    _, rows = await run(db, query("im-gateway", 6), T0 + 60_000, END, interval_s=60)
    # rank 50 of 100 is the 1 ms bound; 90 the 5 ms bound; 99: 5 + 20 * 9/10 ms
    assert {(r["p50"], r["p90"], round(r["p99"], 9)) for r in rows} == {(0.001, 0.005, 0.023)}


async def test_big_keys_are_the_newest_round(db: ClickHouse) -> None:
    for rank, old, new in [(1, 900, 500), (2, 800, 400)]:
        await put_ops(db, Ops("redis_big_key_bytes", f"{old}x5 {new}",
                              {"family": "msgs", "type": "zset", "rank": str(rank)}))  # fmt: skip
    _, rows = await run(db, query("im-redis", 11), T0, END)
    assert rows == [{"rank": 1, "family": "msgs", "type": "zset", "bytes": 500.0},
                    {"rank": 2, "family": "msgs", "type": "zset", "bytes": 400.0}]  # fmt: skip
