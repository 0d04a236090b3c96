"""What the alert rules of alerts/rules/ show on the dashboards.

Alert state lives in Redis (`al:state`, written by the evaluator), which
Grafana cannot read, and the rules' SQL is a condition at one instant, so
there is no ClickHouse table of alert states to put in a panel or an
annotation query. Instead each dashboard shows, from the rule files
themselves (their `dashboard:` annotation names the dashboard):

- a panel listing the rules that watch it (severity, `for`, thresholds,
  summary, runbook), and
- each rule's threshold as the threshold line of the panel that plots the
  same number (`param`): the line moves when the rule file's params do.

The live state is where the evaluator delivers it: the alert conversations
in the chat, `GET /api/alerts`, Alertmanager.
"""

from __future__ import annotations

from pathlib import Path

from alerts.rules import Rule, load_rules

ROOT = Path(__file__).resolve().parent.parent
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
        "| alert | severity | team | for | condition | summary | runbook |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*head, *(_row(r) for r in rules)]) + "\n"
