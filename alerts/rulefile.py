"""What one rule of a rule file may say, and every way it can be wrong.

A rule has Prometheus' keys (`alert`, `for`, `keep_firing_for`, `labels`,
`annotations`) and ours: its condition, `sql` (a ClickHouse query bounded by
`{now:DateTime64(3, 'UTC')}`, thresholds as `{name:Type}` parameters whose
values are `params`) or `probe` (PROBES; `params` may only hold `above`),
`inhibits` (tables) and `source` (the reference of its threshold and `for`).
`problems` lists everything wrong with one rule; alerts/rules.py loads the
files and builds the rules that have none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    "relay": "Redis answers; value: age in seconds of the oldest outbox entry (relay lag)",
    "analytics_lag": "the analytics sink's consumer lag could be read from Kafka; value: seconds",
}
NOW = "now"  # the query parameter every SQL rule gets: the evaluation time
RUNBOOKS = "alerts/runbooks/"
ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard")
TABLE_NAMES = frozenset(t.name for t in TABLES)
_RULE_KEYS = {"alert", "for", "keep_firing_for", "labels", "annotations", "sql", "probe",
              "params", "source", "inhibits"}  # fmt: skip
_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)}")
_DASHBOARD = re.compile(r"^/d/[a-z0-9-]+$")


def duration_ms(text: Any) -> int:
    """A Prometheus duration (`90s`, `1m`, `1h30m`, `0s`) in ms; ValueError if not one."""
    m = _DURATION.match(str(text))
    if not str(text) or m is None:
        raise ValueError(f"not a duration: {text!r} (like 30s, 5m, 1h)")
    d, h, mi, s, ms = (int(g or 0) for g in m.groups())
    return (((d * 24 + h) * 60 + mi) * 60 + s) * 1000 + ms


def unknown_keys(where: str, got: Mapping[str, Any], allowed: set[str]) -> list[str]:
    return [
        f"{where}: unknown key {k!r} (allowed: {', '.join(sorted(allowed))})"
        for k in sorted(set(got) - allowed)
    ]


def _labels(where: str, labels: Any) -> list[str]:
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and _LABEL.match(k) and isinstance(v, str) for k, v in labels.items()
    ):
        return [f"{where}: `labels` maps label names to strings"]
    out = []
    if labels.get("severity") not in SEVERITIES:
        out.append(f"{where}: label severity must be one of {', '.join(SEVERITIES)}")
    if labels.get("team") not in TEAMS:
        out.append(f"{where}: label team must be one of {', '.join(TEAMS)}")
    if "alertname" in labels:
        out.append(f"{where}: `alertname` is the rule's name, not a label")
    return out


def _condition(where: str, raw: Mapping[str, Any]) -> list[str]:
    """Problems of the condition, its params and what it inhibits."""
    out = []
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
    out += [f"{where}: inhibits unknown table {t!r}" for t in raw.get("inhibits") or []
            if t not in TABLE_NAMES]  # fmt: skip
    return out


def _annotations(where: str, notes: Any, runbooks: Path) -> list[str]:
    notes = notes if isinstance(notes, dict) else {}
    out = unknown_keys(f"{where}: annotations", notes, set(ANNOTATIONS))
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
    return out


def problems(area: str, raw: Any, runbooks: Path) -> list[str]:
    """Everything wrong with one rule of `area.yaml` (empty: it is valid); `runbooks` is
    the folder `runbook_url`s point into."""
    if not isinstance(raw, dict):
        return [f"{area}.yaml: a rule is not a mapping: {raw!r}"]
    name = raw.get("alert")
    where = f"{area}.yaml: {name or '(no alert name)'}"
    out = unknown_keys(where, raw, _RULE_KEYS)
    if not isinstance(name, str) or not _NAME.match(name):
        out.append(f"{where}: `alert` must be a CamelCase name")
    out += _labels(where, raw.get("labels") or {})
    if "for" not in raw:
        out.append(f"{where}: `for` is missing (write 0s for none)")
    for key in ("for", "keep_firing_for"):
        try:
            duration_ms(raw.get(key, "0s"))
        except ValueError as e:
            out.append(f"{where}: `{key}`: {e}")
    if not str(raw.get("source") or "").strip():
        out.append(f"{where}: `source` (the reference of its threshold and `for`) is missing")
    return out + _condition(where, raw) + _annotations(where, raw.get("annotations"), runbooks)
