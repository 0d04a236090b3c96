"""Send limits (PROTOCOL.md): a burst, a group's slow mode, a muted user. On a
node with the default limits (the test stack raises them)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from stack.manager import Stack
from tests.client import Frame, User, send_frame
from tests.im.gateway.helpers import assert_clean, send_refused
from tests.ports import free_port
from tests.servers import server_node

PORT_LIMITS = free_port()  # the default send limits
SYNC_BURST = 5


@pytest.fixture(scope="module")
def limits(stack: Stack) -> Iterator[str]:
    """A node with the default send limits (the test stack raises them), and
    a small `sync`/`read` bucket that refills too slowly to matter in a test."""
    env = {"IM_RATE_BURST": "20", "IM_RATE_PER_S": "2",
           "IM_SYNC_READ_BURST": str(SYNC_BURST), "IM_SYNC_READ_PER_S": "0.1"}  # fmt: skip
    with server_node(stack, "gw-limits", PORT_LIMITS, **env):
        yield f"http://127.0.0.1:{PORT_LIMITS}"


async def test_the_21st_message_of_a_burst_is_rate_limited(limits: str) -> None:
    user = await User.create(limits, "gwburst")
    conv = await user.group("burst", [])
    ws = await user.connect("d1")
    try:
        frames = [send_frame(conv, f"m{i}", f"b{i}") for i in range(21)]
        for f in frames:  # at once: no waiting for answers
            await ws.send_json(f)
        answers: dict[str, Frame] = {}
        while len(answers) < 21:
            f = await ws.recv()
            if f["type"] in ("sent", "error"):
                answers[f.get("cmid") or f["ref"]] = f
        assert [answers[f"b{i}"]["type"] for i in range(20)] == ["sent"] * 20
        assert [answers[f"b{i}"]["seq"] for i in range(20)] == list(range(1, 21))
        err = answers["b20"]
        assert err["type"] == "error" and err["code"] == "rate_limited", err
        assert_clean(err)
        retry_after = err["retry_after"]
        assert isinstance(retry_after, int) and not isinstance(retry_after, bool)
        assert 0 < retry_after <= 500  # one token at 2 per second

        # A retry of a stored message is answered even while limited.
        await ws.send_json(frames[0])
        again = await ws.recv_type("sent")
        assert (again["cmid"], again["seq"]) == ("b0", 1)
        # After retry_after the same cmid goes through, once.
        await asyncio.sleep(retry_after / 1000 + 0.05)  # the subject: the limit runs out
        await ws.send_json(frames[20])
        sent = await ws.recv_type("sent")
        assert (sent["cmid"], sent["seq"]) == ("b20", 21)
        await ws.send_json(frames[20])
        assert (await ws.recv_type("sent"))["seq"] == 21
    finally:
        await ws.close()
    r = await user.get(f"/api/conversations/{conv}/messages?limit=200")
    assert [m["cmid"] for m in r.json()["messages"]] == [f"b{i}" for i in range(21)]


async def test_slow_mode_of_a_group(limits: str) -> None:
    owner = await User.create(limits, "gwslo")
    member = await User.create(limits, "gwslm")
    group_id, conv = await owner.create_group("slow", [member])
    r = await member.post(f"/api/groups/{group_id}/slow_mode", {"interval_s": 30})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await owner.post("/api/groups/g_0000000000000000/slow_mode", {"interval_s": 30})
    assert r.status_code == 404
    r = await owner.post(f"/api/groups/{group_id}/slow_mode", {"interval_s": 30})
    assert r.status_code == 204

    mws = await member.connect("d1")
    ows = await owner.connect("d1")
    try:
        await mws.send_text(conv, "first")
        t0 = time.monotonic()
        err = await send_refused(mws, conv, "second", "second")
        assert err["code"] == "rate_limited", err
        retry_after = err["retry_after"]
        assert isinstance(retry_after, int) and not isinstance(retry_after, bool)
        waited_ms = (time.monotonic() - t0) * 1000
        assert 30000 - waited_ms - 1000 < retry_after <= 30000, retry_after
        # Per member: the owner's own first message is not held back.
        await ows.send_text(conv, "owner speaks")
        # Slow mode off: the refused message goes through with its cmid.
        r = await owner.post(f"/api/groups/{group_id}/slow_mode", {"interval_s": 0})
        assert r.status_code == 204
        sent = await mws.send_text(conv, "second", "second")
        assert sent["seq"] == 3
    finally:
        await mws.close()
        await ows.close()


async def test_a_muted_user_gets_muted_with_until(limits: str, redis: aioredis.Redis) -> None:
    user = await User.create(limits, "gwmute")
    conv = await user.group("mute", [])
    ws = await user.connect("d1")
    try:
        until = int(time.time() * 1000) + 60_000
        await redis.set(f"mute:{user.user_id}", until, px=60_000)
        err = await send_refused(ws, conv, "hello?", "m1")
        assert err["code"] == "muted", err
        assert err["until"] == until and isinstance(err["until"], int)
        assert "retry_after" not in err
        # Unmuted (the key expires by itself; here at once): the same cmid goes through.
        await redis.delete(f"mute:{user.user_id}")
        assert (await ws.send_text(conv, "hello?", "m1"))["seq"] == 1
    finally:
        await ws.close()


async def test_sync_and_read_beyond_the_connections_bucket_are_refused_then_closed(
    limits: str,
) -> None:
    user = await User.create(limits, "gwsync")
    conv = await user.group("sync", [])
    ws = await user.connect("d1")
    for i in range(SYNC_BURST + 1):  # at once
        read = {"type": "read", "conv": conv, "seq": 0}
        await ws.send_json(read if i % 2 else {"type": "sync", "conv": conv, "after": 0})
    answers = [await ws.recv() for _ in range(SYNC_BURST + 1)]
    assert sorted(f["type"] for f in answers) == sorted(
        ["history"] * 3 + ["unread"] * 2 + ["error"]
    )
    [err] = [f for f in answers if f["type"] == "error"]
    assert err["code"] == "rate_limited" and 0 < err["retry_after"] <= 10_000, err
    assert_clean(err)
    await ws.send_text(conv, "sends are not held back")
    for _ in range(19):  # the refusals count as bad frames: 20 within a minute close it
        await ws.send_json({"type": "sync", "conv": conv, "after": 0})
    frames, code = await ws.until_closed(5)
    assert code == 4400
    assert [f["code"] for f in frames if f["type"] == "error"] == ["rate_limited"] * 19
