"""Settings of the collector, python -m monitor (see im/envconfig for how they are read)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from im.envconfig import ConfigError, setting

SAMPLERS = ("redis", "kafka", "host", "pipeline", "flink", "gateway")


@dataclass(frozen=True)
class MonitorSettings:
    node_id: str = setting("IM_NODE_ID", socket.gethostname(), "written as the samples' node")
    redis_url: str = setting("IM_REDIS_URL", "redis://127.0.0.1:16379/0", "Redis URL")
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    http_host: str = setting("IM_MONITOR_HOST", "127.0.0.1", "address of GET /healthz")
    http_port: int = setting("IM_MONITOR_PORT", 8095, "port of GET /healthz")
    interval_s: float = setting("IM_OPS_INTERVAL_S", 10.0, "one round of samples every")
    max_age_s: float = setting("IM_OPS_MAX_AGE_S", 300.0, "a queued sample older is dropped")
    queue_max: int = setting("IM_OPS_QUEUE_MAX", 20_000, "samples held while Redis is away")
    samplers: tuple[str, ...] = setting("IM_OPS_SAMPLERS", SAMPLERS, "which samplers run")
    scan_keys: int = setting("IM_OPS_SCAN_KEYS", 1000, "keys SCANned per round (families, big)")
    big_keys: int = setting("IM_OPS_BIG_KEYS", 10, "biggest keys of the sample reported")
    slowlog_max: int = setting("IM_OPS_SLOWLOG_MAX", 128, "slow-log entries read per round")
    hot_keys: int = setting("IM_OPS_HOT_KEYS", 10, "hottest keys reported (0: none)")
    hot_window_s: int = setting("IM_HOTKEY_WINDOW_S", 10, "the servers' hot-key window (s)")
    groups: tuple[str, ...] = setting("IM_OPS_GROUPS", (), "consumer groups watched (all)")
    run_dir: str | None = setting("IM_OPS_RUN_DIR", None, "pid files of the stack's services")
    data_dirs: tuple[str, ...] = setting("IM_OPS_DATA_DIRS", (), "folders whose disk use counts")
    flink_rest_url: str | None = setting("IM_FLINK_REST_URL", None, "Flink REST API, e.g. :8081")
    flink_job_name: str = setting("IM_FLINK_JOB_NAME", "im-streaming", "the job to watch")

    def __post_init__(self) -> None:
        unknown = set(self.samplers) - set(SAMPLERS)
        if unknown:
            raise ConfigError(f"IM_OPS_SAMPLERS: unknown {sorted(unknown)}; known {SAMPLERS}")
        if self.interval_s <= 0 or self.max_age_s <= 0 or self.queue_max < 1:
            raise ConfigError("IM_OPS_INTERVAL_S, IM_OPS_MAX_AGE_S > 0 and IM_OPS_QUEUE_MAX >= 1")
        if self.scan_keys < 1 or self.big_keys < 0 or self.slowlog_max < 1:
            raise ConfigError(
                "IM_OPS_SCAN_KEYS >= 1, IM_OPS_BIG_KEYS >= 0, IM_OPS_SLOWLOG_MAX >= 1"
            )
        if self.hot_keys < 0 or self.hot_window_s < 1:
            raise ConfigError("IM_OPS_HOT_KEYS >= 0 and IM_HOTKEY_WINDOW_S >= 1")
