"""What the alert rules of alerts/rules/ show on the dashboards.

Alert state lives in Redis (`al:state`, written by the evaluator), which
Grafana cannot read, so there is no ClickHouse table of alert states to put
in a panel or an annotation query. Instead each dashboard shows, from the
rule files themselves (their `dashboard:` annotation names the dashboard):

- a state panel (`state_panel`, id STATE_PANEL_ID, added to every dashboard
  with SQL rules by dashboards/build.py): each SQL rule's condition run at the range's end as
  the evaluator runs it at its `now` (params bound as literals), with the
  number of series for which it holds; `for`, inhibition and silences are
  the evaluator's, probe rules have no SQL;
- a panel listing the rules that watch it (severity, `for`, thresholds,
  summary, runbook), and
- each rule's threshold as the threshold line of the panel that plots the
  same number (`param`): the line moves when the rule file's params do.

The live state is where the evaluator delivers it: the alert conversations
in the chat, `GET /api/alerts`, Alertmanager.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import table

from alerts.rulefile import NOW
from alerts.rules import Rule, load_rules
from dashboards.grafana import table_panel

ROOT = Path(__file__).resolve().parent.parent
STATE_PANEL_ID = 100  # the state panel's, on every dashboard (the modules' ids stay below)
RULES = {r.name: r for r in load_rules(ROOT / "alerts" / "rules")}


def param(alert: str, name: str) -> float:
    """A threshold of a rule (its `params`), e.g. param("RedisFragmentationHigh", "max_ratio")."""
    return float(RULES[alert].params[name])


def watching(uid: str) -> list[Rule]:
    """The rules whose `dashboard:` annotation is this dashboard, in file order."""
    return [r for r in RULES.values() if r.annotations["dashboard"] == f"/d/{uid}"]


def _for(rule: Rule) -> str:
    s = rule.for_ms // 1000
    return f"{s // 60}m" if s and s % 60 == 0 else f"{s}s"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(r: Rule) -> str:
    condition = f"probe `{r.probe}`" if r.probe else "SQL"
    params = ", ".join(f"{k} = {v}" for k, v in r.params.items()) or "–"
    return (
        f"| **{r.name}** | {r.labels['severity']} | {r.labels['team']} | {_for(r)} | "
        f"{condition}; {_cell(params)} | {_cell(r.annotations['summary'])} | "
        f"`{r.annotations['runbook_url']}` |"
    )


def rules_markdown(uid: str) -> str:
    """The rules that watch dashboard `uid` as a Markdown table."""
    rules = watching(uid)
    head = [
        "Rules of `alerts/rules/` whose `dashboard:` is this dashboard. Their state is not "
        "here: see the alert conversations in the chat, `GET /api/alerts` or Alertmanager. "
        "Thresholds drawn on the panels are these params. Runbooks are served by the "
        "evaluator at `<IM_ALERT_EXTERNAL_URL>/runbooks/NAME.md`.",
        "",
        "| alert | severity | team | for | condition | summary (template) | runbook |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*head, *(_row(r) for r in rules)]) + "\n"


def _literal(value: Any, typ: str) -> str:
    """A rule param as the SQL the query parameter `{name:typ}` stands for."""
    if typ == "Identifier":
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(value)), value
        return str(value)
    text = repr(value) if isinstance(value, int | float) else "'" + str(value).replace(
        "\\", "\\\\").replace("'", "\\'") + "'"  # fmt: skip
    return f"CAST({text} AS {typ})"


def condition_sql(rule: Rule) -> str:
    """A SQL rule's query with `now` the range's end and its params bound."""
    assert rule.sql is not None and "$" not in rule.sql, rule.name

    def bind(m: re.Match[str]) -> str:
        name, typ = m[1], m[2].strip()
        if name == NOW:
            return "$__toTime_ms"
        return _literal(rule.params[name], typ)

    return re.sub(r"\{(\w+):([^{}]+)\}", bind, rule.sql).strip()


def state_sql(uid: str) -> str | None:
    """One row per SQL rule watching `uid` (file order): its name, severity, `for`, and the
    series for which its condition holds at the range's end; None when it has none."""
    rules = [r for r in watching(uid) if r.sql]
    if not rules:
        return None
    parts = [
        f"SELECT {i} AS n, '{r.name}' AS alert, '{r.labels['severity']}' AS severity, "
        f"'{_for(r)}' AS for_, toUInt64(count()) AS holds\nFROM (\n{condition_sql(r)}\n)"
        for i, r in enumerate(rules)
    ]
    union = "\nUNION ALL\n".join(parts)
    return f"SELECT alert, severity, for_ AS `for`, holds\nFROM (\n{union}\n)\nORDER BY n"


def state_panel(pid: int, uid: str) -> table.Panel | None:
    """The rules' conditions now (module docstring), or None when no SQL rule watches."""
    sql = state_sql(uid)
    if sql is None:
        return None
    return table_panel(
        (pid, "Alert conditions at the range's end", "Each SQL alert rule that watches this "
         "dashboard, run as the evaluator runs it with the range's end as its now: the series "
         "for which its condition holds (0: none). Not the alert's state: `for`, inhibition "
         "and silences are the evaluator's (chat, GET /api/alerts, Alertmanager).", "short"),
        sql, w=24, h=6,
    )  # fmt: skip
