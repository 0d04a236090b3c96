"""Login tokens on Redis: issue, check (every call), revoke.

A token is a random 256-bit string; Redis keeps only its SHA-256
(`tok:{hash}`: uid, role at login, expiry) and the user's index of them
(`utok:{uid}`: hash -> expiry ms, im/lua/token_issue.lua), which expires
with the user's last token and drops expired hashes at every login, so it
never grows past MAX_PER_USER live tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from im import keys, lua
from im.replies import decoded, opt_decoded

MAX_PER_USER = 100  # live tokens of one user; a newer login revokes the oldest


@dataclass(frozen=True)
class Identity:
    user_id: str
    role: str


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: int  # ms
    revoked: tuple[str, ...]  # hashes of older tokens revoked to stay within MAX_PER_USER


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(self, redis: aioredis.Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._issue = lua.register(redis, "token_issue")
        self._check = lua.register(redis, "token_check")

    async def issue(self, uid: str) -> Issued | None:
        """A new token of `uid`; None if the user is disabled (or gone)."""
        token = secrets.token_urlsafe(32)
        res = await self._issue(args=[uid, token_digest(token), self.ttl_s, MAX_PER_USER])
        if int(res[0]) != 1:
            return None
        return Issued(token, int(res[1]), tuple(decoded(d) for d in res[2:]))

    async def check(self, token: str) -> Identity | None:
        """The identity of a live token, read from Redis on every call (revocable)."""
        if not token or len(token) > 512:
            return None
        res = await self._check(keys=[keys.token(token_digest(token))])
        if not res or res[1] is None:
            return None
        return Identity(decoded(res[0]), decoded(res[1]))

    async def revoke(self, token: str) -> None:
        """Logout: the token stops working now."""
        digest = token_digest(token)
        uid = opt_decoded(await self.redis.hget(keys.token(digest), "uid"))
        async with self.redis.pipeline(transaction=True) as p:
            p.delete(keys.token(digest))
            if uid:
                p.zrem(keys.user_tokens(uid), digest)
            # An index not yet converted from a plain set answers WRONGTYPE to
            # ZREM; the token is gone anyway and the next login prunes it.
            await p.execute(raise_on_error=False)
