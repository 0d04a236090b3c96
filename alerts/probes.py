"""Watching the watcher: what the evaluator checks itself, not through the telemetry.

The samples reach ClickHouse through the collector, the outbox in Redis,
Kafka and the analytics process, so a rule over `ops_samples` cannot say
that one of those is down or behind: it would only go quiet. These probes
(alerts.rulefile.PROBES says what each one's value is) ask each of them
directly, every evaluation, the way Prometheus derives `up` from its own
scrapes. Each is bounded by a timeout and never raises: a failure is
(False, 0.0), and its reason is kept for /metrics and the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
import redis.asyncio as aioredis

from alerts.evaluate import QueryClient
from im.outbox import outbox_stats
from monitor.kafka_sampler import KafkaSampler

Result = tuple[bool, float]
log = logging.getLogger("alerts.probes")


async def _timed(check: Callable[[], Awaitable[float]], timeout_s: float) -> tuple[Result, str]:
    try:
        return (True, await asyncio.wait_for(check(), timeout_s)), ""
    except TimeoutError:
        return (False, 0.0), "timeout"
    except httpx.HTTPStatusError as e:
        return (False, 0.0), f"http {e.response.status_code}"
    except Exception as e:  # any failure is "down", named by its type
        return (False, 0.0), type(e).__name__


class Probes:
    """`run()` → {probe name: (up, value)}; `reasons` → why the last round's were down."""

    def __init__(
        self,
        redis: aioredis.Redis,
        kafka_bootstrap: str,
        analytics_group: str,
        queries: QueryClient,
        analytics_url: str,
        collector_url: str,
        timeout_s: float = 5.0,
    ) -> None:
        self.redis, self.queries, self.timeout_s = redis, queries, timeout_s
        # The collector's own Kafka reading, twice: the brokers, and the one
        # group's lag (clients of their own: the two checks run at once).
        self.kafka = KafkaSampler(kafka_bootstrap)
        self.lag = KafkaSampler(kafka_bootstrap, groups=(analytics_group,))
        self.analytics_url = analytics_url.rstrip("/")
        self.collector_url = collector_url.rstrip("/")
        self.http = httpx.AsyncClient(timeout=timeout_s)
        self.reasons: dict[str, str] = {}

    async def _redis(self) -> float:
        start = time.monotonic()
        await self.redis.ping()
        return time.monotonic() - start

    async def _relay(self) -> float:
        """Age (s) of the oldest event waiting in the outbox (the relay lag); 0 when empty."""
        return (await outbox_stats(self.redis))["relay_lag_ms"] / 1000

    async def _kafka(self) -> float:
        """Brokers that answer a metadata request (the collector's clients: fresh ones
        after a failure, so a broker that came back is seen at once)."""

        async def brokers() -> float:
            cluster = await (await self.kafka.kafka.admin()).describe_cluster()
            return float(len(cluster["brokers"]))

        return await self.kafka.kafka.fresh_after_failure(brokers)

    async def _analytics_lag(self) -> float:
        """The analytics group's lag in seconds: the age of its oldest unconsumed record."""
        samples = await self.lag.sample()
        lags = [s.value for s in samples if s.metric == "kafka_consumer_lag_seconds"]
        return max(lags, default=0.0)

    async def _clickhouse(self) -> float:
        start = time.monotonic()
        await self.queries.query("SELECT 1 AS value")
        return time.monotonic() - start

    async def _health(self, url: str) -> float:
        start = time.monotonic()
        (await self.http.get(f"{url}/healthz")).raise_for_status()
        return time.monotonic() - start

    async def run(self) -> dict[str, Result]:
        checks: dict[str, Callable[[], Awaitable[float]]] = {
            "redis": self._redis,
            "relay": self._relay,
            "kafka": self._kafka,
            "analytics_lag": self._analytics_lag,
            "clickhouse": self._clickhouse,
            "analytics": lambda: self._health(self.analytics_url),
            "collector": lambda: self._health(self.collector_url),
        }
        # The lag reads offsets and one record per partition: more round trips.
        slow = {"analytics_lag": 3.0}
        done = await asyncio.gather(
            *(_timed(c, self.timeout_s * slow.get(n, 1.0)) for n, c in checks.items())
        )
        reasons = {name: why for name, (_, why) in zip(checks, done, strict=True) if why}
        for name in sorted(reasons.keys() ^ self.reasons.keys()):
            if name in reasons:
                log.warning("probe %s failed: %s", name, reasons[name])
            else:
                log.info("probe %s answers again", name)
        self.reasons = reasons
        return {name: result for name, (result, _) in zip(checks, done, strict=True)}

    async def close(self) -> None:
        await self.kafka.close()
        await self.lag.close()
        await self.http.aclose()
