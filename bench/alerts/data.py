"""Synthetic data for the alerts benchmark, made inside ClickHouse (numbers()), not in Python.

The ops samples are bench.alerts.series.ROUND every 10 s; beside them the
customer-service side the cs rules read: raw chat and session events (a third
of the conversations are cs), reply-rate windows and moderation detections.
Each day is one INSERT ... SELECT per table (one part per daily partition),
with its numbers as query parameters.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from analytics.clickhouse import ClickHouse
from analytics.schema import TABLES
from bench.alerts.series import ROUND, Series

INTERVAL_MS = 10_000
ROUNDS_PER_DAY = 86_400_000 // INTERVAL_MS  # 8,640

OPS_SQL = """
INSERT INTO ops_samples (id, type, ts, node, source, metric, value, labels)
SELECT concat('o:', hex(number)), 'ops.sample',
       fromUnixTimestamp64Milli(toInt64({start:Int64} + intDiv(number, {n:UInt32}) * 10000), 'UTC'),
       'monitor', {sources:Array(String)}[k], {metrics:Array(String)}[k],
       {bases:Array(Float64)}[k] + {spreads:Array(Float64)}[k] * (cityHash64(number) % 1000) / 1000
         + {rates:Array(Float64)}[k] * intDiv(number, {n:UInt32}),
       mapFromArrays({keys:Array(Array(String))}[k], {values:Array(Array(String))}[k])
FROM (SELECT number, number % {n:UInt32} + 1 AS k FROM numbers({first:UInt64}, {count:UInt64}))
"""

# One day of chat.message events: conversations of 50 messages, a third of them cs
# (customer and agent taking turns, 20 agents), spread evenly over the day.
CHAT_SQL = """
INSERT INTO chat_events (id, type, ts, node, conv, conv_kind, seq, sender, sender_role, kind,
                         cmid, text_len, content_hash, flags, session, agent)
SELECT concat('m:', conv, ':', toString(seq)), 'chat.message',
       fromUnixTimestamp64Milli(toInt64({day_start:Int64}
                                        + intDiv(i * 86400000, {per_day:UInt64})), 'UTC'),
       'server-1', conv, kind_, seq, concat('u', toString(c % 997)),
       if(kind_ = 'cs' AND i % 2 = 1, 'agent', 'user'), 'chat', concat('k', toString(number)),
       20, lower(hex(cityHash64(number))), [], if(kind_ = 'cs', concat('s', conv), ''),
       if(kind_ = 'cs', concat('agent', toString(c % 20)), '')
FROM (SELECT number, number - {first:UInt64} AS i, intDiv(number, 50) AS c,
             concat('c', toString(c)) AS conv, number % 50 + 1 AS seq,
             ['direct', 'group', 'cs'][c % 3 + 1] AS kind_
      FROM numbers({first:UInt64}, {per_day:UInt64}))
"""

# The sessions of that day's cs conversations: created, accepted 30 s later, closed 20 min later.
SESSIONS_SQL = """
INSERT INTO session_events (id, type, ts, node, session, conv, customer, agent, from_agent,
                            to_agent, reason)
SELECT concat('s:', sid, ':', type_, ':', toString(n)), type_,
       fromUnixTimestamp64Milli(toInt64({day_start:Int64}
                                        + intDiv((c - {first:UInt64}) * 86400000, {convs:UInt64})
                                        + [0, 30000, 1200000][n]), 'UTC'),
       'server-1', sid, concat('c', toString(c)), concat('u', toString(c % 997)),
       if(n > 1, concat('agent', toString(c % 20)), ''), '', '', if(n = 3, 'agent', '')
FROM (SELECT c, concat('sc', toString(c)) AS sid, n,
             ['cs.created', 'cs.accepted', 'cs.closed'][n] AS type_
      FROM (SELECT number AS c FROM numbers({first:UInt64}, {convs:UInt64}) WHERE c % 3 = 2)
      ARRAY JOIN [1, 2, 3] AS n)
