"""Accounts on Redis: register, login, profile; tokens live in im.tokens."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from im import displaynames, ids, keys
from im import errors as E
from im.replies import decoded, opt_decoded
from im.tokens import Identity, Tokens

USERNAME_RE = re.compile(r"[a-z0-9_.-]{3,32}")
ROLES = ("user", "agent", "bot", "admin", "sre", "manager", "system")
STAFF_ROLES = ("agent", "bot", "admin", "sre", "manager")  # what POST /api/admin/users gives
SYSTEM_USER = "system"  # the built-in account that speaks for the server


@dataclass(frozen=True)
class LoggedIn:
    token: str
    identity: Identity
    expires_at: int  # ms
    revoked: tuple[str, ...]  # hashes of the user's oldest tokens, revoked to make room


def check_new_user(username: str, password: str, role: str) -> None:
    """The rules a new account must meet before any hashing (cheap: 400 `invalid`)."""
    if not USERNAME_RE.fullmatch(username):
        raise E.ApiError(E.INVALID, "username must be 3-32 of a-z 0-9 _ . -", 400)
    if len(password) < 8 or len(password) > 1024:
        raise E.ApiError(E.INVALID, "password must be 8-1024 characters", 400)
    if role not in ROLES:
        raise E.ApiError(E.INVALID, "unknown role", 400)


class Accounts:
    def __init__(
        self,
        redis: aioredis.Redis,
        token_ttl_s: int,
        argon2_time_cost: int = 3,
        argon2_memory_kib: int = 65536,
    ) -> None:
        self.redis = redis
        self.tokens = Tokens(redis, token_ttl_s)
        # argon2id, slow on purpose (defaults: 64 MiB, 3 passes, ~50 ms). A
        # stored hash carries its own parameters, so changing them later
        # only affects passwords set from then on.
        self._hasher = PasswordHasher(time_cost=argon2_time_cost, memory_cost=argon2_memory_kib)
        # Verified against when the username is unknown, so both failures cost the same.
        self._dummy_hash = self._hasher.hash("not-a-real-password")

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
                    await self.register(
                        admin_username, admin_password, role="admin", reserved_ok=True
                    )

    async def taken(self, username: str) -> None:
        """409 if the username is taken (checked again atomically when claimed)."""
        if await self.redis.exists(keys.username(username)):
            raise E.ApiError(E.CONFLICT, "username is taken", 409)

    async def validate_new(
        self, username: str, password: str, display_name: str | None, role: str = "user",
        reserved_ok: bool = False,
    ) -> str:  # fmt: skip
        """The display name to store, after every check that costs no hashing."""
        check_new_user(username, password, role)
        # The username is the display name unless one is given: both must pass.
        display = displaynames.checked(display_name or username, reserved_ok)
        await self.taken(username)
        return display

    async def register(
        self,
        username: str,
        password: str,
        display_name: str | None = None,
        role: str = "user",
        reserved_ok: bool = False,
    ) -> str:
        display = await self.validate_new(username, password, display_name, role, reserved_ok)
        pw = await asyncio.to_thread(self._hasher.hash, password)
        uid = ids.new("u")
        # SET NX claims the name atomically: two registrations race, one wins.
        if not await self.redis.set(keys.username(username), uid, nx=True):
            raise E.ApiError(E.CONFLICT, "username is taken", 409)
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(
                keys.user(uid),
                mapping={"username": username, "display_name": display, "role": role, "pw": pw},
            )
            if role == "admin":
                p.sadd(keys.ADMINS, uid)
            await p.execute()
        return uid

    async def login(self, username: str, password: str) -> LoggedIn:
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
        # A disabled account gets the answer of a wrong password: no oracle.
        issued = await self.tokens.issue(uid) if ok and uid and role else None
        if issued is None or uid is None or role is None:
            raise E.ApiError(E.UNAUTHORIZED, "wrong username or password", 401)
        return LoggedIn(issued.token, Identity(uid, role), issued.expires_at, issued.revoked)

    async def check(self, token: str) -> Identity | None:
        """The identity of a live token, read from Redis on every call (revocable)."""
        return await self.tokens.check(token)

    async def logout(self, token: str) -> None:
        await self.tokens.revoke(token)

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
