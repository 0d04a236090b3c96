"""What the gateway tests share: the nodes' short timers, clean-error checks,
frames of an exact size.

Every gateway test talks to a real `python -m im` node (real Redis and Kafka)
over a real socket through `tests.client`; close codes are the ones the
server sent. The nodes run with short timers (auth deadline 1 s, heartbeat
1 s so idle close after 2 s, frames of at most 4 KiB) so that the suite
stays fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.client import Device, Frame, User, dumps, send_frame

MAX_FRAME = 4096
TIMERS = {"IM_AUTH_TIMEOUT_S": "1", "IM_HEARTBEAT_S": "1", "IM_MAX_FRAME_BYTES": str(MAX_FRAME)}
IDLE_CLOSE_S = 2.0  # 2 x IM_HEARTBEAT_S

# What an error message must never show: internals of the server.
_LEAKS = (
    re.compile(r"Traceback"),
    re.compile(r"redis", re.IGNORECASE),
    re.compile(r"\.py\b|\.lua\b"),
    re.compile(r"(?:/[\w.-]+){2,}"),  # a file path
    re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b"),  # an exception class name
    re.compile(r"\bline \d+\b"),
)


def assert_clean(frame: Frame) -> None:
    """An error frame of PROTOCOL.md whose message shows no internals."""
    assert frame["type"] == "error", frame
    message = frame["message"]
    assert isinstance(message, str) and message, frame
    for leak in _LEAKS:
        assert not leak.search(message), (leak.pattern, frame)


async def send_refused(dev: Device, conv: str, text: str, cmid: str | None = None) -> Frame:
    """Send a text that must be refused: the clean `error` for it."""
    err = await dev.send_message(conv, text, cmid)
    assert err["type"] == "error", err
    assert_clean(err)
    return err


def send_of_size(conv: str, size: int) -> str:
    """A valid `send` frame of exactly `size` bytes."""
    base = dumps(send_frame(conv, "", "exact"))
    text = "x" * (size - len(base.encode()))
    frame = dumps(send_frame(conv, text, "exact"))
    assert len(frame.encode()) == size
    return frame


@dataclass
class Solo:
    """A user alone in a group: somewhere to send valid messages."""

    user: User
    conv: str
