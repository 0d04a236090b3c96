"""Settings of the alert evaluator, python -m alerts (see im/envconfig for how they are read).

Delivery's part: where notifications go (webhooks, Alertmanager) and how long
a receiver may take. The chat needs only Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

from im.envconfig import ConfigError, setting


@dataclass(frozen=True)
class AlertSettings:
    redis_url: str = setting("IM_REDIS_URL", "redis://127.0.0.1:16379/0", "Redis URL")
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
        for url in (*self.webhooks, self.alertmanager_url or "http://", self.external_url):
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"{url!r}: an http:// or https:// URL expected")
        if self.webhook_timeout_s <= 0 or self.alertmanager_timeout_s <= 0:
            raise ConfigError("IM_ALERT_WEBHOOK_TIMEOUT_S and IM_ALERTMANAGER_TIMEOUT_S > 0")
        if not 0 <= self.webhook_retries <= 10 or self.webhook_backoff_s < 0:
            raise ConfigError("IM_ALERT_WEBHOOK_RETRIES 0-10, IM_ALERT_WEBHOOK_BACKOFF_S >= 0")
