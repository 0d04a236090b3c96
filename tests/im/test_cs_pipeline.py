"""The server obeys im.control (real Kafka), and assigns sessions by itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from contract import topics
from stack.manager import Stack
from tests.client import User
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent
from tests.ports import free_ports
from tests.servers import server_node
from tests.waiting import wait_until

PORT_MANUAL, PORT_AUTO = free_ports(2)


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW}
    with server_node(stack, "csp", PORT_MANUAL, **env):
        yield f"http://127.0.0.1:{PORT_MANUAL}"


async def command(stack: Stack, cmd: dict[str, object]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        key = str(cmd.get("session") or cmd.get("user")).encode()
        await producer.send_and_wait(topics.CONTROL, orjson.dumps(cmd), key=key)
    finally:
        await producer.stop()


async def state_of(user: User, conv: str) -> list[dict[str, object]]:
    r = await user.get(f"/api/conversations/{conv}/messages?limit=200")
    return r.json()["messages"]  # type: ignore[no-any-return]


async def test_close_inactive_closes_once_and_ignores_stale(stack: Stack, base: str) -> None:
    a = await agent(base)
    customer = await User.create(base, "idle")
    sid = (await customer.post("/api/cs/sessions")).json()["session"]
    await a.post(f"/api/cs/sessions/{sid}/accept")
    conv = (await customer.get("/api/conversations")).json()[0]["conv"]
    d = await customer.connect()
    sent = await d.send_text(conv, "anyone?")
    # A command whose event time is before that message: stale, ignored.
    await command(stack, {"type": "cs.close_inactive", "session": sid, "ts": sent["ts"] - 1})
    # Then a real one (the window ended after the last message), twice.
    for _ in range(2):
        await command(stack, {"type": "cs.close_inactive", "session": sid,
                              "ts": sent["ts"] + 600_000})  # fmt: skip

    async def closed() -> bool:
        return any(m["body"].get("event") == "closed" for m in await state_of(customer, conv))

    await wait_until(closed, 20, what="the session closed", interval=0.2)
    # The subject: time for the duplicate command to act, if it would.
    await asyncio.sleep(1.0)
    notices = [m["body"] for m in await state_of(customer, conv) if m["kind"] == "event"]
    assert [n["event"] for n in notices] == ["queued", "accepted", "closed"]
    assert notices[-1]["reason"] == "inactivity"
    r = await a.post(f"/api/cs/sessions/{sid}/close")
    assert r.status_code == 409


async def test_a_later_message_keeps_the_session_open(stack: Stack, base: str) -> None:
    customer = await User.create(base, "busy")
    r = await customer.post("/api/cs/sessions")
    sid, conv = r.json()["session"], r.json()["conv"]
    d = await customer.connect()
    sent = await d.send_text(conv, "still here")
    await command(stack, {"type": "cs.close_inactive", "session": sid, "ts": sent["ts"] - 5})
    marker = await User.create(base, "mark")  # a later command shows the first was handled
    await command(stack, {"type": "user.mute", "user": marker.user_id,
                          "until": int(time.time() * 1000) + 60_000, "rule": "flood"})  # fmt: skip
    md = await marker.connect()
    g = await marker.group("m", [])

    async def marker_muted() -> bool:
        return (await md.send_message(g, "x")).get("code") == "muted"

    await wait_until(marker_muted, 20, what="the marker muted", interval=0.2)
    assert [m["body"].get("event") for m in await state_of(customer, conv)
            if m["kind"] == "event"] == ["queued"]  # fmt: skip


async def test_user_mute_refuses_with_until(stack: Stack, base: str) -> None:
    spammer = await User.create(base, "spam")
    conv = await spammer.group("room", [])
    d = await spammer.connect()
    until_ms = int(time.time() * 1000) + 120_000
    await command(stack, {"type": "user.mute", "user": spammer.user_id, "until": until_ms,
                          "rule": "flood"})  # fmt: skip

    async def muted() -> bool:
        frame = await d.send_message(conv, "buy now")
        if frame.get("type") == "error":
            assert frame["code"] == "muted" and frame["until"] == until_ms
            return True
        return False

    await wait_until(muted, 20, what="the spammer muted", interval=0.2)


async def test_automatic_assignment_least_busy_respects_presence(stack: Stack) -> None:
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW,
           "IM_CS_ASSIGN": "least_busy", "IM_CS_AGENT_CAPACITY": "1"}  # fmt: skip
    with server_node(stack, "cs-auto", PORT_AUTO, **env):
        base = f"http://127.0.0.1:{PORT_AUTO}"
        # The queue is global: sessions other tests left queued would be assigned
        # first (oldest first, as they should). Start from an empty queue.
        r = aioredis.Redis.from_url(stack.settings.redis_url)
        await r.delete("csq")
        await r.aclose()
        a1, a2 = await agent(base), await agent(base)
        d1 = await a1.connect()
        d2 = await a2.connect()
        await d2.send_json({"type": "presence", "status": "away"})
        assert await d2.recv_type("presence") == {"type": "presence", "status": "away"}
        c1, c2 = await User.create(base, "q"), await User.create(base, "q")
        s1 = (await c1.post("/api/cs/sessions")).json()["session"]
        s2 = (await c2.post("/api/cs/sessions")).json()["session"]
        queue = [q["session"] for q in (await a1.get("/api/cs/queue")).json()]
        assert s1 not in queue and s2 in queue  # a1 took s1 and is full; a2 is away
        await d2.send_json({"type": "presence", "status": "online"})
        await d2.recv_type("presence")

        async def s2_taken() -> bool:
            return s2 not in [q["session"] for q in (await a1.get("/api/cs/queue")).json()]

        await wait_until(s2_taken, 20, what="s2 assigned to a2", interval=0.2)
        conv2 = (await c2.get("/api/conversations")).json()[0]["conv"]
        accepted = [m["body"] for m in await state_of(c2, conv2) if m["kind"] == "event"]
        assert accepted[-1] == {"text": "session accepted", "event": "accepted",
                                "session": s2, "agent": a2.user_id}  # fmt: skip
        await d1.close()
        await d2.close()
