"""The thinnest real path, through real processes: HTTP + WebSocket chat ->
Redis -> outbox -> Kafka -> PyFlink windowed count -> Kafka -> analytics ->
ClickHouse (chDB) -> query."""

from __future__ import annotations

import asyncio

from stack.manager import Stack
from tests.analytics.api import admin, rows
from tests.client import User
from tests.waiting import wait_until

MESSAGES = 37


async def _clickhouse_count(analytics_url: str, token: str, conv: str) -> int:
    assert conv.replace("_", "").isalnum()  # safe to inline in SQL
    sql = f"SELECT sum(messages) FROM message_counts FINAL WHERE conv = '{conv}'"
    value = (await rows(analytics_url, token, sql))[0][0]
    return int(value or 0)


async def test_chat_reaches_clickhouse_with_exact_count(apps: Stack) -> None:
    s = apps.settings
    base = f"http://127.0.0.1:{s.http_port}"
    alice, bob = await User.create(base, "alice"), await User.create(base, "bob")
    conv = await alice.group("e2e", [bob])
    a, b = await alice.connect(), await bob.connect()

    sent = [await a.send_text(conv, f"message {i}", cmid=f"e2e-{i}") for i in range(MESSAGES)]
    assert [f["seq"] for f in sent] == list(range(1, MESSAGES + 1))
    # A retry of a stored cmid: same seq, nothing stored or counted twice.
    again = await a.send_text(conv, "message 0", cmid="e2e-0")
    assert again["seq"] == 1

    got = [await b.recv_type("msg") for _ in range(MESSAGES)]
    assert [m["seq"] for m in got] == list(range(1, MESSAGES + 1))
    assert got[5]["body"] == {"text": "message 5"} and got[5]["from"] == alice.user_id

    analytics = f"http://127.0.0.1:{s.analytics_port}"
    token = (await admin(base)).token  # the query API is for admins

    async def counted() -> int | None:
        count = await _clickhouse_count(analytics, token, conv)
        return count if count >= MESSAGES else None

    count = await wait_until(counted, 90, what=f"{MESSAGES} messages counted", interval=0.5)
    assert count == MESSAGES
    # The subject: later windows and re-deliveries, given time, must not add to it.
    await asyncio.sleep(3 * s.tick_interval_s + s.lateness_s)
    assert await _clickhouse_count(analytics, token, conv) == MESSAGES
    await a.close()
    await b.close()
