"""The ceiling: a bare `websockets` broadcast server that stores nothing.

It speaks the same frames as the IM server for what the benchmark uses —
`auth` (the token is the user id, checked against the members file),
`send` answered by `sent` with a per-conversation seq, `msg` fanned out in
memory to every device of every member (the sender's included, as the IM
server does), `ping`/`pong`; `ack` is accepted and ignored. Each message is
encoded once and the same frame goes to every recipient (`broadcast`).

python -m bench.bare_server --port 38180 --members members.json
(members.json: {"conv": ["user", ...], ...})
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed


class Bare:
    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = {conv: frozenset(users) for conv, users in members.items()}
        self.user_convs: dict[str, list[str]] = {}
        for conv, users in members.items():
            for u in users:
                self.user_convs.setdefault(u, []).append(conv)
        self.seq: dict[str, int] = dict.fromkeys(members, 0)
        self.online: dict[str, set[ServerConnection]] = {}

    async def handler(self, ws: ServerConnection) -> None:
        try:
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        except (TimeoutError, ConnectionClosed, orjson.JSONDecodeError):
            await ws.close(4401, "sign in first")
            return
        user = first.get("token") if isinstance(first, dict) else None
        if first.get("type") != "auth" or user not in self.user_convs:
            await ws.close(4401, "not signed in")
            return
        device = str(first.get("device", "d"))
        convs = [
            {"conv": c, "max_seq": self.seq[c], "read_seq": 0, "unread": 0}
            for c in self.user_convs[user]
        ]
        welcome = {
            "type": "auth_ok",
            "user": user,
            "device": device,
            "convs": convs,
            "unread_total": 0,
        }
        await ws.send(orjson.dumps(welcome).decode())
        self.online.setdefault(user, set()).add(ws)
        try:
            async for raw in ws:
                await self.on_frame(ws, user, raw)
        except ConnectionClosed:
            pass
        finally:
            self.online[user].discard(ws)

    async def on_frame(self, ws: ServerConnection, user: str, raw: str | bytes) -> None:
        try:
            obj: dict[str, Any] = orjson.loads(raw)
            kind = obj["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            await ws.send('{"type":"error","code":"bad_frame","message":"bad frame"}')
            return
        if kind == "send":
            conv, cmid = obj.get("conv"), obj.get("cmid")
            members = self.members.get(conv) if isinstance(conv, str) else None
            if members is None or user not in members:
                err = {"type": "error", "code": "forbidden", "message": "not a member", "ref": cmid}
                await ws.send(orjson.dumps(err).decode())
                return
            assert isinstance(conv, str)
            seq = self.seq[conv] = self.seq[conv] + 1
            ts = int(time.time() * 1000)
            sent = {"type": "sent", "cmid": cmid, "conv": conv, "seq": seq, "ts": ts}
            await ws.send(orjson.dumps(sent).decode())
            msg = {
                "type": "msg",
                "conv": conv,
                "seq": seq,
                "from": user,
                "cmid": cmid,
                "ts": ts,
                "kind": "chat",
                "body": obj.get("body"),
            }
            frame = orjson.dumps(msg).decode()  # encoded once for every recipient
            broadcast([c for m in members for c in self.online.get(m, ())], frame)
        elif kind == "ping":
            await ws.send(orjson.dumps({"type": "pong", "ts": int(time.time() * 1000)}).decode())


async def main_async(port: int, members: dict[str, list[str]]) -> None:
    bare = Bare(members)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        bare.handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=65536,
        ping_interval=None,
    ):
        print(f"bare server on ws://127.0.0.1:{port}/ws", flush=True)
        await stop


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bare_server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--members", type=Path, required=True)
    a = p.parse_args(argv)
    asyncio.run(main_async(a.port, orjson.loads(a.members.read_bytes())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
