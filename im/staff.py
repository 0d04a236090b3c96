"""Admin actions on accounts: change a role, disable, enable.

Each takes effect at once. The role and the enabled flag are read from
Redis on every call (token check, the cs steps), and what a role gave is
taken away in the same request: a former agent leaves customer service
(im.cs_release). Disabling revokes every token of the user in the same
atomic step that sets the flag (im/lua/user_status.lua) and closes the
user's sockets on every node (the bus, like a logout). The last enabled
admin can be neither demoted nor disabled (409 `last_admin`), so the
cluster always keeps someone who can undo a mistake; `admins` (the set of
enabled admins) is kept in the same steps.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from im import errors as E
from im import ids, keys, lua
from im.accounts import ROLES
from im.bus import Bus
from im.cs_release import AgentRelease
from im.replies import decoded

log = logging.getLogger("im.staff")


class Staff:
    def __init__(self, redis: aioredis.Redis, release: AgentRelease, bus: Bus) -> None:
        self.redis, self.release, self.bus = redis, release, bus
        self._role = lua.register(redis, "user_role")
        self._status = lua.register(redis, "user_status")

    async def set_role(self, uid: str, role: str) -> None:
        if role not in ROLES or role == "system":
            raise E.ApiError(E.INVALID, "unknown role", 400)
        res = await self._role(args=[ids.checked(uid, ids.USER, "user"), role])
        old = _answer(res)
        if old == "agent" and role != "agent":
            await self.release.release(uid, "role_changed")

    async def disable(self, uid: str) -> None:
        """The user cannot sign in; tokens, sockets and a former agent's sessions end now."""
        res = await self._status(args=[ids.checked(uid, ids.USER, "user"), "1"])
        role = _answer(res)
        # Also when repeated: finishes what a request cut short before had begun.
        await self.bus.sign_out_user(uid)
        if role == "agent":
            await self.release.release(uid, "disabled")

    async def enable(self, uid: str) -> None:
        _answer(await self._status(args=[ids.checked(uid, ids.USER, "user"), "0"]))


async def ensure_admin_index(redis: aioredis.Redis) -> None:
    """Build `admins` once, from the accounts, when a deployment predates it.

    Once means once: a marker says it was built, because an empty set does
    not exist in Redis, and a deployment without any admin would otherwise
    scan every account at every node start. One HMGET round trip per SCAN
    batch, not per account."""
    if await redis.exists(keys.ADMINS_INDEXED) or await redis.exists(keys.ADMINS):
        return
    admins: list[str] = []
    cursor = 0
    while True:
        cursor, batch = await redis.scan(cursor, match=keys.user("*"), count=1000)
        async with redis.pipeline(transaction=False) as p:
            for key in batch:
                p.hmget(key, "role", "disabled")
            found = await p.execute()
        for key, (role, disabled) in zip(batch, found, strict=True):
            if role is not None and decoded(role) == "admin" and disabled is None:
                admins.append(decoded(key)[len(keys.user("")) :])
        if cursor == 0:
            break
    async with redis.pipeline(transaction=True) as p:
        if admins:
            p.sadd(keys.ADMINS, *admins)
        p.set(keys.ADMINS_INDEXED, "1")
        await p.execute()
    if admins:
        log.info("admin index built: %d enabled admins", len(admins))


def _answer(res: list[object]) -> str:
    """The role from a user_role / user_status reply, or the refusal it means."""
    status = int(str(res[0]))
    if status == -1:
        raise E.ApiError(E.NOT_FOUND, "no such user", 404)
    if status == -2:
        raise E.ApiError(E.LAST_ADMIN, "the last enabled admin cannot be removed", 409)
    return decoded(res[1])
