"""Kafka and pipeline (uid im-kafka-pipeline): the collector's `kafka` and `pipeline`
samples (docs/events.md, "Kafka", "Pipeline"); lag rows with partition=all are a
group's per topic."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as mdash

from dashboards import opsql
from dashboards.alerting import param, rules_markdown
from dashboards.grafana import board, limit, markdown, stat_panel, timeseries, units

UID = "im-kafka-pipeline"
ALL = "s.labels['partition'] = 'all'"
HEALTH = ["kafka_brokers", "kafka_controller_present", "kafka_partitions",
          "kafka_partitions_under_replicated", "kafka_partitions_offline"]  # fmt: skip
JOB = ["pipeline_job_up", "pipeline_job_uptime_seconds", "pipeline_job_restarts_total"]


def _red_from_one(name: str) -> mdash.DynamicConfigValue:
    steps = [mdash.Threshold(None, "green"), mdash.Threshold(1, "red")]
    return mdash.DynamicConfigValue("thresholds", mdash.ThresholdsConfig(steps=steps))


def build() -> dashboard.Dashboard:
    job = (
        "SELECT argMaxIf(s.labels['state'], s.ts, s.metric = 'pipeline_job_up') AS state,\n"
        "       argMaxIf(s.closing, s.ts, s.metric = 'pipeline_job_uptime_seconds') AS uptime_s,\n"
        "       argMaxIf(s.closing, s.ts, s.metric = 'pipeline_job_restarts_total') AS restarts\n"
        f"FROM {opsql.points(JOB)}"
    )
    sink = f"{ALL} AND s.labels['group'] = 'im-analytics'"
    d = board(UID, "Kafka and pipeline", ["sre"], "Kafka topics and consumer groups, the "
              "Flink job, the result tables' freshness, the analytics sink")  # fmt: skip
    return (
        d.with_panel(timeseries((1, "Produce rate per topic", "Growth of each topic's end "
             "offsets between two rounds (kafka_topic_produce_rate_per_second).", "cps"),
             opsql.gauge_by("kafka_topic_produce_rate_per_second", "topic", name="records")))
        .with_panel(timeseries((2, "Consume rate per group and topic", "Growth of each group's "
             "committed offsets between two rounds (kafka_consumer_rate_per_second).", "cps"),
             opsql.gauge_by("kafka_consumer_rate_per_second", "group,topic", name="records")))
        .with_panel(timeseries((3, "Consumer lag in records", "End offset − committed offset, "
             "summed over the topic's partitions, per group and topic "
             "(kafka_consumer_lag_records{partition=all}); the alert's threshold.", "short"),
             opsql.gauge_by("kafka_consumer_lag_records", "group,topic", ALL, "records"),
             thresholds=limit(param("KafkaConsumerLagRecords", "max_records"))))
        .with_panel(timeseries((4, "Consumer lag in seconds", "Age of the oldest record the "
             "group has not consumed, the largest over the topic's partitions "
             "(kafka_consumer_lag_seconds{partition=all}); the alert's threshold.", "s"),
             opsql.gauge_by("kafka_consumer_lag_seconds", "group,topic", ALL, "seconds"),
             thresholds=limit(param("KafkaConsumerLagSeconds", "max_seconds"))))
        .with_panel(stat_panel((5, "Partition health", "Newest sample in the range: brokers in "
             "the metadata, a controller (1), partitions, and those under-replicated or "
             "offline (red from 1).", "short"),
             opsql.last_values(HEALTH, ["brokers", "controller", "partitions",
                                        "under_replicated", "offline"]), w=12)
             .override_by_name("under_replicated", [_red_from_one("under_replicated")])
             .override_by_name("offline", [_red_from_one("offline")]))
        .with_panel(stat_panel((6, "Flink job", "The job's newest state (Flink's; MISSING: no "
             "job of that name), its uptime and its restarts since it started.", "short"),
             job, w=12).override_by_name("uptime_s", units("s")))
        .with_panel(timeseries((7, "Flink job running", "1 while the job runs, by Flink's job "
             "state (pipeline_job_up).", "short"),
             opsql.gauge_by("pipeline_job_up", "state", name="up"), bars=True))
        .with_panel(timeseries((8, "Checkpoints", "Age of the newest completed checkpoint and "
             "its duration; the stall alert's threshold on the age.", "s"),
             opsql.gauges(["pipeline_checkpoint_age_seconds",
                           "pipeline_checkpoint_duration_seconds"], names=["age", "duration"]),
             thresholds=limit(param("FlinkCheckpointsStalled", "max_age_s"))))
        .with_panel(timeseries((9, "Result tables' freshness", "Now − the newest time field of "
             "each result table's rows in Kafka (pipeline_result_freshness_seconds); the "
             "staleness alert's threshold.", "s"),
             opsql.gauge_by("pipeline_result_freshness_seconds", "table", name="seconds"),
             thresholds=limit(param("ResultTableStale", "max_age_s"))))
        .with_panel(timeseries((10, "Analytics sink lag", "The analytics consumer group's lag "
             "per topic in seconds (kafka_consumer_lag_seconds{group=im-analytics}); the "
             "sink-lag alert's bound (that alert probes Kafka itself).", "s"),
             opsql.gauge_by("kafka_consumer_lag_seconds", "topic", sink, "seconds"),
             thresholds=limit(param("AnalyticsSinkLag", "above"))))
        .with_panel(markdown(11, "Alert rules on this dashboard", "The rules of alerts/rules/ "
             "that link here", rules_markdown(UID), h=14))
    )  # fmt: skip
