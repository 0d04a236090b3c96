"""docs/alerts.md lists every rule as its file says: severity, team, for, keep_firing_for,
the params of its condition, its source; and every probe a rule may name."""

from __future__ import annotations

import re

from alerts.rulefile import PROBES, duration_ms
from tests.alerts.harness import ROOT, RULES
from tests.doctables import DOCS, one, plain
from tests.test_docs import ALL_SETTINGS

ALERTS = DOCS / "alerts.md"
HEADER = ("alert", "area", "severity", "team", "for", "keep_firing_for", "condition (params)",
          "source")  # fmt: skip


def test_every_rule_is_in_the_table_as_its_file_says_and_no_other() -> None:
    rows = {plain(r["alert"]): r for r in one(ALERTS, "The rules", header=HEADER).rows}
    assert set(rows) == set(RULES) and len(rows) == len(RULES)
    for name, rule in RULES.items():
        row = rows[name]
        assert (row["area"], row["severity"], row["team"]) == (
            rule.area, rule.labels["severity"], rule.labels["team"]), name  # fmt: skip
        assert duration_ms(row["for"]) == rule.for_ms, name
        keep = row["keep_firing_for"]
        assert (0 if keep == "–" else duration_ms(keep)) == rule.keep_firing_for_ms, name
        for param, value in rule.params.items():
            assert f"{param} = {value}" in row["condition (params)"], name
        assert (f"probe `{rule.probe}`" in row["condition (params)"]) == (rule.probe is not None)
        assert row["source"] == " ".join(rule.source.split()), name


def test_every_probe_is_documented() -> None:
    table = one(ALERTS, "Watching the watcher", header=("probe", "up when", "value"))
    assert [plain(r["probe"]) for r in table.rows] == list(PROBES)


def test_every_setting_the_rules_runbooks_and_docs_name_exists() -> None:
    texts = [ALERTS.read_text()] + [
        p.read_text()
        for folder in ("rules", "runbooks")
        for p in (ROOT / "alerts" / folder).iterdir()
    ]
    named = {n for t in texts for n in re.findall(r"\bIM_[A-Z0-9_]*[A-Z0-9]\b", t)}
    assert len(named) > 20
    assert sorted(named - ALL_SETTINGS) == []