"""

# That day's reply-rate windows (5 minutes, 20 agents and "*").
RATES_SQL = """
INSERT INTO reply_rates (window_start, window_end, agent, waits, replied_5m, reply_rate)
SELECT fromUnixTimestamp64Milli(toInt64(w), 'UTC'),
       fromUnixTimestamp64Milli(toInt64(w + 300000), 'UTC'), agent, 20, 18, 0.9
FROM (SELECT {day_start:Int64} + number * 300000 AS w FROM numbers(288))
ARRAY JOIN arrayPushBack(arrayMap(a -> concat('agent', toString(a)), range(20)), '*') AS agent
"""

# That day's 50 moderation detections.
DETECTIONS_SQL = """
INSERT INTO moderation (user, rule, first_ts, last_ts, count, conv)
SELECT concat('u', toString(number)), 'flood',
       fromUnixTimestamp64Milli(toInt64({day_start:Int64} + number * 1700000), 'UTC'),
       fromUnixTimestamp64Milli(toInt64({day_start:Int64} + number * 1700000 + 9000), 'UTC'),
       10, 'c1'
FROM numbers(50)
"""

DAY_MS = 86_400_000


async def fill_days(
    ch: ClickHouse, start_ms: int, first_day: int, days: int, rnd: Sequence[Series] = ROUND
) -> None:
    """Rounds (`rnd`, ROUND by default) of days `first_day` .. `first_day + days - 1` (day 0
    starts at `start_ms`)."""
    n = len(rnd)
    series = {
        "sources": [s.source for s in rnd], "metrics": [s.metric for s in rnd],
        "bases": [s.base for s in rnd], "spreads": [s.spread for s in rnd],
        "rates": [s.rate for s in rnd], "keys": [[k for k, _ in s.labels] for s in rnd],
        "values": [[v for _, v in s.labels] for s in rnd],
    }  # fmt: skip
    for day in range(first_day, first_day + days):
        first = day * ROUNDS_PER_DAY * n
        await ch.command(OPS_SQL, {**series, "start": start_ms, "n": n, "first": first,
                                   "count": ROUNDS_PER_DAY * n})  # fmt: skip


async def fill_cs_days(
    ch: ClickHouse, start_ms: int, first_day: int, days: int, per_day: int
) -> None:
    """Chat and session events, reply-rate windows and detections of those days."""
    for day in range(first_day, first_day + days):
        day_start = start_ms + day * DAY_MS
        convs = per_day // 50
        await ch.command(CHAT_SQL, {"day_start": day_start, "first": day * per_day,
                                    "per_day": per_day})  # fmt: skip
        await ch.command(SESSIONS_SQL, {"day_start": day_start, "first": day * convs,
                                        "convs": convs})  # fmt: skip
        await ch.command(RATES_SQL, {"day_start": day_start})
        await ch.command(DETECTIONS_SQL, {"day_start": day_start})


@contextlib.asynccontextmanager
async def scratch_chdb(folder: Path) -> AsyncIterator[ClickHouse]:
    """An embedded ClickHouse with our tables in a fresh `folder`, removed afterwards."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)  # set-up, before anything runs concurrently
    ch = ClickHouse(f"chdb://{folder}")
    await ch.start()
    try:
        for table in TABLES:
            await ch.command(table.ddl)
        yield ch
    finally:
        await ch.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def growing(
    ch: ClickHouse,
    start_ms: int,
    sizes: tuple[int, int],
    chat_per_day: int,
    rnd: Sequence[Series],
    say: Callable[[str], None],
) -> AsyncIterator[tuple[int, float]]:
    """The newest `sizes[0]` days (the baseline), then the older rest up to `sizes[1]`
    days: yields (days now held, seconds the fill took) after each, so both sizes end
    at the same "now"."""
    done, total = 0, sizes[1]
    for days in sizes:
        first = total - days
        say(f"{days} days: filling days {first + 1}..{total - done} ({len(rnd)} "
            f"series every 10 s, {chat_per_day:,} chat events a day)")  # fmt: skip
        t0 = time.monotonic()
        await fill_days(ch, start_ms, first, days - done, rnd)
        await fill_cs_days(ch, start_ms, first, days - done, chat_per_day)
        yield days, time.monotonic() - t0
        done = days
