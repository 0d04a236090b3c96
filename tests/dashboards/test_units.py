"""Each table and stat column has its own unit (dashboards/grafana.py `columns`, byName
overrides): a count (rank, waits, ...) never inherits the panel's bytes or seconds, a
`*_s` column is seconds and a `bytes` column bytes. The columns are the ones the panels'
queries answer with (tests/dashboards/test_queries.py COLUMNS, checked there on chDB)."""

from __future__ import annotations

import re
from typing import Any

from tests.dashboards.panels import BOARDS
from tests.dashboards.test_queries import COLUMNS

COUNT = re.compile(
    r"rank|count|n|waits|answered_\w+|sessions|taken|closed\w*|detections|rules|holds|"
    r"processes|restarts|brokers|controller|partitions|under_replicated|offline|up|muted"
)
SHOWN = {"table", "stat"}


def unit_of(panel: dict[str, Any], column: str) -> str:
    """The column's unit as Grafana applies it: the last override matching it, else the
    panel's."""
    fc = panel.get("fieldConfig", {})
    unit = str(fc.get("defaults", {}).get("unit", "short"))
    for o in fc.get("overrides", []):
        m = o["matcher"]
        hit = m["id"] == "byName" and m["options"] == column
        hit = hit or (m["id"] == "byRegexp" and re.fullmatch(m["options"].strip("/"), column))
        for prop in o["properties"] if hit else []:
            if prop["id"] == "unit":
                unit = str(prop["value"])
    return unit


def shown_columns() -> list[tuple[str, int, str, str]]:
    """(uid, panel id, column, unit) of every table and stat panel's answer."""
    out = []
    for (uid, pid, ref), cols in COLUMNS.items():
        panels = [p for p in BOARDS[uid]["panels"] if p["id"] == pid]
        if ref != "A" or not panels or panels[0]["type"] not in SHOWN:
            continue
        out += [(uid, pid, c, unit_of(panels[0], c)) for c in cols]
    return out


def test_every_table_and_stat_panel_is_checked() -> None:
    panels = {(d["uid"], p["id"]) for d in BOARDS.values() for p in d["panels"]}
    shown = {(d["uid"], p["id"]) for d in BOARDS.values() for p in d["panels"]
             if p["type"] in SHOWN}  # fmt: skip
    assert shown <= {(u, p) for u, p, _, _ in shown_columns()} and shown <= panels


def test_counts_have_no_bytes_or_seconds_unit() -> None:
    wrong = [c for c in shown_columns() if COUNT.fullmatch(c[2]) and c[3] not in {"none", "short"}]
    assert wrong == []


def test_seconds_and_bytes_columns_have_their_unit() -> None:
    seconds = [c for c in shown_columns() if c[2].endswith("_s")]
    sizes = [c for c in shown_columns() if c[2] == "bytes"]
    assert {c[3] for c in seconds} == {"s"} and len(seconds) >= 6
    assert {c[3] for c in sizes} == {"bytes"} and len(sizes) == 1


def test_the_redis_tables_units() -> None:
    got = {(pid, c): u for uid, pid, c, u in shown_columns() if uid == "im-redis"}
    assert got[(11, "rank")] == "none" and got[(11, "bytes")] == "bytes"
    assert got[(12, "rank")] == "none" and got[(12, "per_second")] == "cps"
    assert got[(10, "duration_s")] == "s"
