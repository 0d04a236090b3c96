"""Running a dashboard's panel queries on chDB as Grafana would, for a chosen range."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from analytics.clickhouse import ClickHouse
from dashboards.build import dashboards
from dashboards.catalog import PanelQuery, defaults, queries
from dashboards.templating import Value

BOARDS = {d["uid"]: d for d in dashboards()}
QUERIES = queries(BOARDS.values())


def ms_time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def query(uid: str, panel_id: int, ref_id: str = "A") -> PanelQuery:
    (q,) = [q for q in QUERIES if (q.dashboard, q.panel_id, q.ref_id) == (uid, panel_id, ref_id)]
    return q


async def run(
    db: ClickHouse, q: PanelQuery, start_ms: int, end_ms: int, interval_s: float = 60,
    **variables: Value,
) -> tuple[list[str], list[dict[str, Any]]]:  # fmt: skip
    """The panel's columns and rows (NaN as None) for the range and variables (the
    dashboard's defaults for the rest)."""
    values: Mapping[str, Value] = {**defaults(BOARDS[q.dashboard]), **variables}
    sql = q.expand(ms_time(start_ms), ms_time(end_ms), interval_s, values)
    cols, rows = await db.query(sql)
    return cols, [{c: _plain(v) for c, v in zip(cols, r, strict=True)} for r in rows]


def _plain(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def ms(t: dt.datetime) -> int:
    """A DateTime column's value as ms since the epoch (naive values are UTC)."""
    t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return round(t.timestamp() * 1000)
