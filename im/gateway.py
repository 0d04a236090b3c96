"""The WebSocket endpoint: moves frames between the socket and ClientProtocol.

All protocol rules live in im.protocol and signing in and out in im.signin
(no socket in either); this module only reads, writes, keeps time and calls
the node's parts for what a request needs.
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
from im.accounts import SYSTEM_USER
from im.batching import BatchedWriter, Batcher
from im.conn_events import close_reason
from im.frames import Ack, Presence, Read, Request, Send, Sync
from im.http_api import json_response
from im.node import Node
from im.protocol import Auth, ClientProtocol, Limits, Phase
from im.signin import Signin
from im.wire import text_frame
from im.wsserver import EXTENSION

log = logging.getLogger("im.gateway")


class Gateway:
    def __init__(self, node: Node) -> None:
        self.node = node
        s = node.settings
        self.limits = Limits(
            s.max_frame_bytes, s.auth_timeout_s, s.heartbeat_s,
            sync_read_per_s=s.sync_read_per_s, sync_read_burst=s.sync_read_burst,
        )  # fmt: skip
        self.connections: set[_Connection] = set()
        self.batcher = Batcher()
        # WebSockets opened and not signed in yet: each may sit until its auth
        # deadline doing nothing, so their number is capped (IM_MAX_UNAUTHENTICATED).
        self.unauthenticated = 0
        self.max_unauthenticated = s.max_unauthenticated

    async def going_away(self, timeout_s: float = 5.0) -> None:
        """Close every connection with 1001 after the frames already pushed to it."""
        for conn in list(self.connections):
            conn.going_away()
        deadline = time.monotonic() + timeout_s
        while self.connections and time.monotonic() < deadline:  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.05)

    # Wall-clock time (pong carries it in ms); timers tolerate a clock step.
    async def endpoint(self, ws: WebSocket) -> None:
        writer = ((ws.scope.get("extensions") or {}).get(EXTENSION) or {}).get("writer")
        if writer is None:
            await ws.accept()
            log.error("no direct frame writer: run the server with `python -m im`")
            await ws.close(E.CLOSE_INTERNAL, "server misconfigured")
            return
        if self.unauthenticated >= self.max_unauthenticated:
            refusal = E.Unavailable("too many connections not signed in yet, retry later")
            await ws.send_denial_response(json_response(refusal.body(), 503))
            return
        proto = ClientProtocol(self.limits, time.time())
        conn = _Connection(self, ws, proto, BatchedWriter(writer, self.batcher))
        self.unauthenticated += 1  # before the first await: the check above stays true
        metrics = self.node.metrics
        accepted = False
        try:
            await ws.accept()
            accepted = True
            metrics.connects.inc()
            self.connections.add(conn)
            await conn.run()
        finally:
            self.connections.discard(conn)
            conn.leave_unauthenticated()  # if it never signed in
            if accepted:
                code = conn.ended_code
                metrics.disconnects.labels(close_reason(code)).inc()
                if code == E.CLOSE_TOO_SLOW:
                    metrics.slow_closes.inc()


class _Connection:
    def __init__(
        self, gw: Gateway, ws: WebSocket, proto: ClientProtocol, writer: BatchedWriter
    ) -> None:
        self.gw, self.ws, self.proto = gw, ws, proto
        self.node = gw.node
        self.writer = writer
        address = ws.client.host if ws.client else "-"
        self.signin = Signin(self.node, proto, writer, self._link_closed, address=address)
        self._closing: asyncio.Task[None] | None = None
        self._unauthenticated = True  # counted in gw.unauthenticated
        self.ended_code: int | None = None  # why it ended, as conn.close tells (None: client)

    def leave_unauthenticated(self) -> None:
        """Signed in or gone: no longer counted among those not signed in (once)."""
        if self._unauthenticated:
            self._unauthenticated = False
            self.gw.unauthenticated -= 1

    def close_code(self) -> int | None:
        """Who closed and why, as `conn.close` tells it (None: the client closed)."""
        link = self.signin.link
        return self.proto.close_code or (link.close_code if link is not None else None)

    def going_away(self) -> None:
        if self.signin.link is not None:
            self.signin.link.close(E.CLOSE_GOING_AWAY, "server going away")
        else:  # not signed in yet: nothing pushed, close now
            self.proto.close(E.CLOSE_GOING_AWAY, "server going away")
            self._closing = asyncio.create_task(
                self.ws.close(E.CLOSE_GOING_AWAY, "server going away")
            )

    async def run(self) -> None:
        try:
            await self._read_loop()
        except WebSocketDisconnect:
            pass
        finally:
            self.ended_code = self.close_code()  # before sign-out closes the link with 1000
            await self.signin.sign_out()
            if self._closing is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._closing, 5)
            elif self.proto.close_code is not None:
                self.writer.flush()  # e.g. the error frame that explains the close
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
                text = message.get("text")
                if text is None:
                    self.proto.receive_binary(now)
                    self.node.metrics.frame_in("binary")
                else:
                    self.node.metrics.frame_in(self.proto.receive_frame(text, now))
                for req in self.proto.events_received():
                    await self._handle(req)
            self.proto.check_timers(now)  # a link closed elsewhere closed proto already
            await self._flush()
            if self.proto.phase is Phase.CLOSED:
                return

    async def _flush(self) -> None:
        link = self.signin.link
        frames = self.proto.data_to_send()
        if frames:
            self.node.metrics.frames_written(frames)
        for frame in frames:
            if link is not None:
                link.push(text_frame(frame))  # in order with pushes from other tasks
            else:
                await self.ws.send({"type": "websocket.send", "text": frame.decode()})

    def _link_closed(self, code: int, reason: str) -> None:
        """The link was closed elsewhere (replaced, signed out, too slow, going away).

        What was pushed is written now and the close frame follows it; the
        read loop ends when uvicorn reports the disconnect."""
        self.proto.close(code, reason)
        self.writer.flush()  # what was pushed goes before the close frame
        self._closing = asyncio.create_task(self._close_socket(code, reason))

    async def _close_socket(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def _handle(self, req: Request) -> None:
        ref = getattr(req, "cmid", None)
        try:
            if isinstance(req, Auth):
                await self.signin.sign_in(req)
                if self.signin.link is not None:
                    self.leave_unauthenticated()
            elif isinstance(req, Send):
                await self._send(req)
            elif isinstance(req, Ack):
                if self.signin.link is not None:
                    self.signin.link.ack(req.conv, req.seq)
            elif isinstance(req, Sync):
                await self._sync(req)
            elif isinstance(req, Read):
                await self._read(req)
            elif isinstance(req, Presence):
                await self._presence(req)
        except E.ApiError as err:
            self.proto.request_refused(req, err.code, err.message, time.time(), **err.extra)
            if err.code == E.UNAUTHORIZED:  # logged out: this socket is done too
                self.proto.close(E.CLOSE_UNAUTHORIZED, "not signed in")
        except (RedisError, OSError):
            self.proto.error(E.UNAVAILABLE, "service temporarily unavailable, retry later", ref)
        except Exception:
            log.exception("request failed")
            self.proto.error(E.INTERNAL, "internal error", ref)

    async def _send(self, req: Send) -> None:
        assert self.proto.user is not None
        text, flags = self.node.content.screen(req.text)
        metrics = self.node.metrics
        started = time.perf_counter()
        stored = await self.node.messages.store(
            req.conv, self.proto.user, req.cmid, text, flags=flags, token_digest=self.signin.digest,
            enforce_limits=self.proto.user != SYSTEM_USER,
        )  # fmt: skip
        metrics.send_latency.observe(time.perf_counter() - started)  # stored sends only
        if not stored.duplicate:
            metrics.sends.inc()
        self.proto.send(
            {"type": "sent", "cmid": req.cmid, "conv": stored.conv, "seq": stored.seq,
             "ts": stored.ts}
        )  # fmt: skip
        await self._flush()  # `sent` before our own echo
        if not stored.duplicate:
            await self.node.bus.publish_msg(stored)

    async def _sync(self, req: Sync) -> None:
        assert self.proto.user is not None
        ident = await self.signin.check_token()
        upto = await self.node.messages.readable_upto(req.conv, self.proto.user, ident.role)
        frames, more = await self.node.messages.history(req.conv, req.after, req.limit, upto)
        head = b'{"type":"history","conv":' + orjson.dumps(req.conv) + b',"messages":['
        body = b",".join(frames)
        self.proto.send_raw(head + body + b'],"more":' + (b"true" if more else b"false") + b"}")

    async def _presence(self, req: Presence) -> None:
        # The role is read in the step, not from sign-in: a demoted agent is refused.
        if not await self.node.cs.set_agent_state(self.proto.user or "", req.status):
            raise E.ApiError(E.FORBIDDEN, "only agents have a presence status")
        self.signin.role = "agent"  # promoted since sign-in: offline when it leaves
        self.proto.send({"type": "presence", "status": req.status})

    async def _read(self, req: Read) -> None:
        assert self.proto.user is not None
        await self.signin.check_token()
        state = await self.node.messages.read(req.conv, self.proto.user, req.seq)
        frame = orjson.dumps(
            {"type": "unread", "conv": state.conv, "unread": state.unread, "total": state.total}
        ).decode()
        await self._flush()
        await self.node.bus.push_to_user(self.proto.user, frame)
