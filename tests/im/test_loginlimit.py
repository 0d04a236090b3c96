"""Failed-login limits, against the real Redis of the test stack."""

from __future__ import annotations

import secrets

import pytest
import redis.asyncio as aioredis

from im.loginlimit import LoginLimiter, address_key, user_key
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


async def test_succeeded_clears_the_user_counter(redis: aioredis.Redis) -> None:
    limiter = LoginLimiter(redis, max_per_user=2, max_per_address=3, window_s=WINDOW_S)
    carol, addr = unique("carol"), unique("203.0.113")
    await limiter.failed(carol, addr)
    await limiter.failed(carol, addr)
    assert await limiter.check(carol, addr) is not None
    await limiter.succeeded(carol, addr)
    assert await redis.exists(user_key(carol)) == 0
    assert await redis.get(address_key(addr)) == "2"  # the address keeps its failures
    assert await limiter.check(carol, addr) is None
    await limiter.failed(carol, addr)  # third failure from the address: now it is limited
    assert await limiter.check(unique("dave"), addr) is not None


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
