"""Group invitations: a user added to a group by someone who is not their
friend is invited, and joins only by accepting (Redis `inv:{uid}`, written by
im/lua/member_add.lua, used up by im/lua/member_accept.lua)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

from im import errors as E
from im import keys, lua
from im.replies import decoded


def invitation_id(group_id: str, user: str) -> str:
    """One invitation per group and user: inviting again changes nothing."""
    return "i_" + hashlib.sha256(f"{group_id}|{user}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Invitation:
    invitation: str
    group_id: str
    conv: str
    title: str
    inviter: str
    ts: int

    def row(self) -> dict[str, Any]:
        """As `GET /api/invitations` lists it."""
        return {"invitation": self.invitation, "group_id": self.group_id, "conv": self.conv,
                "title": self.title, "from": self.inviter, "ts": self.ts}  # fmt: skip

    def frame(self) -> str:
        """The `group_invite` push."""
        return orjson.dumps({"type": "group_invite", **self.row()}).decode()


class Invitations:
    def __init__(self, redis: aioredis.Redis, max_members: int) -> None:
        self.redis = redis
        self.max_members = max_members
        self._accept = lua.register(redis, "member_accept")

    async def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's pending invitations, oldest first."""
        records = [
            (decoded(iid), *decoded(rec).split(" "))
            for iid, rec in (await self.redis.hgetall(keys.invitations(user))).items()
        ]
        async with self.redis.pipeline(transaction=False) as p:
            for _, group_id, _, _ in records:
                p.hmget(keys.group(group_id), "conv", "name")
            groups = await p.execute()
        found = [
            Invitation(iid, group_id, decoded(conv), decoded(name or ""), inviter, int(ts))
            for (iid, group_id, inviter, ts), (conv, name) in zip(records, groups, strict=True)
            if conv is not None
        ]
        return [i.row() for i in sorted(found, key=lambda i: (i.ts, i.invitation))]

    async def accept(self, user: str, iid: str) -> dict[str, str]:
        """Join the group of the invitation: {group_id, conv}."""
        res = await self._accept(args=[user, iid, self.max_members])
        status = int(res[0])
        if status == -1:
            raise E.ApiError(E.NOT_FOUND, "no such invitation", 404)
        if status == -2:
            raise E.ApiError(E.CONFLICT, "the group is full", 409)
        return {"group_id": decoded(res[1]), "conv": decoded(res[2])}

    async def decline(self, user: str, iid: str) -> None:
        if not await self.redis.hdel(keys.invitations(user), iid):
            raise E.ApiError(E.NOT_FOUND, "no such invitation", 404)
