"""Consent between users (PROTOCOL.md): group invitations, leaving a group,
blocking. On a real node, real Redis and Kafka."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import Device, User, send_frame
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, "consent", PORT):
        yield f"http://127.0.0.1:{PORT}"


async def befriend(a: User, b: User) -> str:
    assert (await a.post("/api/friends", {"user_id": b.user_id})).status_code == 202
    r = await b.post(f"/api/friends/{a.user_id}/accept")
    assert r.status_code == 200, r.text
    conv: str = r.json()["conv"]
    return conv


async def conv_states(user: User) -> dict[str, dict[str, int]]:
    return {c["conv"]: c for c in (await user.get("/api/conversations")).json()}


async def unread_total(user: User) -> int:
    return int((await user.get("/api/conversations")).headers["x-unread-total"])


async def test_a_stranger_is_invited_and_joins_only_by_accepting(base: str) -> None:
    alice, bob = await User.create(base, "inva"), await User.create(base, "invb")
    db = await bob.connect()
    r = await alice.post("/api/groups", {"name": "unasked", "members": [bob.user_id]})
    assert r.status_code == 201
    group_id, conv = r.json()["group_id"], r.json()["conv"]
    assert r.json()["invited"] == [bob.user_id]
    invite = await db.recv_type("group_invite")
    row = await bob.invitation(group_id)
    assert invite == {"type": "group_invite", **row}
    assert (row["conv"], row["title"], row["from"]) == (conv, "unasked", alice.user_id)
    # Invited is not a member: no conversation, no pushes, no unread, no history.
    da = await alice.connect()
    await da.send_text(conv, "before bob said yes")
    assert conv not in await conv_states(bob) and await unread_total(bob) == 0
    await db.send_json({"type": "sync", "conv": conv, "after": 0})
    assert (await db.recv_type("error"))["code"] == "forbidden"
    assert not any(f["type"] == "msg" for f in await db.quiet(0.3))
    # Accepting joins at the current end.
    r = await bob.post(f"/api/invitations/{row['invitation']}/accept")
    assert r.status_code == 200 and r.json() == {"group_id": group_id, "conv": conv}
    state = (await conv_states(bob))[conv]
    assert (state["max_seq"], state["read_seq"], state["unread"]) == (1, 1, 0)
    assert (await bob.get("/api/invitations")).json() == []
    await da.send_text(conv, "welcome")
    assert (await db.recv_type("msg"))["body"] == {"text": "welcome"}
    assert await unread_total(bob) == 1
    again = await bob.post(f"/api/invitations/{row['invitation']}/accept")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


async def test_friends_are_added_at_once_strangers_invited(base: str) -> None:
    owner, friend, stranger = [await User.create(base, "invf") for _ in range(3)]
    await befriend(owner, friend)
    r = await owner.post("/api/groups", {"name": "pals", "members": [friend.user_id]})
    group_id, conv = r.json()["group_id"], r.json()["conv"]
    assert r.json()["invited"] == [] and conv in await conv_states(friend)
    path = f"/api/groups/{group_id}/members"
    r = await owner.post(path, {"user_id": stranger.user_id})
    assert r.status_code == 202 and r.json() == {"status": "invited"}
    assert (await owner.post(path, {"user_id": stranger.user_id})).status_code == 202  # again
    assert len((await stranger.get("/api/invitations")).json()) == 1
    assert conv not in await conv_states(stranger)
    assert (await owner.post(path, {"user_id": friend.user_id})).status_code == 204  # a member


async def test_a_declined_invitation_is_gone(base: str) -> None:
    owner, carol = await User.create(base, "invo"), await User.create(base, "invc")
    r = await owner.post("/api/groups", {"name": "no thanks", "members": [carol.user_id]})
    group_id, conv = r.json()["group_id"], r.json()["conv"]
    iid = (await carol.invitation(group_id))["invitation"]
    assert (await carol.post(f"/api/invitations/{iid}/decline")).status_code == 204
    assert (await carol.get("/api/invitations")).json() == []
    assert (await carol.post(f"/api/invitations/{iid}/accept")).status_code == 404
    assert (await carol.post(f"/api/invitations/{iid}/decline")).status_code == 404
    assert (await owner.post(f"/api/invitations/{iid}/accept")).status_code == 404  # not theirs
    assert conv not in await conv_states(carol)


async def test_a_member_leaves_and_hears_nothing_more(base: str) -> None:
    owner, bob, carol = [await User.create(base, "lv") for _ in range(3)]
    group_id, conv = await owner.create_group("leaving", [bob, carol])
    do, db = await owner.connect(), await bob.connect()
    other = await owner.group("other", [bob])
    await do.send_text(conv, "one")
    await do.send_text(conv, "two")
    await do.send_text(other, "elsewhere")
    assert sorted([(await db.recv_type("msg"))["seq"] for _ in range(3)]) == [1, 1, 2]
    assert await unread_total(bob) == 3
    assert (await bob.post(f"/api/groups/{group_id}/leave")).status_code == 204
    assert conv not in await conv_states(bob)
    assert await unread_total(bob) == 1  # the left group's unread left the total
    await do.send_text(conv, "after bob left")
    await do.send_text(other, "still here")
    pushed = [(f["conv"], f["seq"]) for f in await db.quiet(0.5) if f["type"] == "msg"]
    assert (other, 2) in pushed and (conv, 3) not in pushed  # (resends of older ones may come)
    assert await unread_total(bob) == 2
    await db.send_json(send_frame(conv, "let me back", "back"))
    assert (await db.recv_type("error"))["code"] == "forbidden"
    r = await bob.post(f"/api/groups/{group_id}/leave")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await bob.post("/api/groups/g_0000000000000000/leave")).status_code == 404


async def test_the_owner_leaving_hands_the_group_on(base: str) -> None:
    owner, m1, m2 = [await User.create(base, "lvo") for _ in range(3)]
    group_id, conv = await owner.create_group("heirs", [m1, m2])
    assert (await owner.post(f"/api/groups/{group_id}/leave")).status_code == 204
    heir, other = sorted((m1, m2), key=lambda u: u.user_id)
    slow = f"/api/groups/{group_id}/slow_mode"
    assert (await owner.post(slow, {"interval_s": 0})).status_code == 403
    assert (await other.post(slow, {"interval_s": 0})).status_code == 403
    assert (await heir.post(slow, {"interval_s": 0})).status_code == 204
    d = await heir.connect()
    assert (await d.send_text(conv, "mine now"))["seq"] == 1


async def test_a_blocked_user_reaches_the_blocker_no_more(base: str) -> None:
    bob, alice, carol, dave = [await User.create(base, "blk") for _ in range(4)]
    direct = await befriend(alice, bob)
    r = await dave.post("/api/groups", {"name": "pending", "members": [bob.user_id]})
    assert len((await bob.get("/api/invitations")).json()) == 1
    assert (await carol.post("/api/friends", {"user_id": bob.user_id})).status_code == 202
    for who in (alice, carol, dave):
        assert (await bob.post("/api/blocks", {"user_id": who.user_id})).status_code == 204
    assert (await bob.post("/api/blocks", {"user_id": alice.user_id})).status_code == 204  # again
    listed = (await bob.get("/api/blocks")).json()
    assert listed == sorted(
        ({"user_id": u.user_id, "username": u.username} for u in (alice, carol, dave)),
        key=lambda row: row["user_id"],
    )
    # Pending requests and invitations of the blocked are gone with the block.
    assert (await bob.post(f"/api/friends/{carol.user_id}/accept")).status_code == 404
    assert (await bob.get("/api/invitations")).json() == []

    # Direct messages: refused with `blocked`, nothing stored or counted.
    da, db = await alice.connect(), await bob.connect()
    err = await da.send_message(direct, "can you hear me?")
    assert (err["type"], err["code"]) == ("error", "blocked")
    assert await unread_total(bob) == 0
    assert (await db.send_text(direct, "I can still write"))["seq"] == 1
    # New friend requests and invitations: answered as usual, dropped.
    assert (await carol.post("/api/friends", {"user_id": bob.user_id})).status_code == 202
    assert (await bob.post(f"/api/friends/{carol.user_id}/accept")).status_code == 404
    r = await dave.post("/api/groups", {"name": "ignored", "members": [bob.user_id]})
    assert r.status_code == 201 and r.json()["invited"] == [bob.user_id]
    assert (await bob.get("/api/invitations")).json() == []
    assert not any(f["type"] == "group_invite" for f in await db.quiet(0.3))

    # Unblocking restores it.
    assert (await bob.delete(f"/api/blocks/{alice.user_id}")).status_code == 204
    assert (await bob.delete(f"/api/blocks/{alice.user_id}")).status_code == 404
    assert (await da.send_text(direct, "there you are"))["seq"] == 2


async def test_block_refusals(base: str) -> None:
    bob = await User.create(base, "blkr")
    for body, status in (({"user_id": bob.user_id}, 404), ({"user_id": "u_nobody"}, 404),
                         ({"user_id": "system"}, 404), ({"user_id": 7}, 400)):  # fmt: skip
        r = await bob.post("/api/blocks", body)
        assert r.status_code == status and r.json()["error"]["code"] in ("not_found", "invalid")
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/api/blocks")).status_code == 401
        assert (await http.get("/api/invitations")).status_code == 401


async def test_every_online_device_of_the_invited_gets_the_push(base: str) -> None:
    alice, bob = await User.create(base, "invp"), await User.create(base, "invq")
    phone: Device = await bob.connect("phone")
    laptop: Device = await bob.connect("laptop")
    r = await alice.post("/api/groups", {"name": "two devices", "members": [bob.user_id]})
    for dev in (phone, laptop):
        assert (await dev.recv_type("group_invite"))["group_id"] == r.json()["group_id"]
