"""Settings of the analytics process (Kafka -> ClickHouse, local query API)."""

from __future__ import annotations

from dataclasses import dataclass

from im.envconfig import setting


@dataclass(frozen=True)
class AnalyticsSettings:
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    clickhouse_url: str = setting(
        "IM_CLICKHOUSE_URL",
        "chdb:///tmp/im-chdb",
        "chdb:///path (embedded) or http(s)://user:pass@host:8123/db (server)",
    )
    group_id: str = setting("IM_ANALYTICS_GROUP_ID", "im-analytics", "Kafka consumer group")
    http_host: str = setting("IM_ANALYTICS_HOST", "127.0.0.1", "query API address")
    http_port: int = setting("IM_ANALYTICS_PORT", 8090, "query API port")
    batch_rows: int = setting("IM_ANALYTICS_BATCH", 5000, "rows per ClickHouse insert")
    flush_s: float = setting("IM_ANALYTICS_FLUSH_S", 0.5, "longest wait before an insert")
    events_ttl_days: int = setting(
        "IM_EVENTS_TTL_DAYS", 90, "days raw chat/connection/session events are kept"
    )
    ops_ttl_days: int = setting("IM_OPS_TTL_DAYS", 30, "days ops samples are kept")
