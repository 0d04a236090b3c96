"""Nothing is lost when Kafka is down or a node dies between storing and
publishing. These tests stop a Kafka broker and kill nodes, so they run on a
stack of their own (own folder and ports), not the session's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from contract import topics
from im.consumer import EventConsumer
from stack.manager import Stack
from tests import servers
from tests.client import User, send_frame
from tests.ports import free_ports
from tests.servers import server_node

MESSAGES = 2000
PORT_A, PORT_B = free_ports(2)


@pytest.fixture(scope="module")
def own_stack(stack: Stack) -> Iterator[Stack]:
    with servers.own_stack(
        "outage",
        ["redis", "kafka"],
        {"IM_TICK_INTERVAL_S": "0.5"},
        (("IM_RATE_BURST", "100000"), ("IM_RATE_PER_S", "100000")),
    ) as st:
        yield st


async def chat_ids(
    bootstrap: str, convs: set[str], want: int, timeout: float
) -> tuple[set[str], int]:
    """chat.message ids of `convs` read from Kafka (the helper drops duplicates)."""
    consumer = EventConsumer([topics.CHAT], bootstrap, group_id=None)
    ids: set[str] = set()
    async with consumer:
        deadline = time.monotonic() + timeout
        async for batch in consumer.batches(timeout_ms=500):
            for _, e in batch:
                if e.get("type") == "chat.message" and e.get("conv") in convs:
                    assert e["id"] not in ids  # the helper already dropped repeats
                    ids.add(e["id"])
            if len(ids) >= want or time.monotonic() > deadline:
                break
    return ids, consumer.duplicates


async def test_kafka_down_30s_chat_goes_on_and_every_event_arrives(own_stack: Stack) -> None:
    with server_node(own_stack, "outage", PORT_A):
        base = f"http://127.0.0.1:{PORT_A}"
        alice, bob = await User.create(base), await User.create(base)
        conv = await alice.group("outage", [bob])
        da, db = await alice.connect(), await bob.connect()
        await asyncio.to_thread(own_stack.proc("kafka").stop)  # the broker is gone
        stopped = time.monotonic()
        sent = []
        for i in range(MESSAGES):
            await da.send_json(send_frame(conv, f"while kafka is down {i}", f"o{i}"))
            if i % 100 == 99:  # paced over the outage, every 100 awaited
                sent += [await da.recv_type("sent", timeout=10) for _ in range(100)]
                await asyncio.sleep(0.5)  # pacing: the traffic spans the outage
        assert [f["seq"] for f in sent] == list(range(1, MESSAGES + 1))  # chat went on
        pushed = [await db.recv_type("msg") for _ in range(MESSAGES)]
        assert len(pushed) == MESSAGES
        await asyncio.sleep(max(0.0, 30 - (time.monotonic() - stopped)))  # the subject: 30 s down
        await asyncio.to_thread(own_stack.up, ["kafka"])  # back after >= 30 s, same data
        ids, _ = await chat_ids(own_stack.settings.kafka_bootstrap, {conv}, MESSAGES, 90)
    assert ids == {f"m:{conv}:{seq}" for seq in range(1, MESSAGES + 1)}


async def send_into_new_group(base: str, name: str, n: int) -> str:
    """A new group of two; its owner sends `n` messages (each `sent`). The conv id."""
    alice, bob = await User.create(base), await User.create(base)
    conv = await alice.group(name, [bob])
    device = await alice.connect()
    for i in range(n):
        await device.send_text(conv, f"{name} {i}")
    return conv


async def test_node_killed_between_storing_and_publishing(own_stack: Stack) -> None:
    # Node A publishes only outbox entries older than 5 s, and holds the relay
    # lease; it is killed right after storing, so its events are all unpublished.
    with server_node(own_stack, "holder", PORT_A, IM_RELAY_HOLD_MS="5000") as node_a:
        conv = await send_into_new_group(f"http://127.0.0.1:{PORT_A}", "crash", 50)
        node_a.kill()
    r = aioredis.Redis.from_url(own_stack.settings.redis_url)
    assert await r.xlen("outbox") >= 50  # really stored and not yet published
    await r.aclose()
    # Node B takes the relay lease once A's expires and publishes A's events.
    with server_node(own_stack, "heir", PORT_B):
        ids, _ = await chat_ids(own_stack.settings.kafka_bootstrap, {conv}, 50, 60)
    assert ids == {f"m:{conv}:{seq}" for seq in range(1, 51)}


async def test_a_stopping_node_publishes_its_outbox_and_hands_the_lease_over(
    own_stack: Stack,
) -> None:
    # The node holds back everything it stores (hold 60 s), so only its
    # shutdown can publish; SIGTERM is the graceful stop of a deployment.
    with server_node(own_stack, "leaving", PORT_A, IM_RELAY_HOLD_MS="60000"):
        conv = await send_into_new_group(f"http://127.0.0.1:{PORT_A}", "leaving", 30)
        r = aioredis.Redis.from_url(own_stack.settings.redis_url)
        assert await r.xlen("outbox") >= 30
        assert await r.get("relay:lease") == b"leaving"
    assert await r.xlen("outbox") == 0  # drained on the way out
    assert await r.get("relay:lease") is None  # the next node need not wait for expiry
    await r.aclose()
    ids, _ = await chat_ids(own_stack.settings.kafka_bootstrap, {conv}, 30, 30)
    assert ids == {f"m:{conv}:{seq}" for seq in range(1, 31)}
