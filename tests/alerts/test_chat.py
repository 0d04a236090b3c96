"""Alerts in the chat, with the evaluator's side in the test process and a real
node (separate process) serving the members: the conversations made once,
alert messages stored once and pushed, follow-ups, and /silence commands."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from alerts.chat import AlertChat, cmid_of
from alerts.convs import AlertConvs
from alerts.model import Kind, State, fingerprint
from im import keys
from stack.manager import Stack
from tests.alerts.helpers import alert, notification, staff, store, unique_name
from tests.client import Device, User
from tests.im.cs_helpers import ADMIN, ADMIN_PW
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
EXTERNAL = "http://im.example:8080"


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "alerts-chat", PORT):
        yield f"http://127.0.0.1:{PORT}"


@pytest.fixture
async def chat(redis: aioredis.Redis) -> AsyncIterator[AlertChat]:
    """The evaluator's end, in this process (not a node: no devices of its own)."""
    c = AlertChat(redis, "test-evaluator", EXTERNAL)
    await c.start()
    yield c


async def member(base: str, team: str, role: str) -> tuple[User, Device]:
    """A new account with `role`, put into the team's conversation by the admin, online."""
    user = await User.create(base) if role == "user" else await staff(base, role)
    admin = await User.login(base, ADMIN, ADMIN_PW)
    r = await admin.post(f"/api/alerts/conversations/{team}/members", {"user_id": user.user_id})
    assert r.status_code == 204
    return user, await user.connect()


async def next_msg(dev: Device, conv: str) -> dict[str, Any]:
    while True:
        msg = await dev.recv_type("msg")
        if msg["conv"] == conv:
            return msg


async def test_the_conversations_are_made_once_by_any_number_of_processes(
    stack: Stack, redis: aioredis.Redis
) -> None:
    clients = [aioredis.Redis.from_url(stack.settings.redis_url) for _ in range(4)]
    try:  # four processes starting at once, then one restarting
        made = await asyncio.gather(*(AlertConvs(c).ensure() for c in clients))
        made.append(await AlertConvs(clients[0]).ensure())
    finally:
        for c in clients:
            await c.aclose()
    assert all(m == made[0] for m in made) and set(made[0]) == {"sre", "cs"}
    assert await redis.hgetall(keys.ALERT_CONVS) == made[0]
    for team, title in (("sre", "Ops alerts"), ("cs", "Customer-service alerts")):
        conv = made[0][team]
        info = await redis.hgetall(keys.conv(conv))
        assert {k: info[k] for k in ("kind", "title", "owner")} == {
            "kind": "group", "title": title, "owner": "system"}  # fmt: skip
        assert await redis.hgetall(keys.group("g_" + conv[2:])) == {
            "conv": conv, "owner": "system", "name": title}  # fmt: skip
        assert await redis.hexists(keys.ALERT_CURSOR, conv)


