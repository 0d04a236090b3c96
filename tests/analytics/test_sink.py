"""Result rows into ClickHouse (real embedded chDB), read back through the query clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from analytics.clickhouse import ClickHouse
from analytics.queries import Queries
from analytics.schema import MESSAGE_COUNTS
from analytics.settings import AnalyticsSettings
from analytics.sink import Sink
from contract import topics
from im.envconfig import load
from im.errors import ApiError

T0 = 1_795_000_020_000


@pytest.fixture(scope="module")
async def sink(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sink]:
    # chDB allows one data folder per process: this module owns one for its tests.
    path: Path = tmp_path_factory.mktemp("chdb")
    settings = load(AnalyticsSettings, {"IM_CLICKHOUSE_URL": f"chdb://{path}"})
    ch = ClickHouse(settings.clickhouse_url)
    await ch.start()
    s = Sink(settings, ch)
    for table in (MESSAGE_COUNTS,):
        await ch.command(table.ddl)
    yield s
    await ch.stop()


@pytest.fixture(scope="module")
async def queries(sink: Sink) -> AsyncIterator[Queries]:
    """The query API's clients, on the sink's data folder (chDB: one engine, more connections)."""
    q = Queries(sink.settings)
    await q.start()
    yield q
    await q.stop()


async def select(q: Queries, sql: str) -> list[tuple[Any, ...]]:
    return (await q.run(sql))[1]


def row(conv: str, start: int, n: int) -> tuple[str, dict[str, object]]:
    return topics.MESSAGE_COUNT, {
        "window_start": start,
        "window_end": start + 60_000,
        "conv": conv,
        "messages": n,
    }


async def test_rows_land_and_a_repeated_row_counts_once(sink: Sink, queries: Queries) -> None:
    await sink.write([row("c_1", T0, 4), row("c_1", T0 + 60_000, 6), row("c_2", T0, 1)])
    await sink.write([row("c_1", T0, 4)])  # the same result row again (job replay)
    rows = await select(
        queries,
        "SELECT conv, sum(messages), count() FROM message_counts FINAL GROUP BY conv ORDER BY conv",
    )
    assert rows == [("c_1", 10, 2), ("c_2", 1, 1)]
    rows = await select(
        queries,
        "SELECT toUnixTimestamp64Milli(window_start) FROM message_counts FINAL WHERE conv = 'c_2'",
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


async def test_a_refused_query_leaves_writes_working(sink: Sink, queries: Queries) -> None:
    # Queries have read-only connections of their own: nothing they do sticks to the sink's.
    with pytest.raises(ApiError):
        await queries.run("DROP TABLE message_counts")
    await sink.write([row("c_9", T0, 5)])
    assert await queries.run(
        "SELECT sum(messages) FROM message_counts FINAL WHERE conv = 'c_9'"
    ) == (["sum(messages)"], [(5,)])


async def test_every_result_topic_lands_in_its_table(sink: Sink, queries: Queries) -> None:
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
    rows = await select(
        queries,
        "SELECT agent, waits, replied_5m, reply_rate, avg_reply_s, p90_reply_s "
        "FROM reply_rates FINAL ORDER BY agent",
    )
    assert rows == [("*", 4, 3, 0.75, 12.5, 30.0), ("a1", 1, 0, 0.0, None, None)]
    rows = await select(
        queries,
        "SELECT session, messages, ended_by, toUnixTimestamp64Milli(end) "
        "FROM conversation_sessions FINAL",
    )
    assert rows == [("s_1", 5, "agent", T0 + 5000)]
    rows = await select(queries, "SELECT user, rule, count, conv FROM moderation FINAL")
    assert rows == [("u_1", "flood", 10, "c_2")]
