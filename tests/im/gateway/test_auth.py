"""Signing in (PROTOCOL.md): the auth deadline, bad first frames and tokens,
the welcome; logout ends the token and its sockets."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

import pytest
import websockets

from tests.client import Device, Frame, User, send_frame
from tests.im.gateway.helpers import assert_clean

# -- auth deadline --------------------------------------------------------------------


async def test_no_frame_within_the_auth_deadline_closes_4401(rules: str) -> None:
    ws = await Device.open(rules)
    t0 = time.monotonic()
    frames, code = await ws.until_closed(10)
    elapsed = time.monotonic() - t0
    assert code == 4401
    assert not any(f.get("type") == "auth_ok" for f in frames)
    assert 0.8 <= elapsed < 4.0, elapsed  # IM_AUTH_TIMEOUT_S=1


async def test_pings_do_not_extend_the_auth_deadline(rules: str) -> None:
    ws = await Device.open(rules)
    t0 = time.monotonic()
    with contextlib.suppress(websockets.ConnectionClosed):
        while time.monotonic() - t0 < 5:
            await ws.send_json({"type": "ping"})
            assert (await ws.recv(2))["type"] == "pong"
            await asyncio.sleep(0.2)  # the subject: pings spread over the deadline
    _, code = await ws.until_closed(5)
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
    ws = await Device.open(rules)
    await ws.send_json(first)
    t0 = time.monotonic()
    frames, code = await ws.until_closed(10)
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
    ws = await Device.open(rules)
    await ws.send_auth(token, "d1")
    frames, code = await ws.until_closed(10)
    assert code == 4401
    assert [f["type"] for f in frames] == ["error"]
    assert frames[0]["code"] == "unauthorized"
    assert_clean(frames[0])


async def test_a_token_longer_than_allowed_never_signs_in(rules: str) -> None:
    ws = await Device.open(rules)
    await ws.send_auth("a" * 600, "d1")
    frames, code = await ws.until_closed(10)
    assert code == 4401
    assert not any(f["type"] == "auth_ok" for f in frames)
    assert [f["code"] for f in frames] == ["bad_frame"]
    assert_clean(frames[0])


async def test_a_valid_token_signs_in_and_welcome_lists_the_conversations(rules: str) -> None:
    user = await User.create(rules, "gwwelcome")
    conv = await user.group("welcome", [])
    ws = await user.connect("d1")
    try:
        welcome = ws.welcome
        assert welcome["user"] == user.user_id and welcome["device"] == "d1"
        assert welcome["unread_total"] == 0
        states = {c["conv"]: c for c in welcome["convs"]}
        assert states[conv]["max_seq"] == 0 and states[conv]["unread"] == 0
    finally:
        await ws.close()


# -- logout ---------------------------------------------------------------------------


@pytest.mark.parametrize("next_frame", ["send", "sync", "read"])
async def test_logout_ends_the_open_socket_and_the_token(rules: str, next_frame: str) -> None:
    user = await User.create(rules, "gwlogout")
    conv = await user.group("logout", [])
    ws = await user.connect("d1")
    await ws.send_text(conv, "before logout")
    assert (await user.post("/api/logout")).status_code == 204
    frame = {
        "send": send_frame(conv, "after logout"),
        "sync": {"type": "sync", "conv": conv, "after": 0},
        "read": {"type": "read", "conv": conv, "seq": 1},
    }[next_frame]
    # The server may close the socket at the logout already (4401), or at the
    # latest answer its next request with `unauthorized` and then close 4401.
    with contextlib.suppress(websockets.ConnectionClosed):
        await ws.send_json(frame)
    frames, code = await ws.until_closed(5)
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

    again = await Device.open(rules)
    await again.send_auth(user.token, "d2")
    frames, code = await again.until_closed(5)
    assert code == 4401
    assert [(f["type"], f["code"]) for f in frames] == [("error", "unauthorized")]

    # Nothing after the logout was stored or read.
    user.token = await user.new_token()
    r = await user.get(f"/api/conversations/{conv}/messages")
    assert [m["body"]["text"] for m in r.json()["messages"]] == ["before logout"]
    r = await user.get("/api/conversations")
    assert {c["conv"]: c for c in r.json()}[conv]["read_seq"] == 0


async def test_a_logged_out_socket_receives_no_more_messages(rules: str) -> None:
    """PROTOCOL: after logout "the token stops working at once" - pushes included."""
    user = await User.create(rules, "gwlopush")
    friend = await User.create(rules, "gwlopushf")
    conv = await user.group("after logout", [friend])
    ws = await user.connect("d1")
    other = await Device.sign_in(rules, await user.new_token(), "d2")  # another token
    fws = await friend.connect("d1")
    try:
        assert (await user.post("/api/logout")).status_code == 204
        await fws.send_text(conv, "private words after the logout")
        frames, code = await ws.frames_within(1.5)  # < the 2 s idle close
        assert not any(f["type"] == "msg" for f in frames), frames
        assert code == 4401
        # The user's other token (another device) is not affected.
        msg = await other.recv_type("msg")
        assert msg["body"] == {"text": "private words after the logout"}
    finally:
        for c in (ws, other, fws):
            await c.close()
