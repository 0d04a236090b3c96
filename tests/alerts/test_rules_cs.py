"""alerts/rules/cs.yaml, promtool-style: result rows and raw cs events at chosen times."""

from __future__ import annotations

from typing import Any

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import T0, put, timeline

W = 300  # s, IM_REPLY_WINDOW_S


def rate(agent: str, window: int, value: float, waits: int = 10) -> dict[str, Any]:
    """The reply_rates row of window number `window` (of W seconds from T0)."""
    start = T0 + window * W * 1000
    return {"window_start": start, "window_end": start + W * 1000, "agent": agent,
            "waits": waits, "replied_5m": round(waits * value), "reply_rate": value}  # fmt: skip


async def test_reply_rate_below_80_percent_for_2_consecutive_windows(db: ClickHouse) -> None:
    await put(db, "reply_rates", [
        rate("ag1", 0, 0.9), rate("ag1", 1, 0.7), rate("ag1", 2, 0.75), rate("ag1", 3, 0.9),
        rate("*", 0, 0.79), rate("*", 1, 0.8),  # 0.8 is on target
        rate("ag2", 0, 0.5), rate("ag2", 2, 0.5),  # not consecutive
    ])  # fmt: skip
    tl = await timeline(db, "CsReplyRateLow", 1500, every_s=60)
    # A window counts once it has ended (its row comes later still in production).
    assert tl.changes("agent=ag1") == [(900, "firing"), (1200, "resolved")]
    assert tl.value(900, "agent=ag1") == 0.75
    assert tl.series() == {"agent=ag1"}


async def test_a_low_reply_rate_is_forgotten_15_minutes_after_its_last_window(
    db: ClickHouse,
) -> None:
    await put(db, "reply_rates", [rate("*", 0, 0.5), rate("*", 1, 0.6)])
    tl = await timeline(db, "CsReplyRateLow", 1800, every_s=60)
    assert tl.changes("agent=*") == [(600, "firing"), (1500, "resolved")]


def chat(t: int, conv: str, role: str, agent: str = "ag1", kind: str = "chat") -> dict[str, Any]:
    return {"id": f"m:{conv}:{t}:{role}", "type": "chat.message", "ts": T0 + t * 1000,
            "node": "n1", "conv": conv, "conv_kind": "cs", "seq": t, "sender": f"{role}-x",
            "sender_role": role, "kind": kind, "cmid": f"{conv}{t}", "text_len": 5,
            "content_hash": "0" * 16, "flags": [], "session": f"s{conv}",
            "agent": agent}  # fmt: skip


def session(t: int, sid: str, type_: str, n: int, **extra: str) -> dict[str, Any]:
    return {"id": f"s:{sid}:{type_}:{n}", "type": type_, "ts": T0 + t * 1000, "node": "n1",
            "session": sid, "conv": f"c{sid}", "customer": "u1", **extra}  # fmt: skip


async def test_a_customer_unanswered_over_5_minutes(db: ClickHouse) -> None:
    await put(db, "chat_events", [
        chat(100, "c1", "user"), chat(150, "c1", "user"), chat(500, "c1", "agent"),
        chat(600, "c1", "user"),  # a new wait, answered in time below
        chat(700, "c1", "agent"),
        chat(100, "c3", "agent"), chat(100, "c3", "user"),  # same ms: the customer waits
        chat(100, "c2", "user", agent=""),  # queued: the queue rules' business
        chat(100, "c4", "user"), chat(120, "c4", "system", kind="event"),
    ])  # fmt: skip
    await put(db, "session_events", [session(200, "sc4", "cs.closed", 3, reason="customer")])
    tl = await timeline(db, "CsCustomerWaiting", 800)
    # Waiting since 100 s: 300 s at 400 s is not over, 310 s at 410 s is.
    c1 = "agent=ag1,conv=c1,session=sc1"
    assert tl.changes(c1) == [(410, "firing"), (500, "resolved")]
    assert tl.value(410, c1) == 310.0
    assert tl.changes("agent=ag1,conv=c3,session=sc3") == [(410, "firing")]
    assert tl.series() == {c1, "agent=ag1,conv=c3,session=sc3"}


async def test_a_queue_over_10_sessions_for_2m(db: ClickHouse) -> None:
    rows = [session(t, f"q{t}", "cs.created", 1) for t in range(0, 101, 10)]  # 11 sessions
    rows += [session(300, "q0", "cs.accepted", 2, agent="ag1")]
    rows += [session(50, "x", "cs.created", 1), session(50, "x", "cs.accepted", 2, agent="ag1")]
    await put(db, "session_events", rows)
    tl = await timeline(db, "CsQueueLong", 400)
    assert tl.changes() == [(100, "pending"), (220, "firing"), (300, "resolved")]
    assert tl.value(220) == 11.0


async def test_a_requeued_session_is_queued_again(db: ClickHouse) -> None:
    rows = [session(0, f"q{i}", "cs.created", 1) for i in range(10)]
    rows += [session(0, "r", "cs.created", 1), session(10, "r", "cs.accepted", 2, agent="a"),
             session(100, "r", "cs.requeued", 3, from_agent="a", reason="disabled")]  # fmt: skip
    await put(db, "session_events", rows)
    tl = await timeline(db, "CsQueueLong", 300)
    assert tl.changes() == [(0, "pending"), (10, "inactive"), (100, "pending"), (220, "firing")]


async def test_the_oldest_queued_customer_waiting_over_5_minutes(db: ClickHouse) -> None:
    await put(db, "session_events", [
        session(0, "a", "cs.created", 1), session(400, "a", "cs.accepted", 2, agent="ag1"),
        session(200, "b", "cs.created", 1), session(250, "b", "cs.accepted", 2, agent="ag1"),
        session(350, "b", "cs.requeued", 3, from_agent="ag1", reason="role_changed"),
        session(100, "c", "cs.created", 1), session(120, "c", "cs.closed", 2, reason="customer"),
    ])  # fmt: skip
    tl = await timeline(db, "CsQueueWaitLong", 600)
    # a waits from 0 (310 s at 310 s); once accepted, b, requeued at its first place (200 s).
    assert tl.changes() == [(310, "firing"), (400, "resolved"), (510, "firing")]
    assert tl.value(510) == 310.0


def detection(t: int, user: str, rule: str = "flood") -> dict[str, Any]:
    return {"user": user, "rule": rule, "first_ts": T0 + (t - 9) * 1000,
            "last_ts": T0 + t * 1000, "count": 10, "conv": "c1"}  # fmt: skip


async def test_a_spam_wave_of_over_10_detections_in_5_minutes(db: ClickHouse) -> None:
    rows = [detection(100 + 10 * i, f"u{i}") for i in range(11)]  # 100..200 s
    await put(db, "moderation", rows + rows[:5])  # a row written twice counts once
    tl = await timeline(db, "CsSpamWave", 450)
    assert tl.changes() == [(200, "firing"), (400, "resolved")]
    assert tl.value(200) == 11.0


async def test_10_detections_in_5_minutes_are_no_wave(db: ClickHouse) -> None:
    await put(db, "moderation", [detection(100 + 10 * i, f"u{i}") for i in range(10)])
    assert (await timeline(db, "CsSpamWave", 400)).changes() == []
