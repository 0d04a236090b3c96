"""Client frames of PROTOCOL.md as typed values, with field validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from im import errors as E

MAX_SYNC_LIMIT = 200


@dataclass(frozen=True)
class Auth:
    token: str
    device: str


@dataclass(frozen=True)
class Send:
    cmid: str
    conv: str
    text: str


@dataclass(frozen=True)
class Ack:
    conv: str
    seq: int


@dataclass(frozen=True)
class Sync:
    conv: str
    after: int
    limit: int


@dataclass(frozen=True)
class Read:
    conv: str
    seq: int


@dataclass(frozen=True)
class Presence:
    status: str  # an agent's availability: online, away or offline


Request = Auth | Send | Ack | Sync | Read | Presence


def _bad(message: str) -> E.ApiError:
    return E.ApiError(E.BAD_FRAME, message)


def _str(obj: dict[str, Any], key: str, lo: int, hi: int) -> str:
    val = obj.get(key)
    if not isinstance(val, str):
        raise _bad(f"'{key}' must be a string")
    if not lo <= len(val) <= hi:
        raise _bad(f"'{key}' must be {lo}-{hi} characters")
    return val


def _int(obj: dict[str, Any], key: str, default: int | None = None) -> int:
    val = obj.get(key, default)
    # bool is an int subclass in Python; a client sending true means a bug.
    if not isinstance(val, int) or isinstance(val, bool):
        raise _bad(f"'{key}' must be an integer")
    if val < 0:
        raise _bad(f"'{key}' must not be negative")
    return val


def parse_request(obj: dict[str, Any], max_text_bytes: int) -> Request:
    """Validate a decoded client frame; raises ApiError(bad_frame/unknown_type)."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise _bad("'type' must be a string")
    if kind == "auth":
        return Auth(_str(obj, "token", 1, 512), _str(obj, "device", 1, 64))
    if kind == "send":
        cmid = _str(obj, "cmid", 1, 64)
        conv = _str(obj, "conv", 1, 128)
        body = obj.get("body")
        if not isinstance(body, dict):
            raise _bad("'body' must be an object")
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise _bad("'body.text' must be a non-empty string")
        if len(text.encode("utf-8", "surrogatepass")) > max_text_bytes:
            raise E.ApiError(E.TOO_LARGE, "message text is too large")
        return Send(cmid, conv, text)
    if kind == "ack":
        return Ack(_str(obj, "conv", 1, 128), _int(obj, "seq"))
    if kind == "read":
        return Read(_str(obj, "conv", 1, 128), _int(obj, "seq"))
    if kind == "sync":
        limit = _int(obj, "limit", 50)
        if limit < 1:
            raise _bad("'limit' must be at least 1")
        return Sync(_str(obj, "conv", 1, 128), _int(obj, "after", 0), min(limit, MAX_SYNC_LIMIT))
    if kind == "presence":
        status = _str(obj, "status", 1, 16)
        if status not in ("online", "away", "offline"):
            raise _bad("'status' must be online, away or offline")
        return Presence(status)
    raise E.ApiError(E.UNKNOWN_TYPE, "unknown frame type")
