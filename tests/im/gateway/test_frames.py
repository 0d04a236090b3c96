"""Frames the gateway is sent (PROTOCOL.md): the frame size limit, and bad
input of every kind: each gets a clean error and the connection goes on,
until too many close it."""

from __future__ import annotations

import secrets

import pytest

from tests.client import Frame, dumps, send_frame
from tests.im.gateway.helpers import MAX_FRAME, Solo, assert_clean, send_of_size, send_refused

# -- frame size -----------------------------------------------------------------------


async def test_a_frame_of_exactly_the_limit_is_accepted(rules: str, solo: Solo) -> None:
    ws = await solo.user.connect("exact")
    try:
        await ws.send_raw(send_of_size(solo.conv, MAX_FRAME))
        sent = await ws.recv_type("sent")
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
    ws = await solo.user.connect(f"big{size}", compression=compression)
    await ws.send_raw(send_of_size(solo.conv, size))
    frames, code = await ws.until_closed(5)
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
    ws = await solo.user.connect("escaped")
    try:
        await ws.send_raw(raw)
        sent = await ws.recv_type("sent")
        await ws.send_json(
            {"type": "sync", "conv": solo.conv, "after": sent["seq"] - 1, "limit": 1}
        )
        history = await ws.recv_type("history")
        assert history["messages"][0]["body"]["text"] == "é" * n
    finally:
        await ws.close()


# -- garbage --------------------------------------------------------------------------

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
    ws = await solo.user.connect(f"junk-{secrets.token_hex(3)}")
    try:
        await ws.send_raw(_encode(raw, solo.conv))
        err = await ws.recv_type("error")
        assert err["code"] == code, err
        assert_clean(err)
        if isinstance(raw, dict) and isinstance(raw.get("cmid"), str):
            assert err["ref"] == raw["cmid"]
        else:
            assert "ref" not in err
        assert (await ws.send_text(solo.conv, "after garbage"))["seq"] >= 1
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
    ws = await solo.user.connect(f"sql-{secrets.token_hex(3)}")
    try:
        err = await send_refused(ws, conv, "hello")
        # PROTOCOL.md: not_found for a conversation that does not exist; a
        # server may also say forbidden (it need not tell which ids exist).
        assert err["code"] in ("not_found", "forbidden"), err
        for frame in (
            {"type": "sync", "conv": conv, "after": 0},
            {"type": "read", "conv": conv, "seq": 1},
        ):
            await ws.send_json(frame)
            seen: list[Frame] = []
            err = await ws.recv_type("error", seen=seen)
            assert err["code"] in ("not_found", "forbidden"), err
            assert_clean(err)
            assert not any(f["type"] in ("history", "unread", "msg") for f in seen), seen
        assert (await ws.send_text(solo.conv, "after unknown conv"))["seq"] >= 1
    finally:
        await ws.close()


async def test_extreme_but_valid_integers_are_handled(rules: str, solo: Solo) -> None:
    big = 2**64 - 1  # the largest integer orjson decodes as an int
    ws = await solo.user.connect("bigint")
    try:
        last = await ws.send_text(solo.conv, "before big numbers")
        await ws.send_json({"type": "ack", "conv": solo.conv, "seq": big})
        await ws.send_json({"type": "sync", "conv": solo.conv, "after": big, "limit": big})
        history = await ws.recv_type("history")
        assert history == {"type": "history", "conv": solo.conv, "messages": [], "more": False}
        await ws.send_json({"type": "read", "conv": solo.conv, "seq": big})
        unread = await ws.recv_type("unread")
        assert unread["conv"] == solo.conv and unread["unread"] == 0
        # The read position stopped at the last message, not at `big`.
        r = await solo.user.get("/api/conversations")
        state = {c["conv"]: c for c in r.json()}[solo.conv]
        assert state["read_seq"] == state["max_seq"] >= last["seq"]
        assert (await ws.send_text(solo.conv, "after big numbers"))["seq"] == state["max_seq"] + 1
    finally:
        await ws.close()


async def test_nineteen_bad_frames_leave_the_connection_open(rules: str, solo: Solo) -> None:
    ws = await solo.user.connect("nineteen")
    try:
        for i in range(19):
            await ws.send_raw(f"garbage {i}")
        for _ in range(19):
            err = await ws.recv()
            assert err["type"] == "error" and err["code"] == "bad_frame", err
        assert (await ws.send_text(solo.conv, "still fine"))["seq"] >= 1
    finally:
        await ws.close()


async def test_twenty_bad_frames_within_a_minute_close_4400(rules: str, solo: Solo) -> None:
    ws = await solo.user.connect("twenty")
    for i in range(20):
        await ws.send_raw(b"\xff" if i % 2 else "{not json")
    frames, code = await ws.until_closed(5)
    assert code == 4400
    assert [f["code"] for f in frames] == ["bad_frame"] * 20
    for f in frames:
        assert_clean(f)


async def test_a_binary_frame_is_refused_even_when_it_holds_a_valid_frame(
    rules: str, solo: Solo
) -> None:
    # PROTOCOL.md: JSON text frames only; a binary one is a bad frame, unread.
    ws = await solo.user.connect("binary")
    ping, send = dumps({"type": "ping"}).encode(), dumps(send_frame(solo.conv, "hi", "bin"))
    await ws.send_raw(ping)
    await ws.send_raw(send.encode())
    for _ in range(2):
        err = await ws.recv()
        assert (err["type"], err["code"]) == ("error", "bad_frame"), err
        assert_clean(err)
    for _ in range(18):  # 20 within a minute: the bad-frame close
        await ws.send_raw(ping)
    frames, code = await ws.until_closed(5)
    assert code == 4400
    assert [f["type"] for f in frames] == ["error"] * 18
