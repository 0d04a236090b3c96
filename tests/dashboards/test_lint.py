"""Every dashboard passes checks in the spirit of Grafana's dashboard-linter
(github.com/grafana/dashboard-linter: template-datasource-rule, panel-title-description,
panel-units-rule, target-...): uid, title, tags and the datasource variable; every query
panel a title, a description, a unit and at least one ClickHouse target, and no
datasource but `${datasource}`. Text panels (the alert rules' list) have no query or unit."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dashboards.catalog import load
from dashboards.grafana import PLUGIN

BOARDS = load()
DATASOURCE = {"type": PLUGIN, "uid": "${datasource}"}
UNITS = {"percentunit", "s", "short", "none", "bytes", "ops", "cps"}


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [(d["uid"], p) for d in BOARDS for p in d["panels"]]


@pytest.mark.parametrize("board", BOARDS, ids=[d["uid"] for d in BOARDS])
def test_dashboard(board: dict[str, Any]) -> None:
    assert re.fullmatch(r"im-[a-z0-9-]+", board["uid"]) and len(board["uid"]) <= 40
    assert board["title"] and board["description"] and "im" in board["tags"]
    assert board["timezone"] == "utc" and board["editable"] is True
    variables = {v["name"]: v for v in board["templating"]["list"]}
    ds = variables["datasource"]
    assert (ds["type"], ds["query"]) == ("datasource", PLUGIN)
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"] == DATASOURCE, v["name"]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


@pytest.mark.parametrize(("uid", "panel"), _panels(), ids=[f"{u}/{p['id']}" for u, p in _panels()])
def test_panel(uid: str, panel: dict[str, Any]) -> None:
    assert panel["title"].strip() and len(panel["description"]) >= 20
    assert panel["gridPos"]["w"] > 0 and panel["gridPos"]["h"] > 0
    if panel["type"] == "text":
        assert panel["options"]["mode"] == "markdown" and panel["options"]["content"]
        assert "targets" not in panel
        return
    assert panel["fieldConfig"]["defaults"]["unit"] in UNITS
    for o in panel["fieldConfig"].get("overrides", []):
        assert all(p["value"] in UNITS for p in o["properties"] if p["id"] == "unit")
    assert panel["datasource"] == DATASOURCE
    assert panel["targets"], "no query"
    for t in panel["targets"]:
        assert t["datasource"] == DATASOURCE
        assert (t["editorType"], t["format"], t["queryType"]) in {
            ("sql", 0, "timeseries"), ("sql", 1, "table")}  # fmt: skip
        assert t["rawSql"].lstrip().upper().startswith("SELECT")
        if t["format"] == 0:  # time series: the time column is named `time`
            assert re.search(r"\bAS time\b", t["rawSql"]), t["refId"]


def test_no_datasource_uid_anywhere_but_the_variable() -> None:
    for d in BOARDS:
        uids = set(re.findall(r'"uid":\s*"([^"]*)"', json.dumps(d)))
        assert uids == {d["uid"], "${datasource}"}, d["uid"]
