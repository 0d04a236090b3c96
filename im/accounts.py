"""Accounts and tokens on Redis: register, login, token check, logout."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from im import errors as E
from im import keys, lua
from im.replies import decoded, opt_decoded

USERNAME_RE = re.compile(r"[a-z0-9_.-]{3,32}")
ROLES = ("user", "agent", "bot", "admin", "system")
SYSTEM_USER = "system"  # the built-in account that speaks for the server


@dataclass(frozen=True)
class Identity:
    user_id: str
    role: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenCheck:
    """The identity of a live token, read from Redis on every call (revocable).

    Its own class so the analytics process checks admin tokens the same way
    without the rest of Accounts (password hashing)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._script = lua.register(redis, "token_check")

    async def __call__(self, token: str) -> Identity | None:
        if not token or len(token) > 512:
            return None
        res = await self._script(keys=[keys.token(token_digest(token))])
        if not res or res[1] is None:
            return None
        return Identity(decoded(res[0]), decoded(res[1]))


class Accounts:
    def __init__(
        self,
        redis: aioredis.Redis,
        token_ttl_s: int,
        argon2_time_cost: int = 3,
        argon2_memory_kib: int = 65536,
    ) -> None:
        self.redis = redis
        self.token_ttl_s = token_ttl_s
        # argon2id, slow on purpose (defaults: 64 MiB, 3 passes, ~50 ms). A
        # stored hash carries its own parameters, so changing them later
        # only affects passwords set from then on.
        self._hasher = PasswordHasher(time_cost=argon2_time_cost, memory_cost=argon2_memory_kib)
        # Verified against when the username is unknown, so both failures cost the same.
        self._dummy_hash = self._hasher.hash("not-a-real-password")
        self._check = TokenCheck(redis)

    async def ensure_builtin(self, admin_username: str | None, admin_password: str | None) -> None:
        """The system account, and the first admin from the settings (idempotent)."""
        await self.redis.hsetnx(keys.user(SYSTEM_USER), "username", SYSTEM_USER)
        await self.redis.hset(
            keys.user(SYSTEM_USER), mapping={"role": "system", "display_name": "System"}
        )
        await self.redis.set(keys.username(SYSTEM_USER), SYSTEM_USER, nx=True)
        if admin_username and admin_password:
            if not await self.redis.exists(keys.username(admin_username)):
                with contextlib.suppress(E.ApiError):  # lost a race with another node
                    await self.register(admin_username, admin_password, role="admin")

    async def set_role(self, uid: str, role: str) -> None:
        """Takes effect on the next call of every token of the user (roles are read live)."""
        if role not in ROLES or role == "system":
            raise E.ApiError(E.INVALID, "unknown role", 400)
        if uid == SYSTEM_USER or not await self.redis.exists(keys.user(uid)):
            raise E.ApiError(E.NOT_FOUND, "no such user", 404)
        await self.redis.hset(keys.user(uid), "role", role)

    async def register(
        self, username: str, password: str, display_name: str | None = None, role: str = "user"
    ) -> str:
        if not USERNAME_RE.fullmatch(username):
            raise E.ApiError(E.INVALID, "username must be 3-32 of a-z 0-9 _ . -", 400)
        if len(password) < 8 or len(password) > 1024:
            raise E.ApiError(E.INVALID, "password must be 8-1024 characters", 400)
        if role not in ROLES:
            raise E.ApiError(E.INVALID, "unknown role", 400)
        display = (display_name or username)[:64]
        pw = await asyncio.to_thread(self._hasher.hash, password)
        uid = "u_" + secrets.token_hex(8)
        # SET NX claims the name atomically: two registrations race, one wins.
        if not await self.redis.set(keys.username(username), uid, nx=True):
            raise E.ApiError(E.CONFLICT, "username is taken", 409)
        await self.redis.hset(
            keys.user(uid),
            mapping={"username": username, "display_name": display, "role": role, "pw": pw},
        )
        return uid

    async def login(self, username: str, password: str) -> tuple[str, Identity, int]:
        uid = (
            opt_decoded(await self.redis.get(keys.username(username)))
            if USERNAME_RE.fullmatch(username)
            else None
        )
        stored = await self.redis.hmget(keys.user(uid), "pw", "role") if uid else [None, None]
        pw_hash, role = (opt_decoded(v) for v in stored)
        try:
            await asyncio.to_thread(self._hasher.verify, pw_hash or self._dummy_hash, password)
            ok = pw_hash is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or uid is None or role is None:
            raise E.ApiError(E.UNAUTHORIZED, "wrong username or password", 401)
        token = secrets.token_urlsafe(32)
        expires_at = int(time.time() * 1000) + self.token_ttl_s * 1000
        digest = token_digest(token)
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(keys.token(digest), mapping={"uid": uid, "role": role, "exp": expires_at})
            p.expire(keys.token(digest), self.token_ttl_s)
            p.sadd(keys.user_tokens(uid), digest)
            await p.execute()
        return token, Identity(uid, role), expires_at

    async def check(self, token: str) -> Identity | None:
        """The identity of a live token, read from Redis on every call (revocable)."""
        return await self._check(token)

    async def logout(self, token: str) -> None:
        digest = token_digest(token)
        uid = opt_decoded(await self.redis.hget(keys.token(digest), "uid"))
        async with self.redis.pipeline(transaction=True) as p:
            p.delete(keys.token(digest))
            if uid:
                p.srem(keys.user_tokens(uid), digest)
            await p.execute()

    async def profile(self, uid: str) -> dict[str, str] | None:
        data = {
            decoded(k): decoded(v) for k, v in (await self.redis.hgetall(keys.user(uid))).items()
        }
        if not data:
            return None
        return {
            "user_id": uid,
            "username": data["username"],
            "display_name": data.get("display_name", data["username"]),
            "role": data["role"],
        }

    async def exists(self, uid: str) -> bool:
        return bool(await self.redis.exists(keys.user(uid)))
