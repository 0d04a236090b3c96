"""WebSocket gateway rules of PROTOCOL.md, end to end on real server processes.

Every test talks to a real `python -m im` node (real Redis and Kafka) over a
real socket; close codes are read from the `websockets` client itself. The
nodes run with short timers (auth deadline 1 s, heartbeat 1 s so idle close
after 2 s, frames of at most 4 KiB) so that the suite stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import websockets

from im.content import DEFAULT_ABUSIVE, load_words
from stack.manager import Stack
from tests.client import User
from tests.ports import free_port, free_ports
from tests.servers import server_node

PORT_RULES = free_port()  # short timers, the stack's raised send limits
PORT_LIMITS = free_port()  # the default send limits
PORT_SHUTDOWN = free_port()  # SIGTERMed by its test
PORT_SHUTDOWN_ANON = free_port()  # SIGTERMed by its test
PORT_TLS = free_port()  # HTTPS / WSS
PORT_PAIR_A, PORT_PAIR_B = free_ports(2)  # two nodes on the same Redis

MAX_FRAME = 4096
TIMERS = {"IM_AUTH_TIMEOUT_S": "1", "IM_HEARTBEAT_S": "1", "IM_MAX_FRAME_BYTES": str(MAX_FRAME)}
IDLE_CLOSE_S = 2.0  # 2 x IM_HEARTBEAT_S

# What an error message must never show: internals of the server.
_LEAKS = (
    re.compile(r"Traceback"),
    re.compile(r"redis", re.IGNORECASE),
    re.compile(r"\.py\b|\.lua\b"),
    re.compile(r"(?:/[\w.-]+){2,}"),  # a file path
    re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b"),  # an exception class name
    re.compile(r"\bline \d+\b"),
)

Frame = dict[str, Any]
Conn = websockets.ClientConnection


# -- helpers --------------------------------------------------------------------------


def ws_url(base: str) -> str:
    return base.replace("http", "ws", 1) + "/ws"


def dumps(frame: Frame) -> str:
    return orjson.dumps(frame).decode()


def assert_clean(frame: Frame) -> None:
    """An error frame of PROTOCOL.md whose message shows no internals."""
    assert frame["type"] == "error", frame
    message = frame["message"]
    assert isinstance(message, str) and message, frame
    for leak in _LEAKS:
        assert not leak.search(message), (leak.pattern, frame)


async def open_ws(base: str, **kw: Any) -> Conn:
    kw.setdefault("max_size", 2**22)
    return await websockets.connect(ws_url(base), open_timeout=10, **kw)


async def send(ws: Conn, frame: Frame) -> None:
    await ws.send(dumps(frame))


async def recv(ws: Conn, timeout: float = 5.0) -> Frame:
    obj: Frame = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
    return obj


async def recv_type(
    ws: Conn, kind: str, timeout: float = 5.0, seen: list[Frame] | None = None
) -> Frame:
    """The next frame of `kind`; frames of other types go to `seen` (if given)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await recv(ws, max(0.01, deadline - time.monotonic()))
        if frame.get("type") == kind:
            return frame
        if seen is not None:
            seen.append(frame)


async def until_closed(ws: Conn, timeout: float = 10.0) -> tuple[list[Frame], int | None]:
    """Every frame up to the server's close, and the close code it sent (None: no close frame)."""
    frames: list[Frame] = []

    async def read() -> int | None:
        try:
            while True:
                frames.append(orjson.loads(await ws.recv()))
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None

    return frames, await asyncio.wait_for(read(), timeout)


async def frames_within(ws: Conn, seconds: float) -> tuple[list[Frame], int | None]:
    """Frames that arrive within `seconds`, and the close code if the server closed."""
    frames: list[Frame] = []
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            frames.append(await recv(ws, left))
    except TimeoutError:
        pass
    except websockets.ConnectionClosed as exc:
        return frames, exc.rcvd.code if exc.rcvd is not None else None
    return frames, None


async def quiet(ws: Conn, seconds: float) -> list[Frame]:
    """Frames that arrive within `seconds` (the connection must stay open)."""
    frames: list[Frame] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(await recv(ws, left))
        except TimeoutError:
            break
    return frames


async def sign_in(base: str, token: str, device: str, **kw: Any) -> tuple[Conn, Frame]:
    ws = await open_ws(base, **kw)
    await send(ws, {"type": "auth", "token": token, "device": device})
    welcome = await recv(ws)
    assert welcome["type"] == "auth_ok", welcome
    return ws, welcome


def send_frame(conv: str, text: str, cmid: str | None = None) -> Frame:
    cmid = cmid or secrets.token_hex(8)
    return {"type": "send", "cmid": cmid, "conv": conv, "body": {"text": text}}


async def send_ok(ws: Conn, conv: str, text: str, cmid: str | None = None) -> Frame:
    frame = send_frame(conv, text, cmid)
    await send(ws, frame)
    sent = await recv_type(ws, "sent")
    assert sent["cmid"] == frame["cmid"] and sent["conv"] == conv, sent
    return sent


async def send_refused(ws: Conn, conv: str, text: str, cmid: str | None = None) -> Frame:
    frame = send_frame(conv, text, cmid)
    await send(ws, frame)
    err = await recv_type(ws, "error")
    assert err["ref"] == frame["cmid"], err
    assert_clean(err)
    return err


def send_of_size(conv: str, size: int) -> str:
    """A valid `send` frame of exactly `size` bytes."""
    base = dumps(send_frame(conv, "", "exact"))
    text = "x" * (size - len(base.encode()))
    frame = dumps(send_frame(conv, text, "exact"))
    assert len(frame.encode()) == size
    return frame


