"""WebSocket text frames built once per message and written as is to every recipient.

A server's frames are never masked, and we never compress or fragment
(uvicorn runs with per-message deflate off), so a message's frame is the same
bytes for every recipient: it is encoded once (RFC 6455 section 5.2) and each
delivery is a single `transport.write`, with no task switch and no per-recipient
encoding.
"""

from __future__ import annotations

import struct
from typing import Protocol

TEXT_FIN = 0x81  # FIN + opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented text frame carrying `payload` (UTF-8)."""
    n = len(payload)
    if n < 126:
        return bytes((TEXT_FIN, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", TEXT_FIN, 126, n) + payload
    return struct.pack("!BBQ", TEXT_FIN, 127, n) + payload


def encode(frame: str | bytes) -> bytes:
    """A JSON frame (text or UTF-8 bytes) as wire bytes."""
    return text_frame(frame.encode() if isinstance(frame, str) else frame)


class FrameWriter(Protocol):
    def write(self, wire: bytes) -> int:
        """Write one frame now; the bytes still waiting to be sent (-1: connection gone)."""
        ...
