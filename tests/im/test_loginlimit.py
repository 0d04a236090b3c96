"""Failed-login limits, against the real Redis of the test stack."""

from __future__ import annotations

import secrets

import pytest
import redis.asyncio as aioredis

from im.loginlimit import (
    KNOWN_DAYS,
    KNOWN_MAX,
    LoginLimiter,
    address_key,
    known_address_key,
    known_key,
    user_key,
)
from tests.waiting import wait_until

WINDOW_S = 300


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


async def test_user_limit_then_other_user_unaffected(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, max_per_user=3, max_per_address=100, window_s=WINDOW_S)
    alice, bob, addr = unique("alice"), unique("bob"), unique("10.0.0")
    for _ in range(3):
        assert await limiter.check(alice, addr) is None
        await limiter.failed(alice, addr)
    retry = await limiter.check(alice, addr)
    assert retry is not None
    assert 0 < retry <= WINDOW_S * 1000
    assert retry > (WINDOW_S - 10) * 1000  # the window started a moment ago
    assert await redis.get(user_key(alice)) == "3"
    assert await limiter.check(bob, addr) is None  # same address, still under its limit


async def test_address_limit_applies_across_usernames(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, max_per_user=10, max_per_address=4, window_s=WINDOW_S)
    addr, other_addr = unique("192.0.2"), unique("198.51.100")
    for _ in range(4):
        name = unique("user")
        assert await limiter.check(name, addr) is None
        await limiter.failed(name, addr)
    fresh = unique("fresh")
    retry = await limiter.check(fresh, addr)
    assert retry is not None
    assert 0 < retry <= WINDOW_S * 1000
    assert await redis.get(address_key(addr)) == "4"
    assert await limiter.check(fresh, other_addr) is None


async def test_known_addresses_have_their_own_count(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, max_per_user=2, max_per_address=100, window_s=WINDOW_S)
    carol, home, elsewhere = unique("carol"), unique("203.0.113"), unique("198.51.100")
    await limiter.succeeded(carol, home)  # carol signed in from home once
    for _ in range(2):
        await limiter.failed(carol, elsewhere)
    assert await limiter.check(carol, elsewhere) is not None  # the guesser is locked out
    assert await limiter.check(carol, unique("192.0.2")) is not None  # and any new address
    assert await limiter.check(carol, home) is None  # the owner is not
    assert await redis.get(user_key(carol)) == "2"
    for _ in range(2):  # the owner's own typos count apart, at home only
        await limiter.failed(carol, home)
    assert await limiter.check(carol, home) is not None
    assert await redis.get(known_address_key(carol, home)) == "2"
    await limiter.succeeded(carol, home)  # clears home's count, not the guesser's
    assert await limiter.check(carol, home) is None
    assert await redis.get(user_key(carol)) == "2"
    assert await redis.get(address_key(home)) == "2"  # the address keeps its failures


async def test_known_addresses_are_bounded_and_expire(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, window_s=WINDOW_S)
    dave = unique("dave")
    for i in range(KNOWN_MAX + 5):
        await limiter.succeeded(dave, f"10.7.0.{i}")
    known = await redis.zrange(known_key(dave), 0, -1)
    assert len(known) == KNOWN_MAX and "10.7.0.0" not in known  # the oldest went
    assert KNOWN_DAYS * 86400 - 10 <= await redis.ttl(known_key(dave)) <= KNOWN_DAYS * 86400


async def test_keys_expire_with_the_window(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, window_s=WINDOW_S)
    erin, addr = unique("erin"), unique("::1")
    await limiter.failed(erin, addr)
    first = await redis.ttl(user_key(erin))
    await limiter.failed(erin, addr)
    assert await redis.get(user_key(erin)) == "2"
    for key in (user_key(erin), address_key(addr)):
        ttl = await redis.ttl(key)
        assert WINDOW_S - 5 <= ttl <= WINDOW_S
    assert await redis.ttl(user_key(erin)) <= first  # later failures do not extend it


async def test_window_ends(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, max_per_user=1, max_per_address=1, window_s=1)
    frank, addr = unique("frank"), unique("10.9.8")
    await limiter.failed(frank, addr)
    retry = await limiter.check(frank, addr)
    assert retry is not None
    assert 0 < retry <= 1000
    await redis.pexpire(user_key(frank), 1)  # end the window now instead of waiting
    await redis.pexpire(address_key(addr), 1)

    async def allowed() -> bool:
        return await limiter.check(frank, addr) is None

    await wait_until(allowed, what="login allowed once the window ended")


async def test_long_values_are_hashed_in_keys(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, max_per_user=1, window_s=WINDOW_S)
    long_name = unique("x" * 500)
    key = user_key(long_name)
    assert key.startswith("ll:u:sha256:")
    assert len(key) == len("ll:u:sha256:") + 64
    assert user_key("alice") == "ll:u:alice"
    assert address_key("127.0.0.1") == "ll:a:127.0.0.1"
    await limiter.failed(long_name, unique("10.1.1"))
    assert await limiter.check(long_name, unique("10.1.2")) is not None


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LoginLimiter(aioredis.Redis(), max_per_user=0)
