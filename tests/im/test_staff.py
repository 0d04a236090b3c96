"""Role changes and disabled accounts on real nodes: what a role gave ends at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract import topics
from stack.manager import Stack
from tests.client import Device, User
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent, events_of
from tests.ports import free_ports
from tests.servers import server_node

PORT_A, PORT_B = free_ports(2)


@pytest.fixture(scope="module")
def pair(stack: Stack) -> Iterator[tuple[str, str]]:
    """Two nodes on the same Redis (the stack's admin, manual assignment)."""
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW}
    with server_node(stack, "staff-a", PORT_A, **env), server_node(stack, "staff-b", PORT_B, **env):
        yield f"http://127.0.0.1:{PORT_A}", f"http://127.0.0.1:{PORT_B}"


async def session_with(base: str, served_by: User) -> tuple[User, str, str]:
    """A customer and its session (sid, conv), accepted by `served_by`."""
    customer = await User.create(base, "cust")
    r = await customer.post("/api/cs/sessions", {"topic": "refund"})
    sid, conv = r.json()["session"], r.json()["conv"]
    assert (await served_by.post(f"/api/cs/sessions/{sid}/accept")).status_code == 200
    return customer, sid, conv


async def queued_push(dev: Device, sid: str) -> dict[str, Any]:
    while True:
        frame = await dev.recv_type("cs_queued")
        if frame["session"] == sid:
            return frame


async def notice(dev: Device, conv: str, event: str) -> dict[str, Any]:
    """The next `event` notice pushed to `dev` in `conv` (the whole `msg`)."""
    while True:
        msg = await dev.recv_type("msg")
        if msg["conv"] == conv and msg["kind"] == "event" and msg["body"]["event"] == event:
            return msg


async def test_a_demoted_agent_loses_the_customers_conversation_at_once(
    stack: Stack, pair: tuple[str, str]
) -> None:
    base, _ = pair
    admin = await User.login(base, ADMIN, ADMIN_PW)
    a1, a2 = await agent(base), await agent(base)
    d1, d2 = await a1.connect(), await a2.connect()
    _, old_sid, old_conv = await session_with(base, a1)  # one a1 served and closed
    assert (await a1.post(f"/api/cs/sessions/{old_sid}/close")).status_code == 200
    customer, sid, conv = await session_with(base, a1)
    waiting_since = (await queued_push(d2, sid))["waiting_since"]
    dc = await customer.connect()
    await dc.send_text(conv, "where is my refund?")
    await d1.send_text(conv, "checking")

    r = await admin.post(f"/api/admin/users/{a1.user_id}/role", {"role": "user"})
    assert r.status_code == 204
    # At once: the former agent neither sends nor reads there, nor in the closed one.
    refused = await d1.send_message(conv, "still here")
    assert (refused["type"], refused.get("code")) == ("error", "forbidden"), refused
    await d1.send_json({"type": "sync", "conv": conv, "after": 0})
    assert (await d1.recv_type("error"))["code"] == "forbidden"
    for c in (conv, old_conv):
        assert (await a1.get(f"/api/conversations/{c}/messages")).status_code == 403
    assert (await a1.get("/api/conversations")).json() == []
    assert (await a1.post(f"/api/cs/sessions/{sid}/accept")).status_code == 403
    await d1.send_json({"type": "presence", "status": "online"})
    assert (await d1.recv_type("error"))["code"] == "forbidden"
    # The session is queued again, at its first place, and everyone is told.
    requeued = await notice(dc, conv, "queued")
    assert requeued["body"] == {"text": "session queued", "event": "queued", "session": sid,
                                "from_agent": a1.user_id, "reason": "role_changed"}  # fmt: skip
    assert (await queued_push(d2, sid))["waiting_since"] == waiting_since
    queue = {q["session"]: q for q in (await a2.get("/api/cs/queue")).json()}
    assert queue[sid]["waiting_since"] == waiting_since
    assert (await a2.post(f"/api/cs/sessions/{sid}/accept")).status_code == 200
    await dc.send_text(conv, "hello again")
    assert (await d2.recv_type("msg"))["conv"] == conv
    frames = await d1.quiet(1.0)  # nothing of the conversation from the requeue on
    late = [f for f in frames if f["type"] == "msg" and f["conv"] == conv]
    assert [f for f in late if f["seq"] >= requeued["seq"]] == []
    events = await events_of(stack.settings.kafka_bootstrap, topics.SESSION,
                             {"session": sid, "type": "cs.requeued"}, 1)  # fmt: skip
    assert [(e["from_agent"], e["reason"], e["conv"]) for e in events] == [
        (a1.user_id, "role_changed", conv)]  # fmt: skip
    assert (await customer.post(f"/api/cs/sessions/{sid}/close")).status_code == 200
    await d1.close()
    await d2.close()
    await dc.close()


async def test_disabling_an_agent_ends_its_tokens_sockets_and_sessions_on_every_node(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    admin = await User.login(a, ADMIN, ADMIN_PW)
    a1, a2 = await agent(a), await agent(a)
    on_a, on_b = await a1.connect("phone"), await a1.connect("laptop", base=b)
    second_token = await a1.new_token()
    customer, sid, conv = await session_with(a, a1)
    dc = await customer.connect()

    assert (await admin.post(f"/api/admin/users/{a1.user_id}/disable")).status_code == 204
    for dev in (on_a, on_b):
        _, code = await dev.until_closed(5)
        assert code == 4401
    async with httpx.AsyncClient(base_url=b) as http:
        for token in (a1.token, second_token):
            r = await http.get("/api/me", headers={"authorization": f"Bearer {token}"})
            assert r.status_code == 401
        r = await http.post("/api/login", json={"username": a1.username, "password": a1.password})
        assert r.status_code == 401  # the answer of a wrong password
        assert r.json() == {"error": {"code": "unauthorized",
                                      "message": "wrong username or password"}}  # fmt: skip
    body = (await notice(dc, conv, "queued"))["body"]
    assert (body["from_agent"], body["reason"]) == (a1.user_id, "disabled")
    assert sid in {q["session"] for q in (await a2.get("/api/cs/queue")).json()}
    assert (await admin.post(f"/api/admin/users/{a1.user_id}/disable")).status_code == 204

    assert (await admin.post(f"/api/admin/users/{a1.user_id}/enable")).status_code == 204
    again = await User.login(b, a1.username, a1.password)
    assert again.role == "agent"
    assert (await again.get("/api/conversations")).json() == []  # it left the session's
    assert (await customer.post(f"/api/cs/sessions/{sid}/close")).status_code == 200
    await dc.close()


async def test_only_admins_disable_and_enable(pair: tuple[str, str]) -> None:
    base, _ = pair
    someone, other = await User.create(base, "plain"), await User.create(base, "other")
    for action in ("disable", "enable"):
        r = await someone.post(f"/api/admin/users/{other.user_id}/{action}")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    admin = await User.login(base, ADMIN, ADMIN_PW)
    for uid in ("u_0123456789abcdef", "system", "nope"):
        r = await admin.post(f"/api/admin/users/{uid}/disable")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