async def test_an_alert_is_posted_once_pushed_and_followed_up_when_resolved(
    base: str, chat: AlertChat, redis: aioredis.Redis
) -> None:
    conv = (await chat.start())["sre"]
    sre, dev = await member(base, "sre", "sre")
    fired = int(time.time() * 1000) - 600_000  # fired 10 minutes before it is posted
    a = alert(unique_name("KafkaBrokerDown"), since_ms=fired - 60_000, fired_ms=fired,
              instance="broker-1")  # fmt: skip
    a.annotations["dashboard"] = "/d/kafka"
    first = notification(a, at_ms=fired)

    stored = await chat.post(first)
    msg = await next_msg(dev, conv)
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(fired / 1000))
    assert msg == {
        "type": "msg", "conv": conv, "seq": stored.seq, "ts": stored.ts, "from": "system",
        "cmid": cmid_of(first.key), "kind": "system",
        "body": {
            "text": f"FIRING · critical · {a.name}\n{a.name} on broker-1\n"
                    f"value 0 · since {since}\n"
                    f"runbook: https://runbooks.example/{a.name}.md · "
                    f"dashboard: {EXTERNAL}/d/kafka\n"
                    f"fingerprint {a.fingerprint} · reply /silence 1h to silence it",
            "alert": {
                "fingerprint": a.fingerprint, "name": a.name, "status": "firing",
                "kind": "firing", "severity": "critical", "team": "sre",
                "summary": f"{a.name} on broker-1", "value": 0.0, "since": fired,
                "resolved_at": None, "runbook_url": f"https://runbooks.example/{a.name}.md",
                "dashboard": f"{EXTERNAL}/d/kafka",
            },
        },
    }  # fmt: skip
    # Posted again (the evaluator restarted before recording it): the same message.
    again = await chat.post(first)
    assert (again.duplicate, again.seq) == (True, stored.seq)
    assert [f for f in await dev.quiet(1.0) if f["type"] == "msg"] == []

    a.state, a.resolved_at_ms, a.value = State.RESOLVED, fired + 330_000, 1.0
    done = await chat.post(notification(a, Kind.RESOLVED, fired + 345_000))
    follow = await next_msg(dev, conv)
    assert (follow["seq"], follow["body"]["alert"]["status"]) == (done.seq, "resolved")
    ended = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime((fired + 330_000) / 1000))
    assert follow["body"]["text"].split("\n")[:3] == [
        f"RESOLVED · critical · {a.name}", f"{a.name} on broker-1",
        f"fired {since} · resolved {ended} (after 5m 30s) · last value 1"]  # fmt: skip
    assert follow["body"]["alert"]["resolved_at"] == fired + 330_000
    history = (await sre.get(f"/api/conversations/{conv}/messages?after={stored.seq - 1}")).json()
    assert [m["seq"] for m in history["messages"]] == [stored.seq, done.seq]
    await dev.close()


async def test_posted_once_redis_is_back_saying_when_it_fired(base: str, chat: AlertChat) -> None:
    conv = (await chat.start())["sre"]
    _, dev = await member(base, "sre", "sre")
    fired = int(time.time() * 1000) - 180_000
    n = notification(alert(unique_name("RedisDown"), fired_ms=fired), at_ms=fired)
    away = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # Redis is down
    with pytest.raises(RedisConnectionError):
        await AlertChat(away, "test-evaluator").post(n)
    await away.aclose()
    stored = await chat.post(n)  # back: the evaluator posts what it could not
    msg = await next_msg(dev, conv)
    assert msg["seq"] == stored.seq and msg["ts"] >= fired + 180_000
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(fired / 1000))
    assert f"· since {since}" in msg["body"]["text"] and msg["body"]["alert"]["since"] == fired
    await dev.close()


async def reply_to(dev: Device, conv: str, seq: int) -> dict[str, Any]:
    while True:
        msg = await next_msg(dev, conv)
        if msg["body"].get("reply_to") == seq:
            assert (msg["from"], msg["kind"], msg["cmid"]) == ("system", "system",
                                                              f"alert.reply.{seq}")  # fmt: skip
            return msg


