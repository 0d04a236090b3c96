"""Settings of the local stack manager: ports and folders, all on loopback."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from im.envconfig import setting

_DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "im-stack")


@dataclass(frozen=True)
class StackSettings:
    stack_dir: str = setting("IM_STACK_DIR", ".stack", "all data, logs and pid files")
    cache_dir: str = setting("IM_CACHE_DIR", _DEFAULT_CACHE, "downloaded jars, reused")
    redis_port: int = setting("IM_REDIS_PORT", 16379, "Redis port")
    redis_appendfsync: str = setting("IM_REDIS_APPENDFSYNC", "everysec", "everysec or always")
    # With noeviction: at the limit writes fail instead of dropping keys
    # (README, Decisions), and the memory ratio the collector samples means something.
    redis_maxmemory: str = setting("IM_REDIS_MAXMEMORY", "1gb", "Redis maxmemory (noeviction)")
    kafka_port: int = setting("IM_KAFKA_PORT", 19092, "Kafka client port")
    kafka_controller_port: int = setting("IM_KAFKA_CONTROLLER_PORT", 19093, "KRaft port")
    kafka_partitions: int = setting("IM_KAFKA_PARTITIONS", 4, "partitions per topic")
    kafka_heap: str = setting("IM_KAFKA_HEAP", "512m", "broker JVM heap")
    http_port: int = setting("IM_HTTP_PORT", 8080, "first server node's port")
    nodes: int = setting("IM_NODES", 1, "server nodes (ports http_port, +1, ...)")
    ops_port: int = setting("IM_OPS_PORT", 9080, "first server node's ops port (+1, ...)")
    analytics_port: int = setting("IM_ANALYTICS_PORT", 8090, "analytics query API port")
    monitor_port: int = setting("IM_MONITOR_PORT", 8095, "collector's /healthz port")
    alert_port: int = setting("IM_ALERT_PORT", 8096, "alert evaluator's /healthz, /metrics port")
    console_port: int = setting("IM_CONSOLE_PORT", 8097, "the web console's port")
    flink_rest_port: int = setting("IM_FLINK_REST_PORT", 18081, "Flink web UI and REST port")
    flink_rpc_port: int = setting("IM_FLINK_RPC_PORT", 16123, "Flink JobManager RPC port")
    flink_jobmanager_memory: str = setting(
        "IM_FLINK_JOBMANAGER_MEMORY", "768m", "JobManager process size"
    )
    flink_taskmanager_memory: str = setting(
        "IM_FLINK_TASKMANAGER_MEMORY", "1536m", "TaskManager process size"
    )
    flink_slots: int = setting("IM_FLINK_SLOTS", 2, "task slots of the TaskManager")
    clickhouse_url: str = setting(
        "IM_CLICKHOUSE_URL", "", "empty: embedded chDB under the stack dir; else a server URL"
    )
    tick_interval_s: float = setting("IM_TICK_INTERVAL_S", 2.0, "server tick period")
    count_window_s: int = setting("IM_STREAM_COUNT_WINDOW_S", 60, "message-count window")
    lateness_s: int = setting("IM_STREAM_LATENESS_S", 5, "watermark lateness bound")
    # More settings for the stack's programs, over what the environment gives
    # them (tests use this; not read from the environment itself).
    extra_env: tuple[tuple[str, str], ...] = ()

    @property
    def root(self) -> Path:
        return Path(self.stack_dir).resolve()

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def effective_clickhouse_url(self) -> str:
        return self.clickhouse_url or f"chdb://{self.data / 'clickhouse'}"
