"""Bus messages between nodes: typed, with an explicit `op`, encoded and decoded (pure)."""

from __future__ import annotations

import orjson
import pytest

from im.bus_messages import (
    BadMessage,
    BusMessage,
    Push,
    PushMsg,
    Replace,
    Revoke,
    SignOut,
    UnknownOp,
    decode,
    encode,
)

EVERY_KIND: list[BusMessage] = [
    PushMsg(["a", "b"], '{"type":"msg","seq":7}', "c_1", 7),
    Push(["a"], '{"type":"unread","total":3}'),
    Replace("a", "phone"),
    Revoke("a", "0123abcd"),
    SignOut("a"),
]


@pytest.mark.parametrize("msg", EVERY_KIND, ids=lambda m: type(m).__name__)
def test_every_kind_round_trips(msg: BusMessage) -> None:
    assert decode(encode(msg)) == msg
    assert decode(encode(msg).decode()) == msg  # Redis hands over str payloads


def test_every_message_names_its_op() -> None:
    ops = [orjson.loads(encode(m))["op"] for m in EVERY_KIND]
    assert ops == ["msg", "push", "replace", "revoke", "signout"]


def test_a_push_msg_is_one_flat_object_with_the_frame_as_a_string() -> None:
    members = ("a", "b")  # Stored.members is a tuple: encoded as a list
    wire = encode(PushMsg(members, '{"type":"msg"}', "c_1", 1))
    assert orjson.loads(wire) == {
        "op": "msg", "to": ["a", "b"], "f": '{"type":"msg"}', "c": "c_1", "s": 1,
    }  # fmt: skip


@pytest.mark.parametrize("op", ["nope", None, 1, "MSG"])
def test_an_unknown_op_is_refused_with_the_op(op: object) -> None:
    payload = {"to": ["a"], "f": "{}"} | ({} if op is None else {"op": op})
    with pytest.raises(UnknownOp) as refused:
        decode(orjson.dumps(payload))
    assert refused.value.op == op


def test_the_old_untyped_payloads_are_unknown() -> None:
    for old in ({"to": ["a"], "f": "{}", "c": "c", "s": 1}, {"replace": ["a", "phone"]}):
        with pytest.raises(UnknownOp):
            decode(orjson.dumps(old))


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"op": "msg", "to": ["a"], "f": "{}", "c": "c_1"}',  # no seq
        b'{"op": "msg", "to": ["a"], "f": "{}", "c": "c_1", "s": "7"}',
        b'{"op": "msg", "to": ["a"], "f": "{}", "c": "c_1", "s": true}',
        b'{"op": "push", "to": "a", "f": "{}"}',
        b'{"op": "push", "to": ["a"], "f": {"type": "unread"}}',
        b'{"op": "replace", "user": "a"}',
        b'{"op": "revoke", "user": "a", "digest": null}',
    ],
)
def test_a_malformed_message_is_refused(payload: bytes) -> None:
    with pytest.raises(BadMessage) as refused:
        decode(payload)
    assert not isinstance(refused.value, UnknownOp)
