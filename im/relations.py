"""Friends and groups: who is in which conversation (Redis)."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from im import errors as E
from im import ids, keys, lua
from im.replies import decoded

MAX_GROUP_MEMBERS = 500


def direct_conv_id(a: str, b: str) -> str:
    lo, hi = sorted((a, b))
    return "d_" + hashlib.sha256(f"{lo}|{hi}".encode()).hexdigest()[:16]


class Relations:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._befriend = lua.register(redis, "befriend")
        self._leave = lua.register(redis, "member_leave")
        self._join = lua.register(redis, "member_join")

    async def _user_exists(self, uid: str) -> bool:
        return ids.is_user(uid) and bool(await self.redis.exists(keys.user(uid)))

    async def befriend(self, me: str, other: str, mode: str) -> str | None:
        """Ask (mode 'ask') or accept; the direct conv once both agreed, else None."""
        if other == me or not await self._user_exists(other):
            raise E.ApiError(E.NOT_FOUND, "no such user", 404)
        res = await self._befriend(args=[me, other, direct_conv_id(me, other), mode])
        status = int(res[0])
        if status == -1:
            raise E.ApiError(E.CONFLICT, "already friends", 409)
        if status == -2:
            raise E.ApiError(E.NOT_FOUND, "no pending friend request", 404)
        return decoded(res[1]) if status == 1 else None

    async def friends(self, me: str) -> list[dict[str, str]]:
        pairs = sorted((decoded(k), decoded(v)) for k, v in
                       (await self.redis.hgetall(keys.friends(me))).items())  # fmt: skip
        async with self.redis.pipeline(transaction=False) as p:
            for uid, _ in pairs:
                p.hget(keys.user(uid), "username")
            names = await p.execute()
        return [
            {"user_id": uid, "username": decoded(name or ""), "conv": conv}
            for (uid, conv), name in zip(pairs, names, strict=True)
        ]

    async def create_conv(self, kind: str, title: str, owner: str, members: set[str]) -> str:
        conv = ids.new("c")
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(keys.conv(conv), mapping={"kind": kind, "title": title, "owner": owner})
            p.hset(keys.conv(conv), "max_seq", 0)
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
        for m in everyone - {owner}:
            if not await self._user_exists(m):
                raise E.ApiError(E.NOT_FOUND, "unknown member", 404)
        conv = await self.create_conv("group", name, owner, everyone)
        group_id = "g_" + conv[2:]
        await self.redis.hset(keys.group(group_id),
                              mapping={"conv": conv, "owner": owner, "name": name})  # fmt: skip
        return group_id, conv

    async def _owned_group(self, group_id: str, caller: str) -> str:
        ids.checked(group_id, ids.GROUP, "group")
        conv, owner = await self.redis.hmget(keys.group(group_id), "conv", "owner")
        if conv is None:
            raise E.ApiError(E.NOT_FOUND, "no such group", 404)
        if decoded(owner) != caller:
            raise E.ApiError(E.FORBIDDEN, "only the owner may do that", 403)
        return decoded(conv)

    async def add_member(self, group_id: str, caller: str, user: str) -> None:
        conv = await self._owned_group(group_id, caller)
        if not await self._user_exists(user):
            raise E.ApiError(E.NOT_FOUND, "no such user", 404)
        if await self.redis.scard(keys.members(conv)) >= MAX_GROUP_MEMBERS:
            raise E.ApiError(E.INVALID, f"at most {MAX_GROUP_MEMBERS} members", 400)
        await self._join(args=[conv, user])

    async def remove_member(self, group_id: str, caller: str, user: str) -> None:
        conv = await self._owned_group(group_id, caller)
        if user == caller:
            raise E.ApiError(E.FORBIDDEN, "the owner cannot be removed", 403)
        if not int(await self._leave(args=[conv, user])):
            raise E.ApiError(E.NOT_FOUND, "not a member", 404)

    async def set_slow_mode(self, group_id: str, caller: str, interval_s: int) -> None:
        conv = await self._owned_group(group_id, caller)
        await self.redis.hset(keys.conv(conv), "slow_ms", max(0, interval_s) * 1000)
