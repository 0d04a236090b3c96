"""Reliable, ordered delivery on real server processes, real Redis and Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from stack.manager import Stack
from tests.client import Device, User, send_frame
from tests.ports import free_ports
from tests.servers import server_node

PORT_A, PORT_B, PORT_C, PORT_D = free_ports(4)


@pytest.fixture(scope="module")
def nodes(stack: Stack) -> Iterator[tuple[str, str]]:
    """Two server nodes on the same Redis (short ack timeout: retransmits are seen quickly)."""
    env = {"IM_ACK_TIMEOUT_S": "0.5", "IM_ACK_RETRIES": "3"}
    with server_node(stack, "dlv-a", PORT_A, **env), server_node(stack, "dlv-b", PORT_B, **env):
        yield f"http://127.0.0.1:{PORT_A}", f"http://127.0.0.1:{PORT_B}"


async def collect(dev: Device, conv: str, count: int, ack: bool = True) -> list[int]:
    seqs: list[int] = []
    while len(seqs) < count:
        frame = await dev.recv_type("msg", timeout=20)
        if frame["conv"] == conv:
            seqs.append(frame["seq"])
            if ack:
                await dev.send_json({"type": "ack", "conv": conv, "seq": frame["seq"]})
    return seqs


async def test_three_senders_600_messages_every_device_same_order(stack: Stack) -> None:
    # Default ack timeout (5 s): with the module's 0.5 s a loaded machine may
    # resend before an ack arrives, and a resend is a legitimate duplicate.
    with server_node(stack, "ord-a", PORT_C), server_node(stack, "ord-b", PORT_D):
        await _three_senders(f"http://127.0.0.1:{PORT_C}", f"http://127.0.0.1:{PORT_D}")


async def _three_senders(a: str, b: str) -> None:
    senders = [await User.create(a, "snd") for _ in range(3)]
    reader = await User.create(b, "rdr")
    conv = await senders[0].group("busy", [*senders[1:], reader])
    # Devices on both nodes: the senders on A, the reader's two devices on A and B.
    sdevs = [await u.connect("s", base=a) for u in senders]
    r1 = await reader.connect("phone", base=a)
    r2 = await reader.connect("desk", base=b)

    async def burst(dev: Device, who: int) -> list[dict[str, object]]:
        for i in range(200):
            await dev.send_json(send_frame(conv, f"{who}:{i}", f"{who}-{i}"))
        return [await dev.recv_type("sent", timeout=30) for _ in range(200)]

    receivers = [asyncio.create_task(collect(d, conv, 600)) for d in (r1, r2, *sdevs)]
    sent = await asyncio.gather(*(burst(d, i) for i, d in enumerate(sdevs)))
    all_seqs = sorted(int(f["seq"]) for batch in sent for f in batch)  # type: ignore[call-overload]
    assert all_seqs == list(range(1, 601))
    for got in await asyncio.gather(*receivers):
        assert got == list(range(1, 601))  # no gap, no duplicate, same order everywhere


async def test_retried_cmid_same_seq_pushed_once(nodes: tuple[str, str]) -> None:
    a, _ = nodes
    alice, bob = await User.create(a), await User.create(a)
    conv = await alice.group("retry", [bob])
    da, db = await alice.connect(), await bob.connect()
    first = await da.send_text(conv, "hello", cmid="same-cmid")
    second = await da.send_text(conv, "hello", cmid="same-cmid")
    assert (first["seq"], first["ts"]) == (second["seq"], second["ts"]) == (1, first["ts"])
    assert await collect(db, conv, 1) == [1]
    await da.send_text(conv, "next")
    assert await collect(db, conv, 1) == [2]  # the retry was not pushed in between


async def test_a_cmid_reused_in_another_conversation_is_a_new_message(
    nodes: tuple[str, str],
) -> None:
    a, _ = nodes
    alice, bob = await User.create(a), await User.create(a)
    first_conv, other_conv = await alice.group("one", [bob]), await alice.group("two", [bob])
    da, db = await alice.connect(), await bob.connect()
    first = await da.send_text(first_conv, "hello one", cmid="reused")
    other = await da.send_text(other_conv, "hello two", cmid="reused")
    assert (other["conv"], other["seq"]) == (other_conv, 1)  # stored, not the first's `sent`
    pushed = await db.recv_type("msg")
    pushed = pushed if pushed["conv"] == other_conv else await db.recv_type("msg")
    assert (pushed["conv"], pushed["body"]) == (other_conv, {"text": "hello two"})
    # A retry in each conversation still answers that conversation's first result.
    again = await da.send_text(first_conv, "hello one", cmid="reused")
    assert (again["seq"], again["ts"]) == (first["seq"], first["ts"])
    again = await da.send_text(other_conv, "hello two", cmid="reused")
    assert (again["seq"], again["ts"]) == (other["seq"], other["ts"])


async def test_unacked_push_is_resent_three_times_then_stops(nodes: tuple[str, str]) -> None:
    a, _ = nodes
    alice, bob = await User.create(a), await User.create(a)
    conv = await alice.group("noack", [bob])
    da, db = await alice.connect(), await bob.connect()
    await da.send_text(conv, "are you there?")
    got = []
    with pytest.raises(TimeoutError):
        while True:  # 1 push + 3 resends at 0.5 s, then silence
            got.append((await db.recv_type("msg", timeout=2.5))["seq"])
    assert got == [1, 1, 1, 1]


async def test_acked_push_is_not_resent(nodes: tuple[str, str]) -> None:
    a, _ = nodes
    alice, bob = await User.create(a), await User.create(a)
    conv = await alice.group("ack", [bob])
    da, db = await alice.connect(), await bob.connect()
    for i in range(3):
        await da.send_text(conv, f"m{i}")
    assert await collect(db, conv, 3, ack=False) == [1, 2, 3]
    await db.send_json({"type": "ack", "conv": conv, "seq": 3})  # cumulative
    with pytest.raises(TimeoutError):
        await db.recv_type("msg", timeout=1.5)


async def test_offline_device_gets_exactly_what_it_missed(nodes: tuple[str, str]) -> None:
    a, b = nodes
    alice, bob = await User.create(a), await User.create(b)
    conv = await alice.group("offline", [bob])
    da = await alice.connect()
    db = await bob.connect()
    await da.send_text(conv, "before")
    assert await collect(db, conv, 1) == [1]
    await db.send_json({"type": "read", "conv": conv, "seq": 1})
    await db.recv_type("unread")
    await db.close()
    for i in range(5):
        await da.send_text(conv, f"while away {i}")
    back = await bob.connect(base=b)
    state = next(c for c in back.welcome["convs"] if c["conv"] == conv)
    assert state == {"conv": conv, "kind": "group", "title": "offline", "max_seq": 6,
                     "read_seq": 1, "unread": 5}  # fmt: skip
    assert back.welcome["unread_total"] == 5
    await back.send_json({"type": "sync", "conv": conv, "after": 1, "limit": 3})
    page = await back.recv_type("history")
    assert [m["seq"] for m in page["messages"]] == [2, 3, 4] and page["more"] is True
    await back.send_json({"type": "sync", "conv": conv, "after": 4, "limit": 200})
    page = await back.recv_type("history")
    assert [m["seq"] for m in page["messages"]] == [5, 6] and page["more"] is False
    assert page["messages"][-1]["body"] == {"text": "while away 4"}


async def test_users_on_different_nodes_chat(nodes: tuple[str, str]) -> None:
    a, b = nodes
    alice, bob = await User.create(a), await User.create(b)
    conv = await alice.group("x-node", [bob])
    da = await alice.connect(base=a)
    db = await bob.connect(base=b)
    await da.send_text(conv, "from A")
    msg = await db.recv_type("msg")
    assert (msg["conv"], msg["seq"], msg["from"], msg["body"]) == (
        conv, 1, alice.user_id, {"text": "from A"})  # fmt: skip
    await db.send_text(conv, "from B")
    assert [m["seq"] for m in [await da.recv_type("msg"), await da.recv_type("msg")]] == [1, 2]