async def create_group(owner: User, name: str, members: list[User]) -> tuple[str, str]:
    r = await owner.post("/api/groups", {"name": name, "members": [m.user_id for m in members]})
    assert r.status_code == 201, r.text
    return r.json()["group_id"], r.json()["conv"]


async def login(base: str, user: User, **kw: Any) -> str:
    async with httpx.AsyncClient(base_url=base, **kw) as http:
        r = await http.post(
            "/api/login", json={"username": user.username, "password": user.password}
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token


# -- nodes ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rules(stack: Stack) -> Iterator[str]:
    """A node with short timers (auth 1 s, idle close 2 s, 4 KiB frames)."""
    with server_node(stack, "gw-rules", PORT_RULES, **TIMERS):
        yield f"http://127.0.0.1:{PORT_RULES}"


@pytest.fixture(scope="module")
def limits(stack: Stack) -> Iterator[str]:
    """A node with the default send limits (the test stack raises them)."""
    env = {"IM_RATE_BURST": "20", "IM_RATE_PER_S": "2"}
    with server_node(stack, "gw-limits", PORT_LIMITS, **env):
        yield f"http://127.0.0.1:{PORT_LIMITS}"


@dataclass
class Solo:
    """A user alone in a group: somewhere to send valid messages."""

    user: User
    conv: str


@pytest.fixture(scope="module")
async def solo(rules: str) -> Solo:
    user = await User.create(rules, "gwsolo")
    return Solo(user, await user.group("solo", []))


# -- 1. auth deadline -----------------------------------------------------------------


async def test_no_frame_within_the_auth_deadline_closes_4401(rules: str) -> None:
    ws = await open_ws(rules)
    t0 = time.monotonic()
    frames, code = await until_closed(ws, 10)
    elapsed = time.monotonic() - t0
    assert code == 4401
    assert not any(f.get("type") == "auth_ok" for f in frames)
    assert 0.8 <= elapsed < 4.0, elapsed  # IM_AUTH_TIMEOUT_S=1


async def test_pings_do_not_extend_the_auth_deadline(rules: str) -> None:
    ws = await open_ws(rules)
    t0 = time.monotonic()
    with contextlib.suppress(websockets.ConnectionClosed):
        while time.monotonic() - t0 < 5:
            await send(ws, {"type": "ping"})
            assert (await recv(ws, 2))["type"] == "pong"
            await asyncio.sleep(0.2)
    _, code = await until_closed(ws, 5)
    assert code == 4401
    assert time.monotonic() - t0 < 3.0


@pytest.mark.parametrize(
    "first",
    [
        send_frame("c_0123456789abcdef", "hello"),
        {"type": "sync", "conv": "c_0123456789abcdef", "after": 0},
        {"type": "read", "conv": "c_0123456789abcdef", "seq": 1},
        {"type": "ack", "conv": "c_0123456789abcdef", "seq": 1},
    ],
    ids=["send", "sync", "read", "ack"],
)
async def test_a_non_auth_first_frame_gets_unauthorized_then_4401(rules: str, first: Frame) -> None:
    ws = await open_ws(rules)
    await send(ws, first)
    t0 = time.monotonic()
    frames, code = await until_closed(ws, 10)
    assert code == 4401
    assert [f["type"] for f in frames] == ["error"]
    assert frames[0]["code"] == "unauthorized"
    assert_clean(frames[0])
    assert time.monotonic() - t0 < 0.9  # at once, not at the auth deadline


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(32),  # well formed, never issued
        "' OR '1'='1",
        "*",
        "tok:*",
        "\u0000\u202e",
    ],
    ids=["forged", "sql", "glob", "key-prefix", "control-chars"],
)
async def test_a_bad_token_closes_4401_without_auth_ok(rules: str, token: str) -> None:
    ws = await open_ws(rules)
    await send(ws, {"type": "auth", "token": token, "device": "d1"})
    frames, code = await until_closed(ws, 10)
    assert code == 4401
    assert [f["type"] for f in frames] == ["error"]
    assert frames[0]["code"] == "unauthorized"
    assert_clean(frames[0])


async def test_a_token_longer_than_allowed_never_signs_in(rules: str) -> None:
    ws = await open_ws(rules)
    await send(ws, {"type": "auth", "token": "a" * 600, "device": "d1"})
    frames, code = await until_closed(ws, 10)
    assert code == 4401
    assert not any(f["type"] == "auth_ok" for f in frames)
    assert [f["code"] for f in frames] == ["bad_frame"]
    assert_clean(frames[0])


async def test_a_valid_token_signs_in_and_welcome_lists_the_conversations(rules: str) -> None:
    user = await User.create(rules, "gwwelcome")
    conv = await user.group("welcome", [])
    ws, welcome = await sign_in(rules, user.token, "d1")
    try:
        assert welcome["user"] == user.user_id and welcome["device"] == "d1"
        assert welcome["unread_total"] == 0
        states = {c["conv"]: c for c in welcome["convs"]}
        assert states[conv]["max_seq"] == 0 and states[conv]["unread"] == 0
    finally:
        await ws.close()


# -- 2. heartbeat ---------------------------------------------------------------------


async def test_a_silent_signed_in_connection_is_closed_4408(rules: str) -> None:
    user = await User.create(rules, "gwidle")
    ws = await open_ws(rules)
    await send(ws, {"type": "auth", "token": user.token, "device": "d1"})
    t0 = time.monotonic()  # the last frame from the client
    frames, code = await until_closed(ws, 10)
    elapsed = time.monotonic() - t0
    assert code == 4408
    assert [f["type"] for f in frames] == ["auth_ok"]
    assert IDLE_CLOSE_S - 0.2 <= elapsed < IDLE_CLOSE_S + 2.0, elapsed


