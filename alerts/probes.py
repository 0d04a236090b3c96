"""Watching the watcher: what the evaluator checks itself, not through the telemetry.

The samples reach ClickHouse through the collector, the outbox in Redis,
Kafka and the analytics process, so a rule over `ops_samples` cannot say
that one of those is down: it would only go quiet. These probes ask each
of them directly, every evaluation, the way Prometheus derives `up` from
its own scrapes. Each probe is bounded by a timeout and never raises: a
failure is `up=False` with a short reason (no internal detail beyond it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class ProbeResult:
    up: bool
    value: float  # what the probe measured: brokers, rounds, seconds; 0 when down
    reason: str = ""  # why it is down: timeout, refused, http 503, ...


PROBES = ("redis", "kafka", "analytics", "collector")


async def _timed(check: Callable[[], Awaitable[float]], timeout_s: float) -> ProbeResult:
    try:
        return ProbeResult(True, await asyncio.wait_for(check(), timeout_s))
    except TimeoutError:
        return ProbeResult(False, 0.0, "timeout")
    except httpx.HTTPStatusError as e:
        return ProbeResult(False, 0.0, f"http {e.response.status_code}")
    except Exception as e:  # any failure is "down", named by its type
        return ProbeResult(False, 0.0, type(e).__name__)


class Probes:
    """`run()` → {probe name: result}. Clients are made once and reused."""

    def __init__(
        self,
        redis_url: str,
        kafka_bootstrap: str,
        analytics_url: str,
        collector_url: str,
        timeout_s: float = 3.0,
    ) -> None:
        self.timeout_s = timeout_s
        self.redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self.kafka_bootstrap = kafka_bootstrap
        self.analytics_url = analytics_url.rstrip("/")
        self.collector_url = collector_url.rstrip("/")
        self.http = httpx.AsyncClient(timeout=timeout_s)

    async def _redis(self) -> float:
        start = time.monotonic()
        await self.redis.ping()
        return time.monotonic() - start  # seconds a PING took

    async def _kafka(self) -> float:
        # A fresh admin client each time: one that lost its broker does not recover
        # reliably, and a probe every 15 s costs nothing.
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.kafka_bootstrap, request_timeout_ms=int(self.timeout_s * 1000)
        )
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            return float(len(cluster["brokers"]))  # brokers that answer metadata
        finally:
            await admin.close()

    async def _health(self, url: str, field: str) -> float:
        r = await self.http.get(f"{url}/healthz")
        r.raise_for_status()
        return float(r.json().get(field, 1))

    async def run(self) -> dict[str, ProbeResult]:
        checks: dict[str, Callable[[], Awaitable[float]]] = {
            "redis": self._redis,
            "kafka": self._kafka,
            "analytics": lambda: self._health(self.analytics_url, "inserted"),
            "collector": lambda: self._health(self.collector_url, "rounds"),
        }
        results = await asyncio.gather(*(_timed(c, self.timeout_s) for c in checks.values()))
        return dict(zip(checks, results, strict=True))

    async def close(self) -> None:
        await self.redis.aclose()
        await self.http.aclose()
