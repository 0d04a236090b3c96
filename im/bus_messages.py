"""Messages between server nodes (im.bus), and their encoding: pure, no I/O.

Every message names what it is in `op`:

    msg      a stored message for every device of `to`  {to, f: frame, c: conv, s: seq}
    push     any other frame for every device of `to`   {to, f: frame}
    replace  a device signed in again on another node   {user, device}
    revoke   a token was logged out                     {user, digest}
    signout  the account was disabled: every device     {user}

`decode` refuses (BadMessage) what it cannot read: an unknown `op`
(UnknownOp), a missing or mistyped field, a payload that is not JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, assert_never

import orjson


# Slots, not frozen: a frozen dataclass's __init__ costs ~1 us more per message.
@dataclass(slots=True)
class PushMsg:
    """A stored message for every device of `to`, pushed in seq order."""

    to: Sequence[str]
    frame: str
    conv: str
    seq: int


@dataclass(slots=True)
class Push:
    """Another frame (unread counts and the like) for every device of `to`."""

    to: Sequence[str]
    frame: str


@dataclass(slots=True)
class Replace:
    """`device` of `user` signed in again elsewhere: close it here (4409)."""

    user: str
    device: str


@dataclass(slots=True)
class Revoke:
    """The token with this digest was logged out: close its sockets here (4401)."""

    user: str
    token_digest: str


@dataclass(slots=True)
class SignOut:
    """The user's account was disabled: close all of its sockets here (4401)."""

    user: str


BusMessage = PushMsg | Push | Replace | Revoke | SignOut


class BadMessage(ValueError):
    """A payload that is no bus message this node understands."""


class UnknownOp(BadMessage):
    def __init__(self, op: object) -> None:
        super().__init__(f"unknown op {op!r}")
        self.op = op


def encode(msg: BusMessage) -> bytes:
    data: dict[str, Any]
    match msg:
        case PushMsg():
            data = {"op": "msg", "to": msg.to, "f": msg.frame, "c": msg.conv, "s": msg.seq}
        case Push():
            data = {"op": "push", "to": msg.to, "f": msg.frame}
        case Replace():
            data = {"op": "replace", "user": msg.user, "device": msg.device}
        case Revoke():
            data = {"op": "revoke", "user": msg.user, "digest": msg.token_digest}
        case SignOut():
            data = {"op": "signout", "user": msg.user}
        case _:
            assert_never(msg)
    return orjson.dumps(data)


def decode(payload: str | bytes) -> BusMessage:
    """The message of a payload; BadMessage (UnknownOp for an unknown `op`) if none."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise BadMessage(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadMessage("not a JSON object")
    op = data.get("op")
    try:
        if op == "msg":
            return PushMsg(_list(data["to"]), _str(data["f"]), _str(data["c"]), _int(data["s"]))
        if op == "push":
            return Push(_list(data["to"]), _str(data["f"]))
        if op == "replace":
            return Replace(_str(data["user"]), _str(data["device"]))
        if op == "revoke":
            return Revoke(_str(data["user"]), _str(data["digest"]))
        if op == "signout":
            return SignOut(_str(data["user"]))
    except KeyError as e:
        raise BadMessage(f"{op}: no {e}") from None
    raise UnknownOp(op)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise BadMessage(f"a string expected, not {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadMessage(f"an integer expected, not {type(value).__name__}")
    return value


def _list(value: object) -> list[str]:
    if not isinstance(value, list):  # its items are user ids: checked where used
        raise BadMessage(f"a list expected, not {type(value).__name__}")
    return value
