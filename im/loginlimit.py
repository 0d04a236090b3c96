"""Failed-login limits per username and per client address, on Redis.

Slow the attacker, not the owner. Addresses that signed in successfully as a
user are remembered for that user (`ll:ok:{username}`: a sorted set address
-> last success ms, the newest KNOWN_MAX, for KNOWN_DAYS since the last
success). Failures count:

- per address (`ll:a:{address}`, `max_per_address`), whatever the username:
  one address guessing many accounts is slowed. The default is large (200
  per 5 minutes) because a NAT'd office or a mobile carrier shares one
  address among many people who mistype;
- per username from addresses the user never signed in from
  (`ll:u:{username}`, `max_per_user`): the guesser. Once it is used up,
  new addresses are refused for that username until the window ends, but
  the owner's known addresses are not;
- per username and known address (`ll:k:{username}:{address}`, also
  `max_per_user`): the owner's own typos, or someone sharing the owner's
  address, lock out only that address.

Fixed windows, started by the first failure: a key expires `window_s` after
the failure that created it (later failures do not extend it), so no key
outlives its window. At the limit, `check` refuses with the key's remaining
TTL as the retry-after. Across a window boundary up to 2 x max failures can
happen in a short time; for a limit whose job is to make guessing slow, that
is enough. A success forgets that address's failures for the username (not
the address's own count, nor the guesser's count).

Concurrency: `check` then `failed` is not one atomic step, so attempts that
run in parallel all pass `check` before their failures land; the overshoot
is bounded by how many logins one process verifies at once (its thread pool).
Redis errors propagate to the caller, which answers `unavailable`.

Usernames and addresses come from the client: a value longer than 64
characters is replaced by "sha256:" + its hex digest in the key, so an
attacker cannot make big keys (the digest form is longer than 64 characters
and so never equals a literal value).
"""

from __future__ import annotations

import hashlib
import time

import redis.asyncio as aioredis

from im import keys

_MAX_LITERAL = 64
KNOWN_MAX = 20  # addresses remembered per user
KNOWN_DAYS = 30  # since the address's last successful sign-in


def key_part(value: str) -> str:
    """`value` as part of a key: itself, or its digest when longer than 64 characters."""
    if len(value) <= _MAX_LITERAL:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def user_key(username: str) -> str:
    return keys.failed_logins_user(key_part(username))


def known_address_key(username: str, address: str) -> str:
    return keys.failed_logins_known(key_part(username), key_part(address))


def address_key(address: str) -> str:
    return keys.failed_logins_address(key_part(address))


def known_key(username: str) -> str:
    return keys.login_addresses(key_part(username))


class LoginLimiter:
    def __init__(
        self,
        redis: aioredis.Redis,
        max_per_user: int = 10,
        max_per_address: int = 200,
        window_s: int = 300,
    ) -> None:
        if max_per_user < 1 or max_per_address < 1 or window_s < 1:
            raise ValueError("login limits and window must be at least 1")
        self.redis = redis
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window_s = window_s

    async def _user_bucket(self, username: str, address: str) -> str:
        """The username's failure key that applies to `address`."""
        since = await self.redis.zscore(known_key(username), key_part(address))
        known = since is not None and since > (time.time() - KNOWN_DAYS * 86400) * 1000
        return known_address_key(username, address) if known else user_key(username)

    async def check(self, username: str, address: str) -> int | None:
        """None if a login attempt may go ahead, else the retry-after in ms."""
        ukey, akey = await self._user_bucket(username, address), address_key(address)
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
        """Record one failed attempt for the username (from this address) and the address."""
        ukey = await self._user_bucket(username, address)
        async with self.redis.pipeline(transaction=True) as p:
            for key in (ukey, address_key(address)):
                # SET NX EX starts the window; INCR keeps the TTL it set.
                p.set(key, 0, ex=self.window_s, nx=True)
                p.incr(key)
            await p.execute()

    async def succeeded(self, username: str, address: str) -> None:
        """A successful login: the address is known for the username from now on."""
        kkey, member, now_ms = known_key(username), key_part(address), int(time.time() * 1000)
        async with self.redis.pipeline(transaction=True) as p:
            p.delete(known_address_key(username, address))
            p.zadd(kkey, {member: now_ms})
            p.zremrangebyscore(kkey, 0, now_ms - KNOWN_DAYS * 86400_000)
            p.zremrangebyrank(kkey, 0, -KNOWN_MAX - 1)  # keep the newest KNOWN_MAX
            p.expire(kkey, KNOWN_DAYS * 86400)
            await p.execute()
