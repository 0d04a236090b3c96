"""The series the dashboards read beyond what the alert rules read (bench.alerts.series.ROUND):
together, one collector round of a one-node stack as the dashboards' panels see it."""

from __future__ import annotations

from bench.alerts.series import ROUND, Series

_SERVICES = ("redis", "kafka", "analytics", "server-1")
_DIRS = ("redis", "kafka", "clickhouse", "checkpoints")
_NODE = ("node", "server-1")

EXTRA = (
    [Series("host", "host_dir_size_bytes", (("dir", f"/data/{d}"),), 5e9, 1e8) for d in _DIRS]
    + [Series("host", m, (("service", s),), b, sp) for s in _SERVICES
       for m, b, sp in (("process_up", 1, 0), ("process_count", 3, 0),
                        ("process_cpu_cores", 0.2, 0.3))]
    + [Series("gateway", "im_disconnects_total", (_NODE, ("reason", r)), 0, 0, rate)
       for r, rate in (("client", 1.5), ("heartbeat_timeout", 0.2), ("replaced", 0.1),
                       ("shutdown", 0), ("error", 0.05))]
    + [Series("gateway", "im_gc_pause_seconds_total", (("generation", g), _NODE), 0, 0, r)
       for g, r in (("0", 0.01), ("1", 0.005), ("2", 0.002))]
    + [Series("gateway", "im_gc_pause_max_seconds", (_NODE,), 0.03, 0),
       Series("redis", "redis_slowlog_duration_seconds", (("command", "EVALSHA"),
                                                          ("entry", "1")), 0.012, 0.01)]
)  # fmt: skip
SERIES = ROUND + EXTRA
