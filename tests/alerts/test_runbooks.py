"""alerts/runbooks: one per rule and no other, each saying what it means, how to confirm
and what to do; every query in them runs, and passes the query API's guard."""

from __future__ import annotations

import re

from alerts.rulefile import RUNBOOKS
from analytics import guard
from analytics.clickhouse import ClickHouse
from tests.alerts.harness import ROOT, RULES

FOLDER = ROOT / RUNBOOKS
SECTIONS = ["## What it means", "## How to confirm", "## What to do"]
_SQL = re.compile(r"```sql\n(.*?)```", re.S)


def test_every_rule_has_its_runbook_and_every_runbook_a_rule() -> None:
    assert {r.annotations["runbook_url"] for r in RULES.values()} == {
        f"{RUNBOOKS}{name}.md" for name in RULES
    }
    assert {p.stem for p in FOLDER.glob("*")} == set(RULES)


def test_each_runbook_has_its_title_and_the_three_sections_in_order() -> None:
    for name in RULES:
        lines = (FOLDER / f"{name}.md").read_text().splitlines()
        assert lines[0] == f"# {name}", name
        assert [line for line in lines if line.startswith("## ")] == SECTIONS, name


def test_each_runbook_confirms_with_a_query_or_a_command() -> None:
    for name in RULES:
        text = (FOLDER / f"{name}.md").read_text()
        confirm = text.split("## How to confirm")[1].split("## What to do")[0]
        assert "```sql" in confirm or "`curl" in confirm or "`redis-cli" in confirm, name


async def test_every_query_of_the_runbooks_runs_and_the_query_api_would_take_it(
    db: ClickHouse,
) -> None:
    queries = [q for p in sorted(FOLDER.glob("*.md")) for q in _SQL.findall(p.read_text())]
    assert len(queries) > 30
    _, rows = await db.query("SELECT currentDatabase()")
    for sql in queries:
        await db.query(sql)
        _, dump = await db.query(f"EXPLAIN AST {sql}")
        guard.check_ast([row[0] for row in dump], str(rows[0][0]))
