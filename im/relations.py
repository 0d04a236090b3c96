"""Friends and groups: who is in which conversation (Redis).

Consent: a group's owner adds a friend at once; anyone else gets an
invitation (im/invitations.py) to accept or decline, pushed to them as a
`group_invite` frame. Members may leave; a block (im/blocks.py) makes the
blocker unreachable for the blocked user's requests and invitations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import NamedTuple

import redis.asyncio as aioredis

from im import errors as E
from im import ids, keys, lua
from im.accounts import SYSTEM_USER
from im.invitations import Invitation, invitation_id
from im.replies import decoded

MAX_GROUP_MEMBERS = 500
MAX_PENDING_INVITATIONS = 100  # per invitee; more are dropped until some are answered


def direct_conv_id(a: str, b: str) -> str:
    lo, hi = sorted((a, b))
    return "d_" + hashlib.sha256(f"{lo}|{hi}".encode()).hexdigest()[:16]


async def is_person(redis: aioredis.Redis, uid: str) -> bool:
    """An account other than the built-in `system` one."""
    return uid != SYSTEM_USER and ids.is_user(uid) and bool(await redis.exists(keys.user(uid)))


async def usernames(redis: aioredis.Redis, uids: list[str]) -> list[str]:
    async with redis.pipeline(transaction=False) as p:
        for uid in uids:
            p.hget(keys.user(uid), "username")
        return [decoded(name or "") for name in await p.execute()]


class NewGroup(NamedTuple):
    group_id: str
    conv: str
    invited: list[str]  # asked to join rather than added (not the owner's friends)


class Relations:
    """`push(user, frame)` tells a user's online devices (the bus)."""

    def __init__(self, redis: aioredis.Redis, push: Callable[[str, str], Awaitable[None]]) -> None:
        self.redis = redis
        self.push = push
        self._befriend = lua.register(redis, "befriend")
        self._leave = lua.register(redis, "member_leave")
        self._add = lua.register(redis, "member_add")

    async def befriend(self, me: str, other: str, mode: str) -> str | None:
        """Ask (mode 'ask') or accept; the direct conv once both agreed, else None."""
        if other == me or not await is_person(self.redis, other):
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
        names = await usernames(self.redis, [uid for uid, _ in pairs])
        return [
            {"user_id": uid, "username": name, "conv": conv}
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

    async def create_group(self, owner: str, name: str, members: list[str]) -> NewGroup:
        """The owner's friends among `members` join now; the others are invited."""
        if not name or len(name) > 64:
            raise E.ApiError(E.INVALID, "group name must be 1-64 characters", 400)
        others = sorted(set(members) - {owner})
        if len(others) + 1 > MAX_GROUP_MEMBERS:
            raise E.ApiError(E.INVALID, f"at most {MAX_GROUP_MEMBERS} members", 400)
        for m in others:
            if not await is_person(self.redis, m):
                raise E.ApiError(E.NOT_FOUND, "unknown member", 404)
        conv = await self.create_conv("group", name, owner, {owner})
        group_id = ids.group_of(conv)
        await self.redis.hset(keys.group(group_id),
                              mapping={"conv": conv, "owner": owner, "name": name})  # fmt: skip
        invited = [m for m in others if not await self._add_one(group_id, conv, name, owner, m)]
        return NewGroup(group_id, conv, invited)

    async def _group(self, group_id: str) -> tuple[str, str, str]:
        """(conv, owner, name) of a group; not_found if there is none."""
        ids.checked(group_id, ids.GROUP, "group")
        conv, owner, name = await self.redis.hmget(keys.group(group_id), "conv", "owner", "name")
        if conv is None:
            raise E.ApiError(E.NOT_FOUND, "no such group", 404)
        return decoded(conv), decoded(owner or ""), decoded(name or "")

    async def _owned_group(self, group_id: str, caller: str) -> tuple[str, str]:
        conv, owner, name = await self._group(group_id)
        if owner != caller:
            raise E.ApiError(E.FORBIDDEN, "only the owner may do that", 403)
        return conv, name

    async def add_member(self, group_id: str, caller: str, user: str) -> bool:
        """True: `user` is a member (added now or before); False: invited."""
        conv, name = await self._owned_group(group_id, caller)
        if not await is_person(self.redis, user):
            raise E.ApiError(E.NOT_FOUND, "no such user", 404)
        return await self._add_one(group_id, conv, name, caller, user)

    async def _add_one(self, group_id: str, conv: str, name: str, owner: str, user: str) -> bool:
        iid = invitation_id(group_id, user)
        res = await self._add(args=[group_id, conv, owner, user, iid,
                                    MAX_PENDING_INVITATIONS, MAX_GROUP_MEMBERS])  # fmt: skip
        status = int(res[0])
        if status == -1:
            raise E.ApiError(E.INVALID, f"at most {MAX_GROUP_MEMBERS} members", 400)
        if status == 2:  # a new invitation: its frame to the user's online devices
            invitation = Invitation(iid, group_id, conv, name, owner, int(res[1]))
            await self.push(user, invitation.frame())
        return status in (0, 1)

    async def remove_member(self, group_id: str, caller: str, user: str) -> None:
        conv, _ = await self._owned_group(group_id, caller)
        if user == caller:
            raise E.ApiError(E.FORBIDDEN, "the owner cannot be removed", 403)
        if not int(await self._leave(args=[conv, user, group_id])):
            raise E.ApiError(E.NOT_FOUND, "not a member", 404)

    async def leave(self, group_id: str, caller: str) -> None:
        """The caller leaves; an owner's ownership passes on (member_leave.lua)."""
        conv, _, _ = await self._group(group_id)
        if not int(await self._leave(args=[conv, caller, group_id])):
            raise E.ApiError(E.NOT_FOUND, "not a member of this group", 404)

    async def set_slow_mode(self, group_id: str, caller: str, interval_s: int) -> None:
        conv, _ = await self._owned_group(group_id, caller)
        await self.redis.hset(keys.conv(conv), "slow_ms", max(0, interval_s) * 1000)
