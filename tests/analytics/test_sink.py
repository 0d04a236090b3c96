"""Result rows into ClickHouse (real embedded chDB) and the read-only query API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from analytics.clickhouse import ClickHouse, QueryError
from analytics.schema import MESSAGE_COUNTS
from analytics.settings import AnalyticsSettings
from analytics.sink import Sink
from contract import topics
from im.envconfig import load
from stack.manager import Stack

T0 = 1_795_000_020_000


@pytest.fixture(scope="module")
async def sink(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sink]:
    # chDB allows one data folder per process: this module owns one for its tests.
    path: Path = tmp_path_factory.mktemp("chdb")
    ch = ClickHouse(f"chdb://{path}")
    await ch.start()
    s = Sink(load(AnalyticsSettings, {}), ch)
    for table in (MESSAGE_COUNTS,):
        await ch.command(table.ddl)
    yield s
    await ch.stop()


def row(conv: str, start: int, n: int) -> tuple[str, dict[str, object]]:
    return topics.MESSAGE_COUNT, {
        "window_start": start,
        "window_end": start + 60_000,
        "conv": conv,
        "messages": n,
    }


async def test_rows_land_and_a_repeated_row_counts_once(sink: Sink) -> None:
    await sink.write([row("c_1", T0, 4), row("c_1", T0 + 60_000, 6), row("c_2", T0, 1)])
    await sink.write([row("c_1", T0, 4)])  # the same result row again (job replay)
    _, rows = await sink.ch.query(
        "SELECT conv, sum(messages), count() FROM message_counts FINAL GROUP BY conv ORDER BY conv"
    )
    assert rows == [("c_1", 10, 2), ("c_2", 1, 1)]
    _, rows = await sink.ch.query(
        "SELECT toUnixTimestamp64Milli(window_start) FROM message_counts FINAL WHERE conv = 'c_2'"
    )
    assert rows == [(T0,)]


async def test_malformed_rows_are_counted_not_fatal(sink: Sink) -> None:
    before = sink.bad_rows
    await sink.write(
        [
            (topics.MESSAGE_COUNT, {"conv": "c_3"}),
            (topics.MESSAGE_COUNT, {**row("c_3", T0, 2)[1], "messages": "x"}),
        ]
    )
    assert sink.bad_rows == before + 2


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE message_counts",
        "INSERT INTO message_counts (conv) VALUES ('x')",
        "SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
        "SELECT 1) SETTINGS readonly = 0 --",
        "SELECT 1; DROP TABLE message_counts",
        "SELECT * FROM no_such_table",
    ],
)
async def test_query_is_read_only(sink: Sink, sql: str) -> None:
    with pytest.raises(QueryError):
        await sink.ch.query(sql)


async def test_a_refused_query_leaves_writes_working(sink: Sink) -> None:
    # Regression: a read-only setting applied to the chDB session used to stick.
    with pytest.raises(QueryError):
        await sink.ch.query("DROP TABLE message_counts")
    await sink.write([row("c_9", T0, 5)])
    assert await sink.ch.query(
        "SELECT sum(messages) FROM message_counts FINAL WHERE conv = 'c_9'"
    ) == (["sum(messages)"], [(5,)])


def test_query_api_refuses_writes_over_http(analytics: Stack) -> None:
    url = f"http://127.0.0.1:{analytics.settings.analytics_port}/query"
    r = httpx.get(url, params={"sql": "DROP TABLE message_counts"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    r = httpx.get(url, params={"sql": "SELECT 1 + 1"})
    assert r.json() == {"columns": ["plus(1, 1)"], "rows": [[2]]}
    assert httpx.get(url).status_code == 400


async def test_every_result_topic_lands_in_its_table(sink: Sink) -> None:
    from analytics.schema import CONVERSATION_SESSIONS, MODERATION, REPLY_RATES

    for table in (REPLY_RATES, CONVERSATION_SESSIONS, MODERATION):
        await sink.ch.command(table.ddl)
    await sink.write([
        (topics.REPLY_RATE, {"window_start": T0, "window_end": T0 + 300_000, "agent": "*",
                             "waits": 4, "replied_5m": 3, "reply_rate": 0.75,
                             "avg_reply_s": 12.5, "p90_reply_s": 30.0}),
        (topics.REPLY_RATE, {"window_start": T0, "window_end": T0 + 300_000, "agent": "a1",
                             "waits": 1, "replied_5m": 0, "reply_rate": 0.0}),
        (topics.SESSIONS, {"conv": "c_1", "session": "s_1", "start": T0, "end": T0 + 5000,
                           "messages": 5, "customer_messages": 3, "agent_messages": 1,
                           "ended_by": "agent"}),
        (topics.MODERATION, {"user": "u_1", "rule": "flood", "first_ts": T0,
                             "last_ts": T0 + 9000, "count": 10, "conv": "c_2"}),
    ])  # fmt: skip
    _, rows = await sink.ch.query(
        "SELECT agent, waits, replied_5m, reply_rate, avg_reply_s, p90_reply_s "
        "FROM reply_rates FINAL ORDER BY agent"
    )
    assert rows == [("*", 4, 3, 0.75, 12.5, 30.0), ("a1", 1, 0, 0.0, None, None)]
    _, rows = await sink.ch.query(
        "SELECT session, messages, ended_by, toUnixTimestamp64Milli(end) "
        "FROM conversation_sessions FINAL"
    )
    assert rows == [("s_1", 5, "agent", T0 + 5000)]
    _, rows = await sink.ch.query("SELECT user, rule, count, conv FROM moderation FINAL")
    assert rows == [("u_1", "flood", 10, "c_2")]
