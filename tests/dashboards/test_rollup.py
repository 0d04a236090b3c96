"""The rollups (analytics/rollups.py: `ops_series` and the blocks of `ops_1m`, `ops_5m`,
`ops_1h`) give the SRE panels the numbers the samples give: every panel query that reads
them, at points of each level over its whole blocks, equals the same query sent down its
`ops_samples` branch, on 3 hours of generated collector rounds with counter restarts and
samples relayed twice; the table panels' newest round is found through them exactly."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import pytest

from analytics.clickhouse import ClickHouse
from analytics.rollups import LEVELS, SERIES
from analytics.schema import ops_rollups
from analytics.settings import AnalyticsSettings
from dashboards.catalog import PanelQuery
from dashboards.opsql import _level
from im.envconfig import load
from tests.alerts.harness import T0, Ops, put, put_ops
from tests.dashboards.data import ops_rounds
from tests.dashboards.panels import QUERIES, query, run

MIN = 60_000
ROLLUP_TABLES = [SERIES, *(name for _, name, _ in LEVELS)]
ROLLED = [q for q in QUERIES if all(t in q.sql for t in ROLLUP_TABLES)]
HOURS = 3
RAW_ONLY = f"$__interval_s % {LEVELS[0][0]} != 0"


def raw(q: PanelQuery) -> PanelQuery:
    """The query with its rollup branches off and its samples branch on, whatever the
    interval."""
    sql = q.sql.replace(RAW_ONLY, "1 = 1")
    for i in range(len(LEVELS)):
        sql = sql.replace(_level(i), "1 = 0")
    return dataclasses.replace(q, sql=sql)


def whole(step_s: int) -> tuple[int, int]:
    """From 5 minutes in to 5 minutes before the end, in whole blocks of step_s."""
    step = step_s * 1000
    start, end = T0 + 5 * MIN, T0 + (HOURS * 60 - 5) * MIN
    return -(-start // step) * step, end // step * step - 1000


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
    """im_connects_total restarts from 1 at 20 min 30 s (within a minute) and at 100 min
    (a minute's first sample; another hour); 1 in 10 samples is relayed twice (same id)."""
    counter = "im_connects_total"
    value = {r["ts"] - T0: r["value"] for r in rows if r["metric"] == counter}
    out = []
    for i, r in enumerate(rows):
        at = r["ts"] - T0
        drop = next((d for d in (100 * MIN, 20 * MIN + 30_000) if at >= d), None)
        if r["metric"] == counter and drop is not None:
            r = {**r, "value": r["value"] - value[drop - 10_000] + 1}
        out.append(r)
        if i % 10 == 0:
            out.append(dict(r))
    return out


@pytest.fixture(scope="module")
async def rounds(ch: ClickHouse) -> ClickHouse:
    await ch.command("TRUNCATE TABLE ops_samples")
    for rollup in ROLLUP_TABLES:
        await ch.command(f"TRUNCATE TABLE {rollup}")
    rounds = HOURS * 360
    await put(ch, "ops_samples", with_restarts(ops_rounds(T0 + (rounds - 1) * 10_000, rounds)))
    return ch


def test_some_of_every_kind_read_the_rollup() -> None:
    kinds = {"argMax(s.closing", "argMaxIf(s.closing", "lagInFrame(s.closing", "labels['le']"}
    assert all(any(k in q.sql for q in ROLLED) for k in kinds)
    # the rest of the panels over samples are tables of single samples (a round, the slow
    # log) and the alert rules' state (their SQL at one instant, as the evaluator runs it)
    state = "Alert conditions"
    samples = {(q.dashboard, q.panel_id) for q in QUERIES
               if "ops_samples" in q.sql and not q.title.startswith(state)}  # fmt: skip
    rolled = {(q.dashboard, q.panel_id) for q in ROLLED}
    assert samples - rolled == {("im-redis", 10), ("im-redis", 11), ("im-redis", 12),
                                ("im-host", 6)}  # fmt: skip


@pytest.mark.parametrize("interval_s", [60, 120, 300, 900, 3600])
@pytest.mark.parametrize("q", ROLLED, ids=[f"{q.dashboard}/{q.panel_id}{q.ref_id}" for q in ROLLED])
async def test_the_rollups_give_what_the_samples_give(
    rounds: ClickHouse, q: PanelQuery, interval_s: int
) -> None:
    step = max(s for s, _, _ in LEVELS if interval_s % s == 0)
    start, end = whole(step)
    _, got = await run(rounds, q, start, end, interval_s=interval_s)
    _, want = await run(rounds, raw(q), start, end, interval_s=interval_s)
    assert want, "no rows: the comparison would prove nothing"
    assert rows_equal(got, want), (got[:3], want[:3])


def test_each_interval_reads_one_branch() -> None:
    conditions = [RAW_ONLY, *(_level(i) for i in range(len(LEVELS)))]
    for interval_s, reads in [(10, 0), (30, 0), (90, 0), (60, 1), (120, 1), (600, 2), (900, 2),
                              (1800, 2), (3600, 3), (86400, 3)]:  # fmt: skip
        on = [holds(c, interval_s) for c in conditions]
        assert on == [i == reads for i in range(len(conditions))], interval_s


def holds(condition: str, interval_s: int) -> bool:
    """Whether `$__interval_s % a = 0 AND $__interval_s % b != 0 ...` holds for interval_s."""
    terms = re.findall(r"\$__interval_s % (\d+) (!?=) 0", condition)
    assert " AND ".join(f"$__interval_s % {a} {op} 0" for a, op in terms) == condition
    return all((interval_s % int(a) == 0) == (op == "=") for a, op in terms)


async def test_a_restart_in_a_minute_is_counted_as_the_samples_count_it(db: ClickHouse) -> None:
    # 2 connects a round, a restart at 150 s (mid-minute); 5 rounds relayed twice
    await put_ops(db, Ops("im_connects_total", "0+2x14 1+2x14", {"node": "server-1"}),
                  Ops("im_connects_total", "0+2x4", {"node": "server-1"}))  # fmt: skip
    _, rows = await run(db, query("im-gateway", 2), T0, T0 + 5 * MIN - 1000, interval_s=60)
    assert [round(r["connects"] * 60, 9) for r in rows] == [10, 12, 11, 12, 12]


@pytest.mark.parametrize("end_s", [299, 125, 119, 59, 5])
async def test_the_newest_round_is_the_newest_sample_in_the_range(
    db: ClickHouse, end_s: int
) -> None:
    # one big key whose size is its round's time; the range ends inside a minute
    await put_ops(db, Ops("redis_big_key_bytes", "0+10x29", {"family": "msgs", "type": "zset",
                                                              "rank": "1"}))  # fmt: skip
    _, rows = await run(db, query("im-redis", 11), T0, T0 + end_s * 1000)
    assert [r["bytes"] for r in rows] == [float(end_s // 10 * 10)]


async def test_samples_stored_before_the_rollups_existed_are_rolled_up(db: ClickHouse) -> None:
    for rollup in ROLLUP_TABLES:
        await db.command(f"DROP TABLE {rollup}")
    try:
        await put_ops(db, Ops("im_connections", "4 5 6 7 8 9 10", {"node": "server-1"}))
    finally:
        for table in ops_rollups(load(AnalyticsSettings, {})):
            await db.command(table.ddl)
    _, rows = await run(db, query("im-gateway", 1), T0, T0 + MIN - 1000, interval_s=60)
    assert [(r["node"], r["connections"]) for r in rows] == [("server-1", 9.0)]


def test_the_rollups_are_derived_from_the_samples_table() -> None:
    for table in ops_rollups(load(AnalyticsSettings, {"IM_OPS_TTL_DAYS": "7"})):
        assert re.search(r"^TTL (start|day) \+ INTERVAL 7 DAY$", table.ddl, re.M), table.name
        assert "\nFROM ops_samples\n" in table.ddl and "sipHash64(labels) AS series" in table.ddl
