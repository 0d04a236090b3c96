"""The client protocol of one WebSocket connection, as a state machine with no I/O.

Like python-websockets' sans-I/O core: the caller feeds frames with
`receive_frame()`, takes parsed requests with `events_received()` and the
bytes to write with `data_to_send()`, and calls `check_timers()` as time
passes. Nothing here touches a socket, Redis or a clock of its own, so every
rule (auth deadline, heartbeat, bad-frame budget, field validation) is tested
and fuzzed directly.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from im import errors as E
from im.frames import Ack, Auth, Read, Request, Send, Sync, parse_request


class Phase(enum.Enum):
    AWAIT_AUTH = "await_auth"
    AUTHENTICATING = "authenticating"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int = 65536
    auth_timeout_s: float = 10.0
    heartbeat_s: float = 30.0
    bad_frames_per_minute: int = 20
    # Token bucket of `sync` and `read` frames (together), per connection.
    sync_read_per_s: float = 10.0
    sync_read_burst: int = 100


class ClientProtocol:
    """Per-connection rules of PROTOCOL.md; see module docstring."""

    def __init__(self, limits: Limits, now: float) -> None:
        self.limits = limits
        self.phase = Phase.AWAIT_AUTH
        self.opened_at = now
        self.last_seen = now
        self.close_code: int | None = None
        self.close_reason = ""
        self.user: str | None = None
        self.device: str | None = None
        self._events: list[Request] = []
        self._out: list[bytes] = []
        self._bad: deque[float] = deque()
        self._sync_read_tokens = float(limits.sync_read_burst)
        self._sync_read_at = now

    # -- input -------------------------------------------------------------
    def receive_frame(self, data: str | bytes, now: float) -> str:
        """Feed one complete text WebSocket message (str, or its UTF-8 bytes).

        Returns its type for counting: a client frame type, or `invalid`."""
        if self.phase is Phase.CLOSED:
            return "invalid"
        self.last_seen = now
        size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        if size > self.limits.max_frame_bytes:
            self._bad_frame(now, E.TOO_LARGE, f"frame exceeds {self.limits.max_frame_bytes} bytes")
            return "invalid"
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._bad_frame(now, E.BAD_FRAME, "frame is not valid UTF-8 JSON")
            return "invalid"
        if not isinstance(obj, dict):
            self._bad_frame(now, E.BAD_FRAME, "frame must be a JSON object")
            return "invalid"
        kind = obj.get("type")
        if kind == "ping":
            self.send({"type": "pong", "ts": int(now * 1000)})
            return "ping"
        if kind == "pong":
            return "pong"
        try:
            req = parse_request(obj, self.limits.max_frame_bytes)
        except E.ApiError as err:
            ref = obj.get("cmid") if isinstance(obj.get("cmid"), str) else None
            self._bad_frame(now, err.code, err.message, ref)
            return "invalid"
        if self.phase is Phase.AWAIT_AUTH:
            if not isinstance(req, Auth):
                self.error(E.UNAUTHORIZED, "the first frame must be auth")
                self.close(E.CLOSE_UNAUTHORIZED, "not signed in")
                return str(kind)
            self.phase = Phase.AUTHENTICATING
            self._events.append(req)
            return str(kind)
        if isinstance(req, Auth):
            self.error(E.BAD_FRAME, "already signed in")
            return str(kind)
        if self.phase is Phase.AUTHENTICATING:
            # Frames racing the auth answer: the client must wait for auth_ok.
            self.error(E.UNAUTHORIZED, "wait for auth_ok", getattr(req, "cmid", None))
            return str(kind)
        if isinstance(req, Sync | Read):
            retry_after = self._take_sync_read_token(now)
            if retry_after is not None:
                self._bad_frame(now, E.RATE_LIMITED, "too many sync and read frames",
                                retry_after=retry_after)  # fmt: skip
                return str(kind)
        self._events.append(req)
        return str(kind)

    def _take_sync_read_token(self, now: float) -> int | None:
        """None if a sync/read may go ahead (a token is taken), else the retry-after in ms."""
        rate, burst = self.limits.sync_read_per_s, self.limits.sync_read_burst
        elapsed = max(0.0, now - self._sync_read_at)  # a wall-clock step back refills nothing
        self._sync_read_tokens = min(float(burst), self._sync_read_tokens + elapsed * rate)
        self._sync_read_at = now
        if self._sync_read_tokens >= 1:
            self._sync_read_tokens -= 1
            return None
        return max(1, math.ceil((1 - self._sync_read_tokens) * 1000 / rate))

    def receive_binary(self, now: float) -> None:
        """A binary WebSocket message: refused unread, a bad frame (the protocol is
        JSON text; reading binary as JSON too would make two ways to say one thing)."""
        if self.phase is Phase.CLOSED:
            return
        self.last_seen = now
        self._bad_frame(now, E.BAD_FRAME, "binary frames are not accepted: send JSON text frames")

    def _bad_frame(
        self, now: float, code: str, message: str, ref: str | None = None, **extra: Any
    ) -> None:
        self.error(code, message, ref, **extra)
        window = self._bad
        window.append(now)
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) >= self.limits.bad_frames_per_minute:
            self.close(E.CLOSE_BAD_FRAMES, "too many bad frames")

    # -- decisions of the application layer -----------------------------------
    def auth_succeeded(self, user: str, device: str, welcome: dict[str, Any]) -> None:
        if self.phase is not Phase.AUTHENTICATING:
            return
        self.phase = Phase.OPEN
        self.user, self.device = user, device
        self.send({"type": "auth_ok", "user": user, "device": device, **welcome})

    def request_refused(
        self, req: Request, code: str, message: str, now: float, **extra: Any
    ) -> None:
        """The application refused a valid request: its `error` (with `ref`, the cmid).

        A `sync` or `read` of a conversation the user may not see (forbidden,
        not_found) also counts as a bad frame: it cost a Redis round trip and
        no working client repeats it. Refusals of `send` (limits, mute,
        membership) and `presence` do not: sends have their own limits, and a
        retried send is legitimate."""
        ref = getattr(req, "cmid", None)
        if isinstance(req, Sync | Read) and code in (E.FORBIDDEN, E.NOT_FOUND):
            self._bad_frame(now, code, message, ref, **extra)
        else:
            self.error(code, message, ref, **extra)

    def auth_failed(self) -> None:
        self.auth_refused(E.UNAUTHORIZED, "invalid or expired token",
                          E.CLOSE_UNAUTHORIZED, "not signed in")  # fmt: skip

    def auth_refused(self, code: str, message: str, close_code: int, reason: str) -> None:
        """The `auth` is not accepted: its `error`, then the close."""
        self.error(code, message)
        self.close(close_code, reason)

    # -- output ---------------------------------------------------------------
    def send(self, frame: dict[str, Any]) -> None:
        if self.phase is not Phase.CLOSED:
            self._out.append(orjson.dumps(frame))

    def send_raw(self, encoded: bytes) -> None:
        """Queue an already encoded frame (one encoding shared by all recipients)."""
        if self.phase is not Phase.CLOSED:
            self._out.append(encoded)

    def error(self, code: str, message: str, ref: str | None = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if ref is not None:
            frame["ref"] = ref
        frame.update(extra)
        self.send(frame)

    def close(self, code: int, reason: str) -> None:
        if self.phase is Phase.CLOSED:
            return
        self.phase = Phase.CLOSED
        self.close_code, self.close_reason = code, reason

    def events_received(self) -> list[Request]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    # -- time -------------------------------------------------------------------
    def check_timers(self, now: float) -> None:
        if self.phase in (Phase.AWAIT_AUTH, Phase.AUTHENTICATING):
            if now - self.opened_at >= self.limits.auth_timeout_s:
                self.close(E.CLOSE_UNAUTHORIZED, "auth timeout")
        elif self.phase is Phase.OPEN and now - self.last_seen >= 2 * self.limits.heartbeat_s:
            self.close(E.CLOSE_HEARTBEAT, "heartbeat timeout")

    def next_deadline(self) -> float:
        if self.phase is Phase.OPEN:
            return self.last_seen + 2 * self.limits.heartbeat_s
        return self.opened_at + self.limits.auth_timeout_s


__all__ = ["Ack", "Auth", "ClientProtocol", "Limits", "Phase", "Read", "Request", "Send", "Sync"]
