"""alerts/rules/gateway.yaml, promtool-style: the nodes' /metrics samples at chosen times."""

from __future__ import annotations

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import Ops, put_ops, timeline


def counter(*phases: tuple[int, float], start: float = 0) -> str:
    """A counter from `start`, rising by `per_round` each round of each (rounds, per_round)."""
    values, v = [start], start
    for rounds, per_round in phases:
        for _ in range(rounds):
            v += per_round
            values.append(v)
    return " ".join(f"{x:g}" for x in values)


async def test_a_node_without_samples_for_3_rounds_then_a_minute_is_missing(
    db: ClickHouse,
) -> None:
    await put_ops(db, Ops("im_connections", "5x30", {"node": "a"}),
                  Ops("im_connections", "5x400", {"node": "b"}))  # fmt: skip
    tl = await timeline(db, "GatewayNodeMissing", 3920, every_s=20)
    # a's last sample is at 300 s: 40 s old at 340 s (30 s at 330 is not over), firing a
    # minute later, forgotten an hour after its last sample.
    assert tl.changes("node=a") == [(340, "pending"), (400, "firing"), (3900, "resolved")]
    assert tl.series() == {"node=a"}


async def test_connections_down_to_49_percent_of_10_minutes_ago_for_2m(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_connections", "50x60 49x70", {"node": "a"}),
                  Ops("im_connections", "50x60 0x70", {"node": "b"}))  # fmt: skip
    tl = await timeline(db, "GatewayConnectionsDropped", 1300)
    # 100 before, 49 from 610 s; the comparison point passes the drop at 1210 s (49 < 50).
    assert tl.changes() == [(610, "pending"), (730, "firing"), (1210, "resolved")]
    assert tl.value(730) == 0.49


async def test_connections_down_to_exactly_half_or_from_few_do_not_alert(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_connections", "50x130", {"node": "a"}),
                  Ops("im_connections", "50x60 0x70", {"node": "b"}))  # fmt: skip
    assert (await timeline(db, "GatewayConnectionsDropped", 1300, every_s=30)).changes() == []
    await db.command("TRUNCATE TABLE ops_samples")
    await put_ops(db, Ops("im_connections", "49x60 0x70", {"node": "c"}))  # from under 50
    assert (await timeline(db, "GatewayConnectionsDropped", 1300, every_s=30)).changes() == []


async def test_auth_failures_over_5_percent_of_auth_frames_for_5m(db: ClickHouse) -> None:
    await put_ops(
        db,
        Ops("im_frames_in_total", counter((130, 20)), {"node": "a", "type": "auth"}),
        Ops("im_frames_in_total", counter((130, 500)), {"node": "a", "type": "send"}),
        Ops("im_auth_failures_total", counter((10, 0), (50, 2), (70, 0)), {"node": "a"}),
    )
    tl = await timeline(db, "GatewayAuthFailuresHigh", 1000)
    # 2 failures a round from 100 to 600 s against 20 auth frames: the 5-minute ratio is
    # 100/2000 = 5 % at 200 s (not over), 5.2 % at 210; back under at 750 s.
    assert tl.changes() == [(210, "pending"), (510, "firing"), (750, "resolved")]
    assert tl.value(510) == 58 / 580


async def test_auth_failures_of_fewer_than_20_attempts_do_not_alert(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_frames_in_total", "0x20 10x20", {"node": "a", "type": "auth"}),
                  Ops("im_auth_failures_total", "0x20 10x20", {"node": "a"}))  # fmt: skip
    assert (await timeline(db, "GatewayAuthFailuresHigh", 400)).changes() == []


def buckets(*phases: tuple[int, tuple[int, int, int]]) -> list[Ops]:
    """im_send_latency_seconds_bucket of node a: per round, sends <= 0.1, <= 0.25, <= 0.5
    (cumulative, as Prometheus' buckets), all of them <= 0.5."""
    out = []
    for i, le in enumerate(("0.1", "0.25", "0.5", "+Inf")):
        per = [(rounds, float(split[min(i, 2)])) for rounds, split in phases]
        out.append(Ops("im_send_latency_seconds_bucket", counter(*per), {"node": "a", "le": le}))
    return out


async def test_send_latency_p99_over_250_ms_for_5m(db: ClickHouse) -> None:
    good, slow = (98, 99, 100), (97, 98, 100)  # p99 at 0.25 exactly / in (0.25, 0.5]
    await put_ops(db, *buckets((30, good), (40, slow), (60, good)))
    tl = await timeline(db, "GatewaySendLatencyHigh", 1300)
    # Slow rounds end at 310..700 s; the last leaves the 5-minute window at 990 s.
    assert tl.changes() == [(310, "pending"), (610, "firing"), (990, "resolved")]
    # At 610 s: 1 good and 28 slow rounds in the window; Prometheus' interpolation.
    assert tl.value(610) == 0.25 + 0.25 * (2871 - 2842) / (2900 - 2842)


async def test_send_latency_needs_100_sends_in_5_minutes(db: ClickHouse) -> None:
    await put_ops(db, *buckets((30, (0, 0, 3))))  # 87 sends in the window, all slow
    assert (await timeline(db, "GatewaySendLatencyHigh", 300)).changes() == []


async def test_retransmits_over_one_a_second_for_5m(db: ClickHouse) -> None:
    await put_ops(
        db, Ops("im_retransmits_total", counter((30, 10), (60, 11), (60, 10)), {"node": "a"})
    )
    tl = await timeline(db, "GatewayRetransmitsHigh", 1300)
    # 1/s is not over; one round of 11 in the window is (291 in 290 s).
    assert tl.changes() == [(310, "pending"), (610, "firing"), (1190, "resolved")]


async def test_retransmits_are_summed_over_the_nodes(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_retransmits_total", counter((40, 6)), {"node": "a"}),
                  Ops("im_retransmits_total", counter((40, 6)), {"node": "b"}))  # fmt: skip
    tl = await timeline(db, "GatewayRetransmitsHigh", 400)
    assert tl.changes() == [(10, "pending"), (310, "firing")]
    assert tl.value(310) == 1.2


async def test_pushes_dropped_over_6_a_minute_for_5m(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_pushes_dropped_total", counter((40, 2)), {"node": "a"}),
                  Ops("im_pushes_dropped_total", counter((40, 1)), {"node": "b"}))  # fmt: skip
    tl = await timeline(db, "GatewayPushesDropped", 400)
    assert tl.changes() == [(10, "pending"), (310, "firing")]
    assert round(tl.value(310), 9) == 0.3


async def test_pushes_dropped_at_6_a_minute_do_not_alert(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_pushes_dropped_total", counter((40, 1)), {"node": "a"}))
    assert (await timeline(db, "GatewayPushesDropped", 400)).changes() == []
