"""Signing in and out without a WebSocket: the protocol state machine, a recording
writer and the parts of a node (not started) on the real Redis of the session.

Connection events are read from the outbox stream, where they wait while no
node of the session relays them (the end-to-end tests, which run a relaying
node for the whole session, run last).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from contract import topics
from im import errors as E
from im import keys
from im.node import Node
from im.protocol import Auth, ClientProtocol, Limits, Phase
from im.settings import ServerSettings
from im.signin import Signin
from stack.manager import Stack
from tests.im.sansio import Recorder, subscribed, until

PASSWORD = "correct horse battery"


def settings(stack: Stack, node_id: str) -> ServerSettings:
    s = stack.settings
    return ServerSettings(
        node_id=node_id, redis_url=s.redis_url, kafka_bootstrap=s.kafka_bootstrap,
        argon2_time_cost=1, argon2_memory_kib=8192,
    )  # fmt: skip


@pytest.fixture
async def node(stack: Stack) -> AsyncIterator[Node]:
    """A node's parts, not started: no bus listener, relay or background task."""
    n = Node(settings(stack, f"signin-{secrets.token_hex(4)}"))
    yield n
    await n.redis.aclose()


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Conn:
    """What the gateway keeps per connection, minus the socket."""

    def __init__(self, node: Node, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.proto = ClientProtocol(Limits(), self.clock.now)
        self.writer = Recorder()
        self.closed: list[tuple[int, str]] = []
        self.signin = Signin(
            node, self.proto, self.writer, lambda c, r: self.closed.append((c, r)), self.clock
        )

    async def auth(self, token: str, device: str = "phone") -> None:
        frame = orjson.dumps({"type": "auth", "token": token, "device": device})
        self.proto.receive_frame(frame, self.clock.now)
        [req] = self.proto.events_received()
        assert isinstance(req, Auth)
        await self.signin.sign_in(req)


async def user(node: Node, role: str = "user") -> tuple[str, str]:
    """(user id, token) of a new account."""
    name = f"si{secrets.token_hex(5)}"
    await node.accounts.register(name, PASSWORD, role=role)
    done = await node.accounts.login(name, PASSWORD)
    return done.identity.user_id, done.token


async def connection_events(node: Node, who: str) -> list[dict[str, Any]]:
    """The outbox's connection events about `who` (a user or a device), oldest first."""
    events = [
        orjson.loads(fields["v"])
        for _, fields in await node.redis.xrange(keys.OUTBOX) or []
        if fields and fields.get("t") == topics.CONNECTION
    ]
    return [e for e in events if who in (e.get("user"), e.get("device"))]


async def test_a_valid_token_signs_in_with_auth_ok_first(node: Node) -> None:
    uid, token = await user(node)
    conv = (await node.relations.create_group(uid, "g", [])).conv
    conn = Conn(node)
    await conn.auth(token)
    assert conn.proto.phase is Phase.OPEN and conn.proto.user == uid
    [welcome] = conn.writer.json()
    assert welcome["type"] == "auth_ok" and (welcome["user"], welcome["device"]) == (uid, "phone")
    assert [c["conv"] for c in welcome["convs"]] == [conv]
    link = conn.signin.link
    assert link is not None and node.hub.links(uid) == [link]
    assert link.order[conv].next == 1  # pushes continue after what auth_ok told
    assert conn.signin.role == "user" and conn.signin.token == token
    assert await node.presence.nodes_of(uid) == [node.settings.node_id]
    [opened] = await connection_events(node, uid)
    assert (opened["type"], opened["device"], opened["node"]) == (
        "conn.open", "phone", node.settings.node_id,
    )  # fmt: skip


async def test_a_bad_token_gets_unauthorized_and_4401_and_no_link(node: Node) -> None:
    device = f"dev-{secrets.token_hex(4)}"
    conn = Conn(node)
    await conn.auth("forged", device)
    assert conn.writer.frames == []  # nothing written by sign-in: the gateway sends ...
    assert [f["code"] for f in map(orjson.loads, conn.proto.data_to_send())] == [E.UNAUTHORIZED]
    assert (conn.proto.phase, conn.proto.close_code) == (Phase.CLOSED, E.CLOSE_UNAUTHORIZED)
    assert conn.signin.link is None and len(node.hub) == 0
    [failed] = await connection_events(node, device)
    assert (failed["type"], failed["user"], failed["reason"]) == (
        "conn.auth_failed", None, "invalid_token",
    )  # fmt: skip
    await conn.signin.sign_out()  # never signed in: nothing to undo
    assert await connection_events(node, device) == [failed]


async def test_the_same_device_again_replaces_the_older_link_with_4409(node: Node) -> None:
    uid, token = await user(node)
    first, second = Conn(node), Conn(node)
    await first.auth(token)
    await second.auth(token)
    assert first.closed == [(E.CLOSE_REPLACED, "replaced by a newer connection")]
    assert node.hub.links(uid) == [second.signin.link]
    # The replaced connection ends: its sign-out leaves the newer link and presence alone.
    first.proto.close(E.CLOSE_REPLACED, "replaced by a newer connection")
    await first.signin.sign_out()
    assert node.hub.links(uid) == [second.signin.link]
    assert await node.presence.nodes_of(uid) == [node.settings.node_id]
    closed = (await connection_events(node, uid))[-1]
    assert (closed["type"], closed["reason"]) == ("conn.close", "replaced")


async def test_the_same_device_on_another_node_is_replaced_there(stack: Stack, node: Node) -> None:
    other = Node(settings(stack, f"signin-b-{secrets.token_hex(4)}"))
    try:
        uid, token = await user(node)
        there = Conn(other)
        await there.auth(token)
        async with other.bus:  # node B listens on its channel
            await subscribed(node.redis, other.settings.node_id)
            await Conn(node).auth(token)
            await until(lambda: bool(there.closed))
        assert there.closed == [(E.CLOSE_REPLACED, "replaced by a newer connection")]
        there.proto.close(E.CLOSE_REPLACED, "replaced by a newer connection")
        await there.signin.sign_out()
        assert await node.presence.nodes_of(uid) == [node.settings.node_id]
    finally:
        await other.redis.aclose()


async def test_sign_out_writes_conn_close_and_forgets_the_device(node: Node) -> None:
    uid, token = await user(node)
    clock = Clock()
    conn = Conn(node, clock)
    await conn.auth(token)
    link = conn.signin.link
    assert link is not None
    clock.now += 12.5
    await conn.signin.sign_out()  # the client went away: no close code of ours
    await conn.signin.sign_out()  # twice: nothing more
    assert link.close_code == E.CLOSE_NORMAL and conn.closed == []  # the caller closes
    assert len(node.hub) == 0 and await node.presence.nodes_of(uid) == []
    events = await connection_events(node, uid)
    assert [e["type"] for e in events] == ["conn.open", "conn.close"]
    assert (events[1]["reason"], events[1]["duration_ms"]) == ("client", 12500)


@pytest.mark.parametrize(
    ("code", "reason"),
    [(E.CLOSE_HEARTBEAT, "heartbeat_timeout"), (E.CLOSE_GOING_AWAY, "shutdown"),
     (E.CLOSE_BAD_FRAMES, "error")],
)  # fmt: skip
async def test_conn_close_names_why_the_server_closed(node: Node, code: int, reason: str) -> None:
    uid, token = await user(node)
    conn = Conn(node)
    await conn.auth(token)
    conn.proto.close(code, "why")
    await conn.signin.sign_out()
    assert conn.signin.link is not None and conn.signin.link.close_code == code
    assert (await connection_events(node, uid))[-1]["reason"] == reason


async def test_an_agent_is_available_while_signed_in(node: Node) -> None:
    uid, token = await user(node, role="agent")
    conn = Conn(node)
    await conn.auth(token)
    assert conn.signin.role == "agent"
    assert uid in await node.cs.online_agents()
    await conn.signin.sign_out()
    assert uid not in await node.cs.online_agents()


async def test_a_logged_out_token_fails_the_token_check(node: Node) -> None:
    _, token = await user(node)
    conn = Conn(node)
    await conn.auth(token)
    await conn.signin.check_token()
    await node.accounts.logout(token)
    with pytest.raises(E.ApiError) as refused:
        await conn.signin.check_token()
    assert (refused.value.code, refused.value.status) == (E.UNAUTHORIZED, 401)
