"""Liveness and readiness of a node: GET /healthz and GET /readyz.

/healthz answers while the process runs. /readyz checks Redis (a ping) and
Kafka (a bootstrap, its answer kept for 1 s so probes do not open a client
each) and answers 503 with the failing checks while either is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from aiokafka import AIOKafkaClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from im.http_api import json_response

KAFKA_CHECK_TTL_S = 1.0


class Health:
    def __init__(
        self,
        redis: aioredis.Redis,
        kafka_bootstrap: str,
        node_id: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.kafka_bootstrap, self.node_id = redis, kafka_bootstrap, node_id
        self.clock = clock
        self._kafka_checked = (0.0, "not checked")

    async def check_redis(self) -> str:
        try:
            await asyncio.wait_for(self.redis.ping(), 1.0)
        except Exception as e:
            return f"down: {type(e).__name__}"
        return "ok"

    async def check_kafka(self) -> str:
        at, state = self._kafka_checked
        if self.clock() - at < KAFKA_CHECK_TTL_S:
            return state
        client = AIOKafkaClient(bootstrap_servers=self.kafka_bootstrap, request_timeout_ms=2000)
        try:
            await asyncio.wait_for(client.bootstrap(), 2.0)
            state = "ok"
        except Exception as e:
            state = f"down: {type(e).__name__}"
        finally:
            with contextlib.suppress(Exception):
                await client.close()
        self._kafka_checked = (self.clock(), state)
        return state

    async def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok", "node": self.node_id})

    async def readyz(self, request: Request) -> Response:
        checks = {"redis": await self.check_redis(), "kafka": await self.check_kafka()}
        ok = all(v == "ok" for v in checks.values())
        return json_response(
            {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
        )

    def routes(self) -> list[Route]:
        return [Route("/healthz", self.healthz), Route("/readyz", self.readyz)]
