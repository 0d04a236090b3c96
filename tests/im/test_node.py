"""A node's parts start and stop in order; start() and stop() are safe to repeat."""

from __future__ import annotations

import asyncio
import secrets

from im.node import Node
from im.settings import ServerSettings
from stack.manager import Stack


async def test_start_and_stop_twice_leave_no_task_behind(stack: Stack) -> None:
    s = stack.settings
    node = Node(ServerSettings(node_id=f"wiring-{secrets.token_hex(4)}", redis_url=s.redis_url,
                               kafka_bootstrap=s.kafka_bootstrap))  # fmt: skip
    before = asyncio.all_tasks()
    await node.start()
    await node.start()
    assert node.started and node.builtin_ready
    parts = ("bus", "retransmit", "heal", "presence", "control", "outbox-relay")
    ours = [t for t in asyncio.all_tasks() - before if t.get_name() in parts]
    assert sorted(t.get_name() for t in ours) == sorted(parts)  # once each
    await node.stop()
    await node.stop()
    assert not node.started
    assert all(t.done() for t in ours)
