"""Unread counts stay equal to their definition under concurrent sends and reads.

Definition (PROTOCOL.md): unread(user, conv) = messages of other people with
seq > read_seq; total = the sum over the user's conversations. A random
schedule of concurrent sends and reads runs on real nodes; after each round
the counters from the server are compared with a count made from the stored
messages themselves, and every `unread` push and every listing seen during
the rounds must have total == sum of its parts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import Device, User
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT = free_port()


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "unread", PORT):
        yield f"http://127.0.0.1:{PORT}"


async def expected(user: User, convs: list[str], base: str) -> dict[str, int]:
    """Unread per conv computed from the history and read_seq (the definition)."""
    out = {}
    listing = {c["conv"]: c for c in (await user.get("/api/conversations")).json()}
    async with httpx.AsyncClient(base_url=base, headers=user.headers) as http:
        for conv in convs:
            r = await http.get(f"/api/conversations/{conv}/messages", params={"limit": 200})
            msgs = r.json()["messages"]
            read_seq = listing[conv]["read_seq"]
            out[conv] = sum(1 for m in msgs if m["seq"] > read_seq and m["from"] != user.user_id)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_unread_matches_definition_under_concurrency(base: str, seed: int) -> None:
    rnd = random.Random(seed)
    users = [await User.create(base, "ur") for _ in range(3)]
    convs = [
        await users[0].group("g1", users[1:]),
        await users[1].group("g2", [users[2]]),
        await users[2].group("g3", [users[0]]),
    ]
    members = {convs[0]: users, convs[1]: users[1:], convs[2]: [users[2], users[0]]}
    devices: dict[str, list[Device]] = {
        u.user_id: [await u.connect("d1"), await u.connect("d2")] for u in users
    }
    latest = dict.fromkeys(convs, 0)
    reads = dict.fromkeys(devices, 0)  # each read pushes one `unread` to every device

    async def act() -> None:
        conv = rnd.choice(convs)
        user = rnd.choice(members[conv])
        dev = rnd.choice(devices[user.user_id])
        if rnd.random() < 0.6:
            sent = await dev.send_text(conv, f"hi {rnd.random()}")
            latest[conv] = max(latest[conv], sent["seq"])
        else:
            upto = rnd.randint(0, latest[conv] + 2)  # sometimes past the end, or backwards
            reads[user.user_id] += 1
            await dev.send_json({"type": "read", "conv": conv, "seq": upto})

    def pushes_arrived() -> bool:
        return all(
            sum(f["type"] == "unread" for f in dev.inbox) >= reads[uid]
            for uid, devs in devices.items()
            for dev in devs
        )

    for _ in range(6):  # rounds: a burst of concurrent operations, then a check
        await asyncio.gather(*(act() for _ in range(15)))
        await wait_until(pushes_arrived, what="the `unread` pushes of this round")
        for user in users:
            listing = await user.get("/api/conversations")
            states = {c["conv"]: c["unread"] for c in listing.json()}
            assert int(listing.headers["x-unread-total"]) == sum(states.values())
            mine = [c for c in convs if user in members[c]]
            assert {c: states[c] for c in mine} == await expected(user, mine, base)
        for devs in devices.values():
            for dev in devs:
                for frame in [f for f in dev.inbox if f["type"] == "unread"]:
                    assert frame["unread"] >= 0 and frame["total"] >= frame["unread"]


async def test_read_never_moves_backwards_and_is_pushed_to_every_device(base: str) -> None:
    alice, bob = await User.create(base), await User.create(base)
    conv = await alice.group("read", [bob])
    da = await alice.connect()
    b1, b2 = await bob.connect("one"), await bob.connect("two")
    for i in range(4):
        await da.send_text(conv, f"m{i}")
    await b1.send_json({"type": "read", "conv": conv, "seq": 3})
    for dev in (b1, b2):
        assert await dev.recv_type("unread") == {"type": "unread", "conv": conv, "unread": 1,
                                                 "total": 1}  # fmt: skip
    await b2.send_json({"type": "read", "conv": conv, "seq": 1})  # backwards: ignored
    assert (await b2.recv_type("unread"))["unread"] == 1
    await b2.send_json({"type": "read", "conv": conv, "seq": 99})  # past the end: clamped
    assert (await b2.recv_type("unread"))["unread"] == 0
    listing = {c["conv"]: c for c in (await bob.get("/api/conversations")).json()}
    assert (listing[conv]["read_seq"], listing[conv]["max_seq"]) == (4, 4)
    # Own messages never count as unread for their sender.
    assert {c["conv"]: c["unread"] for c in (await alice.get("/api/conversations")).json()}[
        conv
    ] == 0
