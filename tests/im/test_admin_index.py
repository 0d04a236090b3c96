"""The `admins` index is built from the accounts once, not at every node start (real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from im import keys
from im.staff import ensure_admin_index
from stack.manager import Stack


@pytest.fixture
async def r(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    # A database of its own: flushed, and no node of another test writes there.
    url = stack.settings.redis_url.rsplit("/", 1)[0] + "/8"
    client = aioredis.Redis.from_url(url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


async def test_the_enabled_admins_are_indexed_from_the_accounts(r: aioredis.Redis) -> None:
    await r.hset(keys.user("u_1"), mapping={"role": "admin"})
    await r.hset(keys.user("u_2"), mapping={"role": "admin", "disabled": "1"})
    await r.hset(keys.user("u_3"), mapping={"role": "user"})
    await ensure_admin_index(r)
    assert await r.smembers(keys.ADMINS) == {"u_1"}


async def test_a_deployment_without_admins_is_scanned_once(r: aioredis.Redis) -> None:
    await r.hset(keys.user("u_1"), mapping={"role": "user"})
    await ensure_admin_index(r)
    assert not await r.exists(keys.ADMINS) and await r.exists(keys.ADMINS_INDEXED)
    # Written behind the index's back (no Lua step): a second start does not scan again.
    await r.hset(keys.user("u_9"), mapping={"role": "admin"})
    await ensure_admin_index(r)
    assert not await r.exists(keys.ADMINS)
