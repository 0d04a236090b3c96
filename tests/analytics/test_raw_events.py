"""Raw events into ClickHouse (real embedded chDB): one row per event id, and the
drill-down they exist for answers exactly what the metric definitions say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from analytics.clickhouse import ClickHouse
from analytics.settings import AnalyticsSettings
from analytics.sink import Sink
from contract import events, topics
from im.envconfig import load
from tests.streaming import reference
from traffic.scenario import Traffic

T0 = 1_795_000_020_000
WINDOW = (T0 + 1_800_000, T0 + 3_600_000)  # [from, to) of the drill-down


@pytest.fixture(scope="module")
async def sink(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sink]:
    path: Path = tmp_path_factory.mktemp("chdb-raw")
    ch = ClickHouse(f"chdb://{path}")
    await ch.start()
    s = Sink(load(AnalyticsSettings, {"IM_CLICKHOUSE_URL": f"chdb://{path}"}), ch)
    for table in s.tables:
        await ch.command(table.ddl)
    yield s
    await ch.stop()


async def select(sink: Sink, sql: str) -> list[tuple[Any, ...]]:
    """Any query (the tests' own, unguarded), on a connection of its own to the sink's
    engine (chDB: one engine per process, more connections)."""
    client = clickhouse_connect.get_client(dsn=sink.settings.clickhouse_url)
    try:
        return [tuple(r) for r in client.query(sql).result_rows]
    finally:
        client.close()


@pytest.fixture(scope="module")
def chat() -> list[dict[str, Any]]:
    """Realistic cs, group and direct traffic, duplicates included (no ticks: the
    consumer skips those before the sink)."""
    arrivals = Traffic(seed=11, start_ms=T0, duration_s=3600, cs_sessions=80).arrivals()
    return [e for _, e in arrivals if e["type"] != "tick"]


def _others() -> list[tuple[str, dict[str, Any]]]:
    rec = events.record
    conn = [
        rec(events.CONN_OPEN, id="n:1", ts=T0, node="a", user="u1", device="d1"),
        rec(events.CONN_CLOSE, id="n:2", ts=T0 + 5, node="a", user="u1", device="d1",
            reason="client", duration_ms=5),
        rec(events.CONN_AUTH_FAILED, id="n:3", ts=T0 + 6, node="a", user=None, device="d9",
            reason="invalid_token"),
    ]  # fmt: skip
    cs = [
        rec(events.CS_CREATED, id="s:s1:cs.created:1", ts=T0, node="a", session="s1", conv="c1",
            customer="u1"),
        rec(events.CS_CLOSED, id="s:s1:cs.closed:2", ts=T0 + 9, node="a", session="s1",
            conv="c1", customer="u1", reason="customer"),
    ]  # fmt: skip
    ops = [
        rec(events.OPS_SAMPLE, id=f"o:{i}", ts=T0 + i * 10_000, node="mon", source="redis",
            metric="redis_used_memory_bytes", value=1000.0 + i, labels={"db": "0"})
        for i in range(3)
    ]  # fmt: skip
    return [
        *((topics.CONNECTION, e) for e in conn),
        *((topics.SESSION, e) for e in cs),
        *((topics.OPS, e) for e in ops),
    ]


@pytest.fixture(scope="module")
async def loaded(sink: Sink, chat: list[dict[str, Any]]) -> Sink:
    """Every event written, and a part of them written again (relayed twice)."""
    others = _others()
    batch = [(topics.CHAT, e) for e in chat] + others
    await sink.write(batch)
    await sink.write(batch[:500] + others)
    return sink


async def test_every_raw_event_is_one_row_however_often_it_came(
    loaded: Sink, chat: list[dict[str, Any]]
) -> None:
    sink = loaded
    assert sink.bad_rows == 0
    unique_chat = len({e["id"] for e in chat})
    assert unique_chat < len(chat)  # the traffic has duplicates of its own
    counts = {}
    for table in ("chat_events", "connection_events", "session_events", "ops_samples"):
        rows = await select(sink, f"SELECT count() FROM {table} FINAL")
        counts[table] = rows[0][0]
    assert counts == {"chat_events": unique_chat, "connection_events": 3,
                      "session_events": 2, "ops_samples": 3}  # fmt: skip
    rows = await select(
        sink, "SELECT user, device, reason, duration_ms FROM connection_events FINAL ORDER BY id"
    )
    assert rows == [("u1", "d1", "", None), ("u1", "d1", "client", 5),
                    ("", "d9", "invalid_token", None)]  # fmt: skip
    rows = await select(
        sink,
        "SELECT value, labels['db'] FROM ops_samples FINAL "
        "WHERE metric = 'redis_used_memory_bytes' ORDER BY ts",
    )
    assert rows == [(1000.0, "0"), (1001.0, "0"), (1002.0, "0")]


# The waits of docs/events.md over the raw chat events: per cs conversation and
# millisecond a step (agent messages end a wait before customer messages may
# start one); a wait starts at a customer step unless the customer was already
# waiting, and ends at the next agent step.
LONGEST_WAITS = """
WITH steps AS (
  SELECT conv, ts,
         max(sender_role = 'user') AS has_user,
         max(sender_role = 'agent') AS has_agent,
         minIf(agent, sender_role = 'user' AND agent != '') AS named
  FROM chat_events FINAL
  WHERE type = 'chat.message' AND conv_kind = 'cs' AND kind = 'chat'
    AND sender_role IN ('user', 'agent')
  GROUP BY conv, ts
), marked AS (
  SELECT conv, ts, has_user, has_agent, named,
         lagInFrame(has_user, 1, 0) OVER w AS was_waiting,
         minIf(ts, has_agent) OVER (PARTITION BY conv ORDER BY ts
                                    ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS reply
  FROM steps
  WINDOW w AS (PARTITION BY conv ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT conv, toUnixTimestamp64Milli(ts) AS start,
       if(named = '', 'unassigned', named) AS agent,
       if(reply = toDateTime64(0, 3, 'UTC'), NULL, toUnixTimestamp64Milli(reply)) AS replied_at,
       least(ifNull(replied_at, {to}), {to}) - start AS waited_ms
FROM marked
WHERE has_user AND (NOT was_waiting OR has_agent)
  AND start >= {frm} AND start < {to}
ORDER BY waited_ms DESC, conv, start
LIMIT 10
"""


async def test_the_longest_waits_in_a_window_are_those_of_the_definition(
    loaded: Sink, chat: list[dict[str, Any]]
) -> None:
    frm, to = WINDOW
    want = sorted(
        (
            (conv, start, agent, None if reply is None else start + reply,
             min(to, start + reply if reply is not None else to) - start)
            for conv, start, agent, reply in reference.waits(chat)
            if frm <= start < to
        ),
        key=lambda w: (-w[4], w[0], w[1]),
    )[:10]  # fmt: skip
    assert len(want) == 10 and want[0][4] > 300_000  # some waited over five minutes
    rows = await select(loaded, LONGEST_WAITS.format(frm=frm, to=to))
    assert [tuple(r) for r in rows] == want
