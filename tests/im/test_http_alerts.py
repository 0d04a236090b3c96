"""The alert routes on a real node and Redis: who lists which alerts, silences,
the new staff roles (taking effect at once), and the alert conversations' members."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from alerts.model import State
from alerts.silences import MAX_SILENCE_S
from im import keys
from stack.manager import Stack
from tests.alerts.helpers import alert, staff, store, unique_name
from tests.client import User
from tests.im.cs_helpers import ADMIN, ADMIN_PW
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "alerts-api", PORT):
        yield f"http://127.0.0.1:{PORT}"


def ours(r: httpx.Response, fingerprints: set[str]) -> list[dict[str, Any]]:
    """The rows of our alerts (the session's Redis holds other tests' too)."""
    assert r.status_code == 200, r.text
    return [row for row in r.json()["alerts"] if row["fingerprint"] in fingerprints]


async def test_admins_give_the_sre_and_manager_roles(base: str) -> None:
    admin = await User.login(base, ADMIN, ADMIN_PW)
    for role in ("sre", "manager"):
        user = await staff(base, role)
        assert user.role == role and (await user.get("/api/me")).json()["role"] == role
    r = await admin.post("/api/admin/users", {"username": "boss-x", "password": "long enough",
                                              "role": "boss"})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "invalid",
        "message": "role must be one of agent, bot, admin, sre, manager",
    }
    plain = await User.create(base)
    for role in ("sre", "manager", "user"):
        r = await admin.post(f"/api/admin/users/{plain.user_id}/role", {"role": role})
        assert r.status_code == 204
        assert (await plain.get("/api/me")).json()["role"] == role


async def test_who_lists_which_alerts(base: str, redis: aioredis.Redis) -> None:
    now = int(time.time() * 1000)
    down = alert(unique_name("RedisDown"), since_ms=now - 120_000, fired_ms=now - 60_000)
    disk = alert(unique_name("DiskFull"), severity="warning", state=State.PENDING,
                 since_ms=now - 10_000, fired_ms=None, value=0.87)  # fmt: skip
    reply = alert(unique_name("ReplyRateLow"), team="cs", severity="warning", value=0.61,
                  since_ms=now - 600_000, fired_ms=now - 300_000)  # fmt: skip
    gone = alert(unique_name("QueueLong"), team="cs", state=State.RESOLVED, since_ms=now - 900_000,
                 fired_ms=now - 800_000, resolved_ms=now - 5_000)  # fmt: skip
    quiet = alert(unique_name("Quiet"), state=State.INACTIVE, fired_ms=None)
    await store(redis, gone, reply, quiet, disk, down)
    fps = {a.fingerprint for a in (down, disk, reply, gone, quiet)}
    sre, manager = await staff(base, "sre"), await staff(base, "manager")
    admin = await User.login(base, ADMIN, ADMIN_PW)

    everything = [down, reply, disk, gone]  # firing (critical, warning), pending, resolved
    for viewer in (sre, admin):
        rows = ours(await viewer.get("/api/alerts"), fps)
        assert [r["fingerprint"] for r in rows] == [a.fingerprint for a in everything]
    assert ours(await manager.get("/api/alerts"), fps) == [
        {"fingerprint": reply.fingerprint, "name": reply.name, "state": "firing",
         "severity": "warning", "team": "cs", "value": 0.61, "labels": reply.labels,
         "annotations": reply.annotations, "since": now - 600_000, "fired_at": now - 300_000,
         "resolved_at": None, "silenced_until": None},
        {"fingerprint": gone.fingerprint, "name": gone.name, "state": "resolved",
         "severity": "critical", "team": "cs", "value": 0.0, "labels": gone.labels,
         "annotations": gone.annotations, "since": now - 900_000, "fired_at": now - 800_000,
         "resolved_at": now - 5_000, "silenced_until": None},
    ]  # fmt: skip
    for role in ("user", "agent", "bot"):
        who = await User.create(base) if role == "user" else await staff(base, role)
        r = await who.get("/api/alerts")
        assert r.status_code == 403 and r.json()["error"] == {
            "code": "forbidden",
            "message": "alerts are for sre, manager and admin",
        }
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/api/alerts")).status_code == 401


async def test_a_role_change_shows_in_the_alerts_at_once(base: str, redis: aioredis.Redis) -> None:
    admin = await User.login(base, ADMIN, ADMIN_PW)
    ops, cs = alert(unique_name("BrokerDown")), alert(unique_name("Waiting"), team="cs")
    await store(redis, ops, cs)
    fps = {ops.fingerprint, cs.fingerprint}
    someone = await staff(base, "sre")
    assert len(ours(await someone.get("/api/alerts"), fps)) == 2
    both = sorted([ops.fingerprint, cs.fingerprint])  # alike but for it: by fingerprint
    # The same token throughout.
    for role, seen in (("user", None), ("manager", [cs.fingerprint]), ("sre", both)):
        assert (await admin.post(f"/api/admin/users/{someone.user_id}/role",
                                 {"role": role})).status_code == 204  # fmt: skip
        r = await someone.get("/api/alerts")
        if seen is None:
            assert r.status_code == 403
        else:
            assert [row["fingerprint"] for row in ours(r, fps)] == seen


async def test_silencing_by_the_api(base: str, redis: aioredis.Redis) -> None:
    ops, cs = alert(unique_name("SlowLog")), alert(unique_name("SpamWave"), team="cs")
    await store(redis, ops, cs)
    sre, manager = await staff(base, "sre"), await staff(base, "manager")
    user = await User.create(base)
    path = f"/api/alerts/{ops.fingerprint}/silence"
    for body in (None, {}, {"for_s": "60"}, {"for_s": 1.5}, {"for_s": True}, {"for_s": -1},
                 {"for_s": MAX_SILENCE_S + 1}):  # fmt: skip
        r = await sre.post(path, body)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid", (body, r.text)
    for fp in ("0123456789abcdef", "nope", "0123456789ABCDEF"):
        r = await sre.post(f"/api/alerts/{fp}/silence", {"for_s": 60})
        assert r.status_code == 404
        assert r.json()["error"] == {"code": "not_found", "message": "no such alert"}
    assert (await user.post(path, {"for_s": 60})).status_code == 403
    r = await manager.post(path, {"for_s": 60})
    assert r.status_code == 403 and r.json()["error"] == {
        "code": "forbidden",
        "message": "managers silence customer-service alerts only",
    }

    before = int(time.time() * 1000)
    r = await sre.post(path, {"for_s": 3600})
    after = int(time.time() * 1000)
    assert r.status_code == 200
    until = r.json()["silenced_until"]
    assert r.json() == {"fingerprint": ops.fingerprint, "silenced_until": until, "by": sre.user_id}
    assert before + 3_600_000 - 50 <= until <= after + 3_600_000 + 50  # Redis' clock
    assert orjson.loads(str(await redis.hget(keys.ALERT_SILENCES, ops.fingerprint))) == {
        "until": until, "by": sre.user_id}  # fmt: skip
    [row] = ours(await sre.get("/api/alerts"), {ops.fingerprint})
    assert row["silenced_until"] == until
    # The ops conversation is told.
    conv = str(await redis.hget(keys.ALERT_CONVS, "sre"))
    last = str(await redis.hget(keys.conv(conv), "max_seq"))
    told = orjson.loads(str(await redis.hget(keys.messages(conv), last)))
    assert (told["from"], told["kind"], told["body"]["silence"]) == (
        "system",
        "system",
        {"fingerprint": ops.fingerprint, "until": until, "by": sre.user_id},
    )
    assert told["body"]["text"].startswith(f"Silenced {ops.name} ({ops.fingerprint}) until ")
    assert told["body"]["text"].endswith(f", by {sre.username}.")

    r = await manager.post(f"/api/alerts/{cs.fingerprint}/silence", {"for_s": 60})
    assert r.status_code == 200 and r.json()["by"] == manager.user_id
    r = await sre.post(path, {"for_s": 0})  # lifts it
    assert r.json() == {"fingerprint": ops.fingerprint, "silenced_until": None, "by": sre.user_id}
    assert await redis.hget(keys.ALERT_SILENCES, ops.fingerprint) is None
    [row] = ours(await sre.get("/api/alerts"), {ops.fingerprint})
    assert row["silenced_until"] is None


async def test_admins_put_people_into_the_alert_conversations(base: str) -> None:
    admin = await User.login(base, ADMIN, ADMIN_PW)
    sre, someone = await staff(base, "sre"), await User.create(base)
    members = "/api/alerts/conversations/sre/members"
    r = await sre.post(members, {"user_id": someone.user_id})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (await admin.post("/api/alerts/conversations/db/members",
                             {"user_id": sre.user_id})).status_code == 404  # fmt: skip
    for uid in ("u_0123456789abcdef", "system", "nope"):
        r = await admin.post(members, {"user_id": uid})
        assert r.status_code == 404 and r.json()["error"]["message"] == "no such user"
    assert (await admin.post(members, {"user_id": 5})).status_code == 400

    for _ in range(2):  # adding twice changes nothing
        assert (await admin.post(members, {"user_id": sre.user_id})).status_code == 204
    [row] = (await sre.get("/api/conversations")).json()
    assert (row["kind"], row["title"], row["unread"]) == ("group", "Ops alerts", 0)
    # Not through the group route: the system account owns the group.
    group = "g_" + row["conv"][2:]
    r = await admin.post(f"/api/groups/{group}/members", {"user_id": someone.user_id})
    assert r.status_code == 403
    assert (await admin.delete(f"{members}/{sre.user_id}")).status_code == 204
    assert (await sre.get("/api/conversations")).json() == []
    r = await admin.delete(f"{members}/{sre.user_id}")
    assert r.status_code == 404 and r.json()["error"]["message"] == "not a member"
    assert (await admin.post("/api/alerts/conversations/cs/members",
                             {"user_id": sre.user_id})).status_code == 204  # fmt: skip
    [row] = (await sre.get("/api/conversations")).json()
    assert row["title"] == "Customer-service alerts"
    # A member leaves like any group member.
    assert (await sre.post(f"/api/groups/g_{row['conv'][2:]}/leave")).status_code == 204
    assert (await sre.get("/api/conversations")).json() == []
