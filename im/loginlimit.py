"""Failed-login limits per username and per client address, on Redis.

Fixed window, started by the first failure: `ll:u:{username}` and
`ll:a:{address}` count failures and expire `window_s` after the failure that
created them (later failures do not extend it), so no key outlives its window
and nothing accumulates. Once a counter reaches its maximum, `check` refuses
until the key expires and answers with the key's remaining TTL as the
retry-after. The cost of the fixed window: across a window boundary up to
2 x max failures can happen in a short time; a sliding log would avoid that
at the price of one sorted-set entry per failure. For a login limit, whose
job is to make password guessing slow (max per window_s), this is enough.

Only failures count: `succeeded` clears the user's counter (not the
address's: one address guessing many accounts stays limited even if it also
owns one of them). Each call is one round trip (one pipeline; the writes run
as a MULTI/EXEC transaction). Redis errors propagate to the caller, which
answers `unavailable`.

Concurrency: `check` then `failed` is not one atomic step, so attempts that
run in parallel all pass `check` before their failures land; the overshoot
is bounded by how many logins one process verifies at once (its thread pool).

Usernames and addresses come from the client: a value longer than 64
characters is replaced by "sha256:" + its hex digest in the key, so an
attacker cannot make big keys (the digest form is longer than 64 characters
and so never equals a literal value).
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from im import keys

_MAX_LITERAL = 64


def _part(value: str) -> str:
    if len(value) <= _MAX_LITERAL:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def user_key(username: str) -> str:
    return keys.failed_logins_user(_part(username))


def address_key(address: str) -> str:
    return keys.failed_logins_address(_part(address))


class LoginLimiter:
    def __init__(
        self,
        redis: aioredis.Redis,
        max_per_user: int = 10,
        max_per_address: int = 50,
        window_s: int = 300,
    ) -> None:
        if max_per_user < 1 or max_per_address < 1 or window_s < 1:
            raise ValueError("login limits and window must be at least 1")
        self.redis = redis
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window_s = window_s

    async def check(self, username: str, address: str) -> int | None:
        """None if a login attempt may go ahead, else the retry-after in ms."""
        ukey, akey = user_key(username), address_key(address)
        async with self.redis.pipeline(transaction=False) as p:
            p.get(ukey)
            p.pttl(ukey)
            p.get(akey)
            p.pttl(akey)
            ucount, uttl, acount, attl = await p.execute()
        waits = [
            self._retry_after(ttl)
            for count, ttl, limit in (
                (ucount, uttl, self.max_per_user),
                (acount, attl, self.max_per_address),
            )
            if count is not None and int(count) >= limit and ttl != -2
        ]
        return max(waits) if waits else None

    def _retry_after(self, ttl: int) -> int:
        # -1 (no TTL) never comes from this module's writes; answer the window.
        window_ms = self.window_s * 1000
        return window_ms if ttl < 0 else max(1, min(int(ttl), window_ms))

    async def failed(self, username: str, address: str) -> None:
        """Record one failed attempt for both the username and the address."""
        async with self.redis.pipeline(transaction=True) as p:
            for key in (user_key(username), address_key(address)):
                # SET NX EX starts the window; INCR keeps the TTL it set.
                p.set(key, 0, ex=self.window_s, nx=True)
                p.incr(key)
            await p.execute()

    async def succeeded(self, username: str, address: str) -> None:
        """A successful login: forget the user's failures (the address's stay)."""
        await self.redis.delete(user_key(username))
