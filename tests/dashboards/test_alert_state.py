"""The alert rules' state panel (dashboards/alerting.py `state_panel`, last on every dashboard
a SQL rule watches): each rule's condition at the range's end is what the evaluator finds
at that `now` on the same rows, and holds exactly where the rule fires."""

from __future__ import annotations

import pytest

from alerts.evaluate import evaluate
from analytics.clickhouse import ClickHouse
from dashboards.alerting import STATE_PANEL_ID, watching
from dashboards.catalog import PanelQuery
from tests.alerts.harness import T0, Ops, put_ops
from tests.dashboards.data import fill
from tests.dashboards.panels import BOARDS, QUERIES, run

TITLE = "Alert conditions at the range's end"
STATES = {q.dashboard: q for q in QUERIES if q.title == TITLE}
START = 1_795_000_200_000
END = START + 3_600_000


def test_every_dashboard_a_sql_rule_watches_has_the_panel_last() -> None:
    assert set(STATES) == {uid for uid in BOARDS if any(r.sql for r in watching(uid))}
    for uid, q in STATES.items():
        assert q.panel_id == STATE_PANEL_ID == BOARDS[uid]["panels"][-1]["id"]


async def test_a_missing_node_holds_once_its_samples_stop(db: ClickHouse) -> None:
    await put_ops(db, Ops("im_connections", "5x5", {"node": "server-1"}))  # 0 .. 50 s
    state = STATES["im-gateway"]
    for end_s, holds in [(60, 0), (80, 0), (81, 1), (300, 1)]:  # missing_s = 30
        _, rows = await run(db, state, T0, T0 + end_s * 1000)
        got = {r["alert"]: r["holds"] for r in rows}
        assert got["GatewayNodeMissing"] == holds, end_s
        assert list(got) == [r.name for r in watching("im-gateway") if r.sql]


@pytest.mark.parametrize("uid", sorted(STATES))
async def test_the_panel_is_what_the_evaluator_finds(db: ClickHouse, uid: str) -> None:
    await fill(db, START, END)
    state: PanelQuery = STATES[uid]
    rules = [r for r in watching(uid) if r.sql]
    for at in (END, END - 1_800_000):
        _, rows = await run(db, state, START, at)
        found = await evaluate(db, rules, at, {})
        assert found.errors == 0
        assert {r["alert"]: r["holds"] for r in rows} == {
            name: len(result.series) for name, result in found.items()
        }
