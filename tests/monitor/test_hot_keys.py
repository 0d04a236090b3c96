"""Hot keys end to end: a real node counts its Redis commands per key (every one:
sample rate 1, so the counts are exact), the collector's Redis sampler reports
the newest complete window by family and rank, and the sample lands in
ClickHouse's ops_samples with the same value (real node, real Redis, real chDB)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from im.noderegistry import redis_ms
from monitor.redis_sampler import RedisSampler, redis_client
from monitor.sample import Sample
from stack.manager import Stack
from tests.client import Device, User
from tests.monitor.helpers import stored
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT, OPS = free_port(), free_port()
NODE = f"hot-keys-{secrets.token_hex(3)}"
# IM_HOTKEY_WINDOW_S: the 10,000 syncs below (6-11 s quiet, 18 s in a loaded CI run) fit
W = 30
DEVICES = 10  # one user, one token, IM_MAX_CONNECTIONS_PER_USER devices
SYNCS = 1000  # per device
CONVS = 2  # device i syncs conversation i % CONVS
METRIC = "redis_hot_key_accesses_per_second"


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(
        stack, NODE, PORT, ops_port=OPS,
        IM_HOTKEY_SAMPLE_RATE="1", IM_HOTKEY_WINDOW_S=str(W),
        IM_SYNC_READ_PER_S="1000000", IM_SYNC_READ_BURST="1000000",
    ):  # fmt: skip
        yield f"http://127.0.0.1:{PORT}"


@pytest.fixture
async def sampler(stack: Stack) -> AsyncIterator[RedisSampler]:
    redis = redis_client(stack.settings.redis_url)
    yield RedisSampler(redis, 100, 1, 1, hot_keys=5, hot_window_s=W)
    await redis.aclose()


async def syncs(device: Device, conv: str) -> None:
    """SYNCS `sync` frames at once, then their SYNCS `history` answers."""
    for _ in range(SYNCS):
        await device.send_json({"type": "sync", "conv": conv, "after": 0})

    def answered() -> bool:
        return bool(sum(f["type"] == "history" for f in device.inbox) >= SYNCS)

    await wait_until(answered, 20, what=f"{SYNCS} history frames", interval=0.1)


async def test_a_key_read_10000_times_is_first_with_its_exact_rate_in_clickhouse(
    base: str, redis: aioredis.Redis, sampler: RedisSampler, tmp_path: Path
) -> None:
    user = await User.create(base, "hotkeys")
    convs = [await user.group(f"hot {i}", []) for i in range(CONVS)]  # no messages
    devices = [await user.connect(f"d{i}") for i in range(DEVICES)]
    try:
        # Each sync reads the token key once (the token check) and its
        # conversation's c:, cm: and cf: keys once each (a pipeline, plain
        # commands): 10,000 reads of one key, 5,000 of each of 6 others, far
        # above what the nodes' own loops read in a window (the relay's lease
        # and outbox polls: under 50/s). The sign-up, the groups and the
        # sign-ins read the token too, so the syncs start in a window of their
        # own, just after it begins.
        now = await redis_ms(redis) / 1000
        start = (int(now // W) + 1) * W
        await asyncio.sleep(start + 0.1 - now)  # the window's start is the subject
        t0 = time.monotonic()
        await asyncio.gather(*(syncs(d, convs[i % CONVS]) for i, d in enumerate(devices)))
        took = time.monotonic() - t0
        done = await redis_ms(redis) / 1000
        assert done < start + W, f"{DEVICES * SYNCS} syncs took {took:.1f} s: over one window"
    finally:
        for d in devices:
            await d.close()

    async def window_read() -> list[Sample] | None:
        hot = [s for s in await sampler.sample() if s.metric == METRIC]
        return hot if hot and hot[0].ts == (start + W) * 1000 else None

    hot = await wait_until(window_read, 3 * W, what="the window in the sample", interval=0.5)
    first, second = hot[0], hot[1]
    assert dict(first.labels) == {"family": "token", "rank": "1"}
    assert first.value == DEVICES * SYNCS / W  # accesses per second over the window
    assert second.labels["rank"] == "2"
    assert second.labels["family"] in ("conv", "members", "former_members")
    assert second.value == DEVICES // CONVS * SYNCS / W
    # Into ClickHouse as the analytics sink stores im.ops (real chDB).
    rows = await stored(
        tmp_path,
        hot,
        "SELECT value, labels['family'], toUnixTimestamp64Milli(ts) FROM ops_samples "
        f"FINAL WHERE source = 'redis' AND metric = '{METRIC}' AND labels['rank'] = '1'",
    )
    assert rows == [(DEVICES * SYNCS / W, "token", (start + W) * 1000)]
