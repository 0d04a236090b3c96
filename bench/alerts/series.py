"""One collector round of a running one-node stack, as the series the alerts benchmark writes.

The series the collector writes every 10 s (docs/events.md, "What SREs watch"):
Redis, Kafka (the stack's topics and groups), the host (its data folders and
services), the pipeline, the collector itself and one server node's /metrics
(its send-latency histogram included). Gauges hover around a healthy level,
counters rise at a steady rate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    source: str
    metric: str
    labels: tuple[tuple[str, str], ...] = ()
    base: float = 1.0
    spread: float = 0.0  # gauges: base + [0, spread)
    rate: float = 0.0  # counters: base + rate per round (spread 0)


def _redis() -> list[Series]:
    r = "redis"
    out = [Series(r, m, (), b, s) for m, b, s in [
        ("redis_used_memory_bytes", 2e8, 1e7), ("redis_rss_bytes", 2.3e8, 1e7),
        ("redis_maxmemory_bytes", 2**30, 0), ("redis_fragmentation_ratio", 1.1, 0.1),
        ("redis_ops_per_second", 5000, 2000), ("redis_connected_clients", 120, 20),
        ("redis_blocked_clients", 2, 2), ("redis_maxclients", 10000, 0),
        ("redis_hit_ratio", 0.97, 0.02), ("redis_slowlog_new_entries", 0, 0),
        ("redis_slowlog_missed_entries", 0, 0)]]  # fmt: skip
    out += [Series(r, m, (), 0, 0, rate) for m, rate in [
        ("redis_rejected_connections_total", 0), ("redis_evicted_keys_total", 0),
        ("redis_expired_keys_total", 30), ("redis_keyspace_hits_total", 5e4),
        ("redis_keyspace_misses_total", 1e3)]]  # fmt: skip
    out += [Series(r, "redis_memory_used_ratio", (("policy", "noeviction"),), 0.2, 0.05),
            Series(r, "redis_keys", (("db", "0"),), 1e6, 1e4),
            Series(r, "redis_keys_expiring", (("db", "0"),), 4e5, 1e4),
            Series(r, "redis_keys_sampled", (("method", "estimate"),), 1000, 0)]  # fmt: skip
    families = ["conv", "msgs", "user", "token", "dedup", "presence", "unread", "cs_queue"]
    for f in families:
        labels = (("family", f), ("method", "estimate"))
        out += [Series(r, "redis_family_keys", labels, 1e5, 1e3),
                Series(r, "redis_family_memory_bytes", labels, 2e7, 1e6)]  # fmt: skip
    out += [Series(r, "redis_big_key_bytes", (("family", families[i % 8]), ("type", "zset"),
                                              ("rank", str(i + 1))), 1e6 / (i + 1), 1e4)
            for i in range(10)]  # fmt: skip
    out += [Series(r, "redis_hot_key_accesses_per_second", (("family", families[i]),
                                                            ("rank", str(i + 1))), 500, 100)
            for i in range(5)]  # fmt: skip
    return out


def _kafka() -> list[Series]:
    k = "kafka"
    out = [Series(k, m, (), b) for m, b in [
        ("kafka_brokers", 1), ("kafka_controller_present", 1), ("kafka_partitions", 36),
        ("kafka_partitions_under_replicated", 0), ("kafka_partitions_offline", 0)]]  # fmt: skip
    pairs = [
        ("im-stream", "im.chat"),
        ("im-analytics", "im.chat"),
        ("im-analytics", "im.ops"),
        ("im-analytics", "im.metrics.reply_rate"),
        ("im-server-control", "im.control"),
    ]
    for group, topic in pairs:
        labels = (("group", group), ("partition", "all"), ("topic", topic))
        out += [
            Series(k, "kafka_consumer_lag_records", labels, 0, 0),  # caught up
            Series(k, "kafka_consumer_lag_seconds", labels, 0.5, 2),
            Series(k, "kafka_consumer_rate_per_second", labels[:1] + labels[2:], 100, 50),
        ]
    out += [Series(k, "kafka_topic_produce_rate_per_second", (("topic", t),), 100, 50)
            for t in ("im.chat", "im.session", "im.connection", "im.ops")]  # fmt: skip
    return out


def _host() -> list[Series]:
    h = "host"
    out = [
        Series(h, m, (), b, s)
        for m, b, s in [
            ("host_cpu_count", 2, 0),
            ("host_cpu_ratio", 0.4, 0.3),
            ("host_load_1m", 1, 1),
            ("host_load_5m", 1, 0.5),
            ("host_load_15m", 1, 0.2),
            ("host_memory_total_bytes", 2.5e10, 0),
            ("host_memory_available_bytes", 1.5e10, 1e9),
            ("host_memory_used_ratio", 0.4, 0.05),
        ]
    ]
    for d in ("redis", "kafka", "clickhouse", "checkpoints"):
        out += [Series(h, "host_disk_used_ratio", (("dir", f"/data/{d}"),), 0.5, 0.01)]
    for s in ("redis", "kafka", "analytics", "server-1"):
        out += [Series(h, "process_rss_bytes", (("service", s),), 3e8, 1e7)]
    return out


def _pipeline_and_monitor() -> list[Series]:
    p, m = "pipeline", "monitor"
    out = [Series(p, "pipeline_job_up", (("state", "RUNNING"),), 1),
           Series(p, "pipeline_job_uptime_seconds", (), 0, 0, 10),
           Series(p, "pipeline_job_restarts_total", (), 0),
           Series(p, "pipeline_records_in_total", (), 0, 0, 1000),
           Series(p, "pipeline_records_out_total", (), 0, 0, 100),
           Series(p, "pipeline_checkpoints_completed_total", (), 0, 0, 1),
           Series(p, "pipeline_checkpoints_failed_total", (), 0),
           Series(p, "pipeline_checkpoint_age_seconds", (), 2, 10),
           Series(p, "pipeline_checkpoint_duration_seconds", (), 0.5, 0.5)]  # fmt: skip
    out += [
        Series(p, "pipeline_result_freshness_seconds", (("table", t),), 60, 300)
        for t in ("message_counts", "reply_rates", "conversation_sessions", "moderation")
    ]
    out += [Series(m, "monitor_samples_written_total", (), 0, 0, 140),
            Series(m, "monitor_queue_length", (), 0)]  # fmt: skip
    out += [Series(m, "monitor_sampler_seconds", (("sampler", s),), 0.02, 0.05)
            for s in ("redis", "kafka", "host", "pipeline", "flink", "gateway")]  # fmt: skip
    return out


def _gateway(node: str = "server-1") -> list[Series]:
    g, n = "gateway", ("node", node)
    out = [Series(g, m, (n,), b, s) for m, b, s in [
        ("im_connections", 1000, 50), ("im_signed_in", 990, 50), ("im_outbox_length", 5, 20),
        ("im_relay_lag_seconds", 0.05, 0.5)]]  # fmt: skip
    out += [Series(g, m, labels, 0, 0, rate) for m, labels, rate in [
        ("im_connects_total", (n,), 2), ("im_auth_failures_total", (n,), 0.05),
        ("im_frames_in_total", (n, ("type", "auth")), 2),
        ("im_frames_in_total", (n, ("type", "send")), 500),
        ("im_sends_total", (n,), 500), ("im_deliveries_total", (n,), 5000),
        ("im_retransmits_total", (n,), 1), ("im_pushes_dropped_total", (n,), 0)]]  # fmt: skip
    les = ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0",
           "2.5", "5.0", "+Inf"]  # fmt: skip
    share = [0.05, 0.3, 0.6, 0.85, 0.97, 0.99, 0.995, 0.999, 1, 1, 1, 1, 1]
    out += [Series(g, "im_send_latency_seconds_bucket", (("le", le), n), 0, 0, 500 * s)
            for le, s in zip(les, share, strict=True)]  # fmt: skip
    return out


ROUND = _redis() + _kafka() + _host() + _pipeline_and_monitor() + _gateway()
