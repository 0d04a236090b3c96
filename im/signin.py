"""Signing a connection in (its `auth` frame) and out (its close), with no socket.

Sign-in checks the token, registers the device's link in the hub (an older
link of the same device closes with 4409, here and, over the bus, on other
nodes), marks the user online, sets every conversation's push baseline to
what `auth_ok` tells, marks an agent available and writes `conn.open`.
Sign-out writes `conn.close` (its reason from the close code), forgets the
link and, for the user's last device here, the presence entry (and an
agent's availability once the user is on no node at all).

Like im.protocol, this is driven from outside: the protocol state machine
decides the frames, the link writes them to any FrameWriter (im.wire), and
the caller gives the time. The gateway only moves bytes; tests drive a
`Signin` with a recording writer and the real Redis.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from im import errors as E
from im.conn_events import close_reason
from im.hub import Link
from im.node import Node
from im.protocol import Auth, ClientProtocol
from im.tokens import Identity, token_digest
from im.wire import FrameWriter, text_frame


class Signin:
    """Who a connection is signed in as (user, token, role) and its hub link.

    `on_close(code, reason)` is called when the link is closed elsewhere
    (replaced, signed out, too slow, going away): the caller sends the close.
    `address` is the client's (the TCP peer), for bounding failure events.
    """

    def __init__(
        self,
        node: Node,
        proto: ClientProtocol,
        writer: FrameWriter,
        on_close: Callable[[int, str], None],
        clock: Callable[[], float] = time.time,
        address: str = "-",
    ) -> None:
        self.node, self.proto, self.writer = node, proto, writer
        self.on_close, self.clock, self.address = on_close, clock, address
        self.link: Link | None = None
        self.token = ""
        self.digest = ""
        self.role = ""
        self.signed_in_at = 0.0
        self.signed_out = False

    async def sign_in(self, req: Auth) -> None:
        """Answer an `auth` frame: auth_ok and an open link; or unauthorized and
        4401; or, with `max_connections_per_user` other devices of the user
        signed in on this node, too_many_connections and 4429."""
        node = self.node
        ident = await node.accounts.check(req.token)
        if ident is None:
            node.metrics.auth_failures.inc()
            self.proto.auth_failed()
            await node.conn_events.auth_failed(req.device, "invalid_token", self.address)
            return
        cap = node.settings.max_connections_per_user
        if node.hub.other_devices(ident.user_id, req.device) >= cap:
            # Checked and attached below with no await between: two racing
            # sign-ins on this node cannot both take the last place.
            self.proto.auth_refused(
                E.TOO_MANY_CONNECTIONS, f"at most {cap} connections per user",
                E.CLOSE_TOO_MANY_CONNECTIONS, "too many connections",
            )  # fmt: skip
            return
        self.token = req.token
        self.digest = token_digest(req.token)
        link = Link(ident.user_id, req.device, self.writer, token_digest=self.digest,
                    on_close=self.on_close)  # fmt: skip
        old = node.hub.attach(link)
        if old is not None:
            old.close(E.CLOSE_REPLACED, "replaced by a newer connection")
        # The same device may still be connected to another node: replace it there too.
        await node.bus.replace_elsewhere(ident.user_id, req.device)
        self.link = link
        await node.presence.online(ident.user_id)
        self.role = ident.role
        # Read after attaching: a message stored meanwhile is either counted
        # here or pushed to the new link (or both; seq tells the client).
        convs, total = await node.messages.conv_states(ident.user_id)
        for c in convs:  # pushes continue after what auth_ok tells
            link.expect(c["conv"], c["max_seq"] + 1)
        self.proto.auth_succeeded(
            ident.user_id, req.device, {"convs": convs, "unread_total": total}
        )
        replies = self.proto.data_to_send()
        node.metrics.frames_written(replies)
        first = [text_frame(f) for f in replies]
        if ident.role == "agent":  # an agent who signs in is available until they say not
            await node.cs.set_agent_state(ident.user_id, "online")
        link.open(first)  # auth_ok, then whatever was pushed meanwhile
        self.signed_in_at = self.clock()
        await node.conn_events.opened(ident.user_id, req.device)

    async def check_token(self) -> Identity:
        """The identity now (role read live); unauthorized once the token was
        logged out, revoked or expired."""
        ident = await self.node.accounts.check(self.token)
        if ident is None:
            raise E.ApiError(E.UNAUTHORIZED, "token revoked or expired", 401)
        return ident

    async def sign_out(self) -> None:
        """The connection ended: conn.close, the device forgotten, the link closed.

        The link closes with the protocol's close code (1000 without one) and
        without calling `on_close`: the caller closes the socket itself.
        Nothing happens without a sign-in, or the second time.
        """
        link = self.link
        if link is None or self.signed_out:
            return
        self.signed_out = True
        node = self.node
        with contextlib.suppress(Exception):
            await node.conn_events.closed(
                link.user, link.device,
                close_reason(self.proto.close_code or link.close_code),
                int((self.clock() - self.signed_in_at) * 1000),
            )  # fmt: skip
        if node.hub.detach(link):
            with contextlib.suppress(Exception):
                await node.presence.offline(link.user)
                gone = not await node.presence.nodes_of(link.user)
                if self.role == "agent" and gone:  # not on any other node either
                    await node.cs.set_agent_state(link.user, "offline", check_role=False)
        link.on_close = None  # closed below, if not already
        link.close(self.proto.close_code or E.CLOSE_NORMAL, self.proto.close_reason)
