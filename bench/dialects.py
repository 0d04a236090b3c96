"""The two wire protocols the load client speaks.

`im`: PROTOCOL.md (auth / send / sent / msg / ack / ping); the bare server
speaks it too. `centrifugo`: Centrifugo's client protocol v2 in JSON
(connect / subscribe / publish commands with ids, replies with the same id,
`push.pub` publications, `{}` pings answered by `{}`; one WebSocket frame may
carry several newline-separated messages).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection

from bench.plan import ClientSpec, decode_text
from bench.recorder import Recorder

HANDSHAKE_TIMEOUT_S = 30.0


class HandshakeError(RuntimeError):
    """The server refused or did not answer the sign-in; the message says what it sent."""


@dataclass(eq=False)
class Conn:
    spec: ClientSpec
    ws: ClientConnection
    last_tx_ns: int = 0
    closed: bool = False
    seen: dict[str, int] = field(default_factory=dict)  # conv -> highest seq received
    gaps: dict[str, set[int]] = field(default_factory=dict)  # conv -> seqs below it not seen
    acked: dict[str, int] = field(default_factory=dict)
    pending: dict[int, int] = field(default_factory=dict)  # command id -> scheduled ns
    next_id: int = 1


async def _recv_json(ws: ClientConnection) -> list[dict[str, Any]]:
    raw = await asyncio.wait_for(ws.recv(), HANDSHAKE_TIMEOUT_S)
    text = raw if isinstance(raw, str) else raw.decode()
    return [orjson.loads(line) for line in text.split("\n") if line.strip()]


def _first_time(c: Conn, conv: str, seq: int) -> bool:
    """True unless `seq` of `conv` was already received (pushes may come out of order)."""
    top = c.seen.get(conv, 0)
    if seq > top:
        if seq > top + 1 and top > 0:
            c.gaps.setdefault(conv, set()).update(range(top + 1, seq))
        c.seen[conv] = seq
        return True
    gaps = c.gaps.get(conv)
    if gaps and seq in gaps:
        gaps.remove(seq)
        return True
    return False


class Dialect:
    name = ""

    async def handshake(self, c: Conn) -> None:
        raise NotImplementedError

    def send_frame(self, c: Conn, sched_ns: int, text: str) -> str:
        raise NotImplementedError

    def on_frame(self, c: Conn, raw: str | bytes, now_ns: int, rec: Recorder) -> str | None:
        """Record what `raw` means; returns a frame to answer with, if any."""
        raise NotImplementedError

    def idle_frames(self, c: Conn, now_ns: int) -> list[str]:
        """Acks and heartbeats due on `c` (sent by the worker's periodic task)."""
        return []


class ImDialect(Dialect):
    name = "im"
    heartbeat_ns = 20 * 10**9  # the server closes a connection silent for 2 x 30 s

    async def handshake(self, c: Conn) -> None:
        auth = {"type": "auth", "token": c.spec.token, "device": "bench"}
        await c.ws.send(orjson.dumps(auth).decode())
        frame = (await _recv_json(c.ws))[0]
        if frame.get("type") != "auth_ok":
            raise HandshakeError(f"auth answered {frame}")

    def send_frame(self, c: Conn, sched_ns: int, text: str) -> str:
        cmid = f"{sched_ns:x}.{c.spec.index:x}"
        frame = {"type": "send", "cmid": cmid, "conv": c.spec.conv, "body": {"text": text}}
        return orjson.dumps(frame).decode()

    def on_frame(self, c: Conn, raw: str | bytes, now_ns: int, rec: Recorder) -> str | None:
        obj = orjson.loads(raw)
        kind = obj.get("type")
        if kind == "msg":
            first = _first_time(c, obj["conv"], obj["seq"])
            try:
                sched, sender = decode_text(obj["body"]["text"])
            except (KeyError, ValueError, TypeError):
                return None  # not a benchmark message (a system notice, say)
            if not first:
                rec.duplicate(sched)
            elif sender == c.spec.index:
                rec.echo(sched)
            else:
                rec.msg(sched, now_ns)
        elif kind == "sent":
            rec.sent(int(obj["cmid"].split(".", 1)[0], 16), now_ns)
        elif kind == "error":
            code, ref = str(obj.get("code")), obj.get("ref")
            try:
                rec.refused(int(str(ref).split(".", 1)[0], 16), c.spec.members, code)
            except ValueError:
                rec.error(code)  # not about one of our sends
        return None

    def idle_frames(self, c: Conn, now_ns: int) -> list[str]:
        out = []
        for conv, top in c.seen.items():
            gaps = c.gaps.get(conv)
            upto = min(gaps) - 1 if gaps else top  # an ack covers every seq up to it
            if c.acked.get(conv, 0) < upto:
                c.acked[conv] = upto
                out.append(orjson.dumps({"type": "ack", "conv": conv, "seq": upto}).decode())
        if not out and now_ns - c.last_tx_ns > self.heartbeat_ns:
            out.append('{"type":"ping"}')
        return out


class CentrifugoDialect(Dialect):
    name = "centrifugo"

    async def _command(self, c: Conn, method: str, params: dict[str, Any]) -> dict[str, Any]:
        cid = c.next_id
        c.next_id += 1
        await c.ws.send(orjson.dumps({"id": cid, method: params}).decode())
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
        while time.monotonic() < deadline:
            for reply in await _recv_json(c.ws):
                if reply.get("id") == cid:
                    if "error" in reply:
                        raise HandshakeError(f"{method} answered {reply}")
                    return reply
        raise HandshakeError(f"no answer to {method} within {HANDSHAKE_TIMEOUT_S:.0f}s")

    async def handshake(self, c: Conn) -> None:
        await self._command(c, "connect", {"token": c.spec.token, "name": "bench"})
        await self._command(c, "subscribe", {"channel": c.spec.conv})

    def send_frame(self, c: Conn, sched_ns: int, text: str) -> str:
        cid = c.next_id
        c.next_id += 1
        c.pending[cid] = sched_ns
        cmd = {"id": cid, "publish": {"channel": c.spec.conv, "data": {"text": text}}}
        return orjson.dumps(cmd).decode()

    def on_frame(self, c: Conn, raw: str | bytes, now_ns: int, rec: Recorder) -> str | None:
        text = raw if isinstance(raw, str) else raw.decode()
        answer = None
        for line in text.split("\n"):
            if not line.strip():
                continue
            if line.strip() == "{}":
                answer = "{}"  # server ping: pong
                continue
            obj = orjson.loads(line)
            push = obj.get("push")
            if push is not None:
                pub = push.get("pub")
                if pub is None:
                    continue
                try:
                    sched, sender = decode_text(pub["data"]["text"])
                except (KeyError, ValueError, TypeError):
                    continue
                if sender == c.spec.index:
                    rec.echo(sched)
                else:
                    rec.msg(sched, now_ns)
            elif "id" in obj:
                sched_ns = c.pending.pop(obj["id"], None)
                if "error" in obj:
                    code = f"centrifugo {obj['error'].get('code')}"
                    if sched_ns is None:
                        rec.error(code)
                    else:
                        rec.refused(sched_ns, c.spec.members, code)
                elif sched_ns is not None:
                    rec.sent(sched_ns, now_ns)
        return answer


def make(name: str) -> Dialect:
    if name == "centrifugo":
        return CentrifugoDialect()
    return ImDialect()
