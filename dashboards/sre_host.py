"""Host (uid im-host): the collector's `host` samples (docs/events.md, "Host")."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards import opsql
from dashboards.alerting import param, rules_markdown
from dashboards.grafana import board, limit, markdown, table_panel, timeseries

UID = "im-host"
LOAD = ["host_load_1m", "host_load_5m", "host_load_15m", "host_cpu_count"]


def build() -> dashboard.Dashboard:
    d = board(UID, "Host", ["sre"], "The collector's machine: CPU, memory, the data folders' "
              "disks, and each service's CPU and memory")  # fmt: skip
    return (
        d.with_panel(timeseries((1, "CPU", "Busy share of all cores between two rounds "
             "(host_cpu_ratio).", "percentunit"),
             opsql.gauges(["host_cpu_ratio"], names=["cpu"])))
        .with_panel(timeseries((2, "Load average", "Processes running or waiting, averaged "
             "over 1, 5 and 15 minutes, next to the number of cores.", "short"),
             opsql.gauges(LOAD, names=["load_1m", "load_5m", "load_15m", "cores"])))
        .with_panel(timeseries((3, "Memory used", "1 − available / total memory "
             "(host_memory_used_ratio); the alert's threshold.", "percentunit"),
             opsql.gauges(["host_memory_used_ratio"], names=["memory_used"]),
             thresholds=limit(param("HostMemoryFull", "max_ratio"))))
        .with_panel(timeseries((4, "Disk used per data folder", "Used / total of the file "
             "system holding each data folder (host_disk_used_ratio); the alert's threshold.",
             "percentunit"), opsql.gauge_by("host_disk_used_ratio", "dir", name="used"),
             thresholds=limit(param("HostDiskFull", "max_ratio"))))
        .with_panel(timeseries((5, "Data folder sizes", "Apparent size of each data folder's "
             "own files (host_dir_size_bytes).", "bytes"),
             opsql.gauge_by("host_dir_size_bytes", "dir", name="bytes")))
        .with_panel(table_panel((6, "Services", "Each service of the run folder in the newest "
             "round: up (1: its process group has a process) and how many processes.",
             "short"), _services()))
        .with_panel(timeseries((7, "CPU per service", "Cores each service's process group "
             "used between two rounds (process_cpu_cores; 1 = one core busy).", "short"),
             opsql.gauge_by("process_cpu_cores", "service", name="cores")))
        .with_panel(timeseries((8, "Memory per service", "Resident memory of each service's "
             "processes (process_rss_bytes).", "bytes"),
             opsql.gauge_by("process_rss_bytes", "service", name="bytes")))
        .with_panel(markdown(9, "Alert rules on this dashboard", "The rules of alerts/rules/ "
             "that link here", rules_markdown(UID), h=4))
    )  # fmt: skip


def _services() -> str:
    return (
        "SELECT s.labels['service'] AS service,\n"
        "       argMaxIf(s.value, s.ts, s.metric = 'process_up') AS up,\n"
        "       argMaxIf(s.value, s.ts, s.metric = 'process_count') AS processes\n"
        f"FROM {opsql.T}\nWHERE s.metric IN ('process_up', 'process_count')\n"
        f"  AND s.ts = ({opsql.newest('process_up')})\n"
        "GROUP BY service\nORDER BY service"
    )
