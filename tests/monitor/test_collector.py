"""The collector writes samples through the outbox, keeps them while Redis is away,
drops (and counts) what is too old or too many."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from contract import events, topics
from im import keys
from im.replies import decoded
from monitor.collector import Collector
from monitor.host import HostSampler
from monitor.redis_sampler import RedisSampler, redis_client
from monitor.sample import Sample, Sampler, Skipped
from monitor.writer import SampleWriter
from stack.manager import Stack
from tests.monitor.helpers import find, value
from tests.servers import own_stack


async def outbox_events(r: aioredis.Redis, node: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(t, k, event) of the outbox entries written by `node`."""
    out = []
    for _, fields in await r.xrange(keys.OUTBOX) or []:
        assert fields is not None
        event = orjson.loads(fields["v"])
        if event.get("node") == node:
            out.append((decoded(fields["t"]), decoded(fields["k"]), event))
    return out


class Raising:
    """A sampler whose every round raises `error`."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name, self.error = name, error

    async def sample(self) -> list[Sample]:
        raise self.error

    async def close(self) -> None:
        return None


async def test_every_sample_reaches_the_outbox_as_a_contract_valid_event(
    stack: Stack, redis: aioredis.Redis
) -> None:
    node = f"test-{secrets.token_hex(3)}"
    client = redis_client(stack.settings.redis_url)
    samplers: list[Sampler] = [
        RedisSampler(client, 100, 3, 128),
        HostSampler(None, ()),
        Raising("broken", RuntimeError("boom")),
        Raising("unset", Skipped("unset")),
    ]
    coll = Collector(samplers, SampleWriter(client, node, 60, 1000), 10)
    try:
        written = await coll.round()
        found = await outbox_events(redis, node)
        assert written == len(found) > 20
        for t, k, e in found:
            assert events.problems(e) == [], e
            assert (t, e["type"], k) == (topics.OPS, "ops.sample", e["source"])
            assert e["id"].startswith(events.OPS_SAMPLE_ID)
            assert all(isinstance(v, str) for v in e["labels"].values())
        assert {k for _, k, _ in found} == {"redis", "host", "monitor"}
        own = [Sample(e["source"], e["metric"], e["value"], e["labels"]) for *_, e in found]
        assert value(own, "monitor_sampler_errors_total", sampler="broken") == 1
        assert value(own, "monitor_sampler_skipped_total", sampler="unset", reason="unset") == 1
        assert value(own, "monitor_sampler_errors_total", sampler="redis") == 0
        assert value(own, "monitor_queue_length") == 0
        health: Any = coll.health()
        assert health["samplers"]["broken"]["last_error"] == "RuntimeError: boom"
    finally:
        await client.aclose()


async def test_the_queue_is_bounded_and_counts_what_it_drops(redis: aioredis.Redis) -> None:
    writer = SampleWriter(redis, f"test-{secrets.token_hex(3)}", 60, 10)
    writer.put(Sample("host", "x_total", i) for i in range(25))
    writer.put([Sample("host", "nan_ratio", float("nan"))])
    assert len(writer) == 10
    assert writer.dropped == {"stale": 0, "overflow": 15, "invalid": 1}
    assert await writer.flush() == 10
    values = [e["value"] for *_, e in await outbox_events(redis, writer.node)]
    assert values == [float(i) for i in range(15, 25)]  # the newest kept, in order


async def test_samples_wait_while_redis_is_away_and_stale_ones_are_dropped(stack: Stack) -> None:
    max_age = 5.0
    node = f"test-{secrets.token_hex(3)}"
    with own_stack("monitor-outage", ["redis"], {}) as st:
        client = redis_client(st.settings.redis_url)
        coll = Collector([HostSampler(None, ())], SampleWriter(client, node, max_age, 1000), 10)
        try:
            await asyncio.to_thread(st.down, ["redis"])
            assert await coll.round() == 0  # Redis is away: kept
            first = len(coll.writer)
            assert first > 5 and coll.flush_failures == 1
            await asyncio.sleep(max_age + 0.5)  # the subject: the first round's samples age
            assert await coll.round() == 0
            second = len(coll.writer)
            assert coll.writer.dropped["stale"] == first
            await asyncio.to_thread(st.up, ["redis"])
            started = time.monotonic()
            written = await coll.round()
            assert time.monotonic() - started < max_age  # the second round's are still fresh
            found = [e for *_, e in await outbox_events(client, node)]
            assert written == len(found) > second  # the second round's and the third's
            samples = [Sample(e["source"], e["metric"], e["value"], e["labels"]) for e in found]
            # Each round samples the queue that earlier rounds left: the second round
            # found the first's samples waiting, the third found the second's.
            assert sorted(s.value for s in find(samples, "monitor_queue_length")) == sorted(
                [first, second]
            )
            dropped = find(samples, "monitor_samples_dropped_total", reason="stale")
            assert sorted(s.value for s in dropped) == [0, first]
        finally:
            await client.aclose()


def test_a_sample_of_nan_breaks_the_contract() -> None:
    with pytest.raises(ValueError, match="finite"):
        Sample("redis", "redis_hit_ratio", float("inf")).event("n")
