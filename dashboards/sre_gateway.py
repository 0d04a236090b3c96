"""Gateway (uid im-gateway): the server nodes' /metrics as the collector samples them
(source `gateway`, a `node` label each; docs/events.md "Gateway metrics")."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards import opsql
from dashboards.alerting import param, rules_markdown
from dashboards.grafana import Format, Query, board, limit, markdown, timeseries

UID = "im-gateway"
AUTH = "(s.metric = 'im_auth_failures_total' OR s.labels['type'] = 'auth')"


def build() -> dashboard.Dashboard:
    d = board(UID, "Gateway", ["sre"], "WebSocket nodes: connections, traffic, latency, "
              "delivery, garbage collection, the outbox")  # fmt: skip
    return (
        d.with_panel(timeseries((1, "Connections per node", "Open WebSocket connections "
             "(im_connections, signed in or not) of each node: its newest sample in the "
             "bucket.", "short"), opsql.gauge_by("im_connections", "node", name="connections")))
        .with_panel(timeseries((2, "Connects and disconnects", "WebSocket connections "
             "accepted (im_connects_total) and ended by reason (im_disconnects_total: client, "
             "heartbeat_timeout, replaced, shutdown, error) per second, all nodes.", "cps"),
             opsql.rate(["im_connects_total"], name="connects"))
             .with_target(Query(opsql.rate(["im_disconnects_total"], "reason", name="disconnects"),
                                Format.TIME_SERIES, "B")))
        .with_panel(timeseries((3, "Auth failures", "auth frames refused for a token that "
             "names nobody (im_auth_failures_total) and all auth frames "
             "(im_frames_in_total{type=auth}) per second, all nodes.", "cps"),
             opsql.rate(["im_auth_failures_total", "im_frames_in_total"], "metric",
                        where=AUTH)))
        .with_panel(timeseries((4, "Share of sign-ins that fail", "Per bucket: the rise of "
             "im_auth_failures_total / that of auth frames, all nodes; the alert's threshold "
             "as a line (it looks at 5 minutes).", "percentunit"),
             opsql.rise_ratio("im_auth_failures_total", "im_frames_in_total", AUTH,
                              "failed_share"),
             thresholds=limit(param("GatewayAuthFailuresHigh", "max_ratio"))))
        .with_panel(timeseries((5, "Messages in and out", "send frames stored as new messages "
             "(im_sends_total) and msg frames pushed to devices (im_deliveries_total) per "
             "second, all nodes.", "cps"),
             opsql.rate(["im_sends_total", "im_deliveries_total"], "metric")))
        .with_panel(timeseries((6, "send→sent latency", "Quantiles of send to sent "
             "(im_send_latency_seconds, all nodes) per bucket, as Prometheus' "
             "histogram_quantile; the p99 alert's threshold as a line.", "s"),
             opsql.quantiles("im_send_latency_seconds_bucket", [0.5, 0.9, 0.99]),
             thresholds=limit(param("GatewaySendLatencyHigh", "max_seconds"))))
        .with_panel(timeseries((7, "Retransmits", "msg frames sent again for want of an ack "
             "(im_retransmits_total) per second, all nodes; the alert's threshold.", "cps"),
             opsql.rate(["im_retransmits_total"], name="retransmits"),
             thresholds=limit(param("GatewayRetransmitsHigh", "max_per_second"))))
        .with_panel(timeseries((8, "Dropped pushes", "msg frames given up after the last retry "
             "(im_pushes_dropped_total) per second, all nodes; the alert's threshold.", "cps"),
             opsql.rate(["im_pushes_dropped_total"], name="dropped"),
             thresholds=limit(param("GatewayPushesDropped", "max_per_second"))))
        .with_panel(timeseries((9, "Time in garbage collection", "Seconds of GC pause per "
             "second (im_gc_pause_seconds_total) by generation, all nodes.", "percentunit"),
             opsql.rate(["im_gc_pause_seconds_total"], "generation", name="share")))
        .with_panel(timeseries((10, "Longest GC pause per node", "The longest garbage-"
             "collection pause since each node started (im_gc_pause_max_seconds).", "s"),
             opsql.gauge_by("im_gc_pause_max_seconds", "node", name="seconds")))
        .with_panel(timeseries((11, "Outbox length per node", "Events waiting in the Redis "
             "outbox as each node sees it (im_outbox_length; one outbox for all).", "short"),
             opsql.gauge_by("im_outbox_length", "node", name="events")))
        .with_panel(timeseries((12, "Relay lag per node", "Age of the oldest unpublished outbox "
             "event (im_relay_lag_seconds); the outbox alert's bound as a line (the alert "
             "reads Redis itself).", "s"),
             opsql.gauge_by("im_relay_lag_seconds", "node", name="seconds"),
             thresholds=limit(param("OutboxBacklog", "above"))))
        .with_panel(markdown(13, "Alert rules on this dashboard", "The rules of alerts/rules/ "
             "that link here", rules_markdown(UID)))
    )  # fmt: skip
