"""Fixed-window quotas on Redis: registrations and support sessions.

Registrations (each costs an argon2 hash): per client address, 30 per 10
minutes by default (`IM_REGISTER_MAX_PER_ADDRESS`), enough for a team behind
one NAT to register together; and per minute for the whole cluster, 60 by
default (`IM_REGISTER_MAX_PER_MINUTE`), which bounds the hashing cost however
many addresses a script uses. Support sessions: per customer per hour
(`IM_CS_OPENS_PER_HOUR`, im.cs).

A quota is a key, a maximum and a window: at most `maximum` units per
window, the window started by the first unit (im/lua/quota_take.lua). One
call takes a unit from several quotas at once, all or none, in one round
trip, so every node of the cluster shares the counts. The cost of a fixed
window: across a window boundary up to 2 x maximum units can pass in a short
time; for limits whose job is to bound cost per hour, that is enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from im import errors as E
from im import keys, lua
from im.loginlimit import key_part

REGISTER_ADDRESS_WINDOW_S = 600  # the window of IM_REGISTER_MAX_PER_ADDRESS


@dataclass(frozen=True)
class Quota:
    key: str
    maximum: int
    window_s: int


def registration(address: str, per_address: int, per_minute: int) -> tuple[Quota, Quota]:
    """The quotas a registration takes from: its client address's and the cluster's."""
    return (
        Quota(keys.registrations_address(key_part(address)), per_address,
              REGISTER_ADDRESS_WINDOW_S),
        Quota(keys.REGISTRATIONS_TOTAL, per_minute, 60),
    )  # fmt: skip


class Quotas:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._take = lua.register(redis, "quota_take")

    async def take(self, *quotas: Quota) -> int | None:
        """None if a unit was taken from every quota, else the retry-after in ms."""
        args: list[int] = []
        for q in quotas:
            args += [q.maximum, q.window_s * 1000]
        wait = int(await self._take(keys=[q.key for q in quotas], args=args))
        return wait or None

    async def take_or_refuse(self, *quotas: Quota, message: str) -> None:
        """Take a unit, or refuse with 429 `rate_limited` and `retry_after`."""
        wait = await self.take(*quotas)
        if wait is not None:
            raise E.ApiError(E.RATE_LIMITED, message, 429, retry_after=wait)
