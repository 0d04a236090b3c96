"""kill -9 a server node in the middle of traffic: every message that got `sent`
is delivered after reconnect and sync, and none twice."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import websockets

from stack.manager import Stack
from tests.client import Device, User, send_frame
from tests.ports import free_ports
from tests.servers import server_node

PORT_A, PORT_B = free_ports(2)
PER_SENDER = 120


def base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


async def sender(
    user: User, conv: str, killed: asyncio.Event, acked: set[str], half: asyncio.Event
) -> None:
    """Sends PER_SENDER messages; on a dropped connection reconnects to B and
    retries every cmid without a `sent`, as a real client does."""
    dev = await user.connect("s", base=base(PORT_A))
    todo = [f"{user.username}-{i}" for i in range(PER_SENDER)]
    while todo:
        cmid = todo[0]
        try:
            await dev.send_json(send_frame(conv, cmid, cmid))
            frame = await dev.recv_type("sent", timeout=3)
            assert frame["cmid"] == cmid
            acked.add(cmid)
            todo.pop(0)
            if len(acked) >= PER_SENDER // 2:
                half.set()
        except (websockets.ConnectionClosed, TimeoutError, OSError):
            await killed.wait()
            with contextlib.suppress(Exception):
                await dev.close()
            dev = await user.connect("s", base=base(PORT_B))
        await asyncio.sleep(0.005)  # pacing: traffic still flowing when the node dies
    await dev.close()


async def test_kill_9_node_loses_and_duplicates_nothing(stack: Stack) -> None:
    with server_node(stack, "crash-a", PORT_A) as node_a, server_node(stack, "crash-b", PORT_B):
        base_a, base_b = base(PORT_A), base(PORT_B)
        senders = [await User.create(base_a, "ks") for _ in range(2)]
        reader = await User.create(base_b, "kr")
        conv = await senders[0].group("crash", [senders[1], reader])
        on_a = await reader.connect("phone", base=base_a)
        on_b = await reader.connect("desk", base=base_b)
        killed = asyncio.Event()
        acked: set[str] = set()
        half = asyncio.Event()
        tasks = [asyncio.create_task(sender(u, conv, killed, acked, half)) for u in senders]
        await asyncio.wait_for(half.wait(), 30)
        node_a.kill()  # SIGKILL, mid-traffic
        killed.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        assert len(acked) == 2 * PER_SENDER

        # The reader's device on A lost its socket: it reconnects to B and syncs.
        seen_a = [f["seq"] for f in on_a.inbox if f.get("type") == "msg"]
        again = await reader.connect("phone", base=base_b)
        after = max(seen_a, default=0)
        synced: list[int] = []
        more = True
        while more:
            await again.send_json({"type": "sync", "conv": conv, "after": after, "limit": 100})
            page = await again.recv_type("history")
            synced += [m["seq"] for m in page["messages"]]
            after, more = (synced[-1] if synced else after), page["more"]
        assert sorted(set(seen_a) | set(synced)) == list(range(1, 2 * PER_SENDER + 1))

        # History: each acknowledged cmid stored exactly once, seqs without gaps.
        async with httpx.AsyncClient(base_url=base_b, headers=reader.headers) as http:
            stored: list[dict[str, object]] = []
            for after in (0, 200):
                r = await http.get(f"/api/conversations/{conv}/messages",
                                   params={"after": after, "limit": 200})  # fmt: skip
                stored += r.json()["messages"]
        cmids = [m["cmid"] for m in stored]
        assert sorted(cmids) == sorted(acked) and len(set(cmids)) == len(cmids)
        assert [m["seq"] for m in stored] == list(range(1, 2 * PER_SENDER + 1))

        # The device on B saw every push, in order, once (gap healing covers
        # messages whose publish died with node A).
        pushed = await collect_all(on_b, conv, 2 * PER_SENDER)
        assert pushed == list(range(1, 2 * PER_SENDER + 1))


async def collect_all(dev: Device, conv: str, n: int) -> list[int]:
    seqs: list[int] = []
    while len(seqs) < n:
        frame = await dev.recv_type("msg", timeout=15)
        if frame["conv"] == conv:
            seqs.append(frame["seq"])
            await dev.send_json({"type": "ack", "conv": conv, "seq": frame["seq"]})
    return seqs