async def test_pings_keep_a_connection_open_and_get_pongs(rules: str) -> None:
    user = await User.create(rules, "gwping")
    conv = await user.group("ping", [])
    ws, _ = await sign_in(rules, user.token, "d1")
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < IDLE_CLOSE_S * 1.75:
            await send(ws, {"type": "ping"})
            pong = await recv(ws, 2)
            now_ms = time.time() * 1000
            assert set(pong) == {"type", "ts"} and pong["type"] == "pong", pong
            assert isinstance(pong["ts"], int) and not isinstance(pong["ts"], bool)
            assert abs(pong["ts"] - now_ms) < 2000, (pong, now_ms)
            await asyncio.sleep(0.5)
        sent = await send_ok(ws, conv, "still here")
        assert sent["seq"] == 1
    finally:
        await ws.close()


# -- 3. one connection per device -----------------------------------------------------


async def test_the_same_device_signing_in_again_replaces_the_older_connection(
    rules: str,
) -> None:
    user = await User.create(rules, "gwdev")
    friend = await User.create(rules, "gwdevf")
    conv = await user.group("devices", [friend])
    old, _ = await sign_in(rules, user.token, "phone")
    laptop, _ = await sign_in(rules, user.token, "laptop")
    new, _ = await sign_in(rules, user.token, "phone")
    sender, _ = await sign_in(rules, friend.token, "d1")
    try:
        frames, code = await until_closed(old, 5)
        assert code == 4409
        assert not any(f["type"] == "msg" for f in frames)
        sent = await send_ok(sender, conv, "to both devices")
        for ws in (new, laptop):
            msg = await recv_type(ws, "msg")
            assert msg["conv"] == conv and msg["seq"] == sent["seq"] == 1
            assert msg["from"] == friend.user_id and msg["cmid"] == sent["cmid"]
            assert msg["kind"] == "chat" and msg["body"] == {"text": "to both devices"}
            assert msg["ts"] == sent["ts"]
        # Both remaining devices are really open: each can send.
        assert (await send_ok(new, conv, "from phone"))["seq"] == 2
        assert (await send_ok(laptop, conv, "from laptop"))["seq"] == 3
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
    sock.connect(("127.0.0.1", PORT_RULES))
    sock.setblocking(False)
    stalled = await websockets.connect(ws_url(rules), sock=sock, max_queue=1, max_size=2**22)
    await send(stalled, {"type": "auth", "token": bob.token, "device": "stalled"})
    reader, _ = await sign_in(rules, bob.token, "reader")
    sender, _ = await sign_in(rules, alice.token, "sender")

    async def keep_alive() -> None:  # the stalled client still writes: no 4408
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                for ws in (stalled, reader):
                    await send(ws, {"type": "ping"})
                await asyncio.sleep(0.3)

    pinger = asyncio.create_task(keep_alive())
    total, batch, text = 1500, 50, "x" * 3800  # ~5.7 MB of pushes per device

    async def read_every_msg() -> list[Frame]:
        return [await recv_type(reader, "msg", timeout=30) for _ in range(total)]

    reading = asyncio.create_task(read_every_msg())  # the reader keeps up meanwhile
    try:
        for _ in range(total // batch):
            frames = [send_frame(conv, text) for _ in range(batch)]
            for f in frames:
                await send(sender, f)
            for _ in frames:
                await recv_type(sender, "sent", timeout=20)
        got = await reading
        assert [m["seq"] for m in got] == list(range(1, total + 1))  # the reader got all
        pinger.cancel()
        frames, code = await until_closed(stalled, 30)  # now read what was written
        assert code == 1008
        seqs = [f["seq"] for f in frames if f["type"] == "msg"]
        assert frames[0]["type"] == "auth_ok"
        assert seqs == list(range(1, len(seqs) + 1)) and 0 < len(seqs) < total, len(seqs)
        # The device catches up by sync after reconnecting.
        again, welcome = await sign_in(rules, bob.token, "stalled")
        assert {c["conv"]: c["max_seq"] for c in welcome["convs"]}[conv] == total
        await again.close()
    finally:
        pinger.cancel()
        reading.cancel()
        for ws in (stalled, reader, sender):
            await ws.close()


@pytest.fixture(scope="module")
def pair(stack: Stack) -> Iterator[tuple[str, str]]:
    """Two nodes (short timers) on the same Redis."""
    with (
        server_node(stack, "gw-pair-a", PORT_PAIR_A, **TIMERS),
        server_node(stack, "gw-pair-b", PORT_PAIR_B, **TIMERS),
    ):
        yield f"http://127.0.0.1:{PORT_PAIR_A}", f"http://127.0.0.1:{PORT_PAIR_B}"


# Commands between nodes (replace, revoke) ride the same channel as pushes.


async def test_the_same_device_on_another_node_replaces_the_older_connection(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    user = await User.create(a, "gwxdev")
    old, _ = await sign_in(a, user.token, "phone")
    new, _ = await sign_in(b, user.token, "phone")
    try:
        frames, code = await frames_within(old, 1.5)  # < the 2 s idle close
        assert code == 4409
        assert [f["type"] for f in frames] == []
    finally:
        await old.close()
        await new.close()


async def test_logout_on_one_node_closes_the_tokens_socket_on_another(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    user = await User.create(a, "gwxlogout")
    ws, _ = await sign_in(a, user.token, "d1")
    try:
        async with httpx.AsyncClient(base_url=b) as http:
            r = await http.post("/api/logout", headers=user.headers)
        assert r.status_code == 204
        _, code = await frames_within(ws, 1.5)  # < the 2 s idle close
        assert code == 4401
    finally:
        await ws.close()


async def test_signing_in_on_another_node_loses_no_push(pair: tuple[str, str]) -> None:
    a, b = pair
    reader = await User.create(a, "gwxrd")
    sender = await User.create(b, "gwxsd")
    conv = await sender.group("two nodes", [reader])
    on_a, _ = await sign_in(a, reader.token, "phone")
    sws, _ = await sign_in(b, sender.token, "d1")
    on_b, _ = await sign_in(b, reader.token, "laptop")  # another device: nothing to replace
    try:
        sent = await send_ok(sws, conv, "while the reader signs in elsewhere")
        for ws in (on_b, on_a):
            msg = await recv_type(ws, "msg", timeout=1.5)  # < the 2 s idle close
            assert (msg["seq"], msg["cmid"]) == (sent["seq"], sent["cmid"])
    finally:
        for ws in (on_a, sws, on_b):
            await ws.close()


# -- 4. frame size --------------------------------------------------------------------


async def test_a_frame_of_exactly_the_limit_is_accepted(rules: str, solo: Solo) -> None:
    ws, _ = await sign_in(rules, solo.user.token, "exact")
    try:
        await ws.send(send_of_size(solo.conv, MAX_FRAME))
        sent = await recv_type(ws, "sent")
        assert sent["cmid"] == "exact"
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("size", "compression"),
    [(MAX_FRAME + 1, None), (MAX_FRAME * 16, None), (MAX_FRAME * 64, "deflate")],
    ids=["one-byte-over", "16x", "compressed-64x"],
)
async def test_a_frame_over_the_limit_closes_1009(
    rules: str, solo: Solo, size: int, compression: str | None
) -> None:
    # compressed-64x: a tiny frame on the wire that inflates past the limit.
    ws, _ = await sign_in(rules, solo.user.token, f"big{size}", compression=compression)
    await ws.send(send_of_size(solo.conv, size))
    frames, code = await until_closed(ws, 5)
    assert code == 1009
    assert not any(f["type"] == "sent" for f in frames)


async def test_a_text_that_fills_the_frame_is_accepted_too_large_never_applies(
    rules: str, solo: Solo
) -> None:
    # The text limit is the frame limit, and a text is never longer in UTF-8
    # than its JSON form: a frame that passes the size check cannot carry a
    # too-large text, so over WebSocket `too_large` is unreachable (1009 is
    # the answer to a frame that is too big). A frame of \u escapes at the
    # limit is a 2-byte-per-character text well under it: stored whole.
    base = len(dumps(send_frame(solo.conv, "", "esc")).encode())
    n = (MAX_FRAME - base) // 6
    escaped = "\\u00e9" * n
    raw = dumps(send_frame(solo.conv, "", "esc")).replace('"text":""', f'"text":"{escaped}"')
    assert len(raw.encode()) <= MAX_FRAME
    ws, _ = await sign_in(rules, solo.user.token, "escaped")
    try:
        await ws.send(raw)
        sent = await recv_type(ws, "sent")
        await send(ws, {"type": "sync", "conv": solo.conv, "after": sent["seq"] - 1, "limit": 1})
        history = await recv_type(ws, "history")
        assert history["messages"][0]["body"]["text"] == "é" * n
    finally:
        await ws.close()


# -- 5. garbage -----------------------------------------------------------------------

_C = "$CONV"  # replaced by a conversation the user is in
GARBAGE: list[tuple[str, str | bytes | Frame, str]] = [
    ("not-json", "hello there", "bad_frame"),
    ("truncated-json", '{"type":"send","cmid":"x"', "bad_frame"),
    ("binary-invalid-utf8", b'\xff\xfe\xfd{"type":"ping"}', "bad_frame"),
    ("binary-garbage", bytes(range(256)), "bad_frame"),
    ("nan", '{"type":"read","conv":"$CONV","seq":NaN}', "bad_frame"),
    ("float-overflow", '{"type":"read","conv":"$CONV","seq":1e400}', "bad_frame"),
    (
        "lone-surrogate",
        '{"type":"send","cmid":"s","conv":"$CONV","body":{"text":"\\ud800"}}',
        "bad_frame",
    ),
    ("deep-nesting", "[" * 1100 + "]" * 1100, "bad_frame"),
    ("array", "[1,2,3]", "bad_frame"),
    ("string", '"send"', "bad_frame"),
    ("null", "null", "bad_frame"),
    ("empty-object", "{}", "bad_frame"),
    ("type-number", {"type": 5}, "bad_frame"),
    ("type-list", {"type": ["send"]}, "bad_frame"),
    ("unknown-type", {"type": "hello"}, "unknown_type"),
    ("sql-type", {"type": "send'; DROP TABLE messages; --"}, "unknown_type"),
    ("send-no-body", {"type": "send", "cmid": "c1", "conv": _C}, "bad_frame"),
    ("send-body-string", {"type": "send", "cmid": "c2", "conv": _C, "body": "hi"}, "bad_frame"),
    (
        "send-text-empty",
        {"type": "send", "cmid": "c3", "conv": _C, "body": {"text": ""}},
        "bad_frame",
    ),
    (
        "send-text-number",
        {"type": "send", "cmid": "c4", "conv": _C, "body": {"text": 5}},
        "bad_frame",
    ),
    (
        "send-cmid-number",
        {"type": "send", "cmid": 7, "conv": _C, "body": {"text": "x"}},
        "bad_frame",
    ),
    (
        "send-cmid-empty",
        {"type": "send", "cmid": "", "conv": _C, "body": {"text": "x"}},
        "bad_frame",
    ),
    (
        "send-cmid-65",
        {"type": "send", "cmid": "c" * 65, "conv": _C, "body": {"text": "x"}},
        "bad_frame",
    ),
    (
        "send-conv-null",
        {"type": "send", "cmid": "c5", "conv": None, "body": {"text": "x"}},
        "bad_frame",
    ),
    (
        "send-conv-object",
        {"type": "send", "cmid": "c6", "conv": {"$ne": ""}, "body": {"text": "x"}},
        "bad_frame",
    ),
    ("sync-after-negative", {"type": "sync", "conv": _C, "after": -1}, "bad_frame"),
    ("sync-limit-zero", {"type": "sync", "conv": _C, "after": 0, "limit": 0}, "bad_frame"),
    ("sync-after-string", {"type": "sync", "conv": _C, "after": "0"}, "bad_frame"),
    ("read-seq-bool", {"type": "read", "conv": _C, "seq": True}, "bad_frame"),
    ("read-seq-float", {"type": "read", "conv": _C, "seq": 1.5}, "bad_frame"),
    ("read-no-seq", {"type": "read", "conv": _C}, "bad_frame"),
    ("ack-seq-string", {"type": "ack", "conv": _C, "seq": "1"}, "bad_frame"),
    ("ack-conv-number", {"type": "ack", "conv": 1, "seq": 1}, "bad_frame"),
    ("auth-again", {"type": "auth", "token": "x", "device": "d"}, "bad_frame"),
]


def _encode(raw: str | bytes | Frame, conv: str) -> str | bytes:
    if isinstance(raw, dict):
        raw = dumps(raw)
    if isinstance(raw, str):
        return raw.replace(_C, conv)
    return raw


@pytest.mark.parametrize(("raw", "code"), [(r, c) for _, r, c in GARBAGE],
                         ids=[i for i, _, _ in GARBAGE])  # fmt: skip
async def test_a_bad_frame_gets_an_error_and_the_connection_still_works(
    rules: str, solo: Solo, raw: str | bytes | Frame, code: str
) -> None:
    ws, _ = await sign_in(rules, solo.user.token, f"junk-{secrets.token_hex(3)}")
    try:
        await ws.send(_encode(raw, solo.conv))
        err = await recv_type(ws, "error")
        assert err["code"] == code, err
        assert_clean(err)
        if isinstance(raw, dict) and isinstance(raw.get("cmid"), str):
            assert err["ref"] == raw["cmid"]
        else:
            assert "ref" not in err
        assert (await send_ok(ws, solo.conv, "after garbage"))["seq"] >= 1
    finally:
        await ws.close()


SQLISH_CONVS = [
    "' OR '1'='1",
    "c_0000000000000000",
    "*",
    "msg:*",
    "../../etc/passwd",
    "c_1\r\nFLUSHALL\r\n",
    "\u0000",
    "🙂" * 30,
    "x" * 128,
]


@pytest.mark.parametrize("conv", SQLISH_CONVS, ids=[f"conv{i}" for i in range(len(SQLISH_CONVS))])
async def test_an_unknown_conversation_id_is_refused_cleanly(
    rules: str, solo: Solo, conv: str
) -> None:
    ws, _ = await sign_in(rules, solo.user.token, f"sql-{secrets.token_hex(3)}")
    try:
        err = await send_refused(ws, conv, "hello")
        # PROTOCOL.md: not_found for a conversation that does not exist; a
        # server may also say forbidden (it need not tell which ids exist).
        assert err["code"] in ("not_found", "forbidden"), err
        for frame in (
            {"type": "sync", "conv": conv, "after": 0},
            {"type": "read", "conv": conv, "seq": 1},
        ):
            await send(ws, frame)
            seen: list[Frame] = []
            err = await recv_type(ws, "error", seen=seen)
            assert err["code"] in ("not_found", "forbidden"), err
            assert_clean(err)
            assert not any(f["type"] in ("history", "unread", "msg") for f in seen), seen
        assert (await send_ok(ws, solo.conv, "after unknown conv"))["seq"] >= 1
    finally:
        await ws.close()


async def test_extreme_but_valid_integers_are_handled(rules: str, solo: Solo) -> None:
    big = 2**64 - 1  # the largest integer orjson decodes as an int
    ws, _ = await sign_in(rules, solo.user.token, "bigint")
    try:
        last = await send_ok(ws, solo.conv, "before big numbers")
        await send(ws, {"type": "ack", "conv": solo.conv, "seq": big})
        await send(ws, {"type": "sync", "conv": solo.conv, "after": big, "limit": big})
        history = await recv_type(ws, "history")
        assert history == {"type": "history", "conv": solo.conv, "messages": [], "more": False}
        await send(ws, {"type": "read", "conv": solo.conv, "seq": big})
        unread = await recv_type(ws, "unread")
        assert unread["conv"] == solo.conv and unread["unread"] == 0
        # The read position stopped at the last message, not at `big`.
        r = await solo.user.get("/api/conversations")
        state = {c["conv"]: c for c in r.json()}[solo.conv]
        assert state["read_seq"] == state["max_seq"] >= last["seq"]
        assert (await send_ok(ws, solo.conv, "after big numbers"))["seq"] == state["max_seq"] + 1
    finally:
        await ws.close()


async def test_nineteen_bad_frames_leave_the_connection_open(rules: str, solo: Solo) -> None:
    ws, _ = await sign_in(rules, solo.user.token, "nineteen")
    try:
        for i in range(19):
            await ws.send(f"garbage {i}")
        for _ in range(19):
            err = await recv(ws)
            assert err["type"] == "error" and err["code"] == "bad_frame", err
        assert (await send_ok(ws, solo.conv, "still fine"))["seq"] >= 1
    finally:
        await ws.close()


async def test_twenty_bad_frames_within_a_minute_close_4400(rules: str, solo: Solo) -> None:
    ws, _ = await sign_in(rules, solo.user.token, "twenty")
    for i in range(20):
        await ws.send(b"\xff" if i % 2 else "{not json")
    frames, code = await until_closed(ws, 5)
    assert code == 4400
    assert [f["code"] for f in frames] == ["bad_frame"] * 20
    for f in frames:
        assert_clean(f)


# -- 6. membership --------------------------------------------------------------------


async def test_a_non_member_gets_forbidden_and_never_the_groups_data(rules: str) -> None:
    owner = await User.create(rules, "gwown")
    outsider = await User.create(rules, "gwout")
    _, conv = await create_group(owner, "private", [])
    own, _ = await sign_in(rules, owner.token, "d1")
    out, welcome = await sign_in(rules, outsider.token, "d1")
    try:
        assert conv not in {c["conv"] for c in welcome["convs"]}
        await send_ok(own, conv, "secret one")
        await send_ok(own, conv, "secret two")
        err = await send_refused(out, conv, "let me in")
        assert err["code"] == "forbidden"
        seen: list[Frame] = []
        for frame in (
            {"type": "sync", "conv": conv, "after": 0, "limit": 200},
            {"type": "read", "conv": conv, "seq": 2},
        ):
            await send(out, frame)
            err = await recv_type(out, "error", seen=seen)
            assert err["code"] == "forbidden" and "ref" not in err, err
            assert_clean(err)
        await send(out, {"type": "ack", "conv": conv, "seq": 2})  # harmless, no answer
        seen += await quiet(out, 0.5)
        assert not any(f["type"] in ("msg", "history", "unread") for f in seen), seen
        assert "secret" not in orjson.dumps(seen).decode()

        r = await outsider.get(f"/api/conversations/{conv}/messages")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"
        assert "secret" not in r.text
        r = await owner.get(f"/api/conversations/{conv}/messages")
        assert [m["body"]["text"] for m in r.json()["messages"]] == ["secret one", "secret two"]
        r = await outsider.get("/api/conversations")
        assert conv not in {c["conv"] for c in r.json()}
    finally:
        await own.close()
        await out.close()


@pytest.mark.parametrize("conv", ["c_0000000000000000", "' OR 1=1 --", "*"])
async def test_history_of_an_unknown_conversation_is_403(rules: str, conv: str) -> None:
    user = await User.create(rules, "gwunk")
    r = await user.get(f"/api/conversations/{quote(conv, safe='')}/messages")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert_clean({"type": "error", **r.json()["error"]})


# -- 7. logout ------------------------------------------------------------------------


@pytest.mark.parametrize("next_frame", ["send", "sync", "read"])
async def test_logout_ends_the_open_socket_and_the_token(rules: str, next_frame: str) -> None:
    user = await User.create(rules, "gwlogout")
    conv = await user.group("logout", [])
    ws, _ = await sign_in(rules, user.token, "d1")
    await send_ok(ws, conv, "before logout")
    assert (await user.post("/api/logout")).status_code == 204
    frame = {
        "send": send_frame(conv, "after logout"),
        "sync": {"type": "sync", "conv": conv, "after": 0},
        "read": {"type": "read", "conv": conv, "seq": 1},
    }[next_frame]
    # The server may close the socket at the logout already (4401), or at the
    # latest answer its next request with `unauthorized` and then close 4401.
    with contextlib.suppress(websockets.ConnectionClosed):
        await send(ws, frame)
    frames, code = await until_closed(ws, 5)
    assert code == 4401
    assert not any(f["type"] in ("sent", "history", "unread") for f in frames), frames
    assert [f["body"]["text"] for f in frames if f["type"] == "msg"] in ([], ["before logout"])
    errors = [f for f in frames if f["type"] == "error"]
    assert [(e["code"], e.get("ref")) for e in errors] in (
        [],
        [("unauthorized", frame.get("cmid"))],
    ), errors
    for e in errors:
        assert_clean(e)

    again = await open_ws(rules)
    await send(again, {"type": "auth", "token": user.token, "device": "d2"})
    frames, code = await until_closed(again, 5)
    assert code == 4401
    assert [(f["type"], f["code"]) for f in frames] == [("error", "unauthorized")]

    # Nothing after the logout was stored or read.
    user.token = await login(rules, user)
    r = await user.get(f"/api/conversations/{conv}/messages")
    assert [m["body"]["text"] for m in r.json()["messages"]] == ["before logout"]
    r = await user.get("/api/conversations")
    assert {c["conv"]: c for c in r.json()}[conv]["read_seq"] == 0


async def test_a_logged_out_socket_receives_no_more_messages(rules: str) -> None:
    """PROTOCOL: after logout "the token stops working at once" - pushes included."""
    user = await User.create(rules, "gwlopush")
    friend = await User.create(rules, "gwlopushf")
    conv = await user.group("after logout", [friend])
    ws, _ = await sign_in(rules, user.token, "d1")
    other, _ = await sign_in(rules, await login(rules, user), "d2")  # another token
    fws, _ = await sign_in(rules, friend.token, "d1")
    try:
        assert (await user.post("/api/logout")).status_code == 204
        await send_ok(fws, conv, "private words after the logout")
        frames, code = await frames_within(ws, 1.5)  # < the 2 s idle close
        assert not any(f["type"] == "msg" for f in frames), frames
        assert code == 4401
        # The user's other token (another device) is not affected.
        msg = await recv_type(other, "msg")
        assert msg["body"] == {"text": "private words after the logout"}
    finally:
        for c in (ws, other, fws):
            await c.close()


# -- 8. graceful shutdown -------------------------------------------------------------


async def test_shutdown_closes_every_signed_in_client_with_1001(stack: Stack) -> None:
    base = f"http://127.0.0.1:{PORT_SHUTDOWN}"
    with server_node(stack, "gw-shutdown", PORT_SHUTDOWN) as proc:
        alice = await User.create(base, "gwsda")
        bob = await User.create(base, "gwsdb")
        conv = await alice.group("bye", [bob])
        clients = [
            (await sign_in(base, alice.token, "phone"))[0],
            (await sign_in(base, alice.token, "laptop"))[0],
            (await sign_in(base, bob.token, "d1"))[0],
        ]
        await send_ok(clients[0], conv, "last words")
        closes = [asyncio.create_task(until_closed(ws, 30)) for ws in clients]
        t0 = time.monotonic()
        await asyncio.to_thread(proc.stop)
        stopped_in = time.monotonic() - t0
        codes = [code for _, code in await asyncio.gather(*closes)]
    assert codes == [1001, 1001, 1001]
    assert stopped_in < 10, stopped_in


async def test_shutdown_closes_a_client_not_yet_signed_in_with_1001(stack: Stack) -> None:
    base = f"http://127.0.0.1:{PORT_SHUTDOWN_ANON}"
    with server_node(stack, "gw-shutdown-anon", PORT_SHUTDOWN_ANON) as proc:  # auth: 10 s
        ws = await open_ws(base)
        await send(ws, {"type": "ping"})
        assert (await recv(ws))["type"] == "pong"
        closing = asyncio.create_task(until_closed(ws, 30))
        await asyncio.to_thread(proc.stop)
        _, code = await closing
    assert code == 1001


# -- 9. TLS ---------------------------------------------------------------------------


@dataclass
class TlsNode:
    base: str
    ctx: ssl.SSLContext


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "c.pem", folder / "k.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def https_probe(port: int, ctx: ssl.SSLContext) -> Callable[[], str | None]:
    def probe() -> str | None:
        url = f"https://127.0.0.1:{port}/readyz"
        try:
            r = httpx.get(url, verify=ctx, timeout=2)
        except httpx.HTTPError as e:
            return f"{url}: {e!r}"
        return None if r.status_code == 200 else f"{url} -> {r.status_code}"

    return probe


@pytest.fixture(scope="module")
def tls(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsNode]:
    cert, key = make_cert(tmp_path_factory.mktemp("tls"))
    ctx = ssl.create_default_context(cafile=str(cert))
    with server_node(stack, "gw-tls", PORT_TLS, probe=https_probe(PORT_TLS, ctx),
                     IM_TLS_CERT=str(cert), IM_TLS_KEY=str(key)):  # fmt: skip
        yield TlsNode(f"https://127.0.0.1:{PORT_TLS}", ctx)


async def test_https_health(tls: TlsNode) -> None:
    async with httpx.AsyncClient(base_url=tls.base, verify=tls.ctx) as http:
        r = await http.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "node": "gw-tls"}


async def test_wss_sign_in_and_send(tls: TlsNode) -> None:
    name = f"gwtls{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=tls.base, verify=tls.ctx) as http:
        r = await http.post("/api/register", json={"username": name, "password": "long enough"})
        assert r.status_code == 201, r.text
        uid = r.json()["user_id"]
        r = await http.post("/api/login", json={"username": name, "password": "long enough"})
        token = r.json()["token"]
        auth = {"authorization": f"Bearer {token}"}
        r = await http.post("/api/groups", json={"name": "tls", "members": []}, headers=auth)
        conv = r.json()["conv"]
    async with websockets.connect(tls.base.replace("https", "wss", 1) + "/ws", ssl=tls.ctx) as ws:
        await send(ws, {"type": "auth", "token": token, "device": "d1"})
        welcome = await recv(ws)
        assert welcome["type"] == "auth_ok" and welcome["user"] == uid
        assert (await send_ok(ws, conv, "over tls"))["seq"] == 1


async def test_plain_http_and_ws_to_the_tls_port_fail(tls: TlsNode) -> None:
    plain = tls.base.replace("https", "http", 1)
    async with httpx.AsyncClient(timeout=5) as http:
        with pytest.raises(httpx.TransportError):
            await http.get(plain + "/healthz")
    with pytest.raises((websockets.InvalidHandshake, OSError, websockets.ConnectionClosed)):
        async with websockets.connect(ws_url(plain), open_timeout=5):
            pass
    # An unverified certificate is refused by a client that checks it.
    async with httpx.AsyncClient(timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(tls.base + "/healthz")


# -- 10. send limits ------------------------------------------------------------------


@pytest.fixture
async def redis_client(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_21st_message_of_a_burst_is_rate_limited(limits: str) -> None:
    user = await User.create(limits, "gwburst")
    conv = await user.group("burst", [])
    ws, _ = await sign_in(limits, user.token, "d1")
    try:
        frames = [send_frame(conv, f"m{i}", f"b{i}") for i in range(21)]
        for f in frames:  # at once: no waiting for answers
            await send(ws, f)
        answers: dict[str, Frame] = {}
        while len(answers) < 21:
            f = await recv(ws)
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
        await send(ws, frames[0])
        again = await recv_type(ws, "sent")
        assert (again["cmid"], again["seq"]) == ("b0", 1)
        # After retry_after the same cmid goes through, once.
        await asyncio.sleep(retry_after / 1000 + 0.05)
        await send(ws, frames[20])
        sent = await recv_type(ws, "sent")
        assert (sent["cmid"], sent["seq"]) == ("b20", 21)
        await send(ws, frames[20])
        assert (await recv_type(ws, "sent"))["seq"] == 21
    finally:
        await ws.close()
    r = await user.get(f"/api/conversations/{conv}/messages?limit=200")
    assert [m["cmid"] for m in r.json()["messages"]] == [f"b{i}" for i in range(21)]


async def test_slow_mode_of_a_group(limits: str) -> None:
    owner = await User.create(limits, "gwslo")
    member = await User.create(limits, "gwslm")
    group_id, conv = await create_group(owner, "slow", [member])
    r = await member.post(f"/api/groups/{group_id}/slow_mode", {"interval_s": 30})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await owner.post("/api/groups/g_0000000000000000/slow_mode", {"interval_s": 30})
    assert r.status_code == 404
    r = await owner.post(f"/api/groups/{group_id}/slow_mode", {"interval_s": 30})
    assert r.status_code == 204

    mws, _ = await sign_in(limits, member.token, "d1")
    ows, _ = await sign_in(limits, owner.token, "d1")
    try:
        await send_ok(mws, conv, "first")
        t0 = time.monotonic()
        err = await send_refused(mws, conv, "second", "second")
        assert err["code"] == "rate_limited", err
        retry_after = err["retry_after"]
        assert isinstance(retry_after, int) and not isinstance(retry_after, bool)
        waited_ms = (time.monotonic() - t0) * 1000
        assert 30000 - waited_ms - 1000 < retry_after <= 30000, retry_after
        # Per member: the owner's own first message is not held back.
        await send_ok(ows, conv, "owner speaks")
        # Slow mode off: the refused message goes through with its cmid.
        r = await owner.post(f"/api/groups/{group_id}/slow_mode", {"interval_s": 0})
        assert r.status_code == 204
        sent = await send_ok(mws, conv, "second", "second")
        assert sent["seq"] == 3
    finally:
        await mws.close()
        await ows.close()


async def test_a_muted_user_gets_muted_with_until(
    limits: str, redis_client: aioredis.Redis
) -> None:
    user = await User.create(limits, "gwmute")
    conv = await user.group("mute", [])
    ws, _ = await sign_in(limits, user.token, "d1")
    try:
        until = int(time.time() * 1000) + 60_000
        await redis_client.set(f"mute:{user.user_id}", until, px=60_000)
        err = await send_refused(ws, conv, "hello?", "m1")
        assert err["code"] == "muted", err
        assert err["until"] == until and isinstance(err["until"], int)
        assert "retry_after" not in err
        # Unmuted (the key expires by itself; here at once): the same cmid goes through.
        await redis_client.delete(f"mute:{user.user_id}")
        assert (await send_ok(ws, conv, "hello?", "m1"))["seq"] == 1
    finally:
        await ws.close()


# -- 11. content filter ---------------------------------------------------------------

ABUSIVE_WORDS = set(load_words(DEFAULT_ABUSIVE))  # the default list the node uses


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("you idiot!", "you *****!"),
        ("what a MORONIC idea", "what a *****IC idea"),
        ("ＦＵＣＫ off", "**** off"),
        ("你这个傻逼", "你这个**"),
    ],
    ids=["ascii", "case", "full-width", "chinese"],
)
async def test_an_abusive_word_is_masked_when_stored_and_pushed(
    rules: str, text: str, masked: str
) -> None:
    assert {"idiot", "moron", "fuck", "傻逼"} <= ABUSIVE_WORDS
    assert len(masked) == len(text)
    owner = await User.create(rules, "gwcfo")
    member = await User.create(rules, "gwcfm")
    _, conv = await create_group(owner, "words", [member])
    ows, _ = await sign_in(rules, owner.token, "d1")
    mws, _ = await sign_in(rules, member.token, "d1")
    try:
        await send(ows, send_frame(conv, text, "rude"))
        sent, echo = await recv(ows), await recv(ows)  # `sent` before the own echo
        assert (sent["type"], sent["cmid"], echo["type"]) == ("sent", "rude", "msg"), sent
        assert echo["body"] == {"text": masked} and echo["seq"] == sent["seq"]
        msg = await recv_type(mws, "msg")
        assert (msg["seq"], msg["cmid"], msg["from"]) == (sent["seq"], "rude", owner.user_id)
        assert msg["body"] == {"text": masked}
        await send(mws, {"type": "ack", "conv": conv, "seq": msg["seq"]})
        await send(ows, {"type": "ack", "conv": conv, "seq": msg["seq"]})

        # A retry: the same `sent`, nothing stored or pushed twice.
        again = await send_ok(ows, conv, text, "rude")
        assert (again["seq"], again["ts"]) == (sent["seq"], sent["ts"])
        late = await quiet(mws, 0.7)
        assert not any(f["type"] == "msg" for f in late), late
    finally:
        await ows.close()
        await mws.close()
    r = await member.get(f"/api/conversations/{conv}/messages")
    messages = r.json()["messages"]
    assert [(m["seq"], m["body"]["text"]) for m in messages] == [(1, masked)]
