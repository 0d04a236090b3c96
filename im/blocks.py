"""Blocking: a user no longer hears from someone (Redis `blk:{uid}`).

The blocked user's direct messages to the blocker are refused (`blocked`,
im/lua/send.lua); their friend requests and group invitations to the blocker
are dropped, answered as if recorded (im/lua/befriend.lua, member_add.lua),
so a block shows only where pretending would break a promise (a `sent`).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from im import errors as E
from im import keys, lua
from im.relations import is_person, usernames
from im.replies import decoded

MAX_BLOCKS = 1000  # per user


class Blocks:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._block = lua.register(redis, "block")

    async def block(self, me: str, other: str) -> None:
        """Block `other` (again: nothing changes)."""
        if other == me or not await is_person(self.redis, other):
            raise E.ApiError(E.NOT_FOUND, "no such user", 404)
        if int(await self._block(args=[me, other, MAX_BLOCKS])) == -1:
            raise E.ApiError(E.CONFLICT, f"at most {MAX_BLOCKS} blocked users", 409)

    async def unblock(self, me: str, other: str) -> None:
        if not await self.redis.srem(keys.blocks(me), other):
            raise E.ApiError(E.NOT_FOUND, "not blocked", 404)

    async def blocked(self, me: str) -> list[dict[str, str]]:
        uids = sorted(decoded(u) for u in await self.redis.smembers(keys.blocks(me)))
        names = await usernames(self.redis, uids)
        return [{"user_id": u, "username": n} for u, n in zip(uids, names, strict=True)]
