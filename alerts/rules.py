"""Alert rules as code: `alerts/rules/*.yaml` (one file per area), loaded as `Rule`s.

The files have Prometheus' rule-file shape (`groups` → `rules`); what a rule
may say is alerts/rulefile.py's. A rule's condition is ClickHouse SQL
returning one row per alerting series (label columns and `value`), or a probe
the evaluator makes itself; a rule that `inhibits` tables holds, while it is
pending or firing, every rule whose SQL reads them (alerts/engine.py).
`load_rules` refuses the whole folder (`RuleError`, every problem named) if
any rule is not valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alerts.rulefile import TABLE_NAMES, duration_ms, problems, unknown_keys


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
        return frozenset(words & TABLE_NAMES)

    def alert_labels(self, row: Mapping[str, str]) -> dict[str, str]:
        """An alert's labels: the row's, then the rule's (they win), then alertname."""
        return {**row, **self.labels, "alertname": self.name}


def _rule(area: str, raw: dict[str, Any]) -> Rule:
    return Rule(
        name=str(raw["alert"]), area=area, for_ms=duration_ms(raw["for"]),
        keep_firing_for_ms=duration_ms(raw.get("keep_firing_for", "0s")),
        labels=raw["labels"], annotations=raw["annotations"],
        source=" ".join(str(raw["source"]).split()), sql=raw.get("sql"),
        probe=raw.get("probe"), params=raw.get("params") or {},
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
    out += unknown_keys(path.name, doc, {"groups"})
    rules: list[Rule] = []
    for group in doc["groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
            out.append(f"{path.name}: a group needs `name` and `rules:`, a list")
            continue
        out += unknown_keys(f"{path.name}: group {group.get('name')}", group, {"name", "rules"})
        for raw in group["rules"]:
            found = problems(path.stem, raw, runbooks)
            out += found
            if not found:
                rules.append(_rule(path.stem, raw))
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
