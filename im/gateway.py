"""The WebSocket endpoint: moves frames between the socket and ClientProtocol.

All protocol rules live in im.protocol (no I/O); this module only reads,
writes, keeps time and calls the services for what a request needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import orjson
from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from im import errors as E
from im.frames import Read, Request, Send, Sync
from im.hub import Link
from im.protocol import Auth, ClientProtocol, Limits, Phase
from im.services import Services

log = logging.getLogger("im.gateway")


class Gateway:
    def __init__(self, services: Services) -> None:
        self.services = services
        s = services.settings
        self.limits = Limits(s.max_frame_bytes, s.auth_timeout_s, s.heartbeat_s)
        self.draining = False

    # Wall-clock time (pong carries it in ms); timers tolerate a clock step.
    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        proto = ClientProtocol(self.limits, time.time())
        conn = _Connection(self, ws, proto)
        await conn.run()


class _Connection:
    def __init__(self, gw: Gateway, ws: WebSocket, proto: ClientProtocol) -> None:
        self.gw, self.ws, self.proto = gw, ws, proto
        self.svc = gw.services
        self.link: Link | None = None
        self.writer: asyncio.Task[None] | None = None
        self.token = ""

    async def run(self) -> None:
        try:
            await self._read_loop()
        except WebSocketDisconnect:
            pass
        finally:
            if self.link is not None:
                self.svc.hub.detach(self.link)
                self.link.close(self.proto.close_code or 1000, self.proto.close_reason)
            if self.writer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.writer, 5)
            if self.proto.close_code is not None:
                with contextlib.suppress(Exception):
                    await self.ws.close(self.proto.close_code, self.proto.close_reason)

    async def _read_loop(self) -> None:
        while True:
            timeout = max(0.0, self.proto.next_deadline() - time.time())
            try:
                message = await asyncio.wait_for(self.ws.receive(), timeout)
            except TimeoutError:
                message = None
            now = time.time()
            if message is not None:
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                self.proto.receive_frame(data, now)
                for req in self.proto.events_received():
                    await self._handle(req)
            self.proto.check_timers(now)
            if self.link is not None and self.link.close_code is not None:
                self.proto.close(self.link.close_code, self.link.close_reason)
            await self._flush()
            if self.proto.phase is Phase.CLOSED:
                return

    async def _flush(self) -> None:
        for frame in self.proto.data_to_send():
            text = frame.decode()
            if self.link is not None:
                self.link.push(text)  # keep order with pushes from other tasks
            else:
                await self.ws.send({"type": "websocket.send", "text": text})

    async def _writer(self, link: Link) -> None:
        while True:
            frame = await link.queue.get()
            if frame is None:
                break
            await self.ws.send({"type": "websocket.send", "text": frame})
        if link.close_code is not None and self.proto.phase is not Phase.CLOSED:
            self.proto.close(link.close_code, link.close_reason)
            with contextlib.suppress(Exception):
                await self.ws.close(link.close_code, link.close_reason)

    async def _handle(self, req: Request) -> None:
        try:
            if isinstance(req, Auth):
                await self._auth(req)
            elif isinstance(req, Send):
                await self._send(req)
            elif isinstance(req, Sync):
                await self._sync(req)
            elif isinstance(req, Read):
                pass  # read state: next issue (IM core)
        except E.ApiError as err:
            self.proto.error(err.code, err.message, getattr(req, "cmid", None), **err.extra)
        except (RedisError, OSError):
            self.proto.error(
                E.UNAVAILABLE,
                "service temporarily unavailable, retry later",
                getattr(req, "cmid", None),
            )
        except Exception:
            log.exception("request failed")
            self.proto.error(E.INTERNAL, "internal error", getattr(req, "cmid", None))

    async def _auth(self, req: Auth) -> None:
        ident = await self.svc.accounts.check(req.token)
        if ident is None:
            self.proto.auth_failed()
            return
        self.token = req.token
        convs, total = await self.svc.messages.conv_states(ident.user_id)
        link = Link(ident.user_id, req.device)
        old = self.svc.hub.attach(link)
        if old is not None:
            old.close(E.CLOSE_REPLACED, "replaced by a newer connection")
        self.link = link
        self.writer = asyncio.create_task(self._writer(link))
        self.proto.auth_succeeded(
            ident.user_id, req.device, {"convs": convs, "unread_total": total}
        )

    async def _send(self, req: Send) -> None:
        assert self.proto.user is not None
        stored = await self.svc.messages.store(req.conv, self.proto.user, req.cmid, req.text)
        self.proto.send(
            {
                "type": "sent",
                "cmid": req.cmid,
                "conv": stored.conv,
                "seq": stored.seq,
                "ts": stored.ts,
            }
        )
        await self._flush()  # `sent` before our own echo
        if not stored.duplicate:
            await self.svc.publish(stored.members, stored.frame.decode())

    async def _sync(self, req: Sync) -> None:
        assert self.proto.user is not None
        if not await self.svc.messages.is_member(req.conv, self.proto.user):
            raise E.ApiError(E.FORBIDDEN, "not a member of this conversation")
        frames, more = await self.svc.messages.history(req.conv, req.after, req.limit)
        head = b'{"type":"history","conv":' + orjson.dumps(req.conv) + b',"messages":['
        body = b",".join(frames)
        self.proto.send_raw(head + body + b'],"more":' + (b"true" if more else b"false") + b"}")
