"""Redis (uid im-redis): the collector's `redis` samples (docs/events.md, "Redis")."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards import opsql
from dashboards.alerting import param, rules_markdown
from dashboards.grafana import board, limit, markdown, table_panel, timeseries

UID = "im-redis"
MEMORY = ["redis_used_memory_bytes", "redis_rss_bytes", "redis_maxmemory_bytes"]
CLIENTS = ["redis_connected_clients", "redis_blocked_clients", "redis_maxclients"]


def build() -> dashboard.Dashboard:
    clients_ratio = (
        "SELECT $__timeInterval(s.ts) AS time,\n"
        "       argMaxIf(s.closing, s.ts, s.metric = 'redis_connected_clients')\n"
        "         / argMaxIf(s.closing, s.ts, s.metric = 'redis_maxclients') AS clients_share\n"
        f"FROM {opsql.points(['redis_connected_clients', 'redis_maxclients'])}\n"
        "GROUP BY time\nORDER BY time"
    )
    slowlog = (
        "SELECT s.ts AS time, s.labels['command'] AS command, s.labels['entry'] AS entry,\n"
        "       max(s.value) AS duration_s\n"
        f"FROM {opsql.T}\nWHERE s.metric = 'redis_slowlog_duration_seconds' "
        "AND $__timeFilter(s.ts)\nGROUP BY time, command, entry\n"
        "ORDER BY time DESC, entry DESC\nLIMIT 100"
    )
    rank = "toUInt32OrZero(s.labels['rank']) AS rank, s.labels['family'] AS family"
    d = board(UID, "Redis", ["sre"], "The IM server's Redis: memory, clients, traffic, keys, "
              "the slow log, big and hot keys")  # fmt: skip
    return (
        d.with_panel(timeseries((1, "Memory", "Allocated memory (used_memory), the process' "
             "resident memory, and the maxmemory limit (0: none).", "bytes"),
             opsql.gauges(MEMORY, names=["used", "rss", "maxmemory"])))
        .with_panel(timeseries((2, "Memory used / maxmemory", "used_memory / maxmemory "
             "(redis_memory_used_ratio; only with a limit), by eviction policy: under "
             "noeviction writes fail at 1. The alert's threshold as a line.", "percentunit"),
             opsql.gauge_by("redis_memory_used_ratio", "policy", name="ratio"),
             thresholds=limit(param("RedisOutOfConfiguredMaxmemory", "max_ratio"))))
        .with_panel(timeseries((3, "Fragmentation", "RSS / used memory "
             "(mem_fragmentation_ratio); the alert's threshold (which also needs 100 MiB "
             "used).", "short"),
             opsql.gauges(["redis_fragmentation_ratio"], names=["fragmentation"]),
             thresholds=limit(param("RedisFragmentationHigh", "max_ratio"))))
        .with_panel(timeseries((4, "Commands per second", "instantaneous_ops_per_sec.", "ops"),
             opsql.gauges(["redis_ops_per_second"], names=["ops"])))
        .with_panel(timeseries((5, "Clients", "Connected clients, clients blocked in a "
             "blocking command, and the maxclients limit.", "short"),
             opsql.gauges(CLIENTS, names=["connected", "blocked", "maxclients"])))
        .with_panel(timeseries((6, "Clients / maxclients", "Connected clients / maxclients; "
             "the alert's threshold as a line.", "percentunit"), clients_ratio,
             thresholds=limit(param("RedisTooManyConnections", "max_ratio"))))
        .with_panel(timeseries((7, "Hit ratio", "Key lookups that found the key / all lookups "
             "between two rounds (the collector's own lookups taken out).", "percentunit"),
             opsql.gauges(["redis_hit_ratio"], names=["hit_ratio"])))
        .with_panel(timeseries((8, "Evicted and expired keys", "Keys evicted (0 under "
             "noeviction) and expired per second.", "cps"),
             opsql.rate(["redis_evicted_keys_total", "redis_expired_keys_total"], "metric")))
        .with_panel(timeseries((9, "Keys per family", "Keys of each key family of im/keys.py "
             "(exact when a round's SCAN covered the keyspace, else estimated from the "
             "sample).", "short"),
             opsql.gauge_by("redis_family_keys", "family", name="keys"), w=24, stack=True))
        .with_panel(table_panel((10, "Slow log", "The newest 100 slow-log entries of the range "
             "(command name only, never its arguments) and how long each ran.", "none"),
             slowlog, w=8, columns={"duration_s": "s"}))
        .with_panel(table_panel((11, "Big keys", "The biggest keys of the newest round's sample "
             "(MEMORY USAGE), by family and type; key names are never sampled.", "none"),
             opsql.latest("redis_big_key_bytes", f"{rank}, s.labels['type'] AS type,\n"
                          "       s.value AS bytes", "rank"), w=8, columns={"bytes": "bytes"}))
        .with_panel(table_panel((12, "Hot keys", "The most accessed keys of the newest complete "
             "hot-key window (the servers' sampled counts), accesses per second, by family.",
             "none"), opsql.latest("redis_hot_key_accesses_per_second",
                                  f"{rank}, s.value AS per_second", "rank"), w=8,
             columns={"per_second": "cps"}))
        .with_panel(markdown(13, "Alert rules on this dashboard", "The rules of alerts/rules/ "
             "that link here", rules_markdown(UID), h=10))
    )  # fmt: skip
