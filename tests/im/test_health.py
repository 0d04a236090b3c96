"""/healthz and /readyz of a node, against the real Redis and Kafka and dead ports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from im.health import Health
from stack.manager import Stack
from tests.ports import free_port


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def dead_redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5)
    yield client
    await client.aclose()


async def answers(health: Health, path: str) -> tuple[int, object]:
    app = Starlette(routes=health.routes())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
        r = await http.get(path)
    return r.status_code, r.json()


async def test_ready_when_redis_and_kafka_answer(stack: Stack, redis: aioredis.Redis) -> None:
    health = Health(redis, stack.settings.kafka_bootstrap, "n1")
    assert await answers(health, "/readyz") == (
        200, {"status": "ok", "checks": {"redis": "ok", "kafka": "ok"}},
    )  # fmt: skip
    assert await answers(health, "/healthz") == (200, {"status": "ok", "node": "n1"})


async def test_not_ready_while_a_dependency_is_down(
    stack: Stack, dead_redis: aioredis.Redis
) -> None:
    health = Health(dead_redis, f"127.0.0.1:{free_port()}", "n1")
    status, body = await answers(health, "/readyz")
    assert status == 503
    assert isinstance(body, dict) and body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("down: ")
    assert body["checks"]["kafka"].startswith("down: ")
    assert await answers(health, "/healthz") == (200, {"status": "ok", "node": "n1"})


async def test_the_kafka_answer_is_kept_for_a_second(stack: Stack, redis: aioredis.Redis) -> None:
    now = [100.0]
    health = Health(redis, f"127.0.0.1:{free_port()}", "n1", clock=lambda: now[0])
    down = await health.check_kafka()
    assert down.startswith("down: ")
    health.kafka_bootstrap = stack.settings.kafka_bootstrap  # Kafka is back ...
    now[0] += 0.9
    assert await health.check_kafka() == down  # ... but probes within 1 s get the kept answer
    now[0] += 0.1
    assert await health.check_kafka() == "ok"