async def test_silence_from_the_chat(base: str, chat: AlertChat, redis: aioredis.Redis) -> None:
    conv = (await chat.start())["sre"]
    sre, dev = await member(base, "sre", "sre")
    plain, pdev = await member(base, "sre", "user")
    older = alert(unique_name("DiskFull"))
    newest = alert(unique_name("HeartbeatMissing"))
    await store(redis, older, newest)
    for a in (older, newest):
        await chat.post(notification(a))
    await chat.commands()  # what earlier tests left

    sent = await dev.send_text(conv, "/silence 1h")
    assert await chat.commands() == [(newest.fingerprint, sent["ts"] + 3_600_000, sre.user_id)]
    ok = await reply_to(dev, conv, sent["seq"])
    until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime((sent["ts"] + 3_600_000) / 1000))
    assert ok["body"] == {
        "text": f"Silenced {newest.name} ({newest.fingerprint}) until {until}, by {sre.username}.",
        "reply_to": sent["seq"],
        "silence": {"fingerprint": newest.fingerprint, "until": sent["ts"] + 3_600_000,
                    "by": sre.user_id},
    }  # fmt: skip
    assert orjson.loads(str(await redis.hget(keys.ALERT_SILENCES, newest.fingerprint))) == {
        "until": sent["ts"] + 3_600_000, "by": sre.user_id}  # fmt: skip

    by_prefix = await dev.send_text(conv, f"/silence {older.fingerprint[:6]} 1h30m")
    await dev.send_text(conv, "just talking")  # not a command: no answer
    refused = await pdev.send_text(conv, "/silence 1h")  # role user
    bad = await dev.send_text(conv, "/silence forever")
    unknown = await dev.send_text(conv, "/silence 0000000000000000 1h")
    assert await chat.commands() == [(older.fingerprint, by_prefix["ts"] + 5_400_000, sre.user_id)]
    answers = {s["seq"]: (await reply_to(dev, conv, s["seq"]))["body"]["text"]
               for s in (refused, bad, unknown)}  # fmt: skip
    assert answers == {
        refused["seq"]: f"{plain.username}: only admin or sre may silence alerts here",
        bad["seq"]: f"{sre.username}: 'forever' is no duration (e.g. 45m, 2h, 1h30m, 1d); "
                    "usage: /silence 1h (the newest alert here) or /silence <fingerprint> 30m",
        unknown["seq"]: f"{sre.username}: no alert of this conversation has a fingerprint "
                        "starting 0000000000000000",
    }  # fmt: skip
    assert await chat.commands() == []  # the cursor moved on

    # Read again after a crash (the cursor not moved): the same silences, no second answer.
    max_seq = await redis.hget(keys.conv(conv), "max_seq")
    await redis.hset(keys.ALERT_CURSOR, conv, sent["seq"] - 1)
    assert [s[0] for s in await chat.commands()] == [newest.fingerprint, older.fingerprint]
    assert await redis.hget(keys.conv(conv), "max_seq") == max_seq

    # A role change counts at once.
    admin = await User.login(base, ADMIN, ADMIN_PW)
    assert (await admin.post(f"/api/admin/users/{sre.user_id}/role",
                             {"role": "manager"})).status_code == 204  # fmt: skip
    late = await dev.send_text(conv, "/silence 2h")
    assert await chat.commands() == []
    assert (await reply_to(dev, conv, late["seq"]))["body"]["text"].endswith(
        "only admin or sre may silence alerts here"
    )
    await dev.close()
    await pdev.close()


async def test_an_ambiguous_prefix_and_the_managers_conversation(
    base: str, chat: AlertChat, redis: aioredis.Redis
) -> None:
    cs_conv = (await chat.start())["cs"]
    manager, dev = await member(base, "cs", "manager")
    # Two customer-service alerts whose fingerprints start alike.
    seen: dict[str, str] = {}
    while True:
        name = unique_name("Waiting")
        fp = fingerprint({"alertname": name, "severity": "critical", "team": "cs"})
        if fp[:4] in seen:
            break
        seen[fp[:4]] = name
    one, two = alert(seen[fp[:4]], team="cs"), alert(name, team="cs")
    await store(redis, one, two)
    await chat.post(notification(one))
    await chat.commands()
    asked = await dev.send_text(cs_conv, f"/silence {fp[:4]} 30m")
    assert await chat.commands() == []
    text = (await reply_to(dev, cs_conv, asked["seq"]))["body"]["text"]
    assert text.startswith(f"{manager.username}: {fp[:4]} fits 2 alerts: ")
    assert text.endswith("; give more digits")
    exact = await dev.send_text(cs_conv, f"/silence {two.fingerprint} 30m")
    assert await chat.commands() == [(two.fingerprint, exact["ts"] + 1_800_000, manager.user_id)]
    await dev.close()
