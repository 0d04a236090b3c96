"""What the server records beside the message: the Kafka event's flags, and presence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from contract import topics
from im.consumer import EventConsumer
from stack.manager import Stack
from tests.client import User
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
WORDS = Path(__file__).resolve().parents[2] / "im" / "words"


def first_word(name: str) -> str:
    return next(
        w.strip() for w in (WORDS / name).read_text().splitlines()
        if w.strip() and not w.startswith("#") and w.isascii()
    )  # fmt: skip


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "events", PORT):
        yield f"http://127.0.0.1:{PORT}"


async def test_masked_message_and_its_event_flags(stack: Stack, base: str) -> None:
    bad = first_word("abusive.txt")
    alice, bob = await User.create(base), await User.create(base)
    conv = await alice.group("flags", [bob])
    da, db = await alice.connect(), await bob.connect()
    await da.send_text(conv, f"you {bad}!")
    msg = await db.recv_type("msg")
    assert msg["body"] == {"text": "you " + "*" * len(bad) + "!"}
    await da.send_text(conv, "a clean one")

    found: dict[int, dict[str, object]] = {}
    consumer = EventConsumer([topics.CHAT], stack.settings.kafka_bootstrap, group_id=None)
    async with consumer:
        deadline = time.monotonic() + 30
        async for batch in consumer.batches(timeout_ms=300):
            for _, event in batch:
                if event.get("conv") == conv:
                    found[int(event["seq"])] = event
            if len(found) == 2 or time.monotonic() > deadline:
                break
    assert found[1]["flags"] == ["abusive", "masked"]
    assert found[2]["flags"] == []
    assert found[1]["text_len"] == len(f"you {bad}!")
    assert found[1]["sender"] == alice.user_id and found[1]["conv_kind"] == "group"


async def test_presence_has_expiry_and_follows_devices(stack: Stack, base: str) -> None:
    user = await User.create(base)
    r = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    d1, d2 = await user.connect("one"), await user.connect("two")
    entries = await r.hgetall(f"pr:{user.user_id}")
    secs, _ = await r.time()
    assert list(entries) == ["events"]
    assert secs * 1000 < int(entries["events"]) <= secs * 1000 + 91_000
    await d1.close()
    await asyncio.sleep(0.2)
    assert list(await r.hgetall(f"pr:{user.user_id}")) == ["events"]  # one device still on
    await d2.close()
    await asyncio.sleep(0.2)
    assert await r.hgetall(f"pr:{user.user_id}") == {}
    await r.aclose()
