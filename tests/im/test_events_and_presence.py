"""What the server records beside the message: the Kafka event's flags, and presence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from contract import topics
from stack.manager import Stack
from tests.client import User
from tests.im.cs_helpers import events_of
from tests.metrics import scrape
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT, OPS = free_port(), free_port()
WORDS = Path(__file__).resolve().parents[2] / "im" / "words"


def first_word(name: str) -> str:
    return next(
        w.strip() for w in (WORDS / name).read_text().splitlines()
        if w.strip() and not w.startswith("#") and w.isascii()
    )  # fmt: skip


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "events", PORT, ops_port=OPS):
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

    events = await events_of(stack.settings.kafka_bootstrap, topics.CHAT, {"conv": conv}, 2)
    found = {int(e["seq"]): e for e in events}
    assert found[1]["flags"] == ["abusive", "masked"]
    assert found[2]["flags"] == []
    assert found[1]["text_len"] == len(f"you {bad}!")
    assert found[1]["sender"] == alice.user_id and found[1]["conv_kind"] == "group"


async def signed_in(base: str) -> int:
    """How many devices the node has signed in (its /metrics, on the ops port)."""
    return int((await scrape(f"http://127.0.0.1:{OPS}"))["im_signed_in"])


async def test_presence_has_expiry_and_follows_devices(redis: aioredis.Redis, base: str) -> None:
    user = await User.create(base)
    d1, d2 = await user.connect("one"), await user.connect("two")
    entries = await redis.hgetall(f"pr:{user.user_id}")
    secs, _ = await redis.time()
    assert list(entries) == ["events"]
    assert secs * 1000 < int(entries["events"]) <= secs * 1000 + 91_000
    before = await signed_in(base)
    await d1.close()

    async def d1_gone() -> bool:
        return await signed_in(base) == before - 1

    await wait_until(d1_gone, what="the node has let the closed device go")
    assert list(await redis.hgetall(f"pr:{user.user_id}")) == ["events"]  # one device still on
    await d2.close()

    async def offline() -> bool:
        return await redis.hgetall(f"pr:{user.user_id}") == {}

    await wait_until(offline, what="presence gone with the last device")
