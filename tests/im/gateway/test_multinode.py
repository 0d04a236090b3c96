"""Two nodes on the same Redis: commands between nodes (replace, revoke) ride
the same channel as pushes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import User
from tests.im.gateway.helpers import TIMERS
from tests.ports import free_ports
from tests.servers import server_node

PORT_PAIR_A, PORT_PAIR_B = free_ports(2)


@pytest.fixture(scope="module")
def pair(stack: Stack) -> Iterator[tuple[str, str]]:
    """Two nodes (short timers) on the same Redis."""
    with (
        server_node(stack, "gw-pair-a", PORT_PAIR_A, **TIMERS),
        server_node(stack, "gw-pair-b", PORT_PAIR_B, **TIMERS),
    ):
        yield f"http://127.0.0.1:{PORT_PAIR_A}", f"http://127.0.0.1:{PORT_PAIR_B}"


async def test_the_same_device_on_another_node_replaces_the_older_connection(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    user = await User.create(a, "gwxdev")
    old = await user.connect("phone")
    new = await user.connect("phone", base=b)
    try:
        frames, code = await old.frames_within(1.5)  # < the 2 s idle close
        assert code == 4409
        assert [f["type"] for f in frames] == []
    finally:
        await old.close()
        await new.close()


async def test_logout_on_one_node_closes_the_tokens_socket_on_another(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    user = await User.create(a, "gwxlogout")
    ws = await user.connect("d1")
    try:
        async with httpx.AsyncClient(base_url=b) as http:
            r = await http.post("/api/logout", headers=user.headers)
        assert r.status_code == 204
        _, code = await ws.frames_within(1.5)  # < the 2 s idle close
        assert code == 4401
    finally:
        await ws.close()


async def test_signing_in_on_another_node_loses_no_push(pair: tuple[str, str]) -> None:
    a, b = pair
    reader = await User.create(a, "gwxrd")
    sender = await User.create(b, "gwxsd")
    conv = await sender.group("two nodes", [reader])
    on_a = await reader.connect("phone")
    sws = await sender.connect("d1")
    on_b = await reader.connect("laptop", base=b)  # another device: nothing to replace
    try:
        sent = await sws.send_text(conv, "while the reader signs in elsewhere")
        for ws in (on_b, on_a):
            msg = await ws.recv_type("msg", timeout=1.5)  # < the 2 s idle close
            assert (msg["seq"], msg["cmid"]) == (sent["seq"], sent["cmid"])
    finally:
        for ws in (on_a, sws, on_b):
            await ws.close()
