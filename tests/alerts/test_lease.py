"""The evaluator's lease on a real Redis: one holder, a standby takes over when it
expires or is handed back, and the holder keeps acting while Redis is away."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from alerts.lease import Lease
from im import keys


async def test_one_holder_and_a_standby_that_takes_over(redis: aioredis.Redis) -> None:
    await redis.delete(keys.ALERT_LEASE)
    a, b = Lease(redis, "a", 300), Lease(redis, "b", 300)
    assert await a.hold() and not await b.hold()
    assert await a.hold() and not await b.hold()  # renewed, still a's
    await asyncio.sleep(0.4)  # a stops renewing: its lease expires
    assert await b.hold() and not await a.hold()
    await b.release()
    assert not b.held and await redis.get(keys.ALERT_LEASE) is None
    assert await a.hold()
    await a.release()


async def test_the_holder_goes_on_while_redis_is_unreachable(redis: aioredis.Redis) -> None:
    await redis.delete(keys.ALERT_LEASE)
    gone = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    holder, standby = Lease(redis, "h", 5000), Lease(gone, "s", 5000)
    assert await holder.hold()
    holder._renew = Lease(gone, "h", 5000)._renew  # the same holder, its Redis now away
    assert await holder.hold() and not holder.redis_reachable
    assert not await standby.hold() and not standby.redis_reachable
    await gone.aclose()
    await redis.delete(keys.ALERT_LEASE)
