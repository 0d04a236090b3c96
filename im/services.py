"""What one server node holds: clients of Redis and Kafka, and its parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaClient

from im import keys
from im.accounts import Accounts
from im.hub import Hub
from im.messages import Messages
from im.outbox import OutboxRelay
from im.relations import Relations
from im.settings import ServerSettings

log = logging.getLogger("im.services")


class Services:
    """Started in the app's lifespan; `start()`/`stop()` are safe to repeat."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=2,
            health_check_interval=10,
        )
        self.accounts = Accounts(self.redis, settings.token_ttl_s)
        self.messages = Messages(self.redis, settings.node_id)
        self.relations = Relations(self.redis)
        self.hub = Hub()
        self.relay = OutboxRelay(
            self.redis,
            settings.kafka_bootstrap,
            settings.node_id,
            batch=settings.relay_batch,
            tick_interval_s=settings.tick_interval_s,
        )
        self._fanout_task: asyncio.Task[None] | None = None
        self._kafka_checked = (0.0, "not checked")
        self.started = False

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        await self.relay.start()
        self._fanout_task = asyncio.create_task(self._listen_fanout(), name="fanout")

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        if self._fanout_task is not None:
            self._fanout_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fanout_task
        await self.relay.stop()
        await self.redis.aclose()

    # -- fan-out across nodes ---------------------------------------------------
    async def publish(self, members: tuple[str, ...], frame: str) -> None:
        """Deliver here, and tell the other nodes (they deliver to their devices)."""
        self.hub.deliver(members, frame)
        payload = orjson.dumps({"n": self.settings.node_id, "m": members, "f": frame})
        await self.redis.publish(keys.FANOUT_CHANNEL, payload)

    async def _listen_fanout(self) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as ps:
                    await ps.subscribe(keys.FANOUT_CHANNEL)
                    async for item in ps.listen():
                        data = orjson.loads(item["data"])
                        if data["n"] != self.settings.node_id:
                            self.hub.deliver(data["m"], data["f"])
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("fan-out listener: %s: %s; resubscribing", type(e).__name__, e)
                await asyncio.sleep(0.5)

    # -- readiness ----------------------------------------------------------------
    async def check_redis(self) -> str:
        try:
            await asyncio.wait_for(self.redis.ping(), 1.0)
        except Exception as e:
            return f"down: {type(e).__name__}"
        return "ok"

    async def check_kafka(self) -> str:
        at, state = self._kafka_checked
        if time.monotonic() - at < 1.0:
            return state
        client = AIOKafkaClient(
            bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=2000
        )
        try:
            await asyncio.wait_for(client.bootstrap(), 2.0)
            state = "ok"
        except Exception as e:
            state = f"down: {type(e).__name__}"
        finally:
            with contextlib.suppress(Exception):
                await client.close()
        self._kafka_checked = (time.monotonic(), state)
        return state
