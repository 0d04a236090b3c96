"""The panels' queries as data, read from the dashboards' JSON: what a console (or a test)
runs without Grafana.

    for q in queries(load()):
        sql = q.expand(time_from, time_to, interval_s, defaults(board(q.dashboard)))

`load()` reads the built files (dashboards/build/*.json; dashboards.build.dashboards()
gives the same dicts fresh); `queries` lists every target of every panel, and the
query of every query variable (panel id 0, the variable's name as ref id);
`defaults` the variables' default values (`templating.ALL` for All).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards.macros import expand
from dashboards.templating import ALL, Value

BUILD_DIR = Path(__file__).resolve().parent / "build"  # written by dashboards.build


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str  # uid
    panel_id: int  # 0: a variable's query
    title: str  # the panel's, or the variable's name
    ref_id: str
    format: int  # 0 time series, 1 table (dashboards.grafana.Format)
    sql: str  # with the plugin's macros and the dashboard's variables

    def expand(
        self,
        time_from: dt.datetime,
        time_to: dt.datetime,
        interval_s: float,
        variables: Mapping[str, Value],
    ) -> str:
        return expand(self.sql, time_from, time_to, interval_s, variables)


def load(folder: Path = BUILD_DIR) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def queries(dashboards: Iterable[Mapping[str, Any]]) -> list[PanelQuery]:
    out: list[PanelQuery] = []
    for d in dashboards:
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                out.append(PanelQuery(d["uid"], 0, v["name"], v["name"], 1, str(v["query"])))
        for p in d.get("panels", []):
            for t in p.get("targets", []):
                out.append(PanelQuery(d["uid"], p["id"], p["title"], t["refId"],
                                      t["format"], t["rawSql"]))  # fmt: skip
    return out


def defaults(dashboard: Mapping[str, Any]) -> dict[str, Value]:
    """The default value of each variable but the datasource."""
    out: dict[str, Value] = {}
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "datasource":
            continue
        value = v.get("current", {}).get("value")
        if value == ALL or value == [ALL]:
            out[v["name"]] = ALL
        elif isinstance(value, list):
            out[v["name"]] = [str(x) for x in value]
        else:
            out[v["name"]] = str(value)
    return out
