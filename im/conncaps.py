"""Counting open connections, per node and per client address (no I/O).

Each accepted connection gets a `Ticket` that holds one place in the node's
total and, once its client address is known, one place for that address.
The edge protocol (im/edge.py) asks for a ticket when a connection is made
and closes it when the connection is lost; `None` instead of a ticket means
a cap is reached and the connection is refused. A direct client's address is
its TCP peer, known at once; behind a trusted proxy every peer is the proxy,
so the address is claimed when a request head names the client.
"""

from __future__ import annotations


class ConnectionCaps:
    def __init__(self, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.total = 0
        self.per_address: dict[str, int] = {}

    def open(self, address: str | None) -> Ticket | None:
        """A ticket for a new connection from `address` (None: not known yet),
        or None when the node or the address is at its cap."""
        if self.total >= self.max_total:
            return None
        ticket = Ticket(self)
        if address is not None and not ticket.claim(address):
            return None
        self.total += 1
        return ticket


class Ticket:
    """One connection's places in the counts; `close` gives them back (once)."""

    __slots__ = ("_caps", "address", "closed")

    def __init__(self, caps: ConnectionCaps) -> None:
        self._caps = caps
        self.address: str | None = None
        self.closed = False

    def claim(self, address: str) -> bool:
        """Count this connection for `address` instead of the one before;
        False (and counted for none) when `address` is at its cap."""
        if address == self.address:
            return True
        self.release()
        counts = self._caps.per_address
        held = counts.get(address, 0)
        if held >= self._caps.max_per_address:
            return False
        counts[address] = held + 1
        self.address = address
        return True

    def release(self) -> None:
        """Give back the address's place (the node's place stays)."""
        if self.address is None:
            return
        counts = self._caps.per_address
        held = counts[self.address] - 1
        if held:
            counts[self.address] = held
        else:
            del counts[self.address]  # no entry outlives its connections
        self.address = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.release()
        self._caps.total -= 1
