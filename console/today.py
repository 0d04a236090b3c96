"""Today's reply rate so far for the live view: the reply-rate dashboard's per-agent
panel (a named query of dashboards/, run by analytics' POST /panels/query) over
today (UTC, midnight to now), all agents, summed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from console.upstream import Upstream
from im import errors as E

log = logging.getLogger("console.today")

DASHBOARD = "im-cs-reply-rate"
PANEL_TITLE = "Agents, worst first"  # columns agent, waits, answered_5m, ...
DAY_MS = 86_400_000


def panel_id(boards: Mapping[str, Mapping[str, Any]]) -> int:
    for p in boards[DASHBOARD]["panels"]:
        if p["title"] == PANEL_TITLE:
            return int(p["id"])
    raise LookupError(f"{DASHBOARD} has no panel {PANEL_TITLE!r}")


async def reply_rate_today(
    analytics: Upstream, token: str, boards: Mapping[str, Mapping[str, Any]], now_ms: int
) -> dict[str, Any] | None:
    """{waits, answered_5m, rate} (rate None without waits); None when it cannot be read."""
    ask = {"uid": DASHBOARD, "panel_id": panel_id(boards), "from_ms": now_ms - now_ms % DAY_MS,
           "to_ms": now_ms, "interval_ms": 60_000, "variables": {}}  # fmt: skip
    try:
        status, data = await analytics.call("POST", "/panels/query", token, ask)
    except E.ApiError:
        return None
    if status != 200 or not isinstance(data, dict):
        log.warning("reply rate today: analytics answered %d", status)
        return None
    names = [c["name"] for c in data["columns"]]
    waits = sum(int(r[names.index("waits")]) for r in data["rows"])
    answered = sum(int(r[names.index("answered_5m")]) for r in data["rows"])
    return {"waits": waits, "answered_5m": answered,
            "rate": answered / waits if waits else None}  # fmt: skip
