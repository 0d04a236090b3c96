"""The edge: what a connection may hold before the application sees a request.

uvicorn's HTTP protocol (h11), subclassed as the WebSocket one is in
im/wsserver.py, with:

- a deadline for each request's head and body (`IM_HEADER_TIMEOUT_S`),
  counted from the connection's start or the previous response; a socket
  that dribbles an unfinished head (slowloris) is closed then. uvicorn's
  keep-alive timeout only starts after a response, and nothing bounds a
  head that never ends.
- caps on open connections in total (`IM_MAX_CONNECTIONS`) and per client
  address (`IM_MAX_CONNECTIONS_PER_ADDRESS`, im/conncaps.py): past one, the
  connection gets a 503 `unavailable` and is closed at once, before it can
  hold anything. The ops port's connections are not capped, so monitoring
  still works while the client port is flooded.
- the client address (im/proxies.py): from a trusted proxy, the one its
  `X-Forwarded-For` names, put into the request's scope and counted for the
  length of the request (of the WebSocket, for an upgrade), since a proxy
  reuses its connections for many clients.

After an upgrade the WebSocket protocol owns the transport; it gives the
connection's ticket back when the socket closes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, ClassVar

import h11
import orjson
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from im import errors as E
from im.conncaps import ConnectionCaps, Ticket
from im.proxies import TrustedProxies
from im.settings import ServerSettings


@dataclass
class Edge:
    """What every connection of one node shares: caps, trusted proxies, timers."""

    caps: ConnectionCaps
    proxies: TrustedProxies
    header_timeout_s: float
    ops_port: int  # 0: none
    tickets: dict[asyncio.BaseTransport, Ticket] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s: ServerSettings) -> Edge:
        caps = ConnectionCaps(s.max_connections, s.max_connections_per_address)
        return cls(caps, TrustedProxies(s.trusted_proxies), s.header_timeout_s, s.ops_port)

    def open(self, transport: asyncio.BaseTransport, peer: str, local_port: int | None) -> bool:
        """Count a new connection; False when a cap refuses it."""
        if self.ops_port and local_port == self.ops_port:
            return True
        # From a trusted proxy the client is known only from a request head.
        ticket = self.caps.open(None if self.proxies.trusts(peer) else peer)
        if ticket is None:
            return False
        self.tickets[transport] = ticket
        return True

    def ticket(self, transport: asyncio.BaseTransport) -> Ticket | None:
        return self.tickets.get(transport)

    def close(self, transport: asyncio.BaseTransport) -> None:
        ticket = self.tickets.pop(transport, None)
        if ticket is not None:
            ticket.close()


def refusal(message: str) -> bytes:
    """A whole 503 response with the error body, written before the connection closes."""
    body = orjson.dumps(E.Unavailable(message).body())
    head = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    return head + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body


class _WatchedConnection(h11.Connection):
    """h11's parser, telling the protocol of each event before uvicorn handles it."""

    def __init__(self, protocol: EdgeHttpProtocol, max_incomplete_event_size: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size)
        self._protocol = protocol

    def next_event(self) -> Any:
        event = super().next_event()
        if not self._protocol.on_event(event):
            return h11.NEED_DATA  # refused and closing: nothing more to handle
        return event


class EdgeHttpProtocol(H11Protocol):
    edge: ClassVar[Edge]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        size = config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
        self.conn = _WatchedConnection(self, size)
        self._deadline: asyncio.TimerHandle | None = None
        self._peer = ""
        self._proxied = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._peer = self.client[0] if self.client else ""
        self._proxied = self.edge.proxies.trusts(self._peer)
        local_port = self.server[1] if self.server else None
        if not self.edge.open(transport, self._peer, local_port):
            self._refuse("too many connections, retry later")
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.edge.close(self.transport)
        super().connection_lost(exc)

    def on_event(self, event: Any) -> bool:
        """Before uvicorn sees `event`; False: the connection was refused."""
        if isinstance(event, h11.Request):
            return self._on_head(event)
        if isinstance(event, h11.EndOfMessage):
            if self.conn.our_state is h11.DONE:
                self._arm()  # answered before the body ended: the next head's clock starts
            else:
                self._disarm()  # the whole request is here; the app takes its time
        return True

    def _on_head(self, event: h11.Request) -> bool:
        if not self._proxied:
            return True
        forwarded = [value for name, value in event.headers if name == b"x-forwarded-for"]
        client = self.edge.proxies.client(self._peer, forwarded)
        self.client = (client, 0)  # what uvicorn puts into this request's scope
        ticket = self.edge.ticket(self.transport)
        if ticket is not None and not ticket.claim(client):
            self._refuse("too many connections from this address, retry later")
            return False
        return True

    def on_response_complete(self) -> None:
        if self._proxied and (ticket := self.edge.ticket(self.transport)) is not None:
            ticket.release()  # the proxy's next request may be another client's
        self._arm()  # before uvicorn handles a pipelined request, which disarms it
        super().on_response_complete()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()  # the WebSocket's own deadlines (auth, heartbeat) take over
        super().handle_websocket_upgrade(event)

    def _refuse(self, message: str) -> None:
        self._disarm()
        self.transport.write(refusal(message))
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.edge.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()
