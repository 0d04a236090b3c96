"""Helpers for tests without sockets: a recording FrameWriter (im.wire), waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from im import keys


class Recorder:
    """Keeps the wire frames written to it and reports a chosen backlog."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.backlog = 0
        self.gone = False

    def write(self, wire: bytes) -> int:
        if self.gone:
            return -1
        self.frames.append(wire)
        return self.backlog

    def json(self) -> list[Any]:
        """The JSON payloads of the frames written (im.wire frames: unmasked, one piece)."""
        out = []
        for wire in self.frames:
            n = wire[1] & 0x7F
            start = 2 if n < 126 else 4 if n == 126 else 10
            out.append(orjson.loads(wire[start:]))
        return out


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `check()` holds (polled every 10 ms)."""
    for _ in range(int(timeout / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within the timeout")


async def subscribed(redis: aioredis.Redis, node: str) -> None:
    """Wait until `node`'s bus listens on its channel."""
    channel = keys.node_channel(node)
    for _ in range(500):
        if dict(await redis.pubsub_numsub(channel)).get(channel):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody listens on {channel}")
