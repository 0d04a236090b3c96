"""Error codes of PROTOCOL.md and the exceptions that carry them."""

from __future__ import annotations

from typing import Any

# WebSocket / HTTP error codes (PROTOCOL.md "Errors").
BAD_FRAME = "bad_frame"
UNKNOWN_TYPE = "unknown_type"
TOO_LARGE = "too_large"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
RATE_LIMITED = "rate_limited"
MUTED = "muted"
CONTENT_BLOCKED = "content_blocked"
BLOCKED = "blocked"
UNAVAILABLE = "unavailable"
INTERNAL = "internal"
TOO_MANY_CONNECTIONS = "too_many_connections"
# HTTP-only codes.
INVALID = "invalid"
CONFLICT = "conflict"
LAST_ADMIN = "last_admin"  # 409: the change would leave no enabled admin

# WebSocket close codes (every code the server closes with is one of these).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 1008  # policy violation: unsent bytes past the hub's limit
CLOSE_TOO_LARGE = 1009
CLOSE_INTERNAL = 1011
CLOSE_BAD_FRAMES = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_HEARTBEAT = 4408
CLOSE_REPLACED = 4409
CLOSE_TOO_MANY_CONNECTIONS = 4429


class ApiError(Exception):
    """A refusal a client may see: code and message are safe to show.

    `retriable` tells callers whether the same request may succeed later
    (a dependency was down) or never will as sent.
    """

    status = 400
    retriable = False

    def __init__(self, code: str, message: str, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class Unavailable(ApiError):
    """A dependency (Redis) is down; retry later with the same request."""

    retriable = True

    def __init__(self, message: str = "service temporarily unavailable, retry later") -> None:
        super().__init__(UNAVAILABLE, message, 503)
