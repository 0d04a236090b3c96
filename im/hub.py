"""Live connections of this node, and fan-out to them.

Each connection has a bounded outgoing queue drained by its own writer task,
so a push is one `put_nowait` of an already encoded frame per device: the
sender never waits for a slow reader, and a reader too slow to keep up is
disconnected (it catches up by sync after reconnecting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

OUT_QUEUE_FRAMES = 2048


@dataclass(eq=False)
class Link:
    """One signed-in device's outgoing side."""

    user: str
    device: str
    queue: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(OUT_QUEUE_FRAMES)
    )
    close_code: int | None = None
    close_reason: str = ""

    def push(self, frame: str) -> bool:
        if self.close_code is not None:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(1008, "too slow to keep up")
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            # Wake the writer even if the queue is full.
            while True:
                try:
                    self.queue.put_nowait(None)
                    return
                except asyncio.QueueFull:
                    self.queue.get_nowait()


class Hub:
    def __init__(self) -> None:
        self._users: dict[str, dict[str, Link]] = {}

    def attach(self, link: Link) -> Link | None:
        """Register a device; returns the older link of the same device, if any."""
        devices = self._users.setdefault(link.user, {})
        old = devices.get(link.device)
        devices[link.device] = link
        return old

    def detach(self, link: Link) -> None:
        devices = self._users.get(link.user)
        if devices and devices.get(link.device) is link:
            del devices[link.device]
            if not devices:
                del self._users[link.user]

    def links(self, user: str) -> list[Link]:
        return list(self._users.get(user, {}).values())

    def deliver(self, members: Iterable[str], frame: str) -> int:
        n = 0
        for m in members:
            for link in self._users.get(m, {}).values():
                n += link.push(frame)
        return n

    def all_links(self) -> list[Link]:
        return [link for devs in self._users.values() for link in devs.values()]

    def __len__(self) -> int:
        return sum(len(d) for d in self._users.values())
