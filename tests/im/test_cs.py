"""Customer-service sessions through HTTP and WebSocket on a real node, with the
exact `event` messages and `im.session` events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from contract import topics
from stack.manager import Stack
from tests.client import Device, User, send_frame
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent, events_of
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT = free_port()


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW}
    with server_node(stack, "cs", PORT, **env):
        yield f"http://127.0.0.1:{PORT}"


async def next_event(dev: Device, conv: str) -> dict[str, object]:
    while True:
        msg = await dev.recv_type("msg")
        if msg["conv"] == conv and msg["kind"] == "event":
            return msg["body"]  # type: ignore[no-any-return]


async def test_whole_life_of_a_session(stack: Stack, base: str) -> None:
    a1, a2 = await agent(base), await agent(base)
    d1, d2 = await a1.connect(), await a2.connect()
    customer = await User.create(base, "cust")
    r = await customer.post("/api/cs/sessions", {"topic": "refund"})
    assert r.status_code == 201
    sid, conv = r.json()["session"], r.json()["conv"]
    assert r.json() == {"session": sid, "conv": conv, "state": "queued"}
    dc = await customer.connect()  # signs in after: the notice is in its history
    await dc.send_json({"type": "sync", "conv": conv, "after": 0})
    first = (await dc.recv_type("history"))["messages"][0]
    queued = {"text": "session queued", "event": "queued", "session": sid}
    assert (first["kind"], first["from"], first["body"]) == ("event", "system", queued)
    pushed = await d1.recv_type("cs_queued")
    assert {k: pushed[k] for k in ("session", "conv", "customer")} == {
        "session": sid, "conv": conv, "customer": customer.user_id}  # fmt: skip
    queue = (await a1.get("/api/cs/queue")).json()
    assert [q["session"] for q in queue if q["session"] == sid] == [sid]
    mine = next(q for q in queue if q["session"] == sid)  # others' may be queued too
    assert mine["waiting_since"] == pushed["waiting_since"]

    r = await a1.post(f"/api/cs/sessions/{sid}/accept")
    assert r.json() == {"session": sid, "conv": conv, "state": "active", "agent": a1.user_id}
    assert await next_event(dc, conv) == {"text": "session accepted", "event": "accepted",
                                          "session": sid, "agent": a1.user_id}  # fmt: skip
    await dc.send_text(conv, "where is my refund?")
    # Pushes to the agent start when it joins: the accepted notice, then the question.
    assert (await d1.recv_type("msg"))["seq"] == 2
    assert (await d1.recv_type("msg"))["body"] == {"text": "where is my refund?"}
    await d1.send_text(conv, "checking")

    r = await a1.post(f"/api/cs/sessions/{sid}/transfer", {"to": a2.user_id})
    assert r.json() == {"session": sid, "agent": a2.user_id}
    transferred = await next_event(dc, conv)
    assert transferred == {
        "text": "session transferred", "event": "transferred", "session": sid,
        "from_agent": a1.user_id, "agent": a2.user_id,
    }  # fmt: skip
    await dc.send_text(conv, "hello again")
    got = [await d2.recv_type("msg") for _ in range(2)]  # everything after the transfer
    assert [(m["seq"], m["body"]["text"]) for m in got] == [
        (5, "session transferred"), (6, "hello again")]  # fmt: skip
    # The old agent gets nothing new, but still reads what was there at the transfer.
    with pytest.raises(TimeoutError):
        while True:
            m = await d1.recv_type("msg", timeout=1.0)
            assert m["seq"] <= 4, m
    await d1.send_json({"type": "sync", "conv": conv, "after": 0, "limit": 200})
    seen = [m["seq"] for m in (await d1.recv_type("history"))["messages"]]
    assert seen == [1, 2, 3, 4]  # up to the transfer
    await d1.send_json(send_frame(conv, "hi", "x"))
    assert (await d1.recv_type("error"))["code"] == "forbidden"

    r = await customer.post(f"/api/cs/sessions/{sid}/close")
    assert r.json() == {"session": sid, "state": "closed"}
    assert await next_event(dc, conv) == {"text": "session closed", "event": "closed",
                                          "session": sid, "reason": "customer"}  # fmt: skip

    events = await events_of(stack.settings.kafka_bootstrap, topics.SESSION, {"session": sid}, 4)
    shapes = [(e["type"], e.get("agent"), e.get("from_agent"), e.get("to_agent"),
               e.get("reason")) for e in events]  # fmt: skip
    assert shapes == [
        ("cs.created", None, None, None, None),
        ("cs.accepted", a1.user_id, None, None, None),
        ("cs.transferred", a2.user_id, a1.user_id, a2.user_id, None),
        ("cs.closed", a2.user_id, None, None, "customer"),
    ]
    assert all(e["conv"] == conv and e["customer"] == customer.user_id for e in events)
    chat = await events_of(stack.settings.kafka_bootstrap, topics.CHAT, {"conv": conv}, 7)
    by_seq = {e["seq"]: e for e in chat}
    assert by_seq[3]["sender_role"] == "user" and by_seq[3]["agent"] == a1.user_id
    assert by_seq[4]["sender_role"] == "agent" and by_seq[4]["session"] == sid
    assert by_seq[6]["agent"] == a2.user_id and by_seq[6]["conv_kind"] == "cs"
    assert by_seq[1]["kind"] == "event" and by_seq[1]["sender"] == "system"
    assert "agent" not in by_seq[1]  # queued: nobody assigned yet


async def test_two_agents_accepting_at_once_one_wins(base: str) -> None:
    a1, a2 = await agent(base), await agent(base)
    customer = await User.create(base, "race")
    sid = (await customer.post("/api/cs/sessions")).json()["session"]
    r1, r2 = await asyncio.gather(a1.post(f"/api/cs/sessions/{sid}/accept"),
                                  a2.post(f"/api/cs/sessions/{sid}/accept"))  # fmt: skip
    assert sorted([r1.status_code, r2.status_code]) == [200, 409]
    loser = r1 if r1.status_code == 409 else r2
    assert loser.json()["error"]["code"] == "conflict"


async def test_refusals_as_written(base: str) -> None:
    a1, a2 = await agent(base), await agent(base)
    customer, stranger = await User.create(base, "c"), await User.create(base, "s")
    r = await customer.post("/api/cs/sessions", {"topic": "x"})
    sid = r.json()["session"]
    assert (await customer.post("/api/cs/sessions")).status_code == 409
    assert (await stranger.post(f"/api/cs/sessions/{sid}/accept")).status_code == 403
    assert (await stranger.get("/api/cs/queue")).status_code == 403
    assert (await a1.post("/api/cs/sessions/s_nope/accept")).status_code == 404
    assert (await a1.post(f"/api/cs/sessions/{sid}/accept")).status_code == 200
    assert (await a2.post(f"/api/cs/sessions/{sid}/transfer", {"to": a1.user_id})
            ).status_code == 403  # fmt: skip
    assert (await a1.post(f"/api/cs/sessions/{sid}/transfer", {"to": stranger.user_id})
            ).status_code == 404  # fmt: skip
    assert (await stranger.post(f"/api/cs/sessions/{sid}/close")).status_code == 403
    assert (await a1.post(f"/api/cs/sessions/{sid}/close")).status_code == 200
    r = await a1.post(f"/api/cs/sessions/{sid}/close")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert (await a1.post(f"/api/cs/sessions/{sid}/transfer", {"to": a2.user_id})
            ).status_code == 409  # fmt: skip
    assert (await a2.post(f"/api/cs/sessions/{sid}/accept")).status_code == 409
    # The customer may open a new one now.
    assert (await customer.post("/api/cs/sessions")).status_code == 201


async def test_transfer_while_messages_flow(base: str) -> None:
    a1, a2 = await agent(base), await agent(base)
    customer = await User.create(base, "flow")
    r = await customer.post("/api/cs/sessions")
    sid, conv = r.json()["session"], r.json()["conv"]
    await a1.post(f"/api/cs/sessions/{sid}/accept")
    dc, d2 = await customer.connect(), await a2.connect()

    seqs: list[int] = []

    async def talk() -> None:
        for i in range(60):
            seqs.append((await dc.send_text(conv, f"line {i}"))["seq"])

    talking = asyncio.create_task(talk())
    await wait_until(lambda: len(seqs) >= 5, what="the customer talking")  # mid-flow
    r = await a1.post(f"/api/cs/sessions/{sid}/transfer", {"to": a2.user_id})
    assert r.status_code == 200
    await talking
    # The customer lost nothing: 60 stored messages, seqs strictly rising.
    assert len(seqs) == 60 and seqs == sorted(set(seqs))
    history = []
    after = 0
    while True:
        await dc.send_json({"type": "sync", "conv": conv, "after": after, "limit": 200})
        page = await dc.recv_type("history")
        history += page["messages"]
        if not page["more"]:
            break
        after = history[-1]["seq"]
    texts = [m["body"]["text"] for m in history if m["kind"] == "chat"]
    assert texts == [f"line {i}" for i in range(60)]
    # The new agent saw everything from the transfer on (at the latest from its
    # notice), in order, without a gap.
    notice = next(m["seq"] for m in history if m["body"].get("event") == "transferred")
    last = history[-1]["seq"]
    got = [(await d2.recv_type("msg"))["seq"]]
    while got[-1] < last:
        got.append((await d2.recv_type("msg"))["seq"])
    assert got[0] <= notice and got == list(range(got[0], last + 1))
