"""The evaluator's own health in Prometheus' text format (GET /metrics of python -m alerts):
read from its counters when scraped, in a registry of its own, as the nodes do."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerts.evaluator import Evaluator


class EvaluatorMetrics(Collector):
    def __init__(self, ev: Evaluator) -> None:
        self.ev = ev

    def collect(self) -> Iterable[Metric]:
        ev, c = self.ev, self.ev.counts
        yield CounterMetricFamily("alerts_rounds", "evaluations done as the lease holder",
                                  value=c.rounds)  # fmt: skip
        yield CounterMetricFamily("alerts_standby_rounds", "rounds as a standby",
                                  value=c.standby_rounds)  # fmt: skip
        yield GaugeMetricFamily("alerts_lease_held", "1 while this evaluator acts",
                                value=1 if ev.lease.held else 0)  # fmt: skip
        yield GaugeMetricFamily("alerts_round_seconds", "duration of the last round",
                                value=c.last_seconds)  # fmt: skip
        errors = CounterMetricFamily("alerts_rule_errors", "evaluations a rule failed",
                                     labels=["rule"])  # fmt: skip
        for rule, n in sorted(c.rule_errors.items()):
            errors.add_metric([rule], n)
        yield errors
        sent = CounterMetricFamily("alerts_notifications", "notifications by channel and outcome",
                                   labels=["channel", "outcome"])  # fmt: skip
        for (channel, outcome), n in sorted(c.sent.items()):
            sent.add_metric([channel, outcome], n)
        yield sent
        yield GaugeMetricFamily("alerts_pending_notifications", "stored, not yet delivered",
                                value=len(ev.pending))  # fmt: skip
        up = GaugeMetricFamily("alerts_probe_up", "1 when the probe answered", labels=["probe"])
        for name, (ok, _value) in sorted(ev.last_probes.items()):
            up.add_metric([name], 1 if ok else 0)
        yield up
        alerts = GaugeMetricFamily("alerts_alerts", "alerts by state and severity",
                                   labels=["state", "severity"])  # fmt: skip
        by: dict[tuple[str, str], int] = {}
        for a in ev.engine.active() + ev.engine.recent():
            by[(a.state.value, a.severity)] = by.get((a.state.value, a.severity), 0) + 1
        for (state, severity), n in sorted(by.items()):
            alerts.add_metric([state, severity], n)
        yield alerts
