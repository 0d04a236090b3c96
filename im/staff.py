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

    async def ensure_admin_index(self) -> None:
        """Build `admins` once, from the accounts, when a deployment predates it."""
        if await self.redis.exists(keys.ADMINS):
            return
        admins: list[str] = []
        async for key in self.redis.scan_iter(match=keys.user("*"), count=1000):
            role, disabled = await self.redis.hmget(key, "role", "disabled")
            if role is not None and decoded(role) == "admin" and disabled is None:
                admins.append(decoded(key)[len(keys.user("")) :])
        if admins:
            await self.redis.sadd(keys.ADMINS, *admins)
            log.info("admin index built: %d enabled admins", len(admins))


def _answer(res: list[object]) -> str:
    """The role from a user_role / user_status reply, or the refusal it means."""
    status = int(str(res[0]))
    if status == -1:
        raise E.ApiError(E.NOT_FOUND, "no such user", 404)
    if status == -2:
        raise E.ApiError(E.LAST_ADMIN, "the last enabled admin cannot be removed", 409)
    return decoded(res[1])
