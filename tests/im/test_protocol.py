"""The sans-I/O connection state machine, without sockets."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from im import errors as E
from im.protocol import Ack, Auth, ClientProtocol, Limits, Phase, Read, Send, Sync

LIMITS = Limits(max_frame_bytes=1024, auth_timeout_s=10, heartbeat_s=30, bad_frames_per_minute=20)


def frames(p: ClientProtocol) -> list[dict[str, object]]:
    return [orjson.loads(b) for b in p.data_to_send()]


def signed_in(now: float = 0.0) -> ClientProtocol:
    p = ClientProtocol(LIMITS, now)
    p.receive_frame('{"type":"auth","token":"t","device":"phone"}', now)
    assert p.events_received() == [Auth("t", "phone")]
    p.auth_succeeded("u1", "phone", {"convs": [], "unread_total": 0})
    assert frames(p)[0]["type"] == "auth_ok"
    return p


def test_auth_ok_carries_user_device_and_welcome() -> None:
    p = ClientProtocol(LIMITS, 0)
    p.receive_frame('{"type":"auth","token":"tok","device":"web"}', 1)
    assert p.phase is Phase.AUTHENTICATING
    p.events_received()
    p.auth_succeeded("u9", "web", {"convs": [{"conv": "c"}], "unread_total": 3})
    assert frames(p) == [
        {
            "type": "auth_ok",
            "user": "u9",
            "device": "web",
            "convs": [{"conv": "c"}],
            "unread_total": 3,
        }
    ]
    assert p.phase is Phase.OPEN


def test_first_frame_other_than_auth_closes_4401() -> None:
    p = ClientProtocol(LIMITS, 0)
    p.receive_frame('{"type":"send","cmid":"a","conv":"c","body":{"text":"x"}}', 0)
    assert frames(p)[0]["code"] == E.UNAUTHORIZED
    assert p.close_code == E.CLOSE_UNAUTHORIZED


def test_bad_token_closes_4401() -> None:
    p = ClientProtocol(LIMITS, 0)
    p.receive_frame('{"type":"auth","token":"bad","device":"d"}', 0)
    p.events_received()
    p.auth_failed()
    assert frames(p)[0]["code"] == E.UNAUTHORIZED
    assert p.close_code == E.CLOSE_UNAUTHORIZED


def test_auth_deadline_boundary() -> None:
    p = ClientProtocol(LIMITS, 100.0)
    p.check_timers(109.999)
    assert p.close_code is None
    p.check_timers(110.0)
    assert p.close_code == E.CLOSE_UNAUTHORIZED


def test_heartbeat_idle_close_at_twice_the_interval() -> None:
    p = signed_in(0)
    p.receive_frame('{"type":"ping"}', 50.0)
    assert frames(p)[0]["type"] == "pong"
    assert p.next_deadline() == 110.0
    p.check_timers(109.9)
    assert p.close_code is None
    p.check_timers(110.0)
    assert p.close_code == E.CLOSE_HEARTBEAT


def test_pong_ts_is_wall_clock_ms() -> None:
    p = signed_in(0)
    p.receive_frame('{"type":"ping"}', 1_795_000_000.5)
    assert frames(p) == [{"type": "pong", "ts": 1_795_000_000_500}]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"type":"send","cmid":"c1","conv":"v","body":{"text":"hi"}}', Send("c1", "v", "hi")),
        ('{"type":"ack","conv":"v","seq":7}', Ack("v", 7)),
        ('{"type":"read","conv":"v","seq":0}', Read("v", 0)),
        ('{"type":"sync","conv":"v","after":3,"limit":500}', Sync("v", 3, 200)),
        ('{"type":"sync","conv":"v"}', Sync("v", 0, 50)),
    ],
)
def test_valid_requests_parse(raw: str, expected: object) -> None:
    p = signed_in()
    p.receive_frame(raw, 1)
    assert p.events_received() == [expected]
    assert p.data_to_send() == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", E.BAD_FRAME),
        (b"\xff\xfe{}", E.BAD_FRAME),  # invalid UTF-8
        ("[1,2]", E.BAD_FRAME),
        ('{"no":"type"}', E.BAD_FRAME),
        ('{"type":5}', E.BAD_FRAME),
        ('{"type":"fly"}', E.UNKNOWN_TYPE),
        ('{"type":"send","cmid":"","conv":"v","body":{"text":"x"}}', E.BAD_FRAME),
        ('{"type":"send","cmid":"' + "x" * 65 + '","conv":"v","body":{"text":"x"}}', E.BAD_FRAME),
        ('{"type":"send","cmid":"a","conv":"v","body":"text"}', E.BAD_FRAME),
        ('{"type":"send","cmid":"a","conv":"v","body":{"text":7}}', E.BAD_FRAME),
        ('{"type":"send","cmid":"a","conv":1,"body":{"text":"x"}}', E.BAD_FRAME),
        ('{"type":"ack","conv":"v","seq":"7"}', E.BAD_FRAME),
        ('{"type":"ack","conv":"v","seq":true}', E.BAD_FRAME),
        ('{"type":"read","conv":"v","seq":-1}', E.BAD_FRAME),
        ('{"type":"sync","conv":"v","limit":0}', E.BAD_FRAME),
        ('{"type":"send","cmid":"a","conv":"\' OR 1=1 --","body":{"text":"x"}}', None),
        ('{"type":"auth","token":"t","device":"d"}', E.BAD_FRAME),  # already signed in
        ('{"type":"ack","conv":"v","seq":1e400}', E.BAD_FRAME),
        ('{"type":"ack","conv":"v","seq":99999999999999999999999}', E.BAD_FRAME),
        ('"\\ud800"', E.BAD_FRAME),
    ],
)
def test_bad_frames_get_error_and_stay_open(raw: str | bytes, code: str | None) -> None:
    p = signed_in()
    p.receive_frame(raw, 1)
    out = frames(p)
    if code is None:  # SQL-ish text is just text: parsed, no error
        assert out == [] and len(p.events_received()) == 1
        return
    assert len(out) == 1 and out[0]["type"] == "error" and out[0]["code"] == code
    assert p.events_received() == []
    assert p.close_code is None and p.phase is Phase.OPEN


def test_error_ref_is_the_cmid_when_there_is_one() -> None:
    p = signed_in()
    p.receive_frame('{"type":"send","cmid":"abc","conv":"v","body":{}}', 1)
    assert frames(p)[0]["ref"] == "abc"


def test_frame_over_the_limit_is_too_large() -> None:
    p = signed_in()
    text = "x" * LIMITS.max_frame_bytes
    p.receive_frame(
        orjson.dumps({"type": "send", "cmid": "a", "conv": "v", "body": {"text": text}}), 1
    )
    assert frames(p)[0]["code"] == E.TOO_LARGE


def test_twenty_bad_frames_in_a_minute_close_4400() -> None:
    p = signed_in()
    for i in range(19):
        p.receive_frame("garbage", 1 + i)
    assert p.close_code is None
    p.receive_frame("garbage", 30)
    assert p.close_code == E.CLOSE_BAD_FRAMES


def test_a_binary_frame_is_refused_unread_and_counts_as_bad() -> None:
    p = signed_in()
    p.receive_binary(1)  # even one holding a valid frame: the protocol is JSON text
    assert [(f["type"], f["code"]) for f in frames(p)] == [("error", E.BAD_FRAME)]
    assert p.events_received() == []
    for i in range(19):
        p.receive_binary(2 + i)
    assert p.close_code == E.CLOSE_BAD_FRAMES


def test_sync_and_read_share_a_token_bucket_per_connection() -> None:
    p = ClientProtocol(Limits(sync_read_per_s=2.0, sync_read_burst=3), 0.0)
    p.receive_frame('{"type":"auth","token":"t","device":"d"}', 0.0)
    p.events_received()
    p.auth_succeeded("u1", "d", {})
    frames(p)
    for raw in ('{"type":"sync","conv":"v"}', '{"type":"read","conv":"v","seq":1}') * 2:
        p.receive_frame(raw, 1.0)
    assert p.events_received() == [Sync("v", 0, 50), Read("v", 1), Sync("v", 0, 50)]
    [err] = frames(p)
    assert (err["code"], err["retry_after"]) == (E.RATE_LIMITED, 500)  # one token at 2/s
    p.receive_frame('{"type":"send","cmid":"a","conv":"v","body":{"text":"x"}}', 1.0)
    assert len(p.events_received()) == 1  # sends have their own limits
    p.receive_frame('{"type":"read","conv":"v","seq":2}', 1.5)  # refilled by then
    assert p.events_received() == [Read("v", 2)] and frames(p) == []


def test_rate_limited_syncs_count_as_bad_frames() -> None:
    p = ClientProtocol(Limits(sync_read_burst=1), 0.0)
    p.receive_frame('{"type":"auth","token":"t","device":"d"}', 0.0)
    p.events_received()
    p.auth_succeeded("u1", "d", {})
    for _ in range(20):
        p.receive_frame('{"type":"sync","conv":"v"}', 1.0)
    assert p.close_code is None  # the first was allowed
    p.receive_frame('{"type":"sync","conv":"v"}', 1.0)
    assert p.close_code == E.CLOSE_BAD_FRAMES


def test_refused_syncs_and_reads_of_a_hidden_conversation_count_as_bad_frames() -> None:
    p = signed_in()
    send = Send("a", "v", "x")
    for i in range(25):  # refused sends never count
        p.request_refused(send, E.FORBIDDEN, "not a member", 1.0 + i)
    assert [f["ref"] for f in frames(p)] == ["a"] * 25 and p.close_code is None
    for i in range(19):
        req = Sync("v", 0, 50) if i % 2 else Read("v", 1)
        p.request_refused(req, E.FORBIDDEN, "not a member", 1.0 + i)
    assert p.close_code is None
    p.request_refused(Sync("v", 0, 50), E.NOT_FOUND, "no such conversation", 30.0)
    assert p.close_code == E.CLOSE_BAD_FRAMES


def test_bad_frames_spread_over_more_than_a_minute_do_not_close() -> None:
    p = signed_in()
    for i in range(40):
        p.receive_frame("garbage", i * 4.0)  # 15 a minute
    assert p.close_code is None


def test_requests_before_auth_answer_are_refused() -> None:
    p = ClientProtocol(LIMITS, 0)
    p.receive_frame('{"type":"auth","token":"t","device":"d"}', 0)
    p.receive_frame('{"type":"send","cmid":"a","conv":"v","body":{"text":"x"}}', 0)
    assert p.events_received() == [Auth("t", "d")]
    assert frames(p)[0]["code"] == E.UNAUTHORIZED


def test_nothing_is_sent_or_received_after_close() -> None:
    p = signed_in()
    p.close(1001, "bye")
    p.receive_frame('{"type":"ping"}', 1)
    p.send({"type": "x"})
    assert p.data_to_send() == [] and p.events_received() == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
frame_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["auth", "send", "ack", "read", "sync", "ping", "x"]) | st.text()},
    optional={
        "cmid": json_values,
        "conv": json_values,
        "seq": json_values,
        "body": json_values,
        "after": json_values,
        "limit": json_values,
        "token": json_values,
        "device": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048) | st.text(max_size=2048))
def test_fuzz_arbitrary_bytes_never_raise(data: bytes | str) -> None:
    p = signed_in()
    p.receive_frame(data, 1)
    for frame in frames(p):
        assert frame["type"] in ("error", "pong")


@settings(max_examples=600, deadline=None)
@given(st.lists(frame_like, min_size=1, max_size=25))
def test_fuzz_frame_shaped_input_answers_error_or_request(objs: list[dict[str, object]]) -> None:
    p = ClientProtocol(LIMITS, 0)
    for i, obj in enumerate(objs):
        p.receive_frame(json.dumps(obj), float(i))
        events = p.events_received()
        if any(isinstance(e, Auth) for e in events) and p.phase is Phase.AUTHENTICATING:
            p.auth_succeeded("u", "d", {})
        for frame in frames(p):
            assert frame["type"] in ("error", "pong", "auth_ok")
            if frame["type"] == "error":
                assert frame["code"] in (E.BAD_FRAME, E.UNKNOWN_TYPE, E.UNAUTHORIZED, E.TOO_LARGE)
                assert "Traceback" not in str(frame["message"])
