"""Alert rules as code: `alerts/rules/*.yaml`, loaded and checked.

The files have Prometheus' rule-file shape (`groups` → `rules` with `alert`,
`for`, `keep_firing_for`, `labels`, `annotations`); the condition is ours:
- `sql`: a ClickHouse query returning one row per alerting series, a `value`
  column and label columns. It names the evaluation time `{now:DateTime64(3, 'UTC')}`
  and its thresholds as query parameters `{name:Type}` whose values are the
  rule's `params` (thresholds live in the file, not in code);
- or `probe`: a check the evaluator makes itself (PROBES), for what the
  telemetry cannot tell about its own path. It fires while the probe is down,
  or, with `params: {above: N}`, while it is up and its value is over N.
A rule with `inhibits: [table, ...]` silences, while it is pending or firing,
every rule whose SQL reads those tables (alerts/engine.py).

Everything is checked at load (`RuleError` lists every problem): unknown keys,
the labels `severity` and `team`, `for`, the four annotations, the runbook file
behind `runbook_url`, templates, and that parameters and placeholders match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alerts import template
from alerts.model import SEVERITIES, TEAMS
from analytics.schema import TABLES

# What the evaluator reports per probe: {name: (up, value)} (alerts.evaluate.Probes).
PROBES = {
    "redis": "PING of the IM server's Redis; value: the round trip in seconds",
    "kafka": "a metadata request that names at least one broker; value: brokers named",
    "clickhouse": "SELECT 1 on the ClickHouse the rules read; value: the round trip in seconds",
    "analytics": "GET /healthz of the analytics process answers 200; value: the round trip",
    "collector": "GET /healthz of the ops collector answers 200; value: the round trip",
    "outbox": "Redis answers; value: age in seconds of the oldest outbox entry (relay lag)",
    "analytics_lag": "the analytics sink's consumer lag could be read from Kafka; value: seconds",
}
NOW = "now"  # the query parameter every SQL rule gets: the evaluation time
RUNBOOKS = "alerts/runbooks/"
ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard")
_RULE_KEYS = {"alert", "for", "keep_firing_for", "labels", "annotations", "sql", "probe",
              "params", "source", "inhibits"}  # fmt: skip
_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)}")
_DASHBOARD = re.compile(r"^/d/[a-z0-9-]+$")
_TABLE_NAMES = frozenset(t.name for t in TABLES)


class RuleError(ValueError):
    """The rule files are not valid; the message lists every problem, one a line."""


@dataclass(frozen=True)
class Rule:
    name: str  # `alert`: alertname, unique over all files
    area: str  # the file's stem (redis, kafka, ...)
    for_ms: int
    keep_firing_for_ms: int
    labels: Mapping[str, str]  # severity, team, and any other
    annotations: Mapping[str, str]  # summary, description, runbook_url, dashboard (templates)
    source: str  # the reference its threshold and `for` come from
    sql: str | None = None
    probe: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    inhibits: frozenset[str] = frozenset()

    @property
    def tables(self) -> frozenset[str]:
        """The ClickHouse tables its SQL names."""
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.sql or ""))
        return frozenset(words & _TABLE_NAMES)

    def alert_labels(self, row: Mapping[str, str]) -> dict[str, str]:
        """An alert's labels: the row's, then the rule's (they win), then alertname."""
        return {**row, **self.labels, "alertname": self.name}


def duration_ms(text: Any) -> int:
    """A Prometheus duration (`90s`, `1m`, `1h30m`, `0s`) in ms; ValueError if not one."""
    m = _DURATION.match(str(text))
    if not str(text) or m is None:
        raise ValueError(f"not a duration: {text!r} (like 30s, 5m, 1h)")
    d, h, mi, s, ms = (int(g or 0) for g in m.groups())
    return (((d * 24 + h) * 60 + mi) * 60 + s) * 1000 + ms


def _keys(where: str, got: Mapping[str, Any], allowed: set[str], out: list[str]) -> None:
    for k in sorted(set(got) - allowed):
        out.append(f"{where}: unknown key {k!r} (allowed: {', '.join(sorted(allowed))})")


