"""Graceful shutdown: SIGTERM closes every client with 1001 (each test stops
a node of its own)."""

from __future__ import annotations

import asyncio
import time

from stack.manager import Stack
from tests.client import Device, User
from tests.ports import free_port
from tests.servers import server_node

PORT_SHUTDOWN = free_port()  # SIGTERMed by its test
PORT_SHUTDOWN_ANON = free_port()  # SIGTERMed by its test


async def test_shutdown_closes_every_signed_in_client_with_1001(stack: Stack) -> None:
    base = f"http://127.0.0.1:{PORT_SHUTDOWN}"
    with server_node(stack, "gw-shutdown", PORT_SHUTDOWN) as proc:
        alice = await User.create(base, "gwsda")
        bob = await User.create(base, "gwsdb")
        conv = await alice.group("bye", [bob])
        clients = [
            await alice.connect("phone"),
            await alice.connect("laptop"),
            await bob.connect("d1"),
        ]
        await clients[0].send_text(conv, "last words")
        closes = [asyncio.create_task(ws.until_closed(30)) for ws in clients]
        t0 = time.monotonic()
        await asyncio.to_thread(proc.stop)
        stopped_in = time.monotonic() - t0
        codes = [code for _, code in await asyncio.gather(*closes)]
    assert codes == [1001, 1001, 1001]
    assert stopped_in < 10, stopped_in


async def test_shutdown_closes_a_client_not_yet_signed_in_with_1001(stack: Stack) -> None:
    base = f"http://127.0.0.1:{PORT_SHUTDOWN_ANON}"
    with server_node(stack, "gw-shutdown-anon", PORT_SHUTDOWN_ANON) as proc:  # auth: 10 s
        ws = await Device.open(base)
        await ws.send_json({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"
        closing = asyncio.create_task(ws.until_closed(30))
        await asyncio.to_thread(proc.stop)
        _, code = await closing
    assert code == 1001
