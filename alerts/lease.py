"""One active evaluator at a time: a Redis lease (the relay's Lua steps, keys.ALERT_LEASE).

Every evaluator runs the loop; only the holder evaluates and delivers, the
others wait as standbys and take over when the holder's lease expires (a
holder killed -9 is replaced after at most one lease time). While Redis is
unreachable nobody can take the lease over, so the last holder goes on:
that is when the Redis-down alert has to go out, and a standby could never
learn that it may act.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from im import keys, lua


class Lease:
    def __init__(self, redis: aioredis.Redis, holder: str, lease_ms: int) -> None:
        self.holder, self.lease_ms = holder, lease_ms
        self._renew = lua.register(redis, "lease_renew")
        self._release = lua.register(redis, "lease_release")
        self.held = False  # as of the last answer from Redis
        self.redis_reachable = True

    async def hold(self) -> bool:
        """True while this evaluator may act (renews or takes the lease)."""
        try:
            self.held = bool(
                await self._renew(keys=[keys.ALERT_LEASE], args=[self.holder, self.lease_ms])
            )
            self.redis_reachable = True
        except (RedisError, OSError):
            self.redis_reachable = False  # keep `held` as it was: see the module's note
        return self.held

    async def release(self) -> None:
        """Hand the lease back on a clean stop, so a standby takes over at once."""
        if self.held:
            try:
                await self._release(keys=[keys.ALERT_LEASE], args=[self.holder])
            except (RedisError, OSError):
                pass  # it expires by itself
            self.held = False
