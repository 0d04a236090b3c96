"""The sessions-and-queue and moderation dashboards on raw session events and detections
at chosen times (seconds after T0), with exact answers."""

from __future__ import annotations

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import T0, put
from tests.alerts.test_rules_cs import session
from tests.dashboards.data import detection
from tests.dashboards.panels import ms, query, run

END = T0 + 299_000  # points of the queue every 60 s: 0, 60, 120, 180, 240


def s(t: int, sid: str, type_: str, n: int, **extra: str) -> dict[str, object]:
    return session(t, sid, type_, n, **extra)


async def test_queue_length_and_oldest_wait_at_each_point(db: ClickHouse) -> None:
    await put(db, "session_events", [
        s(-7200, "q0", "cs.created", 1), s(70, "q0", "cs.accepted", 2, agent="a1"),
        s(0, "q1", "cs.created", 1), s(0, "q1", "cs.created", 1),  # relayed twice
        s(95, "q1", "cs.accepted", 2, agent="a1"),
        s(30, "q2", "cs.created", 1), s(40, "q2", "cs.accepted", 2, agent="a2"),
        s(100, "q2", "cs.requeued", 3, from_agent="a2", reason="disabled"),
        s(200, "q2", "cs.closed", 4, reason="customer"),
        s(250, "q3", "cs.created", 1),
        s(400, "q4", "cs.created", 1),  # after the range
    ])  # fmt: skip
    _, queued = await run(db, query("im-cs-sessions", 3), T0, END, interval_s=60)
    _, oldest = await run(db, query("im-cs-sessions", 4), T0, END, interval_s=60)
    assert [((ms(r["time"]) - T0) // 1000, r["queued"]) for r in queued] == [
        (0, 2), (60, 2), (120, 1), (180, 1), (240, 0)]  # fmt: skip
    # q0 waits since -7200 s; q2 since its first cs.created at 30 s, though requeued at 100 s
    assert [r["oldest_wait_s"] for r in oldest] == [7200, 7260, 90, 150, 0]


async def test_sessions_started_ended_length_and_per_agent(db: ClickHouse) -> None:
    await put(db, "session_events", [
        s(0, "a", "cs.created", 1), s(10, "a", "cs.accepted", 2, agent="ag1"),
        s(400, "a", "cs.closed", 3, agent="ag1", reason="agent"),
        s(20, "b", "cs.created", 1), s(30, "b", "cs.accepted", 2, agent="ag1"),
        s(40, "b", "cs.transferred", 3, agent="ag2", from_agent="ag1", to_agent="ag2"),
        s(1000, "b", "cs.closed", 4, agent="ag2", reason="inactivity"),
        s(1000, "b", "cs.closed", 4, agent="ag2", reason="inactivity"),  # relayed twice
        s(50, "c", "cs.created", 1), s(60, "c", "cs.closed", 2, reason="customer"),
    ])  # fmt: skip
    end = T0 + 3_599_000
    _, rows = await run(db, query("im-cs-sessions", 1), T0, end)
    assert [{k: v for k, v in r.items() if k != "time"} for r in rows] == [
        {"started": 3, "ended_by_customer": 1, "ended_by_agent": 1, "ended_by_inactivity": 1}
    ]
    _, rows = await run(db, query("im-cs-sessions", 2), T0, end)
    assert rows == [{"reason": r, "sessions": 1} for r in ("agent", "customer", "inactivity")]
    _, rows = await run(db, query("im-cs-sessions", 5), T0, end)
    assert {r["length"]: r["sessions"] for r in rows} == {
        "0-5 min": 1,
        "5-15 min": 1,
        "15-30 min": 1,
        "30-60 min": 0,
        "1-2 h": 0,
        "over 2 h": 0,
    }
    _, rows = await run(db, query("im-cs-sessions", 6), T0, end)
    assert rows == [
        {"agent": "ag1", "taken": 2, "closed": 1, "closed_inactive": 0},
        {"agent": "ag2", "taken": 1, "closed": 1, "closed_inactive": 1},
    ]


async def test_who_is_muted_at_the_ranges_end(db: ClickHouse) -> None:
    end = T0 + 3_600_000  # IM_MUTE_S = 600: muted while last_ts + 600 s is after the end
    rows = [
        detection("u1", "flood", end - 609_000, end - 599_000),
        detection("u1", "repeat", end - 700_000, end - 650_000),
        detection("u2", "flood", end - 610_000, end - 600_000),  # free at the end
        detection("u3", "abusive", end - 5_000, end + 1_000),  # after the range
        detection("u4", "repeat", end - 20_000, end - 10_000),
    ]
    await put(db, "moderation", [*rows, rows[-1]])  # one written twice
    _, got = await run(db, query("im-moderation", 3), T0, end)
    assert got == [{"muted": 2}]
    _, got = await run(db, query("im-moderation", 4), T0, end)
    assert [(r["user"], r["rule"], ms(r["muted_until"]) - end) for r in got] == [
        ("u4", "repeat", 590_000), ("u1", "flood", 1_000)]  # fmt: skip
    _, got = await run(db, query("im-moderation", 2), T0, end)
    assert [(r["user"], r["detections"], r["rules"]) for r in got] == [
        ("u1", 2, "flood, repeat"), ("u4", 1, "repeat"), ("u2", 1, "flood")]  # fmt: skip
