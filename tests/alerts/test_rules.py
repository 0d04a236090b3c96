"""alerts/rules.py: the rule files load; a broken folder is refused, every problem named."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.rules import RuleError, load_rules
from tests.alerts.harness import ROOT, RULES
from tests.doctables import EVENTS, one, plain
from tests.test_docs import metric_rows

AREAS = {"redis", "kafka", "gateway", "pipeline", "host", "cs"}
GOOD: dict[str, Any] = {
    "alert": "DiskFull",
    "sql": "SELECT 1 AS value FROM ops_samples WHERE ts <= {now:DateTime64(3, 'UTC')} "
    "AND 1 > {limit:Float64}",
    "params": {"limit": 0.5},
    "for": "2m",
    "labels": {"severity": "warning", "team": "sre"},
    "annotations": {"summary": "{{ $value | humanizePercentage }}", "description": "d",
                    "runbook_url": "alerts/runbooks/DiskFull.md", "dashboard": "/d/im-host"},
    "source": "awesome-prometheus-alerts",
}  # fmt: skip


def write(tmp: Path, *rules: dict[str, Any], name: str = "host") -> Path:
    folder = tmp / "rules"
    folder.mkdir(exist_ok=True)
    (tmp / "runbooks").mkdir(exist_ok=True)
    (tmp / "runbooks" / "DiskFull.md").write_text("# DiskFull\n")
    doc = {"groups": [{"name": name, "rules": list(rules)}]}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    return folder


def problems(tmp: Path, **change: Any) -> list[str]:
    rule = copy.deepcopy(GOOD)
    for k, v in change.items():
        if v is None:
            rule.pop(k, None)
        else:
            rule[k] = v
    with pytest.raises(RuleError) as e:
        load_rules(write(tmp, rule))
    return str(e.value).splitlines()


def test_the_rules_of_the_repository_load_one_file_per_area() -> None:
    rules = load_rules(ROOT / "alerts" / "rules")
    assert {r.area for r in rules} == AREAS
    assert len(rules) == len(RULES) == 37
    assert all(r.labels["team"] == ("cs" if r.area == "cs" else "sre") for r in rules)


def test_a_valid_rule_loads_with_its_times_in_ms(tmp_path: Path) -> None:
    (rule,) = load_rules(write(tmp_path, {**GOOD, "keep_firing_for": "1h30m"}))
    assert (rule.name, rule.area, rule.for_ms, rule.keep_firing_for_ms) == (
        "DiskFull", "host", 120_000, 5_400_000)  # fmt: skip
    assert rule.tables == {"ops_samples"} and rule.params == {"limit": 0.5}


def test_one_broken_rule_refuses_the_folder_naming_its_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, expr="up == 0", **{"for": "soon"}) == [
        "host.yaml: DiskFull: unknown key 'expr' (allowed: alert, annotations, for, inhibits, "
        "keep_firing_for, labels, params, probe, source, sql)",
        "host.yaml: DiskFull: `for`: not a duration: 'soon' (like 30s, 5m, 1h)",
    ]


def test_an_alert_name_is_used_once_over_all_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="host")
    folder = write(tmp_path, GOOD, name="redis")
    with pytest.raises(RuleError, match=r"redis\.yaml: DiskFull: the alert name is used twice"):
        load_rules(folder)


def test_a_file_that_is_not_a_rule_file(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD)
    (folder / "kafka.yaml").write_text("rules: []\n")
    (folder / "cs.yaml").write_text("groups: [\n")
    with pytest.raises(RuleError) as e:
        load_rules(folder)
    lines = str(e.value).splitlines()
    assert lines[0].startswith("cs.yaml: not YAML: ")
    assert "kafka.yaml: needs `groups:`, a list" in lines


# Being renamed from redis_hot_key_accesses by the hot-key work (docs/alerts.md, gaps).
def documented_metrics() -> set[str]:
    """The collector's metric names (docs/events.md), and the gateway's as it writes them
    (a histogram as its _bucket, _sum and _count)."""
    names = {plain(r["metric"]) for r in metric_rows()}
    for row in one(EVENTS, "Gateway metrics").rows:
        name = plain(row["metric"])
        names |= ({f"{name}_bucket", f"{name}_sum", f"{name}_count"}
                  if plain(row["type"]) == "histogram" else {name})  # fmt: skip
    return names


def test_the_rules_read_the_metrics_the_collector_writes_by_their_names() -> None:
    used = {
        name
        for r in RULES.values()
        for clause in re.findall(r"metric\s*(?:=\s*'[^']*'|IN\s*\([^)]*\))", r.sql or "")
        for name in re.findall(r"'([^']*)'", clause)
    }
    assert len(used) > 25
    assert sorted(used - documented_metrics()) == []


def test_every_rule_has_a_promtool_style_test() -> None:
    tests = "".join(p.read_text() for p in (ROOT / "tests" / "alerts").glob("test_rules_*.py"))
    assert sorted(n for n in RULES if f'"{n}"' not in tests) == []
