"""Settings of the analytics process (Kafka -> ClickHouse, admin query API)."""

from __future__ import annotations

from dataclasses import dataclass

from im.envconfig import ConfigError, setting

MIN_SERVICE_TOKEN = 32


@dataclass(frozen=True)
class AnalyticsSettings:
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    clickhouse_url: str = setting(
        "IM_CLICKHOUSE_URL",
        "chdb:///tmp/im-chdb",
        "chdb:///path (embedded) or http(s)://user:pass@host:8123/db (server)",
    )
    redis_url: str = setting(
        "IM_REDIS_URL", "redis://127.0.0.1:16379/0", "the IM server's Redis (admin tokens)"
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
    service_token: str = setting(
        "IM_ANALYTICS_SERVICE_TOKEN",
        "",
        "bearer token of the alert evaluator (>= 32 chars; empty: admins only)",
    )
    max_queries: int = setting("IM_ANALYTICS_MAX_QUERIES", 2, "queries at once (more: 503)")
    query_timeout_s: int = setting("IM_ANALYTICS_QUERY_TIMEOUT_S", 10, "longest query")
    query_threads: int = setting("IM_ANALYTICS_QUERY_THREADS", 2, "ClickHouse threads per query")
    query_memory_mib: int = setting("IM_ANALYTICS_QUERY_MEMORY_MIB", 512, "memory per query")
    query_max_rows: int = setting("IM_ANALYTICS_QUERY_MAX_ROWS", 100_000, "rows per answer")

    def __post_init__(self) -> None:
        if self.service_token and len(self.service_token) < MIN_SERVICE_TOKEN:
            raise ConfigError(
                f"IM_ANALYTICS_SERVICE_TOKEN: at least {MIN_SERVICE_TOKEN} characters"
            )
