"""Presence: which nodes each online user is connected to, with expiry.

`pr:{uid}` is a hash node -> expiry (ms, Redis clock). A node writes its
entry when a user's first device signs in there, removes it when the last one
leaves, and refreshes all of its entries every `ttl_s / 3`; a node that dies
stops refreshing and its entries stop counting after `ttl_s` (send.lua
compares expiries with Redis' clock, so node clocks do not matter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import redis.asyncio as aioredis

from im import keys
from im.background import Background
from im.replies import decoded

log = logging.getLogger("im.presence")


class Presence(Background):
    task_name = "presence"

    def __init__(
        self,
        redis: aioredis.Redis,
        node_id: str,
        online_users: Callable[[], list[str]],
        ttl_s: float = 90.0,
    ) -> None:
        self.redis = redis
        self.node_id = node_id
        self.online_users = online_users
        self.ttl_ms = int(ttl_s * 1000)

    async def _expiry(self) -> int:
        secs, micros = await self.redis.time()
        return int(secs) * 1000 + int(micros) // 1000 + self.ttl_ms

    async def online(self, user: str) -> None:
        exp = await self._expiry()
        async with self.redis.pipeline(transaction=False) as p:
            p.hset(keys.presence(user), self.node_id, exp)
            p.pexpire(keys.presence(user), self.ttl_ms)
            await p.execute()

    async def offline(self, user: str) -> None:
        await self.redis.hdel(keys.presence(user), self.node_id)

    async def nodes_of(self, user: str) -> list[str]:
        secs, micros = await self.redis.time()
        now = int(secs) * 1000 + int(micros) // 1000
        entries = await self.redis.hgetall(keys.presence(user))
        return [decoded(n) for n, exp in entries.items() if int(exp) > now]

    async def refresh(self) -> None:
        users = self.online_users()
        if not users:
            return
        exp = await self._expiry()
        for i in range(0, len(users), 500):
            async with self.redis.pipeline(transaction=False) as p:
                for u in users[i : i + 500]:
                    p.hset(keys.presence(u), self.node_id, exp)
                    p.pexpire(keys.presence(u), self.ttl_ms)
                await p.execute()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                await self.refresh()
            except Exception as e:  # Redis blip: the next round refreshes
                log.warning("presence refresh: %s: %s", type(e).__name__, e)
