"""What one server node holds: clients of Redis and Kafka, and its parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaClient

from im import keys
from im.accounts import Accounts
from im.conn_events import ConnectionEvents
from im.content import DEFAULT_ABUSIVE, DEFAULT_SENSITIVE, ContentFilter
from im.control import ControlConsumer
from im.cs import CustomerService
from im.hub import Hub
from im.loginlimit import LoginLimiter
from im.messages import Limits, Messages, Stored
from im.outbox import OutboxRelay
from im.presence import Presence
from im.relations import Relations
from im.replies import decoded
from im.settings import ServerSettings
from im.wire import encode

log = logging.getLogger("im.services")

# How long a push waits for an earlier seq before that seq is read from Redis.
GAP_WAIT_S = 0.25


class Services:
    """Started in the app's lifespan; `start()`/`stop()` are safe to repeat."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        # A blocking pool: at its limit a command waits (up to 5 s) for a free
        # connection instead of failing at once with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            timeout=5,
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=2,
            health_check_interval=10,
        )
        self.redis: aioredis.Redis = aioredis.Redis.from_pool(pool)  # closes the pool too
        self.accounts = Accounts(
            self.redis, settings.token_ttl_s, settings.argon2_time_cost, settings.argon2_memory_kib
        )
        self.messages = Messages(
            self.redis, settings.node_id, Limits(settings.rate_per_s, settings.rate_burst)
        )
        self.relations = Relations(self.redis)
        self.content = ContentFilter.from_files(
            sensitive=settings.sensitive_words or DEFAULT_SENSITIVE,
            abusive=settings.abusive_words or DEFAULT_ABUSIVE,
            mode=settings.content_mode,
        )
        self.login_limiter = LoginLimiter(
            self.redis, settings.login_max_per_user, settings.login_max_per_address
        )
        self.hub = Hub(settings.ack_timeout_s, settings.ack_retries)
        self.conn_events = ConnectionEvents(self.redis, settings.node_id)
        self.presence = Presence(self.redis, settings.node_id, self.hub.users)
        self.cs = CustomerService(
            self.redis, self.messages, settings.node_id, self.push_to_user, self.publish_msg,
            settings.cs_assign, settings.cs_capacity,
        )  # fmt: skip
        self.control = ControlConsumer(settings.kafka_bootstrap, self.redis, self.cs)
        self.relay = OutboxRelay(
            self.redis,
            settings.kafka_bootstrap,
            settings.node_id,
            batch=settings.relay_batch,
            hold_ms=settings.relay_hold_ms,
            tick_interval_s=settings.tick_interval_s,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._kafka_checked = (0.0, "not checked")
        self.started = False
        self.builtin_ready = False

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        with contextlib.suppress(Exception):  # Redis down: retried in the background
            await asyncio.wait_for(self._ensure_builtin_once(), 5)
        await self.relay.start()
        await self.presence.start()
        await self.control.start()
        self._tasks = [
            asyncio.create_task(self._listen_fanout(), name="fanout"),
            asyncio.create_task(self._retransmit_loop(), name="retransmit"),
            asyncio.create_task(self._heal_loop(), name="heal"),
            asyncio.create_task(self._ensure_builtin(), name="builtin-accounts"),
        ]

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.control.stop()
        await self.presence.stop()
        await self.relay.stop()
        await self.redis.aclose()

    # -- fan-out across nodes ---------------------------------------------------
    async def publish_msg(self, stored: Stored) -> None:
        """Push a stored message to every online device of every member, on any node."""
        frame = stored.frame.decode()
        self.hub.deliver_msg(stored.members, frame, stored.conv, stored.seq, time.time())
        payload = None
        for node in stored.nodes:
            if node != self.settings.node_id:
                payload = payload or orjson.dumps(
                    {"to": stored.members, "f": frame, "c": stored.conv, "s": stored.seq}
                )
                await self.redis.publish(keys.node_channel(node), payload)

    async def push_to_user(self, user: str, frame: str) -> None:
        """A frame for every device of `user` (unread counts and the like)."""
        self.hub.deliver([user], frame)
        payload = orjson.dumps({"to": [user], "f": frame})
        for node in await self.presence.nodes_of(user):
            if node != self.settings.node_id:
                await self.redis.publish(keys.node_channel(node), payload)

    async def control_user_nodes(self, user: str, command: dict[str, object]) -> None:
        """A command for the other nodes where `user` is online (replace, revoke)."""
        payload = None
        for node in await self.presence.nodes_of(user):
            if node != self.settings.node_id:
                payload = payload or orjson.dumps(command)
                await self.redis.publish(keys.node_channel(node), payload)

    async def revoke_token(self, user: str, token_digest: str) -> None:
        self.hub.revoke(user, token_digest)
        await self.control_user_nodes(user, {"revoke": [user, token_digest]})

    async def _listen_fanout(self) -> None:
        channel = keys.node_channel(self.settings.node_id)
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as ps:
                    await ps.subscribe(channel)
                    async for item in ps.listen():
                        try:
                            self._dispatch(orjson.loads(item["data"]))
                        except (KeyError, TypeError, ValueError) as e:  # never drop the channel
                            log.warning("fan-out: bad payload: %s: %s", type(e).__name__, e)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("fan-out listener: %s: %s; resubscribing", type(e).__name__, e)
                await asyncio.sleep(0.5)

    async def _ensure_builtin_once(self) -> None:
        await self.accounts.ensure_builtin(
            self.settings.admin_username, self.settings.admin_password
        )
        self.builtin_ready = True

    async def _ensure_builtin(self) -> None:
        # In the background: a node starts (and says "not ready") while Redis is down.
        while not self.builtin_ready:
            try:
                await self._ensure_builtin_once()
                return
            except Exception as e:
                log.warning("built-in accounts: %s; retrying", type(e).__name__)
                await asyncio.sleep(1.0)

    def _dispatch(self, data: dict[str, Any]) -> None:
        """A payload from another node: a push, or a command about a user's devices."""
        if "c" in data:
            self.hub.deliver_msg(data["to"], data["f"], data["c"], data["s"], time.time())
        elif "f" in data:
            self.hub.deliver(data["to"], data["f"])
        elif "replace" in data:
            self.hub.replace(*data["replace"])
        elif "revoke" in data:
            self.hub.revoke(*data["revoke"])
        else:
            raise ValueError("unknown payload")

    async def _retransmit_loop(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.hub.ack_timeout_s / 2))
            self.hub.retransmit(time.time())

    async def _heal_loop(self) -> None:
        """Fill gaps in per-device push order from Redis (a publish that never came)."""
        while True:
            await asyncio.sleep(GAP_WAIT_S / 2)
            try:
                await self.heal(time.time() - GAP_WAIT_S)
            except Exception as e:
                log.warning("gap healing: %s: %s", type(e).__name__, e)

    async def heal(self, older_than: float) -> int:
        healed = 0
        for link in self.hub.all_links():
            for conv, first, upto in link.gaps(older_than):
                raw = await self.redis.hmget(keys.messages(conv),
                                             [str(s) for s in range(first, upto)])  # fmt: skip
                now = time.time()
                for seq, frame in zip(range(first, upto), raw, strict=True):
                    if frame is not None:
                        link.push_msg(
                            encode(decoded(frame)), conv, seq, now + self.hub.ack_timeout_s, now
                        )
                        healed += 1
                link.skip_to(conv, upto, now + self.hub.ack_timeout_s)  # a seq never stored
        return healed

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
