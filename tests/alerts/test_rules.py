"""alerts/rules.py: the rule files load, and a broken one is refused with every problem named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.rules import RuleError, duration_ms, load_rules
from tests.alerts.harness import ROOT, RULES

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


def test_unknown_keys_are_refused_by_name(tmp_path: Path) -> None:
    assert problems(tmp_path, expr="up == 0") == [
        "host.yaml: DiskFull: unknown key 'expr' (allowed: alert, annotations, for, inhibits, "
        "keep_firing_for, labels, params, probe, source, sql)"
    ]


def test_every_problem_of_a_rule_is_named_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        labels={"severity": "page", "team": "ops"},
        annotations={"summary": "{{ $value | bogus }}", "runbook": "x"},
        source=None,
        **{"for": None},
    )
    assert found == [
        "host.yaml: DiskFull: label severity must be one of critical, warning, info",
        "host.yaml: DiskFull: label team must be one of sre, cs",
        "host.yaml: DiskFull: `for` is missing (write 0s for none)",
        "host.yaml: DiskFull: `source` (the reference of its threshold and `for`) is missing",
        "host.yaml: DiskFull: annotations: unknown key 'runbook' (allowed: dashboard, "
        "description, runbook_url, summary)",
        "host.yaml: DiskFull: summary: unknown template action {{ $value | bogus }}",
        "host.yaml: DiskFull: annotation 'description' is missing",
        "host.yaml: DiskFull: annotation 'runbook_url' is missing",
        "host.yaml: DiskFull: annotation 'dashboard' is missing",
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"for": "2 minutes"}, "`for`: not a duration: '2 minutes' (like 30s, 5m, 1h)"),
        ({"keep_firing_for": "-1m"}, "`keep_firing_for`: not a duration: '-1m'"),
        ({"alert": "disk_full"}, "`alert` must be a CamelCase name"),
        ({"labels": {"severity": "info", "team": "sre", "alertname": "X"}},
         "`alertname` is the rule's name, not a label"),
        ({"probe": "redis"}, "needs exactly one of `sql` and `probe`"),
        ({"sql": None}, "needs exactly one of `sql` and `probe`"),
        ({"sql": "SELECT 1 AS value WHERE 1 > {limit:Float64}"},
         "the SQL must bound time by {now:DateTime64(3, 'UTC')}"),
        ({"params": {}}, "the SQL uses {limit:...} but `params` has no 'limit'"),
        ({"params": {"limit": 1, "other": 2}}, "param 'other' is not used in the SQL"),
        ({"params": {"limit": [1, 2]}}, "`params` maps names to numbers or strings"),
        ({"inhibits": ["nowhere"]}, "inhibits unknown table 'nowhere'"),
        ({"annotations": {**GOOD["annotations"], "runbook_url": "alerts/runbooks/Nope.md"}},
         "runbook_url 'alerts/runbooks/Nope.md' is not a file alerts/runbooks/NAME.md"),
        ({"annotations": {**GOOD["annotations"], "dashboard": "http://grafana/d/x"}},
         "dashboard 'http://grafana/d/x' is not a Grafana path /d/<uid>"),
    ],
)  # fmt: skip
def test_each_kind_of_problem(tmp_path: Path, change: dict[str, Any], problem: str) -> None:
    found = problems(tmp_path, **change)
    assert any(p.startswith(f"host.yaml: {change.get('alert', 'DiskFull')}: {problem}")
               for p in found), found  # fmt: skip


def test_probe_rules_know_their_probes_and_take_only_above(tmp_path: Path) -> None:
    base = {k: v for k, v in GOOD.items() if k not in ("sql", "params")}
    folder = write(tmp_path, {**base, "probe": "redis", "params": {"above": 30}})
    assert load_rules(folder)[0].probe == "redis"
    with pytest.raises(RuleError) as e:
        load_rules(write(tmp_path, {**base, "probe": "zookeeper", "params": {"below": 1}}))
    assert str(e.value).splitlines() == [
        "host.yaml: DiskFull: unknown probe 'zookeeper' (known: redis, kafka, clickhouse, "
        "analytics, collector, outbox, analytics_lag)",
        "host.yaml: DiskFull: a probe rule takes only the param `above`",
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


@pytest.mark.parametrize(
    ("text", "ms"),
    [("0s", 0), ("30s", 30_000), ("1m", 60_000), ("1h30m", 5_400_000), ("2d", 172_800_000),
     ("500ms", 500), ("1m30s", 90_000)],
)  # fmt: skip
def test_durations(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "5", "1.5m", "m", "1s1m"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        duration_ms(text)
