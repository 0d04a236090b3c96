"""Delivery upkeep next to the hub: gaps filled from the real Redis, and resends."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from im import keys
from im.hub import Hub, Link
from im.upkeep import GAP_WAIT_S, GapHealer, Retransmitter
from im.wire import encode
from stack.manager import Stack
from tests.im.sansio import Recorder


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


def held_after_a_gap(conv: str, now: float) -> tuple[Hub, Link, Recorder]:
    """A device that knows seq 0 of `conv` and was pushed seq 4: 1-3 are missing."""
    rec = Recorder()
    link = Link("u", "phone", rec, early=None)
    link.expect(conv, 1)
    hub = Hub(ack_timeout_s=5.0)
    hub.attach(link)
    link.push_msg(b"m4", conv, 4, due=now + 5, now=now)
    assert rec.frames == []
    return hub, link, rec


async def test_a_gap_is_filled_from_redis_and_a_seq_never_stored_skipped(
    redis: aioredis.Redis,
) -> None:
    conv = f"c_heal{secrets.token_hex(4)}"
    await redis.hset(keys.messages(conv), mapping={"1": '{"seq":1}', "2": '{"seq":2}'})
    now = time.time()
    hub, link, rec = held_after_a_gap(conv, now)
    healer = GapHealer(hub, redis)
    assert await healer.heal(now - GAP_WAIT_S) == 0  # too young: pushes may still come
    assert await healer.heal(now) == 2
    assert rec.frames == [encode('{"seq":1}'), encode('{"seq":2}'), b"m4"]  # 3: never stored
    assert link.gaps(time.time()) == []
    assert set(link.pending[conv]) == {1, 2, 4}  # the healed pushes wait for acks too
    await redis.delete(keys.messages(conv))


async def test_the_healer_task_fills_a_gap_after_the_wait(redis: aioredis.Redis) -> None:
    conv = f"c_heal{secrets.token_hex(4)}"
    await redis.hset(keys.messages(conv), mapping={"1": "{}", "2": "{}", "3": "{}"})
    hub, _, rec = held_after_a_gap(conv, time.time())
    async with GapHealer(hub, redis):
        await asyncio.sleep(GAP_WAIT_S * 3)
    assert rec.frames == [encode("{}")] * 3 + [b"m4"]
    await redis.delete(keys.messages(conv))


async def test_the_retransmitter_resends_unacked_pushes_then_gives_up() -> None:
    rec = Recorder()
    link = Link("u", "phone", rec, early=None)
    hub = Hub(ack_timeout_s=0.05, retries=1)
    hub.attach(link)
    link.push_msg(b"m1", "c", 1, due=time.time() + 0.05)
    retransmitter = Retransmitter(hub)
    await retransmitter.start()
    await retransmitter.start()  # a second start changes nothing
    await asyncio.sleep(0.3)
    await retransmitter.stop()
    await retransmitter.stop()
    assert rec.frames == [b"m1", b"m1"]
    assert (hub.stats.resent, hub.stats.dropped) == (1, 1)
    assert link.pending == {}
