"""The rollup `ops_minutes` (analytics/schema.py `ops_rollup`) gives the SRE panels the
numbers the samples give: every panel query that reads it, at points of a minute and of
5 minutes over whole minutes, equals the same query sent down its `ops_samples` branch,
on an hour of generated collector rounds with counter restarts and samples relayed twice;
the table panels' newest round is found through it exactly."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import pytest

from analytics.clickhouse import ClickHouse
from analytics.schema import OPS_MINUTES, ops_rollup
from analytics.settings import AnalyticsSettings
from dashboards.catalog import PanelQuery
from dashboards.opsql import ROLLUP_FROM_S
from im.envconfig import load
from tests.alerts.harness import T0, Ops, put, put_ops
from tests.dashboards.data import ops_rounds
from tests.dashboards.panels import QUERIES, query, run

MIN = 60_000
ROLLED = [q for q in QUERIES if OPS_MINUTES in q.sql and "$__interval_s >=" in q.sql]
FROM, TO = T0 + 5 * MIN, T0 + 55 * MIN - 1000  # whole minutes: 5 min .. 54 min 59 s


def raw(q: PanelQuery) -> PanelQuery:
    """The query with its rollup branch off and its samples branch on, whatever the interval."""
    sql = q.sql.replace(f"$__interval_s < {ROLLUP_FROM_S}", "1 = 1")
    return dataclasses.replace(q, sql=sql.replace(f"$__interval_s >= {ROLLUP_FROM_S}", "1 = 0"))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    return len(got) == len(want) and all(
        g.keys() == w.keys() and all(same(g[k], w[k]) for k in g)
        for g, w in zip(got, want, strict=True)
    )


def with_restarts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """im_connects_total restarts from 1 at 20 min 30 s (within a minute) and at 40 min
    (a minute's first sample); 1 in 10 samples is relayed twice (same id)."""
    counter = "im_connects_total"
    value = {r["ts"] - T0: r["value"] for r in rows if r["metric"] == counter}
    out = []
    for i, r in enumerate(rows):
        at = r["ts"] - T0
        drop = next((d for d in (40 * MIN, 20 * MIN + 30_000) if at >= d), None)
        if r["metric"] == counter and drop is not None:
            r = {**r, "value": r["value"] - value[drop - 10_000] + 1}
        out.append(r)
        if i % 10 == 0:
            out.append(dict(r))
    return out


@pytest.fixture(scope="module")
async def rounds(ch: ClickHouse) -> ClickHouse:
    await ch.command("TRUNCATE TABLE ops_samples")
    await ch.command(f"TRUNCATE TABLE {OPS_MINUTES}")
    await put(ch, "ops_samples", with_restarts(ops_rounds(T0 + 60 * MIN - 10_000, 360)))
    return ch


def test_some_of_every_kind_read_the_rollup() -> None:
    kinds = {"argMax(s.closing", "argMaxIf(s.closing", "lagInFrame(s.closing", "labels['le']"}
    assert all(any(k in q.sql for q in ROLLED) for k in kinds)
    # the rest of the panels over samples are tables of single samples: a round, the slow log
    samples = {(q.dashboard, q.panel_id) for q in QUERIES if "ops_samples" in q.sql}
    rolled = {(q.dashboard, q.panel_id) for q in ROLLED}
    assert samples - rolled == {("im-redis", 10), ("im-redis", 11), ("im-redis", 12),
                                ("im-host", 6)}  # fmt: skip


@pytest.mark.parametrize("interval_s", [60, 300])
@pytest.mark.parametrize("q", ROLLED, ids=[f"{q.dashboard}/{q.panel_id}{q.ref_id}" for q in ROLLED])
async def test_the_rollup_gives_what_the_samples_give(
    rounds: ClickHouse, q: PanelQuery, interval_s: int
) -> None:
    _, got = await run(rounds, q, FROM, TO, interval_s=interval_s)
    _, want = await run(rounds, raw(q), FROM, TO, interval_s=interval_s)
    assert want, "no rows: the comparison would prove nothing"
    assert rows_equal(got, want), (got[:3], want[:3])


async def test_a_restart_in_a_minute_is_counted_as_the_samples_count_it(db: ClickHouse) -> None:
    # 2 connects a round, a restart at 150 s (mid-minute); 5 rounds relayed twice
    await put_ops(db, Ops("im_connects_total", "0+2x14 1+2x14", {"node": "server-1"}),
                  Ops("im_connects_total", "0+2x4", {"node": "server-1"}))  # fmt: skip
    _, rows = await run(db, query("im-gateway", 2), T0, T0 + 5 * MIN - 1000, interval_s=60)
    assert [round(r["connects"] * 60, 9) for r in rows] == [10, 12, 11, 12, 12]
    _, rows = await run(db, query("im-gateway", 2), T0, T0 + 5 * MIN - 1000, interval_s=300)
    assert round(sum(r["connects"] * 300 for r in rows), 9) == 57  # T0 + 3 min is a 5-min edge


@pytest.mark.parametrize("end_s", [299, 125, 119, 59, 5])
async def test_the_newest_round_is_the_newest_sample_in_the_range(
    db: ClickHouse, end_s: int
) -> None:
    # one big key whose size is its round's time; the range ends inside a minute
    await put_ops(db, Ops("redis_big_key_bytes", "0+10x29", {"family": "msgs", "type": "zset",
                                                              "rank": "1"}))  # fmt: skip
    _, rows = await run(db, query("im-redis", 11), T0, T0 + end_s * 1000)
    assert [r["bytes"] for r in rows] == [float(end_s // 10 * 10)]


async def test_samples_stored_before_the_rollup_existed_are_rolled_up(db: ClickHouse) -> None:
    await db.command(f"DROP TABLE {OPS_MINUTES}")
    try:
        await put_ops(db, Ops("im_connections", "4 5 6 7 8 9 10", {"node": "server-1"}))
    finally:
        await db.command(ops_rollup(load(AnalyticsSettings, {})).ddl)
    _, rows = await run(db, query("im-gateway", 1), T0, T0 + MIN - 1000, interval_s=60)
    assert [(r["node"], r["connections"]) for r in rows] == [("server-1", 9.0)]


def test_the_rollup_is_derived_from_the_samples_table() -> None:
    ddl = ops_rollup(load(AnalyticsSettings, {"IM_OPS_TTL_DAYS": "7"})).ddl
    assert re.search(r"^TTL minute \+ INTERVAL 7 DAY$", ddl, re.M)
    assert "\nFROM ops_samples\n" in ddl and "PARTITION BY toYYYYMMDD(minute)" in ddl
