"""What one server node holds: clients of Redis and Kafka, and its parts.

`Node` builds the parts and starts and stops them in order; what each does
lives in its module: the hub and its upkeep (im.hub, im.upkeep), the bus to
other nodes (im.bus), presence, the outbox relay, the control consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from im.accounts import Accounts
from im.blocks import Blocks
from im.bus import Bus
from im.conn_events import ConnectionEvents
from im.content import DEFAULT_ABUSIVE, DEFAULT_SENSITIVE, ContentFilter
from im.control import ControlConsumer
from im.cs import CustomerService
from im.cs_release import AgentRelease
from im.gwmetrics import LoopLag, NodeMetrics
from im.hotkey_conn import count_commands
from im.hotkey_flush import HotKeyFlush
from im.hotkeys import HotKeys
from im.hub import Hub
from im.invitations import Invitations
from im.loginlimit import LoginLimiter
from im.messages import Limits, Messages
from im.noderegistry import NodeRegistry, ops_url
from im.outbox import OutboxRelay
from im.presence import Presence
from im.quota import Quotas
from im.relations import MAX_GROUP_MEMBERS, Relations
from im.settings import ServerSettings
from im.staff import Staff, ensure_admin_index
from im.upkeep import GapHealer, Retransmitter

log = logging.getLogger("im.node")


class Node:
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
            # After a Redis restart every pooled connection is dead; without a
            # retry each would answer one request 503 before it is replaced.
            # Once, on a connection error only (not a timeout, when a command
            # may have run): the steps that matter are idempotent anyway (cmid dedup).
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        # Hot keys: the pool's connections count a sample of the commands' keys.
        self.hot_keys = HotKeys(
            settings.hotkey_sample_rate, settings.hotkey_window_s, settings.hotkey_max_keys
        )
        count_commands(pool, self.hot_keys)
        self.redis: aioredis.Redis = aioredis.Redis.from_pool(pool)  # closes the pool too
        self.hot_key_flush = HotKeyFlush(self.redis, self.hot_keys)
        self.accounts = Accounts(
            self.redis, settings.token_ttl_s, settings.argon2_time_cost, settings.argon2_memory_kib
        )
        self.messages = Messages(
            self.redis, settings.node_id, Limits(settings.rate_per_s, settings.rate_burst)
        )
        self.content = ContentFilter.from_files(
            sensitive=settings.sensitive_words or DEFAULT_SENSITIVE,
            abusive=settings.abusive_words or DEFAULT_ABUSIVE,
            mode=settings.content_mode,
        )
        self.login_limiter = LoginLimiter(
            self.redis, settings.login_max_per_user, settings.login_max_per_address
        )
        self.hub = Hub(settings.ack_timeout_s, settings.ack_retries)
        self.conn_events = ConnectionEvents(
            self.redis, settings.node_id, settings.auth_failed_events_per_min
        )
        self.presence = Presence(self.redis, settings.node_id, self.hub.users)
        self.bus = Bus(self.redis, settings.node_id, self.hub, self.presence)
        self.relations = Relations(self.redis, self.bus.push_to_user)
        self.invitations = Invitations(self.redis, MAX_GROUP_MEMBERS)
        self.blocks = Blocks(self.redis)
        self.retransmitter = Retransmitter(self.hub)
        self.healer = GapHealer(self.hub, self.redis)
        self.cs = CustomerService(
            self.redis, self.messages, settings.node_id, self.bus.push_to_user,
            self.bus.publish_msg, settings.cs_assign, settings.cs_capacity,
            settings.cs_opens_per_hour,
        )  # fmt: skip
        self.staff = Staff(self.redis, AgentRelease(self.redis, self.cs), self.bus)
        self.quotas = Quotas(self.redis)
        self.control = ControlConsumer(settings.kafka_bootstrap, self.redis, self.cs)
        self.relay = OutboxRelay(
            self.redis,
            settings.kafka_bootstrap,
            settings.node_id,
            batch=settings.relay_batch,
            hold_ms=settings.relay_hold_ms,
            tick_interval_s=settings.tick_interval_s,
        )
        self.metrics = NodeMetrics()
        self.loop_lag = LoopLag(self.metrics.loop_lag.observe)
        # Only a node with an ops port has something to scrape.
        self.registry: NodeRegistry | None = None
        if settings.ops_port:
            url = ops_url(settings.ops_host, settings.ops_port)
            self.registry = NodeRegistry(self.redis, settings.node_id, url)
        self._builtin: asyncio.Task[None] | None = None
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
        await self.bus.start()
        await self.retransmitter.start()
        await self.healer.start()
        await self.loop_lag.start()
        if self.registry is not None:
            await self.registry.start()
        await self.hot_key_flush.start()
        self._builtin = asyncio.create_task(self._ensure_builtin(), name="builtin-accounts")

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        if self.registry is not None:
            await self.registry.stop()  # first: a collector stops looking here at once
        await self.loop_lag.stop()
        await self.bus.stop()
        await self.retransmitter.stop()
        await self.healer.stop()
        builtin, self._builtin = self._builtin, None
        if builtin is not None:
            builtin.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await builtin
        await self.control.stop()
        await self.presence.stop()
        await self.relay.stop()
        await self.hot_key_flush.stop()  # last: what the stop's commands read counts too
        await self.redis.aclose()

    async def _ensure_builtin_once(self) -> None:
        await ensure_admin_index(self.redis)  # before the first admin joins it
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
