"""The bus between nodes: what a received message does to the hub (plain objects),
and two nodes' buses over the real Redis of the test session."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from im import errors as E
from im.bus import Bus, receive
from im.bus_messages import Push, PushMsg, Replace, Revoke, encode
from im.hub import Hub, Link
from im.presence import Presence
from im.wire import encode as wire
from stack.manager import Stack
from tests.im.sansio import Recorder, subscribed, until


def hub_with(*links: Link) -> Hub:
    hub = Hub()
    for link in links:
        hub.attach(link)
    return hub


def closes(link: Link) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    link.on_close = lambda code, reason: seen.append((code, reason))
    return seen


def test_a_message_push_is_delivered_in_seq_order() -> None:
    rec = Recorder()
    link = Link("a", "phone", rec, early=None)
    link.expect("c", 1)  # what auth_ok told
    hub = hub_with(link)
    receive(hub, encode(PushMsg(["a"], '{"s":2}', "c", 2)), 0.0)
    receive(hub, encode(PushMsg(["a", "b"], '{"s":1}', "c", 1)), 0.0)
    assert rec.frames == [wire('{"s":1}'), wire('{"s":2}')]
    assert set(link.pending["c"]) == {1, 2}  # both wait for their ack


def test_a_plain_push_is_delivered_and_waits_for_no_ack() -> None:
    rec = Recorder()
    hub = hub_with(Link("a", "phone", rec, early=None))
    receive(hub, encode(Push(["a"], '{"type":"unread"}')), 0.0)
    assert rec.frames == [wire('{"type":"unread"}')]
    assert hub.all_links()[0].pending == {}


def test_replace_and_revoke_close_the_named_links_only() -> None:
    phone = Link("a", "phone", Recorder(), token_digest="t1", early=None)
    laptop = Link("a", "laptop", Recorder(), token_digest="t2", early=None)
    hub = hub_with(phone, laptop)
    on_phone, on_laptop = closes(phone), closes(laptop)
    receive(hub, encode(Replace("a", "phone")), 0.0)
    assert on_phone == [(E.CLOSE_REPLACED, "replaced by a newer connection")]
    assert on_laptop == []
    receive(hub, encode(Revoke("a", "t2")), 0.0)
    assert on_laptop == [(E.CLOSE_UNAUTHORIZED, "signed out")]


@pytest.mark.parametrize(
    "payload",
    [b'{"op":"teleport","to":["a"]}', b'{"to":["a"],"f":"{}"}', b"{", b'{"op":"push"}',
     b'{"op":"push","to":[["a"]],"f":"{}"}'],
)  # fmt: skip
def test_an_unknown_or_bad_message_is_logged_and_dropped(
    payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder()
    hub = hub_with(Link("a", "phone", rec, early=None))
    with caplog.at_level(logging.WARNING, "im.bus"):
        receive(hub, payload, 0.0)  # raises nothing: the listener goes on
    assert rec.frames == []
    assert [r.name for r in caplog.records] == ["im.bus"]
    assert "dropped" in caplog.text


def test_an_unknown_op_is_named_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "im.bus"):
        receive(Hub(), b'{"op":"teleport"}', 0.0)
    assert "unknown op 'teleport'" in caplog.text


# -- two nodes over Redis -------------------------------------------------------


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_a_push_reaches_the_users_device_on_another_node(redis: aioredis.Redis) -> None:
    tag = secrets.token_hex(4)
    user, node_a, node_b = f"bus-u-{tag}", f"bus-a-{tag}", f"bus-b-{tag}"
    hub_a, hub_b = Hub(), Hub()
    presence_a = Presence(redis, node_a, hub_a.users)
    presence_b = Presence(redis, node_b, hub_b.users)
    bus_a, bus_b = Bus(redis, node_a, hub_a, presence_a), Bus(redis, node_b, hub_b, presence_b)
    rec = Recorder()
    phone = Link(user, "phone", rec, token_digest="t", early=None)
    hub_b.attach(phone)
    await presence_b.online(user)
    async with bus_b:
        await subscribed(redis, node_b)
        await bus_a.push_to_user(user, '{"type":"unread","total":1}')
        await until(lambda: rec.frames == [wire('{"type":"unread","total":1}')])
        on_phone = closes(phone)
        await bus_a.revoke_token(user, "t")
        await until(lambda: on_phone == [(E.CLOSE_UNAUTHORIZED, "signed out")])
    await presence_b.offline(user)
