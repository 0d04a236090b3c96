"""The live customer-service view, alerts and user administration through the real console,
on the node's Redis and routes."""

from __future__ import annotations

import time
from contextlib import aclosing
from typing import Any

import httpx
import redis.asyncio as aioredis

from alerts.model import State
from tests.alerts.helpers import PASSWORD, alert, staff, store, unique_name
from tests.client import Device, User
from tests.console.conftest import Running
from tests.console.helpers import CSRF, member, sign_in
from tests.waiting import wait_until


async def live(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.get("/api/live/cs")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def agent_row(view: dict[str, Any], uid: str) -> dict[str, Any] | None:
    return next((a for a in view["agents"] if a["user_id"] == uid), None)


async def test_a_queued_session_shows_and_moves_to_its_agent_once_accepted(
    running: Running,
) -> None:
    _, manager = await member(running.node, running.console, "manager")
    agent = await staff(running.node, "agent")
    customer = await User.create(running.node, "cust")
    async with aclosing(manager):
        r = await customer.post("/api/cs/sessions", {"topic": "billing"})
        assert r.status_code in (200, 201), r.text
        sid, conv = r.json()["session"], r.json()["conv"]
        view = await live(manager)
        waiting = {w["session"]: w for w in view["queue"]["waiting"]}
        assert waiting[sid]["customer"] == customer.user_id
        assert 0 <= waiting[sid]["waiting_s"] <= 5
        assert view["queue"]["length"] >= 1 and view["queue"]["oldest_wait_s"] >= 0
        assert view["reply_rate_today"] is not None  # read through analytics
        assert set(view["reply_rate_today"]) == {"waits", "answered_5m", "rate"}

        device = await Device.sign_in(running.node, agent.token)
        try:
            await device.send_json({"type": "presence", "status": "online"})
            await device.recv_type("presence")
            assert agent_row(await live(manager), agent.user_id) == {
                "user_id": agent.user_id, "username": agent.username, "status": "online",
                "open_sessions": 0, "sessions": []}  # fmt: skip
            r = await agent.post(f"/api/cs/sessions/{sid}/accept")
            assert r.status_code == 200, r.text
            view = await live(manager)
            assert sid not in {w["session"] for w in view["queue"]["waiting"]}
            row = agent_row(view, agent.user_id)
            assert row is not None and row["open_sessions"] == 1 and row["sessions"] == [sid]
            assert sid not in {u["session"] for u in view["unanswered"]}
            # The customer writes; until the agent answers, the session is unanswered.
            cust_dev = await Device.sign_in(running.node, customer.token)
            try:
                await cust_dev.send_text(conv, "hello?")
                unanswered = {u["session"]: u for u in (await live(manager))["unanswered"]}
                assert unanswered[sid]["customer"] == customer.user_id
                assert unanswered[sid]["agent"] == agent.user_id
                await device.send_text(conv, "hi, how can I help")
                assert sid not in {u["session"] for u in (await live(manager))["unanswered"]}
            finally:
                await cust_dev.close()
            await device.send_json({"type": "presence", "status": "away"})
            await device.recv_type("presence")
            row = agent_row(await live(manager), agent.user_id)
            assert row is not None and row["status"] == "away"
        finally:
            await device.close()

        async def offline() -> bool | None:
            row = agent_row(await live(manager), agent.user_id)
            return (row is not None and row["status"] == "offline") or None

        await wait_until(offline, 20, what="the agent offline once signed out", interval=0.3)


async def test_alerts_come_through_by_team_and_silence_forwards(
    running: Running, redis: aioredis.Redis
) -> None:
    now = int(time.time() * 1000)
    down = alert(unique_name("RedisDown"), since_ms=now - 120_000, fired_ms=now - 60_000)
    reply = alert(unique_name("ReplyRateLow"), team="cs", severity="warning", value=0.61,
                  since_ms=now - 600_000, fired_ms=now - 300_000)  # fmt: skip
    gone = alert(unique_name("QueueLong"), team="cs", state=State.RESOLVED, since_ms=now - 900_000,
                 fired_ms=now - 800_000, resolved_ms=now - 5_000)  # fmt: skip
    await store(redis, down, reply, gone)
    fps = {a.fingerprint for a in (down, reply, gone)}
    _, manager = await member(running.node, running.console, "manager")
    _, sre = await member(running.node, running.console, "sre")
    _, adm = await member(running.node, running.console, "admin")
    async with aclosing(manager), aclosing(sre), aclosing(adm):

        async def ours(http: httpx.AsyncClient) -> list[str]:
            r = await http.get("/api/alerts")
            assert r.status_code == 200, r.text
            return [a["name"] for a in r.json()["alerts"] if a["fingerprint"] in fps]

        assert await ours(sre) == [down.name, reply.name, gone.name]
        assert await ours(adm) == [down.name, reply.name, gone.name]
        assert await ours(manager) == [reply.name, gone.name]
        row = next(a for a in (await manager.get("/api/alerts")).json()["alerts"]
                   if a["fingerprint"] == reply.fingerprint)  # fmt: skip
        assert row["annotations"]["runbook_url"].endswith(f"{reply.name}.md")
        assert row["value"] == 0.61 and row["since"] == now - 600_000

        path = f"/api/alerts/{reply.fingerprint}/silence"
        r = await manager.post(path, json={"for_s": 600}, headers=CSRF)
        assert r.status_code == 200, r.text
        assert r.json()["silenced_until"] >= now + 600_000
        listed = next(a for a in (await sre.get("/api/alerts")).json()["alerts"]
                      if a["fingerprint"] == reply.fingerprint)  # fmt: skip
        assert listed["silenced_until"] == r.json()["silenced_until"]
        r = await manager.post(f"/api/alerts/{down.fingerprint}/silence", json={"for_s": 60},
                               headers=CSRF)  # fmt: skip
        assert r.status_code == 403  # the node's rule: managers silence cs alerts only
        r = await manager.post(path, json={"for_s": "ten"}, headers=CSRF)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


async def test_an_admin_creates_staff_who_can_sign_in_and_others_may_not(
    running: Running,
) -> None:
    _, adm = await member(running.node, running.console, "admin")
    _, manager = await member(running.node, running.console, "manager")
    async with aclosing(adm), aclosing(manager):
        for role in ("manager", "sre", "agent"):
            name = unique_name(f"c{role}")
            body = {"username": name, "password": PASSWORD, "role": role}
            r = await adm.post("/api/admin/users", json=body, headers=CSRF)
            assert r.status_code == 201, r.text
            user = await User.login(running.node, name, PASSWORD)
            assert user.user_id == r.json()["user_id"] and user.role == role
            if role != "agent":
                http = await sign_in(running.console, name, PASSWORD)
                async with aclosing(http):
                    assert (await http.get("/api/session")).json()["role"] == role
        r = await adm.post("/api/admin/users", json={"username": unique_name("x"),
                           "password": PASSWORD, "role": "boss"}, headers=CSRF)  # fmt: skip
        assert r.status_code == 400 and "role" in r.json()["error"]["message"]
        r = await adm.post("/api/admin/users", json={"username": "x", "password": PASSWORD,
                           "role": "sre"}, headers=CSRF)  # fmt: skip
        assert r.status_code == 400, r.text  # the node's refusal, passed through
        assert set(r.json()["error"]) == {"code", "message"}
        body = {"username": unique_name("y"), "password": PASSWORD, "role": "sre"}
        r = await manager.post("/api/admin/users", json=body, headers=CSRF)
        assert r.status_code == 403
        assert (await manager.get("/admin")).status_code == 403
