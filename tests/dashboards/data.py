"""Generated rows for every table the dashboards read, as the sink stores them: one
collector round (bench.dashboards.series: the alert bench's round plus what only the
dashboards read) every 10 s, cs traffic (traffic.scenario) with its reply-rate rows
(tests/streaming/reference.py), session events and moderation detections."""

from __future__ import annotations

import secrets
from typing import Any

from analytics.clickhouse import ClickHouse
from bench.dashboards.series import SERIES
from tests.alerts.harness import put
from tests.streaming import reference
from traffic.scenario import generate

Row = dict[str, Any]
REPLY_COLUMNS = ("window_start", "window_end", "agent", "waits", "replied_5m", "reply_rate",
                 "avg_reply_s", "p90_reply_s")  # fmt: skip


def ops_rounds(end_ms: int, rounds: int, every_ms: int = 10_000) -> list[Row]:
    """`rounds` collector rounds, the last at `end_ms`: gauges around their level, counters
    rising at their rate."""
    out = []
    for i in range(rounds):
        ts = end_ms - (rounds - 1 - i) * every_ms
        for k, s in enumerate(SERIES):
            value = s.base + s.spread * ((i * 7 + k * 13) % 10) / 10 + s.rate * i
            out.append({"id": "o:" + secrets.token_hex(10), "type": "ops.sample", "ts": ts,
                        "node": "monitor", "source": s.source, "metric": s.metric,
                        "value": value, "labels": dict(s.labels)})  # fmt: skip
    return out


def chat(start_ms: int, seed: int = 3) -> list[Row]:
    evs = generate(seed=seed, start_ms=start_ms, duration_s=3600, cs_sessions=60, agents=4)
    return [e for e in evs if e["type"] == "chat.message"]


def session(t_ms: int, sid: str, type_: str, n: int, **extra: str) -> Row:
    return {"id": f"s:{sid}:{type_}:{n}", "type": type_, "ts": t_ms, "node": "n1",
            "session": sid, "conv": f"c{sid}", "customer": "u1", **extra}  # fmt: skip


def detection(user: str, rule: str, first_ms: int, last_ms: int, conv: str = "c1") -> Row:
    return {"user": user, "rule": rule, "first_ts": first_ms, "last_ts": last_ms, "count": 3,
            "conv": conv}  # fmt: skip


async def fill(db: ClickHouse, start_ms: int, end_ms: int) -> None:
    """Rows of every table in [start_ms, end_ms] (an hour or more)."""
    await put(db, "ops_samples", ops_rounds(end_ms, 60))
    events = chat(start_ms)
    await put(db, "chat_events", events)
    await put(db, "reply_rates", [dict(zip(REPLY_COLUMNS, r, strict=True))
                                  for r in reference.reply_rates(events)])  # fmt: skip
    mid = (start_ms + end_ms) // 2
    await put(db, "session_events", [
        session(start_ms + 60_000, "s1", "cs.created", 1),
        session(start_ms + 90_000, "s1", "cs.accepted", 2, agent="agent01"),
        session(start_ms + 900_000, "s1", "cs.closed", 3, agent="agent01", reason="agent"),
        session(mid, "s2", "cs.created", 1),
        session(mid + 5_000, "s3", "cs.created", 1),
        session(mid + 30_000, "s3", "cs.accepted", 2, agent="agent02"),
    ])  # fmt: skip
    await put(db, "moderation", [
        detection("u7", "flood", mid - 9_000, mid),
        detection("u8", "repeat", end_ms - 60_000, end_ms - 1_000),
    ])  # fmt: skip
