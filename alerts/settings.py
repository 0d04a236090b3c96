"""Settings of the alert evaluator, python -m alerts (see im/envconfig for how they are read).

The evaluation (what it reads, how often, who holds the lease) and delivery
(where notifications go, how long a receiver may take; the chat needs only
Redis).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from im.envconfig import ConfigError, setting


@dataclass(frozen=True)
class AlertSettings:
    redis_url: str = setting("IM_REDIS_URL", "redis://127.0.0.1:16379/0", "Redis URL")
    evaluator_id: str = setting(
        "IM_ALERT_ID", "alerts-1", "this evaluator's lease id (one per evaluator process)"
    )
    http_host: str = setting("IM_ALERT_HOST", "127.0.0.1", "/healthz and /metrics address")
    http_port: int = setting("IM_ALERT_PORT", 8096, "/healthz and /metrics port")
    interval_s: float = setting("IM_ALERT_INTERVAL_S", 15.0, "seconds between evaluations")
    lease_s: float = setting(
        "IM_ALERT_LEASE_S", 45.0, "a dead evaluator's lease passes to a standby after this"
    )
    rules_dir: str = setting(
        "IM_ALERT_RULES", str(Path(__file__).parent / "rules"), "folder of the rule files"
    )
    repeat_s: float = setting(
        "IM_ALERT_REPEAT_S", 14400.0, "a still-firing alert is notified again after this"
    )
    keep_resolved_s: float = setting(
        "IM_ALERT_KEEP_RESOLVED_S", 3600.0, "resolved alerts stay listed as recent this long"
    )
    analytics_url: str = setting(
        "IM_ANALYTICS_URL", "http://127.0.0.1:8090", "the analytics query API (ClickHouse)"
    )
    analytics_token: str = setting(
        "IM_ANALYTICS_SERVICE_TOKEN", "", "bearer token of the query API (required)"
    )
    analytics_group: str = setting(
        "IM_ANALYTICS_GROUP_ID", "im-analytics", "the analytics consumer group (its lag)"
    )
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    collector_url: str = setting(
        "IM_MONITOR_URL", "http://127.0.0.1:8095", "the ops collector's /healthz"
    )
    grafana_url: str = setting(
        "IM_GRAFANA_URL", "http://127.0.0.1:3000", "base of the rules' dashboard links"
    )
    probe_timeout_s: float = setting("IM_ALERT_PROBE_TIMEOUT_S", 3.0, "one probe")
    webhooks: tuple[str, ...] = setting(
        "IM_ALERT_WEBHOOKS", (), "comma-separated URLs that get Alertmanager's webhook payload"
    )
    webhook_timeout_s: float = setting("IM_ALERT_WEBHOOK_TIMEOUT_S", 5.0, "one webhook request")
    webhook_retries: int = setting("IM_ALERT_WEBHOOK_RETRIES", 2, "retries of a failed request")
    webhook_backoff_s: float = setting(
        "IM_ALERT_WEBHOOK_BACKOFF_S", 0.5, "wait before the first retry (doubled for each next)"
    )
    external_url: str = setting(
        "IM_ALERT_EXTERNAL_URL", "http://127.0.0.1:8080", "the payloads' externalURL"
    )
    alertmanager_url: str | None = setting(
        "IM_ALERTMANAGER_URL", None, "Alertmanager to push to (unset: none)"
    )
    alertmanager_timeout_s: float = setting(
        "IM_ALERTMANAGER_TIMEOUT_S", 5.0, "one push to Alertmanager"
    )

    def __post_init__(self) -> None:
        if not self.analytics_token:
            raise ConfigError("IM_ANALYTICS_SERVICE_TOKEN is required (the query API's token)")
        if self.interval_s <= 0 or self.lease_s <= self.interval_s:
            raise ConfigError("IM_ALERT_INTERVAL_S > 0 and IM_ALERT_LEASE_S > IM_ALERT_INTERVAL_S")
        for url in (*self.webhooks, self.alertmanager_url or "http://", self.external_url):
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"{url!r}: an http:// or https:// URL expected")
        if self.webhook_timeout_s <= 0 or self.alertmanager_timeout_s <= 0:
            raise ConfigError("IM_ALERT_WEBHOOK_TIMEOUT_S and IM_ALERTMANAGER_TIMEOUT_S > 0")
        if not 0 <= self.webhook_retries <= 10 or self.webhook_backoff_s < 0:
            raise ConfigError("IM_ALERT_WEBHOOK_RETRIES 0-10, IM_ALERT_WEBHOOK_BACKOFF_S >= 0")
