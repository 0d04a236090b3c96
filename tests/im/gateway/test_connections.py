"""A signed-in connection's life (PROTOCOL.md): heartbeat and idle close, one
connection per device, a device that stops reading."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from urllib.parse import urlsplit

import websockets

from tests.client import Device, Frame, User, send_frame
from tests.im.gateway.conftest import OPS_RULES
from tests.im.gateway.helpers import IDLE_CLOSE_S
from tests.metrics import scrape
from tests.waiting import wait_until

# -- heartbeat ------------------------------------------------------------------------


async def test_a_silent_signed_in_connection_is_closed_4408(rules: str) -> None:
    user = await User.create(rules, "gwidle")
    ws = await Device.open(rules)
    await ws.send_auth(user.token, "d1")
    t0 = time.monotonic()  # the last frame from the client
    frames, code = await ws.until_closed(10)
    elapsed = time.monotonic() - t0
    assert code == 4408
    assert [f["type"] for f in frames] == ["auth_ok"]
    assert IDLE_CLOSE_S - 0.2 <= elapsed < IDLE_CLOSE_S + 2.0, elapsed


async def test_pings_keep_a_connection_open_and_get_pongs(rules: str) -> None:
    user = await User.create(rules, "gwping")
    conv = await user.group("ping", [])
    ws = await user.connect("d1")
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < IDLE_CLOSE_S * 1.75:
            await ws.send_json({"type": "ping"})
            pong = await ws.recv(2)
            now_ms = time.time() * 1000
            assert set(pong) == {"type", "ts"} and pong["type"] == "pong", pong
            assert isinstance(pong["ts"], int) and not isinstance(pong["ts"], bool)
            assert abs(pong["ts"] - now_ms) < 2000, (pong, now_ms)
            await asyncio.sleep(0.5)  # the subject: only pings, spread past the idle close
        sent = await ws.send_text(conv, "still here")
        assert sent["seq"] == 1
    finally:
        await ws.close()


# -- one connection per device --------------------------------------------------------


async def test_the_same_device_signing_in_again_replaces_the_older_connection(
    rules: str,
) -> None:
    user = await User.create(rules, "gwdev")
    friend = await User.create(rules, "gwdevf")
    conv = await user.group("devices", [friend])
    old = await user.connect("phone")
    laptop = await user.connect("laptop")
    new = await user.connect("phone")
    sender = await friend.connect("d1")
    try:
        frames, code = await old.until_closed(5)
        assert code == 4409
        assert not any(f["type"] == "msg" for f in frames)
        sent = await sender.send_text(conv, "to both devices")
        for ws in (new, laptop):
            msg = await ws.recv_type("msg")
            assert msg["conv"] == conv and msg["seq"] == sent["seq"] == 1
            assert msg["from"] == friend.user_id and msg["cmid"] == sent["cmid"]
            assert msg["kind"] == "chat" and msg["body"] == {"text": "to both devices"}
            assert msg["ts"] == sent["ts"]
        # Both remaining devices are really open: each can send.
        assert (await new.send_text(conv, "from phone"))["seq"] == 2
        assert (await laptop.send_text(conv, "from laptop"))["seq"] == 3
    finally:
        for ws in (old, laptop, new, sender):
            await ws.close()


async def test_a_device_that_stops_reading_is_closed_1008_and_the_others_go_on(
    rules: str,
) -> None:
    """The server never waits for a reader: past ~1 MiB unsent it closes the socket."""
    alice, bob = await User.create(rules, "gwslowa"), await User.create(rules, "gwslowb")
    conv = await alice.group("slow", [bob])
    # A tiny receive buffer and a one-frame queue: once its buffers are full the
    # client stops reading, and what the server writes piles up on its side.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", urlsplit(rules).port or 80))
    sock.setblocking(False)
    stalled = await Device.open(rules, reading=False, sock=sock, max_queue=1)
    await stalled.send_auth(bob.token, "stalled")
    reader = await bob.connect("reader")
    sender = await alice.connect("sender")

    async def keep_alive() -> None:  # the stalled client still writes: no 4408
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                for ws in (stalled, reader):
                    await ws.send_json({"type": "ping"})
                await asyncio.sleep(0.3)  # pacing: a ping well within each heartbeat

    slow = "im_slow_reader_closes_total"
    before = await scrape(f"http://127.0.0.1:{OPS_RULES}")
    pinger = asyncio.create_task(keep_alive())
    total, batch, text = 1500, 50, "x" * 3800  # ~5.7 MB of pushes per device

    async def read_every_msg() -> list[Frame]:
        return [await reader.recv_type("msg", timeout=30) for _ in range(total)]

    reading = asyncio.create_task(read_every_msg())  # the reader keeps up meanwhile
    try:
        for _ in range(total // batch):
            frames = [send_frame(conv, text) for _ in range(batch)]
            for f in frames:
                await sender.send_json(f)
            for _ in frames:
                await sender.recv_type("sent", timeout=20)
        got = await reading
        assert [m["seq"] for m in got] == list(range(1, total + 1))  # the reader got all
        pinger.cancel()
        frames, code = await stalled.until_closed(30)  # now read what was written
        assert code == 1008

        async def counted() -> bool:  # once the node has let the socket go
            after = await scrape(f"http://127.0.0.1:{OPS_RULES}")
            return after[slow] - before[slow] == 1

        await wait_until(counted, what="the 1008 close counted")
        seqs = [f["seq"] for f in frames if f["type"] == "msg"]
        assert frames[0]["type"] == "auth_ok"
        assert seqs == list(range(1, len(seqs) + 1)) and 0 < len(seqs) < total, len(seqs)
        # The device catches up by sync after reconnecting.
        again = await bob.connect("stalled")
        assert {c["conv"]: c["max_seq"] for c in again.welcome["convs"]}[conv] == total
        await again.close()
    finally:
        pinger.cancel()
        reading.cancel()
        for ws in (stalled, reader, sender):
            await ws.close()
