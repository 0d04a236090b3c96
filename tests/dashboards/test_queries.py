"""Every panel's query (and every query variable's), expanded for a chosen hour, runs on
chDB over generated rows of every table (tests/dashboards/data.py) and answers with the
columns the panel expects: a time series `time` first, in order, then its values."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.clickhouse import ClickHouse
from analytics.schema import ops_rollups
from analytics.settings import AnalyticsSettings
from dashboards.catalog import PanelQuery
from tests.dashboards.data import fill
from tests.dashboards.panels import QUERIES, run

START = 1_795_000_200_000
END = START + 3_600_000
HOURS = [f"h{h:02d}" for h in range(24)]
COLUMNS = {
    ("im-cs-reply-rate", 0, "agent"): ["agent"],
    ("im-cs-reply-rate", 1, "A"): ["reply_rate"],
    ("im-cs-reply-rate", 1, "B"): ["target"],
    ("im-cs-reply-rate", 2, "A"): ["reply_rate"],
    ("im-cs-reply-rate", 2, "B"): ["target"],
    ("im-cs-reply-rate", 3, "A"): ["time", "reply_rate", "target"],
    ("im-cs-reply-rate", 4, "A"): ["time", "agent", "avg_reply_s", "p90_reply_s"],
    ("im-cs-reply-rate", 5, "A"): ["time", "unanswered"],
    ("im-cs-reply-rate", 6, "A"): [
        "agent",
        "waits",
        "answered_5m",
        "reply_rate",
        "avg_reply_s",
        "worst_p90_s",
    ],
    ("im-cs-reply-rate", 7, "A"): ["first_response", "sessions"],
    ("im-cs-reply-rate", 8, "A"): ["weekday", *HOURS],
    ("im-cs-reply-rate", 9, "A"): ["start", "conv", "session", "agent", "reply_s", "waited_s"],
    ("im-cs-reply-rate", 10, "A"): ["reply_rates_s", "chat_events_s"],
    ("im-cs-sessions", 1, "A"): [
        "time",
        "started",
        "ended_by_customer",
        "ended_by_agent",
        "ended_by_inactivity",
    ],
    ("im-cs-sessions", 2, "A"): ["reason", "sessions"],
    ("im-cs-sessions", 3, "A"): ["time", "queued"],
    ("im-cs-sessions", 4, "A"): ["time", "oldest_wait_s"],
    ("im-cs-sessions", 5, "A"): ["length", "sessions"],
    ("im-cs-sessions", 6, "A"): ["agent", "taken", "closed", "closed_inactive"],
    ("im-moderation", 1, "A"): ["time", "rule", "detections"],
    ("im-moderation", 2, "A"): ["user", "detections", "rules", "last_detection", "last_conv"],
    ("im-moderation", 3, "A"): ["muted"],
    ("im-moderation", 4, "A"): ["user", "rule", "muted_until"],
    ("im-moderation", 5, "A"): ["time", "detections"],
    ("im-gateway", 1, "A"): ["time", "node", "connections"],
    ("im-gateway", 2, "A"): ["time", "connects"],
    ("im-gateway", 2, "B"): ["time", "reason", "disconnects"],
    ("im-gateway", 3, "A"): ["time", "metric", "per_second"],
    ("im-gateway", 4, "A"): ["time", "failed_share"],
    ("im-gateway", 5, "A"): ["time", "metric", "per_second"],
    ("im-gateway", 6, "A"): ["time", "p50", "p90", "p99"],
    ("im-gateway", 7, "A"): ["time", "retransmits"],
    ("im-gateway", 8, "A"): ["time", "dropped"],
    ("im-gateway", 9, "A"): ["time", "generation", "share"],
    ("im-gateway", 10, "A"): ["time", "node", "seconds"],
    ("im-gateway", 11, "A"): ["time", "node", "events"],
    ("im-gateway", 12, "A"): ["time", "node", "seconds"],
    ("im-redis", 1, "A"): ["time", "used", "rss", "maxmemory"],
    ("im-redis", 2, "A"): ["time", "policy", "ratio"],
    ("im-redis", 3, "A"): ["time", "fragmentation"],
    ("im-redis", 4, "A"): ["time", "ops"],
    ("im-redis", 5, "A"): ["time", "connected", "blocked", "maxclients"],
    ("im-redis", 6, "A"): ["time", "clients_share"],
    ("im-redis", 7, "A"): ["time", "hit_ratio"],
    ("im-redis", 8, "A"): ["time", "metric", "per_second"],
    ("im-redis", 9, "A"): ["time", "family", "keys"],
    ("im-redis", 10, "A"): ["time", "command", "entry", "duration_s"],
    ("im-redis", 11, "A"): ["rank", "family", "type", "bytes"],
    ("im-redis", 12, "A"): ["rank", "family", "per_second"],
    ("im-kafka-pipeline", 1, "A"): ["time", "topic", "records"],
    ("im-kafka-pipeline", 2, "A"): ["time", "series", "records"],
    ("im-kafka-pipeline", 3, "A"): ["time", "series", "records"],
    ("im-kafka-pipeline", 4, "A"): ["time", "series", "seconds"],
    ("im-kafka-pipeline", 5, "A"): [
        "brokers",
        "controller",
        "partitions",
        "under_replicated",
        "offline",
    ],
    ("im-kafka-pipeline", 6, "A"): ["state", "uptime_s", "restarts"],
    ("im-kafka-pipeline", 7, "A"): ["time", "state", "up"],
    ("im-kafka-pipeline", 8, "A"): ["time", "age", "duration"],
    ("im-kafka-pipeline", 9, "A"): ["time", "table", "seconds"],
    ("im-kafka-pipeline", 10, "A"): ["time", "topic", "seconds"],
    ("im-host", 1, "A"): ["time", "cpu"],
    ("im-host", 2, "A"): ["time", "load_1m", "load_5m", "load_15m", "cores"],
    ("im-host", 3, "A"): ["time", "memory_used"],
    ("im-host", 4, "A"): ["time", "dir", "used"],
    ("im-host", 5, "A"): ["time", "dir", "bytes"],
    ("im-host", 6, "A"): ["service", "up", "processes"],
    ("im-host", 7, "A"): ["time", "service", "cores"],
    ("im-host", 8, "A"): ["time", "service", "bytes"],
    **{
        (uid, 100, "A"): ["alert", "severity", "for", "holds"]  # the alert rules' state
        for uid in (
            "im-cs-reply-rate",
            "im-cs-sessions",
            "im-moderation",
            "im-gateway",
            "im-redis",
            "im-kafka-pipeline",
            "im-host",
        )
    },
}


@pytest.fixture(scope="module")
async def filled(ch: ClickHouse) -> ClickHouse:
    rollups = [t.name for t in ops_rollups(AnalyticsSettings())]
    for table in ("ops_samples", *rollups, "chat_events", "reply_rates", "session_events",
                  "moderation"):  # fmt: skip
        await ch.command(f"TRUNCATE TABLE {table}")
    await fill(ch, START, END)
    return ch


def test_every_query_is_listed_here() -> None:
    assert {(q.dashboard, q.panel_id, q.ref_id) for q in QUERIES} == set(COLUMNS)


@pytest.mark.parametrize("interval_s", [30, 60, 300, 3600])  # the SRE panels: samples, rollups
@pytest.mark.parametrize(
    "q", QUERIES, ids=[f"{q.dashboard}/{q.panel_id}{q.ref_id}" for q in QUERIES]
)
async def test_query_runs_and_answers_its_columns(
    filled: ClickHouse, q: PanelQuery, interval_s: int
) -> None:
    cols, rows = await run(filled, q, START, END, interval_s=interval_s)
    assert cols == COLUMNS[(q.dashboard, q.panel_id, q.ref_id)]
    assert rows, "no rows on data that has every metric"
    if q.format == 0:
        times = [r["time"] for r in rows]
        assert all(isinstance(t, dt.datetime) for t in times)
        assert times == sorted(times)
