"""alerts/rulefile.py: every way a rule can be wrong is named, all at once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from alerts.rulefile import duration_ms, problems

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


def check(tmp: Path, **change: Any) -> list[str]:
    """The problems of GOOD with `change` (None: the key removed)."""
    (tmp / "DiskFull.md").write_text("# DiskFull\n")
    rule = copy.deepcopy(GOOD)
    for k, v in change.items():
        if v is None:
            rule.pop(k, None)
        else:
            rule[k] = v
    return problems("host", rule, tmp)


def test_a_valid_rule_has_no_problem(tmp_path: Path) -> None:
    assert check(tmp_path) == []
    assert check(tmp_path, keep_firing_for="1h30m", inhibits=["ops_samples"]) == []


def test_unknown_keys_are_refused_by_name(tmp_path: Path) -> None:
    assert check(tmp_path, expr="up == 0") == [
        "host.yaml: DiskFull: unknown key 'expr' (allowed: alert, annotations, for, inhibits, "
        "keep_firing_for, labels, params, probe, source, sql)"
    ]


def test_every_problem_of_a_rule_is_named_at_once(tmp_path: Path) -> None:
    found = check(
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
    found = check(tmp_path, **change)
    assert any(p.startswith(f"host.yaml: {change.get('alert', 'DiskFull')}: {problem}")
               for p in found), found  # fmt: skip


def test_probe_rules_know_their_probes_and_take_only_above(tmp_path: Path) -> None:
    assert check(tmp_path, sql=None, params=None, probe="redis") == []
    assert check(tmp_path, sql=None, params={"above": 30}, probe="redis") == []
    assert check(tmp_path, sql=None, params={"below": 1}, probe="zookeeper") == [
        "host.yaml: DiskFull: unknown probe 'zookeeper' (known: redis, kafka, clickhouse, "
        "analytics, collector, relay, analytics_lag)",
        "host.yaml: DiskFull: a probe rule takes only the param `above`",
    ]


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
