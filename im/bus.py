"""The bus between server nodes: one Redis pub/sub channel per node.

Each node listens on its own channel (`keys.node_channel`) and publishes to
the channels of the other nodes where a recipient is online (presence, or
the nodes the send step returned). Messages are typed (im.bus_messages);
one a node cannot decode (an unknown `op`, a missing or mistyped field) is
logged and dropped, the channel never is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import assert_never

import redis.asyncio as aioredis

from im import keys
from im.background import Background
from im.bus_messages import (
    BusMessage,
    Push,
    PushMsg,
    Replace,
    Revoke,
    SignOut,
    UnknownOp,
    decode,
    encode,
)
from im.hub import Hub
from im.messages import Stored
from im.presence import Presence

log = logging.getLogger("im.bus")


def apply(hub: Hub, msg: BusMessage, now: float) -> None:
    """What a message from another node does to this node's devices."""
    match msg:
        case PushMsg():
            hub.deliver_msg(msg.to, msg.frame, msg.conv, msg.seq, now)
        case Push():
            hub.deliver(msg.to, msg.frame)
        case Replace():
            hub.replace(msg.user, msg.device)
        case Revoke():
            hub.revoke(msg.user, msg.token_digest)
        case SignOut():
            hub.sign_out(msg.user)
        case _:
            assert_never(msg)


def receive(hub: Hub, payload: str | bytes, now: float) -> None:
    """Decode and apply one payload; one that fails is logged and dropped."""
    try:
        apply(hub, decode(payload), now)
    except UnknownOp as e:
        log.warning("bus: %s, dropped", e)
    except (KeyError, TypeError, ValueError) as e:
        log.warning("bus: bad message dropped: %s: %s", type(e).__name__, e)


async def publish_to_nodes(redis: aioredis.Redis, stored: Stored, skip: str = "") -> None:
    """A stored message to the nodes where its members are online (but `skip`),
    whose devices get it as a `msg` push: how a node pushes what it stored to
    the others, and how a process without devices (the alert evaluator) pushes."""
    payload = None
    for node in stored.nodes:
        if node != skip:
            if payload is None:
                frame = stored.frame.decode()
                payload = encode(PushMsg(stored.members, frame, stored.conv, stored.seq))
            await redis.publish(keys.node_channel(node), payload)


class Bus(Background):
    """This node's end of the bus: sends to other nodes, applies what they send."""

    task_name = "bus"

    def __init__(self, redis: aioredis.Redis, node_id: str, hub: Hub, presence: Presence) -> None:
        self.redis, self.node_id, self.hub, self.presence = redis, node_id, hub, presence

    async def publish_msg(self, stored: Stored) -> None:
        """Push a stored message to every online device of every member, on any node."""
        frame = stored.frame.decode()
        self.hub.deliver_msg(stored.members, frame, stored.conv, stored.seq, time.time())
        await publish_to_nodes(self.redis, stored, skip=self.node_id)

    async def push_to_user(self, user: str, frame: str) -> None:
        """A frame for every device of `user` (unread counts and the like)."""
        self.hub.deliver([user], frame)
        await self._to_nodes_of(user, Push([user], frame))

    async def replace_elsewhere(self, user: str, device: str) -> None:
        """The device signed in here: close it on the other nodes where it may still be."""
        await self._to_nodes_of(user, Replace(user, device))

    async def revoke_token(self, user: str, token_digest: str) -> None:
        """Close the sockets signed in with a logged-out token, on every node."""
        self.hub.revoke(user, token_digest)
        await self._to_nodes_of(user, Revoke(user, token_digest))

    async def sign_out_user(self, user: str) -> None:
        """Close every socket of a disabled user, on every node."""
        self.hub.sign_out(user)
        await self._to_nodes_of(user, SignOut(user))

    async def _to_nodes_of(self, user: str, msg: BusMessage) -> None:
        """`msg` to the other nodes where `user` is online."""
        payload = None
        for node in await self.presence.nodes_of(user):
            if node != self.node_id:
                payload = payload or encode(msg)
                await self.redis.publish(keys.node_channel(node), payload)

    async def _run(self) -> None:
        channel = keys.node_channel(self.node_id)
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as ps:
                    await ps.subscribe(channel)
                    async for item in ps.listen():
                        receive(self.hub, item["data"], time.time())
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("bus listener: %s: %s; resubscribing", type(e).__name__, e)
                await asyncio.sleep(0.5)
