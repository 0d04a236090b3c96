"""The Redis sampler on a real Redis of its own (64mb, noeviction, as the stack runs it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
import redis.asyncio as aioredis

from im import keys
from im.noderegistry import redis_ms
from monitor.redis_hotkeys import hot_key_samples, newest_complete
from monitor.redis_keys import family
from monitor.redis_sampler import RedisSampler, redis_client
from stack.manager import Stack
from tests.monitor.helpers import find, value
from tests.servers import own_stack

MAXMEMORY = 64 * 2**20


@pytest.fixture(scope="module")
def own_redis(stack: Stack) -> Iterator[Stack]:
    with own_stack("monitor-redis", ["redis"], {"IM_REDIS_MAXMEMORY": "64mb"}) as st:
        yield st


@pytest.fixture
async def r(own_redis: Stack) -> AsyncIterator[aioredis.Redis]:
    client = redis_client(own_redis.settings.redis_url)
    await client.flushall()
    await client.config_resetstat()
    await client.slowlog_reset()
    try:
        yield client
    finally:
        await client.aclose()


async def test_memory_clients_and_keys_per_db(r: aioredis.Redis) -> None:
    await r.set(keys.mute("a"), "1", px=600_000)
    await r.set(keys.username("b"), "2")
    out = await RedisSampler(r, 1000, 10, 128).sample()
    assert value(out, "redis_maxmemory_bytes") == MAXMEMORY
    used = value(out, "redis_used_memory_bytes")
    assert 0 < used < MAXMEMORY
    assert value(out, "redis_memory_used_ratio", policy="noeviction") == used / MAXMEMORY
    assert value(out, "redis_rss_bytes") > 0
    assert value(out, "redis_fragmentation_ratio") > 0
    assert value(out, "redis_connected_clients") >= 1
    assert value(out, "redis_blocked_clients") == 0
    assert value(out, "redis_maxclients") == int(
        str((await r.config_get("maxclients"))["maxclients"])
    )
    assert value(out, "redis_rejected_connections_total") == 0
    assert value(out, "redis_evicted_keys_total") == 0
    assert value(out, "redis_keys", db="0") == 2
    assert value(out, "redis_keys_expiring", db="0") == 1
    assert find(out, "redis_hit_ratio") == []  # no interval yet


async def test_hit_ratio_is_over_the_interval_without_the_collectors_own_lookups(
    r: aioredis.Redis,
) -> None:
    await r.set(keys.user("1"), "x")
    sampler = RedisSampler(r, 1000, 10, 128)
    # Its TYPE of the biggest key is a hit, its read of the (absent) hot-key
    # window a miss: neither counts.
    await sampler.sample()
    for _ in range(3):
        await r.get(keys.user("1"))
    await r.get(keys.user("nobody"))
    out = await sampler.sample()
    assert value(out, "redis_hit_ratio") == 0.75
    assert value(out, "redis_keyspace_hits_total") == 4  # 3 + the collector's TYPE
    assert value(out, "redis_keyspace_misses_total") == 2  # 1 + its ZREVRANGE


async def test_keys_per_family_exact_when_one_round_covers_the_keyspace(
    r: aioredis.Redis,
) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(30):
        pipe.hset(keys.user(str(i)), "username", f"n{i}")
    for i in range(20):
        pipe.set(keys.PREFIXES["dedup"] + f"u{i}:c{i}", "conv 1 1")
    pipe.set(keys.CS_ROUND_ROBIN, 1)  # a fixed key that looks like the cs: family
    pipe.set(keys.PREFIXES["open_session"] + "u1", "s1")  # cs:open:, not cs:
    pipe.set("stranger", "1")
    await pipe.execute()
    out = await RedisSampler(r, 1000, 10, 128).sample()
    counts = {s.labels["family"]: s.value for s in find(out, "redis_family_keys", method="exact")}
    assert counts == {"user": 30, "dedup": 20, "cs_round_robin": 1, "open_session": 1, "other": 1}
    assert value(out, "redis_keys_sampled", method="exact") == 53
    memory = find(out, "redis_family_memory_bytes", family="user", method="exact")
    assert len(memory) == 1 and memory[0].value > 30 * 40


async def test_keys_per_family_estimated_from_a_bounded_sample(r: aioredis.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(4000):
        pipe.set(keys.token(f"{i:064x}"), "1")
        if i < 1000:
            pipe.set(keys.presence(str(i)), "1")
    await pipe.execute()
    sampler = RedisSampler(r, 500, 10, 128)
    for _ in range(3):  # three rounds, three different parts of the keyspace
        out = await sampler.sample()
        sampled = value(out, "redis_keys_sampled", method="estimate")
        assert 500 <= sampled < 1000
        counts = {s.labels["family"]: s.value for s in find(out, "redis_family_keys")}
        assert set(counts) == {"token", "presence"}
        assert sum(counts.values()) == pytest.approx(5000)  # shares of DBSIZE
        assert counts["token"] == pytest.approx(4000, rel=0.12)  # > 4 sigma of a 500 sample
        assert counts["presence"] == pytest.approx(1000, rel=0.4)


async def test_the_biggest_keys_by_family_and_type_without_their_names(r: aioredis.Redis) -> None:
    big = keys.messages("conv-big")
    for start in range(0, 5000, 500):
        await r.hset(big, mapping={str(i): "m" * 1000 for i in range(start, start + 500)})
    await r.set(keys.mute("u-1mb"), "x" * 2**20)
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(keys.username(f"user{i}"), str(i))
    await pipe.execute()
    out = await RedisSampler(r, 1000, 3, 128).sample()
    ranked = sorted(find(out, "redis_big_key_bytes"), key=lambda s: int(s.labels["rank"]))
    assert [dict(s.labels) for s in ranked] == [
        {"family": "messages", "type": "hash", "rank": "1"},
        {"family": "mute", "type": "string", "rank": "2"},
        {"family": "username", "type": "string", "rank": "3"},
    ]
    assert ranked[0].value >= 5_000_000
    assert 2**20 <= ranked[1].value <= 1.25 * 2**20 + 256  # jemalloc's size class above 1 MiB
    text = orjson.dumps([s.event("n") for s in out])
    assert b"conv-big" not in text and b"u-1mb" not in text


async def test_new_slow_log_entries_by_command_name_never_arguments(r: aioredis.Redis) -> None:
    sampler = RedisSampler(r, 1000, 10, 128)
    await sampler.sample()
    busy_50ms = """
        local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]
        repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= 50000
        return ARGV[1]"""
    secret = "secret message text"
    await r.eval(busy_50ms, 0, secret)
    out = await sampler.sample()
    evals = find(out, "redis_slowlog_duration_seconds", command="eval")
    assert len(evals) == 1
    assert evals[0].value >= 0.05
    assert set(evals[0].labels) == {"command", "entry"}
    now_ms = int((await r.time())[0]) * 1000
    assert now_ms - 5000 <= evals[0].ts <= now_ms
    text = orjson.dumps([s.event("n") for s in out]).decode()
    assert secret not in text and "TIME" not in text and "ARGV" not in text
    again = await sampler.sample()  # by id: an entry is reported once
    assert find(again, "redis_slowlog_duration_seconds", command="eval") == []
    assert value(again, "redis_slowlog_missed_entries") == 0


def test_hot_keys_by_family_and_rank_per_second_at_the_windows_end() -> None:
    top = [(keys.user("u1"), 90.0), (keys.OUTBOX, 70.0), (keys.conv("c1"), 50.0)]
    out = hot_key_samples(top, 10, 1_000_000)
    assert [(s.metric, s.value, dict(s.labels), s.ts) for s in out] == [
        ("redis_hot_key_accesses_per_second", 9.0, {"family": "user", "rank": "1"}, 1_000_000),
        ("redis_hot_key_accesses_per_second", 7.0, {"family": "outbox", "rank": "2"}, 1_000_000),
        ("redis_hot_key_accesses_per_second", 5.0, {"family": "conv", "rank": "3"}, 1_000_000),
    ]


def test_the_newest_complete_window_ended_half_a_window_ago_at_most_2_s() -> None:
    assert newest_complete(1_020_999, 10) == 1000  # 1010-1020 ended 1 s ago: not yet
    assert newest_complete(1_022_000, 10) == 1010  # 2 s ago
    assert newest_complete(1_000_999, 2) == 996  # half a window: 1 s
    assert newest_complete(1_001_000, 2) == 998


async def test_the_top_of_the_newest_complete_hot_key_window(r: aioredis.Redis) -> None:
    start = newest_complete(await redis_ms(r), 10)
    # As the nodes leave it (im/hotkey_flush.py): estimated accesses in the window.
    await r.zadd(keys.hot_keys(start), {keys.conv("c1"): 300, keys.token("t"): 1200,
                                        keys.unread("u"): 40, keys.user("u"): 290})  # fmt: skip
    await r.zadd(keys.hot_keys(start - 10), {keys.presence("old"): 5000})  # older: not read
    out = await RedisSampler(r, 1000, 10, 128, hot_keys=3, hot_window_s=10).sample()
    got = [(s.value, dict(s.labels), s.ts) for s in find(out, "redis_hot_key_accesses_per_second")]
    end = (start + 10) * 1000
    assert got == [
        (120.0, {"family": "token", "rank": "1"}, end),
        (30.0, {"family": "conv", "rank": "2"}, end),
        (29.0, {"family": "user", "rank": "3"}, end),
    ]
    none = await RedisSampler(r, 1000, 10, 128, hot_keys=0, hot_window_s=10).sample()
    assert find(none, "redis_hot_key_accesses_per_second") == []


def test_family_of_every_declared_key() -> None:
    for name, prefix in keys.PREFIXES.items():
        assert family(prefix + "x") == name
    for name, key in keys.FIXED.items():
        assert family(key) == name
    assert family("nothing-we-know") == "other"
