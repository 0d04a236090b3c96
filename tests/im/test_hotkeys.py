"""The hot-key counter (plain objects, a clock of the test's), the counting
connections, and the flush into Redis (the session's real Redis)."""

from __future__ import annotations

import secrets

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, Connection, ConnectionPool

from im import keys
from im.hotkey_conn import (
    CountingConnection,
    CountingSSLConnection,
    CountingUnixConnection,
    count_commands,
)
from im.hotkey_flush import HotKeyFlush
from im.hotkeys import HotKeys
from stack.manager import Stack


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def counter(max_keys: int = 100, rate: float = 1.0, at: float = 1000.0) -> tuple[HotKeys, Clock]:
    clock = Clock(at)
    return HotKeys(rate, 10, max_keys, clock), clock


def test_counts_per_key_within_a_window() -> None:
    hot, _ = counter()
    for _ in range(3):
        hot.count(("HGET", "c:1", "max_seq"))
    hot.count(("EVALSHA", "sha", 2, "tok:a", "c:1", "arg"))
    hot.count(("PING",))
    assert hot.current.start == 1000 and hot.current.counts == {"c:1": 4, "tok:a": 1}
    assert hot.current.top(1) == [("c:1", 4)]
    assert (hot.counted, hot.dropped) == (5, 0)


def test_distinct_keys_are_bounded_and_the_overflow_counted() -> None:
    hot, _ = counter(max_keys=2)
    for key in ("a", "b", "c", "a", "d", "b"):
        hot.count(("GET", key))
    assert hot.current.counts == {"a": 2, "b": 2}  # keys seen first keep counting
    assert (hot.current.dropped, hot.dropped, hot.counted) == (2, 2, 4)


def test_a_window_closes_when_a_command_falls_into_the_next() -> None:
    hot, clock = counter(at=1009.9)
    hot.count(("GET", "a"))
    clock.now = 1010.0  # the next window, by the time of the command
    hot.count(("GET", "b"))
    assert [(w.start, w.counts) for w in hot.closed] == [(1000, {"a": 1})]
    assert (hot.current.start, hot.current.counts) == (1010, {"b": 1})


def test_the_offset_to_the_redis_clock_decides_the_window() -> None:
    hot, _ = counter(at=1009.0)
    hot.offset_s = 1.5  # Redis is 1.5 s ahead of this clock: 1010.5 there
    hot.count(("GET", "a"))
    assert hot.current.start == 1010


def test_take_gives_the_ended_windows_once() -> None:
    hot, _ = counter(at=1001.0)
    hot.count(("GET", "a"))
    assert hot.take(1009.9) == []  # not ended yet
    [w] = hot.take(1010.0)
    assert (w.start, w.counts) == (1000, {"a": 1})
    assert hot.take(1030.0) == []  # empty windows are not kept
    hot.count(("GET", "b"))
    [w] = hot.take(None)  # everything, the window under way too (a stop)
    assert w.counts == {"b": 1}


def test_the_hot_key_windows_themselves_are_not_counted() -> None:
    hot, _ = counter()
    hot.count(("ZINCRBY", keys.hot_keys(1000), 3.0, "c:1"))
    hot.count(("EXPIRE", keys.hot_keys(1000), 300))
    assert hot.current.counts == {} and hot.counted == 0


def test_a_command_it_cannot_read_does_not_raise() -> None:
    hot, _ = counter()
    hot.count((object(),))  # str() of anything: a key named oddly, not an error
    hot.count(("EVALSHA", "sha", 1))  # numkeys but no key
    assert hot.counted == 1


def connection(pool: ConnectionPool) -> AbstractConnection:
    """A connection as the pool makes them (not connected)."""
    return pool.connection_class(**pool.connection_kwargs)


@pytest.mark.parametrize(
    ("url", "cls"),
    [
        ("redis://127.0.0.1:1/0", CountingConnection),
        ("rediss://127.0.0.1:1/0", CountingSSLConnection),
        ("unix:///tmp/none.sock", CountingUnixConnection),
    ],
)
def test_every_url_scheme_gets_a_counting_connection(url: str, cls: type) -> None:
    pool = aioredis.BlockingConnectionPool.from_url(url)
    hot, _ = counter()
    count_commands(pool, hot)
    conn = connection(pool)
    assert type(conn) is cls
    plain = connection(aioredis.BlockingConnectionPool.from_url(url))
    args = ("EVALSHA", "sha", 1, "tok:a", "x")
    assert conn.pack_command(*args) == plain.pack_command(*args)  # the same bytes
    assert conn.pack_commands([("GET", "u:1"), ("GET", "u:1")]) == plain.pack_commands(
        [("GET", "u:1"), ("GET", "u:1")]
    )
    assert hot.current.counts == {"tok:a": 1, "u:1": 2}  # pipelined commands too


def test_rate_zero_leaves_the_pool_alone() -> None:
    pool = aioredis.BlockingConnectionPool.from_url("redis://127.0.0.1:1/0")
    count_commands(pool, HotKeys(0.0, 10, 100))
    assert "hot_keys" not in pool.connection_kwargs
    assert type(connection(pool)) is Connection


async def test_the_flush_adds_the_top_keys_as_estimated_accesses(redis: aioredis.Redis) -> None:
    # A clock of the test's, far from now: no node of the session writes this window.
    at = 1000.0 + 10 * secrets.randbelow(10**6)
    hot = HotKeys(0.25, 10, 100, Clock(at + 1))
    flush = HotKeyFlush(redis, hot, top=2)
    hot.count_keys(["c:hot"] * 8 + ["c:warm"] * 4 + ["c:cold"])  # as if sampled
    window = keys.hot_keys(int(at))
    try:
        assert await flush.flush(at + 9.9) == 0  # the window is under way
        assert await flush.flush(at + 10) == 2  # ended: its top 2
        written = await redis.zrange(window, 0, -1, withscores=True)
        assert written == [("c:warm", 16.0), ("c:hot", 32.0)]  # count / rate
        assert 0 < await redis.ttl(window) <= 300
        # Another node's counts of the window add up in the same set.
        other = HotKeys(0.25, 10, 100, Clock(at + 5))
        other.count_keys(["c:warm"] * 5)
        await HotKeyFlush(redis, other).flush(None)
        assert await redis.zscore(window, "c:warm") == 36.0
    finally:
        await redis.delete(window)


async def test_commands_are_counted_through_the_pool_and_the_flush_is_not(
    stack: Stack, redis: aioredis.Redis
) -> None:
    pool = aioredis.BlockingConnectionPool.from_url(stack.settings.redis_url)
    hot = HotKeys(1.0, 10, 100)  # every command
    count_commands(pool, hot)
    client = aioredis.Redis.from_pool(pool)
    key = keys.conv(secrets.token_hex(8))
    try:
        for _ in range(4):
            await client.hget(key, "max_seq")
        async with client.pipeline(transaction=True) as p:
            p.hget(key, "kind")
            p.exists(key)
            await p.execute()
        assert hot.current.counts == {key: 6} and hot.counted == 6
        start = hot.current.start
        await HotKeyFlush(client, hot).flush(None)  # its ZINCRBY and EXPIRE: not counted
        assert await redis.zscore(keys.hot_keys(start), key) == 6.0
        assert hot.counted == 6
    finally:
        await redis.delete(keys.hot_keys(start))
        await client.aclose()