def _condition(where: str, raw: Mapping[str, Any], runbooks: Path, out: list[str]) -> None:
    """Problems of the condition, params, inhibits and annotations of one rule."""
    sql, probe, params = raw.get("sql"), raw.get("probe"), raw.get("params") or {}
    if (sql is None) == (probe is None):
        out.append(f"{where}: needs exactly one of `sql` and `probe`")
    if not isinstance(params, dict) or not all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in params.values()
    ):
        out.append(f"{where}: `params` maps names to numbers or strings")
        params = {}
    if probe is not None:
        if probe not in PROBES:
            out.append(f"{where}: unknown probe {probe!r} (known: {', '.join(PROBES)})")
        if set(params) - {"above"}:
            out.append(f"{where}: a probe rule takes only the param `above`")
    if sql is not None:
        used = {m.group(1) for m in _PLACEHOLDER.finditer(str(sql))}
        if NOW not in used:
            out.append(f"{where}: the SQL must bound time by {{{NOW}:DateTime64(3, 'UTC')}}")
        if NOW in params:
            out.append(f"{where}: `{NOW}` is the evaluation time, not a param")
        for name in sorted(used - set(params) - {NOW}):
            out.append(f"{where}: the SQL uses {{{name}:...}} but `params` has no {name!r}")
        for name in sorted(set(params) - used):
            out.append(f"{where}: param {name!r} is not used in the SQL")
    for t in raw.get("inhibits") or []:
        if t not in _TABLE_NAMES:
            out.append(f"{where}: inhibits unknown table {t!r}")
    notes = raw.get("annotations") or {}
    _keys(f"{where}: annotations", notes, set(ANNOTATIONS), out)
    for k in ANNOTATIONS:
        if not isinstance(notes.get(k), str) or not notes[k].strip():
            out.append(f"{where}: annotation {k!r} is missing")
        else:
            out += [f"{where}: {k}: {p}" for p in template.problems(notes[k])]
    url = str(notes.get("runbook_url", ""))
    if url and not (url.startswith(RUNBOOKS) and (runbooks / url[len(RUNBOOKS) :]).is_file()):
        out.append(f"{where}: runbook_url {url!r} is not a file {RUNBOOKS}NAME.md")
    if notes.get("dashboard") and not _DASHBOARD.match(str(notes["dashboard"])):
        out.append(f"{where}: dashboard {notes['dashboard']!r} is not a Grafana path /d/<uid>")


def _rule(area: str, raw: Any, runbooks: Path, out: list[str]) -> Rule | None:
    if not isinstance(raw, dict):
        out.append(f"{area}.yaml: a rule is not a mapping: {raw!r}")
        return None
    name = raw.get("alert")
    where = f"{area}.yaml: {name or '(no alert name)'}"
    before = len(out)
    _keys(where, raw, _RULE_KEYS, out)
    if not isinstance(name, str) or not _NAME.match(name):
        out.append(f"{where}: `alert` must be a CamelCase name")
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and _LABEL.match(k) and isinstance(v, str) for k, v in labels.items()
    ):
        out.append(f"{where}: `labels` maps label names to strings")
        labels = {}
    if labels.get("severity") not in SEVERITIES:
        out.append(f"{where}: label severity must be one of {', '.join(SEVERITIES)}")
    if labels.get("team") not in TEAMS:
        out.append(f"{where}: label team must be one of {', '.join(TEAMS)}")
    if "alertname" in labels:
        out.append(f"{where}: `alertname` is the rule's name, not a label")
    if "for" not in raw:
        out.append(f"{where}: `for` is missing (write 0s for none)")
    times = []
    for key in ("for", "keep_firing_for"):
        try:
            times.append(duration_ms(raw.get(key, "0s")))
        except ValueError as e:
            out.append(f"{where}: `{key}`: {e}")
    if not str(raw.get("source") or "").strip():
        out.append(f"{where}: `source` (the reference of its threshold and `for`) is missing")
    _condition(where, raw, runbooks, out)
    if len(out) > before:
        return None
    return Rule(
        name=str(name), area=area, for_ms=times[0], keep_firing_for_ms=times[1], labels=labels,
        annotations=raw["annotations"], source=str(raw["source"]).strip(),
        sql=raw.get("sql"), probe=raw.get("probe"), params=raw.get("params") or {},
        inhibits=frozenset(raw.get("inhibits") or ()),
    )  # fmt: skip


def _file(path: Path, runbooks: Path, out: list[str]) -> list[Rule]:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        out.append(f"{path.name}: not YAML: {e}")
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        out.append(f"{path.name}: needs `groups:`, a list")
        return []
    _keys(path.name, doc, {"groups"}, out)
    rules: list[Rule] = []
    for group in doc["groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
            out.append(f"{path.name}: a group needs `name` and `rules:`, a list")
            continue
        _keys(f"{path.name}: group {group.get('name')}", group, {"name", "rules"}, out)
        for raw in group["rules"]:
            if (rule := _rule(path.stem, raw, runbooks, out)) is not None:
                rules.append(rule)
    return rules


def load_rules(folder: Path) -> list[Rule]:
    """Every rule of `folder/*.yaml` (runbooks in `folder/../runbooks`), files in name
    order; RuleError naming every problem when any file is not valid."""
    out: list[str] = []
    rules: list[Rule] = []
    for path in sorted(folder.glob("*.yaml")):
        rules += _file(path, folder.parent / "runbooks", out)
    seen: set[str] = set()
    for r in rules:
        if r.name in seen:
            out.append(f"{r.area}.yaml: {r.name}: the alert name is used twice")
        seen.add(r.name)
    if out:
        raise RuleError("\n".join(out))
    return rules
