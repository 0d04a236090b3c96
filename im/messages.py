"""Storing, fetching and reading messages (Redis; see im/lua/send.lua and read.lua)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

from contract import events, topics
from contract.content import content_hash
from im import errors as E
from im import keys, lua
from im.replies import decoded

DEDUP_TTL_S = 24 * 3600


@dataclass(frozen=True)
class Limits:
    """Per-user token bucket: `burst` messages at once, refilled at `rate_per_s`."""

    rate_per_s: float = 2.0
    burst: int = 20


@dataclass(frozen=True)
class Stored:
    conv: str
    seq: int
    ts: int
    duplicate: bool
    members: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()  # nodes where some member is online
    frame: bytes = b""  # the encoded `msg` push, shared by all recipients


@dataclass(frozen=True)
class ReadState:
    conv: str
    read_seq: int
    unread: int
    total: int


def _splice(obj_without: dict[str, Any], head: bytes) -> bytes:
    """`head` + the remaining fields of `obj_without` as one JSON object."""
    rest = orjson.dumps(obj_without)
    return head + (b"," + rest[1:] if len(rest) > 2 else b"}")


class Messages:
    def __init__(self, redis: aioredis.Redis, node_id: str, limits: Limits = Limits()) -> None:
        self.redis = redis
        self.node_id = node_id
        self.limits = limits
        self._send = lua.register(redis, "send")
        self._read = lua.register(redis, "read")

    async def store(
        self,
        conv: str,
        sender: str,
        cmid: str,
        text: str,
        kind: str = "chat",
        flags: tuple[str, ...] = (),
        token_digest: str = "",
        enforce_limits: bool = True,
        body: dict[str, Any] | None = None,
    ) -> Stored:
        """Store a message once; a cmid retried in the same conv returns the first result."""
        head = b'{"type":"msg","conv":' + orjson.dumps(conv) + b',"seq":\x00S,"ts":\x00T'
        frame_tpl = _splice(
            {"from": sender, "cmid": cmid, "kind": kind, "body": body or {"text": text}}, head
        )
        # The event of contract.events.CHAT_MESSAGE (tests/contract checks it):
        # the fields only the send step knows are placeholders, filled there.
        ev_head = (
            b'{"v":1,"id":' + orjson.dumps(events.message_id(conv, ""))[:-1] + b'\x00S",'
            b'"type":"chat.message","ts":\x00T,"seq":\x00S,"conv_kind":"\x00K",'
            b'"sender_role":"\x00R"'
        )
        event_tpl = _splice(
            {
                "node": self.node_id,
                "conv": conv,
                "sender": sender,
                "kind": kind,
                "cmid": cmid,
                "text_len": len(text),
                "content_hash": content_hash(text),
                "flags": list(flags),
            },
            ev_head,
        )
        res = await self._send(
            args=[
                conv, sender, cmid, frame_tpl, event_tpl, DEDUP_TTL_S, topics.CHAT,
                token_digest, self.limits.rate_per_s, self.limits.burst,
                "1" if enforce_limits else "0",
            ]
        )  # fmt: skip
        status = int(res[0])
        if status == 1:
            seq, ts, n = int(res[1]), int(res[2]), int(res[3])
            members = tuple(decoded(m) for m in res[4 : 4 + n])
            nodes = tuple(decoded(x) for x in res[4 + n :])
            frame = frame_tpl.replace(b"\x00S", str(seq).encode()).replace(
                b"\x00T", str(ts).encode()
            )
            return Stored(conv, seq, ts, False, members, nodes, frame)
        if status == 0:
            pconv, pseq, pts = decoded(res[1]).split(" ")
            return Stored(pconv, int(pseq), int(pts), True)
        raise _refusal(status, res)

    async def read(self, conv: str, user: str, seq: int) -> ReadState:
        res = await self._read(args=[conv, user, seq])
        if int(res[0]) == -1:
            raise E.ApiError(E.FORBIDDEN, "not a member of this conversation", 403)
        return ReadState(conv, int(res[0]), int(res[1]), int(res[2]))

    async def readable_upto(self, conv: str, uid: str, role: str) -> int | None:
        """How far `uid` may read `conv`: None for all (a member), else the last
        seq a former member saw (an agent a session was transferred away from),
        while their role is still `agent`; forbidden otherwise."""
        async with self.redis.pipeline(transaction=False) as p:
            p.sismember(keys.members(conv), uid)
            p.hget(keys.former_members(conv), uid)
            member, former = await p.execute()
        if member:
            return None
        if former is not None and role == "agent":  # the agent role gave that access
            return int(former)
        raise E.ApiError(E.FORBIDDEN, "not a member of this conversation", 403)

    async def history(
        self, conv: str, after: int, limit: int, upto: int | None = None
    ) -> tuple[list[bytes], bool]:
        """Encoded `msg` frames with seq in (after, after+limit], and whether more exist."""
        max_seq = int(await self.redis.hget(keys.conv(conv), "max_seq") or 0)
        if upto is not None:
            max_seq = min(max_seq, upto)
        hi = min(after + limit, max_seq)
        if hi <= after:
            return [], False
        raw = await self.redis.hmget(
            keys.messages(conv), [str(s) for s in range(after + 1, hi + 1)]
        )
        return [decoded(r).encode() for r in raw if r is not None], hi < max_seq

    async def conv_states(self, uid: str) -> tuple[list[dict[str, Any]], int]:
        """[{conv, max_seq, read_seq, unread}] of the user, and the unread total."""
        convs = sorted(decoded(c) for c in await self.redis.smembers(keys.user_convs(uid)))
        async with self.redis.pipeline(transaction=True) as p:
            for c in convs:
                p.hmget(keys.conv(c), "max_seq", "kind", "title")
            p.hmget(keys.read_pos(uid), convs or ["-"])
            p.hmget(keys.unread(uid), [*convs, keys.UNREAD_TOTAL_FIELD])
            res = await p.execute()
        infos, reads, unreads = res[: len(convs)], res[-2], res[-1]
        states = [
            {
                "conv": c,
                "kind": decoded(infos[i][1] or ""),
                "title": decoded(infos[i][2] or ""),
                "max_seq": int(infos[i][0] or 0),
                "read_seq": int(reads[i] or 0),
                "unread": int(unreads[i] or 0),
            }
            for i, c in enumerate(convs)
        ]
        return states, int(unreads[-1] or 0)


def _refusal(status: int, res: list[Any]) -> E.ApiError:
    if status == -1:
        return E.ApiError(E.FORBIDDEN, "not a member of this conversation", 403)
    if status == -2:
        return E.ApiError(E.NOT_FOUND, "no such conversation", 404)
    if status == -3:
        return E.ApiError(E.UNAUTHORIZED, "token revoked or expired", 401)
    if status == -4:
        return E.ApiError(E.MUTED, "you are muted", 403, until=int(res[1]))
    if status == -5:
        return E.ApiError(E.RATE_LIMITED, "slow down", 429, retry_after=int(res[1]))
    if status == -6:
        return E.ApiError(E.FORBIDDEN, "this support session is closed", 403)
    if status == -7:
        return E.ApiError(E.BLOCKED, "this user does not take your messages", 403)
    return E.ApiError(E.INTERNAL, "internal error", 500)
