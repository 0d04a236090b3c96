"""Groups (and, later, friends): who is in which conversation."""

from __future__ import annotations

import secrets

import redis.asyncio as aioredis

from im import errors as E
from im import keys

MAX_GROUP_MEMBERS = 500


class Relations:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def create_conv(self, kind: str, title: str, owner: str, members: set[str]) -> str:
        conv = "c_" + secrets.token_hex(8)
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(
                keys.conv(conv),
                mapping={"kind": kind, "title": title, "owner": owner, "max_seq": 0},
            )
            p.sadd(keys.members(conv), *members)
            for m in members:
                p.sadd(keys.user_convs(m), conv)
            await p.execute()
        return conv

    async def create_group(self, owner: str, name: str, members: list[str]) -> tuple[str, str]:
        if not name or len(name) > 64:
            raise E.ApiError(E.INVALID, "group name must be 1-64 characters", 400)
        everyone = {owner, *members}
        if len(everyone) > MAX_GROUP_MEMBERS:
            raise E.ApiError(E.INVALID, f"at most {MAX_GROUP_MEMBERS} members", 400)
        async with self.redis.pipeline(transaction=False) as p:
            for m in everyone:
                p.exists(keys.user(m))
            found = await p.execute()
        if not all(found):
            raise E.ApiError(E.NOT_FOUND, "unknown member", 404)
        conv = await self.create_conv("group", name, owner, everyone)
        group_id = "g_" + conv[2:]
        await self.redis.hset(
            f"grp:{group_id}", mapping={"conv": conv, "owner": owner, "name": name}
        )
        return group_id, conv
