"""Friends, group membership and admin calls of PROTOCOL.md, on a real node."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import User, send_frame
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
ADMIN, ADMIN_PW = "root-admin", "admin password 1"


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW}
    with server_node(stack, "relations", PORT, **env):
        yield f"http://127.0.0.1:{PORT}"


async def test_friend_request_and_accept(base: str) -> None:
    alice, bob = await User.create(base), await User.create(base)
    r = await alice.post("/api/friends", {"user_id": bob.user_id})
    assert r.status_code == 202
    assert (await bob.post(f"/api/friends/{alice.user_id}/accept")).status_code == 200
    conv = (await alice.get("/api/friends")).json()[0]["conv"]
    assert (await bob.get("/api/friends")).json() == [
        {"user_id": alice.user_id, "username": alice.username, "conv": conv}
    ]
    listing = (await alice.get("/api/conversations")).json()
    assert [(c["conv"], c["kind"]) for c in listing] == [(conv, "direct")]
    assert (await alice.post("/api/friends", {"user_id": bob.user_id})).status_code == 409
    da, db = await alice.connect(), await bob.connect()
    await da.send_text(conv, "hi friend")
    assert (await db.recv_type("msg"))["body"] == {"text": "hi friend"}


async def test_mutual_requests_make_friends_at_once(base: str) -> None:
    alice, bob = await User.create(base), await User.create(base)
    assert (await alice.post("/api/friends", {"user_id": bob.user_id})).status_code == 202
    r = await bob.post("/api/friends", {"user_id": alice.user_id})
    assert r.status_code == 200
    assert r.json()["conv"] == (await alice.get("/api/friends")).json()[0]["conv"]


async def test_friend_refusals(base: str) -> None:
    alice, bob = await User.create(base), await User.create(base)
    assert (await alice.post("/api/friends", {"user_id": "u_nobody"})).status_code == 404
    assert (await alice.post("/api/friends", {"user_id": alice.user_id})).status_code == 404
    r = await alice.post(f"/api/friends/{bob.user_id}/accept")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await alice.post("/api/friends", {"user_id": 7})).status_code == 400


async def test_group_membership_calls(base: str) -> None:
    owner, m1, m2 = [await User.create(base) for _ in range(3)]
    group_id, conv = await owner.create_group("team", [m1])
    do = await owner.connect()
    await do.send_text(conv, "before m2 joined")
    assert (await m1.post(f"/api/groups/{group_id}/members", {"user_id": m2.user_id})
            ).status_code == 403  # fmt: skip
    # m2 is not the owner's friend: invited, a member once they accept.
    assert (await owner.post(f"/api/groups/{group_id}/members", {"user_id": m2.user_id})
            ).status_code == 202  # fmt: skip
    await m2.accept_invitation(group_id)
    state = {c["conv"]: c for c in (await m2.get("/api/conversations")).json()}[conv]
    assert (state["max_seq"], state["read_seq"], state["unread"]) == (1, 1, 0)
    d2 = await m2.connect()
    await do.send_text(conv, "welcome")
    assert (await d2.recv_type("msg"))["seq"] == 2
    async with httpx.AsyncClient(base_url=base, headers=owner.headers) as http:
        gone = await http.delete(f"/api/groups/{group_id}/members/{m2.user_id}")
        assert gone.status_code == 204
        assert (await http.delete(f"/api/groups/{group_id}/members/{m2.user_id}")
                ).status_code == 404  # fmt: skip
        assert (await http.delete(f"/api/groups/g_nope/members/{m2.user_id}")).status_code == 404
    await d2.send_json(send_frame(conv, "hey", "x"))
    assert (await d2.recv_type("error"))["code"] == "forbidden"
    assert (await m2.get(f"/api/conversations/{conv}/messages")).status_code == 403
    r = await owner.post("/api/groups", {"name": "x", "members": ["u_nobody"]})
    assert r.status_code == 404


async def test_admin_creates_staff_and_roles_change_at_once(base: str) -> None:
    admin = await User.login(base, ADMIN, ADMIN_PW)
    assert admin.role == "admin"
    staff = {"username": "agent-smith-1", "password": "agent password", "role": "agent"}
    r = await admin.post("/api/admin/users", staff)
    assert r.status_code == 201
    agent = await User.login(base, "agent-smith-1", "agent password")
    assert (await agent.get("/api/me")).json()["role"] == "agent"
    plain = await User.create(base)
    assert (await plain.post("/api/admin/users", {"username": "x-y-z", "password": "longenough",
                                                  "role": "admin"})).status_code == 403  # fmt: skip
    r = await admin.post(f"/api/admin/users/{plain.user_id}/role", {"role": "agent"})
    assert r.status_code == 204
    assert (await plain.get("/api/me")).json()["role"] == "agent"  # same token, new role
    r = await admin.post("/api/admin/users", {"username": "sys2", "password": "longenough",
                                              "role": "system"})  # fmt: skip
    assert r.status_code == 400


async def test_login_attempts_are_limited(base: str) -> None:
    user = await User.create(base, "lim")
    async with httpx.AsyncClient(base_url=base) as http:
        codes = [
            (await http.post("/api/login", json={"username": user.username,
                                                 "password": "wrong password"})).status_code
            for _ in range(11)
        ]  # fmt: skip
        assert codes == [401] * 10 + [429]
        r = await http.post("/api/login", json={"username": user.username,
                                                "password": user.password})  # fmt: skip
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "rate_limited"
        assert 0 < r.json()["error"]["retry_after"] <= 300_000
