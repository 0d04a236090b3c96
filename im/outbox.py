"""The outbox relay: Redis stream `outbox` -> Kafka, and tick events.

Events are appended to the outbox in the same Lua step that stores what they
describe; this relay publishes them with an idempotent producer (acks=all)
and deletes them only after Kafka acknowledged them. Kafka being down only
makes the outbox grow; chat never waits for it. A crash between publish and
delete republishes a few events: their ids are stable, consumers drop them.

One node at a time relays (a Redis lease); if it dies the lease expires and
another node's relay carries on from the same stream.

Ticks: every `tick_interval_s` the relay writes a tick into every partition of
im.chat and im.session. A tick's ts is never newer than the oldest event still
waiting in the outbox (stream ids carry Redis' clock), so a backlog can never
be overtaken by a tick and turned late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from contract import events
from im import keys, lua
from im.background import Background
from im.replies import decoded

log = logging.getLogger("im.outbox")
STOP_WAIT_S = 5.0  # for the current batch to finish, then again for the drain


class OutboxRelay(Background):
    task_name = "outbox-relay"

    def __init__(
        self,
        redis: aioredis.Redis,
        bootstrap: str,
        node_id: str,
        batch: int = 500,
        tick_interval_s: float = 2.0,
        lease_ms: int = 10_000,
        hold_ms: int = 0,
    ) -> None:
        self.redis = redis
        # Publish only entries at least this old (0 in production): a test
        # widens the window between storing and publishing with it.
        self.hold_ms = hold_ms
        self.bootstrap = bootstrap
        self.node_id = node_id
        self.batch = batch
        self.tick_interval_s = tick_interval_s
        self.lease_ms = lease_ms
        self._renew = lua.register(redis, "lease_renew")
        self._release = lua.register(redis, "lease_release")
        self._producer: AIOKafkaProducer | None = None
        self._last_tick = 0.0
        self._stopping = asyncio.Event()
        self.published = 0

    async def start(self) -> None:
        self._stopping.clear()
        await super().start()

    async def stop(self) -> None:
        """Stop relaying; a lease holder first drains what is waiting and hands the lease back.

        Without the hand-over the outbox would wait for the lease to expire
        (or forever, if this was the last node) before another node relays.
        The loop is asked to stop between batches, not cancelled inside one:
        cancelling aiokafka's record futures mid-batch once left the producer
        unable to send, and the drain hung until the process was killed.
        """
        task = self._task
        if task is None:
            return
        started = time.monotonic()
        self._stopping.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(task), STOP_WAIT_S)
        await super().stop()  # cancels the loop only if it did not end by itself
        drained = 0
        try:
            drained = await asyncio.wait_for(self._drain_and_release(), STOP_WAIT_S)
        except Exception as e:
            log.warning("relay: no hand-over on stop: %s: %s", type(e).__name__, e)
        await self._close_producer()
        log.info("relay stopped in %.2fs (%d events drained)", time.monotonic() - started, drained)

    async def _drain_and_release(self) -> int:
        drained = 0
        if self._producer is not None and await self._renew(
            keys=[keys.RELAY_LEASE], args=[self.node_id, self.lease_ms]
        ):
            while (n := await self._relay_once(self._producer, hold=False)) > 0:
                drained += n
                if n < self.batch:
                    break
        await self._release(keys=[keys.RELAY_LEASE], args=[self.node_id])
        return drained

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                request_timeout_ms=10_000,
                max_batch_size=256 * 1024,
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if not await self._renew(
                    keys=[keys.RELAY_LEASE], args=[self.node_id, self.lease_ms]
                ):
                    await self._close_producer()
                    await self._pause(self.lease_ms / 4000)
                    continue
                producer = await self._ensure_producer()
                sent = await self._relay_once(producer)
                await self._maybe_tick(producer)
                backoff = 0.2
                if not sent:
                    await self._pause(0.02)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # Kafka or Redis down: keep the outbox, retry
                log.warning("relay: %s: %s (retrying in %.1fs)", type(e).__name__, e, backoff)
                await self._close_producer()
                await self._pause(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _relay_once(self, producer: AIOKafkaProducer, hold: bool = True) -> int:
        upto = "+"
        if self.hold_ms and hold:
            secs, micros = await self.redis.time()
            upto = str(int(secs) * 1000 + int(micros) // 1000 - self.hold_ms)
        entries = await self.redis.xrange(keys.OUTBOX, max=upto, count=self.batch)
        if not entries:
            return 0
        futures = []
        for _, f in entries:
            if f is None:  # an entry with no fields carries nothing to publish
                continue
            topic, key, value = decoded(f["t"]), decoded(f["k"]), decoded(f["v"])
            futures.append(await producer.send(topic, value=value.encode(), key=key.encode()))
        await asyncio.gather(*futures)
        await self.redis.xdel(keys.OUTBOX, *[decoded(eid) for eid, _ in entries])
        self.published += len(entries)
        return len(entries)

    async def _maybe_tick(self, producer: AIOKafkaProducer) -> None:
        now = time.monotonic()
        if now - self._last_tick < self.tick_interval_s:
            return
        self._last_tick = now
        ts = await self.tick_ts()
        for topic in events.TICK.topics:
            for p in sorted(await producer.partitions_for(topic)):
                tick = events.record(
                    events.TICK, id=events.TICK_ID + secrets.token_hex(8), ts=ts, node=self.node_id
                )
                value = orjson.dumps(tick)
                await producer.send(topic, value=value, partition=p)
        await producer.flush()

    async def tick_ts(self) -> int:
        secs, micros = await self.redis.time()
        now_ms = secs * 1000 + micros // 1000
        oldest = await self.redis.xrange(keys.OUTBOX, count=1)
        if oldest:
            return min(now_ms, int(decoded(oldest[0][0]).split("-")[0]) - 1)
        return int(now_ms)


async def outbox_stats(redis: aioredis.Redis) -> dict[str, int]:
    """Outbox length and relay lag (age of the oldest unpublished event, ms)."""
    length = await redis.xlen(keys.OUTBOX)
    oldest = await redis.xrange(keys.OUTBOX, count=1)
    secs, micros = await redis.time()
    now_ms = secs * 1000 + micros // 1000
    lag = now_ms - int(decoded(oldest[0][0]).split("-")[0]) if oldest else 0
    return {"outbox_length": int(length), "relay_lag_ms": int(lag)}
